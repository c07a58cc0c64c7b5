package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// When the test binary runs with TOWNHALL_TEST_MAIN set, it is the townhall binary:
// tests start it as a child process to see it as a user would.
func TestMain(m *testing.M) {
	if os.Getenv("TOWNHALL_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestServeHelpListsEveryFlagWithItsEnvironmentTwin(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"serve", "--help"}, func(string) string { return "" }, &out, &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"-addr", "-data", "-db", "-open-signup", "-log-format", "-session-ttl", "-smtp-addr", "TOWNHALL_SMTP_PASSWORD", "TOWNHALL_FOO_BAR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadInvocations(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"an unknown command exits 2", []string{"fly"}, nil},
		{"no command exits 2", nil, nil},
		{"an unknown flag exits 2", []string{"serve", "--nope"}, nil},
		{"a bad log format exits 2", []string{"serve", "--log-format", "xml"}, nil},
		{"a bad value in the environment exits 2", []string{"serve"}, map[string]string{"TOWNHALL_SESSION_TTL": "forever"}},
		{"a cluster on SQLite is refused", []string{"serve", "--nats", "nats://127.0.0.1:4222"}, nil},
		{"an embedded NATS server on SQLite is refused", []string{"serve", "--nats-embedded"}, nil},
		{"a mail sender without a mail server is refused", []string{"serve", "--smtp-from", "noreply@example.org"}, nil},
		{"a mail server without a sender is refused", []string{"serve", "--smtp-addr", "smtp.example.org:587"}, nil},
		{"a mail server without a port is refused", []string{"serve", "--smtp-addr", "smtp.example.org", "--smtp-from", "noreply@example.org"}, nil},
		{"a mail sender that is no address is refused", []string{"serve", "--smtp-addr", "smtp.example.org:587", "--smtp-from", "town hall"}, nil},
		{"a mail password from the environment without a login is refused", []string{"serve", "--smtp-addr", "smtp.example.org:587",
			"--smtp-from", "noreply@example.org"}, map[string]string{"TOWNHALL_SMTP_PASSWORD": "s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(tt.args, func(k string) string { return tt.env[k] }, &out, &out); code != 2 {
				t.Fatalf("exit %d, want 2; output:\n%s", code, out.String())
			}
		})
	}
}

// logLine is one JSON log record of the server.
type logLine map[string]any

// startServer runs `townhall serve` in a child process on a random port and returns
// it, its base URL and the log records it wrote up to listening.
func startServer(t *testing.T, args ...string) (*exec.Cmd, string, []logLine) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--data", t.TempDir(), "--password-memory", "64",
		"--rtc-udp-port", "0", "--rtc-tcp-port", "0", "--rtc-loopback-only"}, args...)...)
	cmd.Env = append(os.Environ(), "TOWNHALL_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan logLine, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l logLine
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				lines <- l
			}
		}
	}()
	var seen []logLine
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("server exited before listening; it logged %v", seen)
			}
			seen = append(seen, l)
			if l["msg"] == "townhall is listening" {
				go func() {
					for range lines { // keep draining so the child never blocks on its log
					}
				}()
				return cmd, "http://" + l["addr"].(string), seen
			}
		case <-deadline:
			t.Fatal("server did not start within 30s")
		}
	}
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	r, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// TestReadmeWalkthrough does what README.md tells a newcomer: start the server, use
// the first-run code from the log, invite a second user, follow, block; then stop it
// with SIGTERM and expect a clean exit.
func TestReadmeWalkthrough(t *testing.T) {
	cmd, url, logs := startServer(t)
	var code string
	for _, l := range logs {
		if c, ok := l["invite_code"].(string); ok {
			code = c
			if link, _ := l["link"].(string); !strings.HasSuffix(link, "/join/"+c) {
				t.Fatalf("first-run link %q does not carry the code", link)
			}
		}
	}
	if code == "" {
		t.Fatalf("no first-run code in the log: %v", logs)
	}
	var admin, bob string
	t.Run("the first-run code creates the admin account", func(t *testing.T) {
		st, out := call(t, "POST", url+"/api/v1/signup", "", `{"username":"ada","password":"correct horse battery","invite_code":"`+code+`"}`)
		if st != 201 {
			t.Fatalf("%d %v", st, out)
		}
		admin = out["token"].(string)
	})
	t.Run("the admin invites a second user who signs up", func(t *testing.T) {
		st, inv := call(t, "POST", url+"/api/v1/invites", admin, "")
		if st != 201 {
			t.Fatalf("%d %v", st, inv)
		}
		st, out := call(t, "POST", url+"/api/v1/signup", "", `{"username":"bob","password":"another good password","invite_code":"`+inv["code"].(string)+`"}`)
		if st != 201 {
			t.Fatalf("%d %v", st, out)
		}
		bob = out["token"].(string)
	})
	t.Run("bob follows ada, then blocks her", func(t *testing.T) {
		if st, out := call(t, "PUT", url+"/api/v1/users/ada/follow", bob, ""); st != 204 {
			t.Fatalf("%d %v", st, out)
		}
		if st, out := call(t, "GET", url+"/api/v1/users/ada", bob, ""); st != 200 || out["you_follow"] != true {
			t.Fatalf("%d %v", st, out)
		}
		if st, out := call(t, "PUT", url+"/api/v1/users/ada/block", bob, ""); st != 204 {
			t.Fatalf("%d %v", st, out)
		}
	})
	t.Run("SIGTERM drains and exits 0", func(t *testing.T) {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("server did not exit within 20s of SIGTERM")
		}
	})
}
