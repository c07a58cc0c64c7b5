package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBotHelpExplainsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"bot", "--help"}, func(string) string { return "" }, &out, &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"-server", "-room", "-token", "-user", "-password", "-speak", "-record", "-duration",
		"-loopback-only", "-quiet", "-wait-for-listener", "separated by commas", "reconnect", "TOWNHALL_TOKEN", "TOWNHALL_PASSWORD", "out-1.ogg", "a moderator must", "Ctrl-C"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	run([]string{"help"}, func(string) string { return "" }, &out, &out)
	if !strings.Contains(out.String(), "townhall bot") {
		t.Errorf("the usage does not list the bot:\n%s", out.String())
	}
}

func TestBotBadInvocations(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no room exits 2", []string{"bot", "--token", "t"}},
		{"no credentials exit 2", []string{"bot", "--room", "r"}},
		{"a token and a user exit 2", []string{"bot", "--room", "r", "--token", "t", "--user", "u", "--password", "p"}},
		{"a user without a password exits 2", []string{"bot", "--room", "r", "--user", "u"}},
		{"a server that is not a URL exits 2", []string{"bot", "--server", "localhost:8080", "--room", "r", "--token", "t"}},
		{"one of several servers that is not a URL exits 2", []string{"bot", "--server", "http://a:8080,b:8080", "--room", "r", "--token", "t"}},
		{"a list of servers without one exits 2", []string{"bot", "--server", " , ", "--room", "r", "--token", "t"}},
		{"a negative duration exits 2", []string{"bot", "--room", "r", "--token", "t", "--duration", "-1s"}},
		{"a recording in a missing folder exits 2", []string{"bot", "--room", "r", "--token", "t", "--record", "/nonexistent/dir/out.ogg"}},
		{"an unknown flag exits 2", []string{"bot", "--room", "r", "--token", "t", "--shout"}},
		{"stray arguments exit 2", []string{"bot", "--room", "r", "--token", "t", "hello.ogg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(tt.args, func(string) string { return "" }, &out, &out); code != 2 {
				t.Fatalf("exit %d, want 2; output:\n%s", code, out.String())
			}
		})
	}
}

// TestBotCommandLeavesCleanlyOnCtrlC runs `townhall bot` as a user would, against a
// `townhall serve` child process: the bot opens its user's room, connects its
// audio, and on SIGINT leaves, prints its report and exits 0.
func TestBotCommandLeavesCleanlyOnCtrlC(t *testing.T) {
	_, url, logs := startServer(t)
	var code string
	for _, l := range logs {
		if c, ok := l["invite_code"].(string); ok {
			code = c
		}
	}
	st, out := call(t, "POST", url+"/api/v1/signup", "", `{"username":"ada","password":"correct horse battery","invite_code":"`+code+`"}`)
	if st != 201 {
		t.Fatalf("%d %v", st, out)
	}
	token := out["token"].(string)
	st, room := call(t, "POST", url+"/api/v1/rooms", token, `{"title":"A bot's room","type":"open"}`)
	if st != 201 {
		t.Fatalf("%d %v", st, room)
	}
	roomID := room["id"].(string)

	rec := filepath.Join(t.TempDir(), "out.ogg")
	cmd := exec.Command(os.Args[0], "bot", "--server", url, "--room", roomID, "--loopback-only", "--record", rec)
	cmd.Env = append(os.Environ(), "TOWNHALL_TEST_MAIN=1", "TOWNHALL_TOKEN="+token)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1) // the result of Wait, once stderr is drained
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var said []string
	deadline := time.After(30 * time.Second)
	for connected := false; !connected; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the bot exited before its audio connected; it said:\n%s", strings.Join(said, "\n"))
			}
			said = append(said, l)
			connected = l == "bot: audio connected"
		case <-deadline:
			t.Fatalf("the bot's audio did not connect within 30s; it said:\n%s", strings.Join(said, "\n"))
		}
	}
	go func() {
		for l := range lines {
			said = append(said, l) // read only after exited
		}
		exited <- cmd.Wait()
	}()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v; it said:\n%s", err, strings.Join(said, "\n"))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the bot did not exit within 20s of SIGINT")
	}
	for _, want := range []string{"left room " + roomID + " (interrupted)", "slot 0: nothing", "ran for "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout.String())
		}
	}
	if _, err := os.Stat(rec); err == nil {
		t.Errorf("a silent room left a recording")
	}
}
