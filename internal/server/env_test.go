package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/server"
	"github.com/townhall/townhall/internal/store/storetest"
)

// testServer is a whole townhall server on loopback, as `townhall serve` runs it.
type testServer struct {
	t     *testing.T
	url   string
	admin *client.Client
	n     int
}

type serverOption func(*config.Config)

func withGrace(d time.Duration) serverOption { return func(c *config.Config) { c.Grace = d } }

// startServer runs a server with a fresh store of the given driver and signs up an
// admin through the first-run code.
func startServer(t *testing.T, driver string, opts ...serverOption) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.PasswordMemoryKiB, cfg.PasswordTime = 64, 1
	cfg.LoginPerMinute, cfg.LookupPerSecond = 10000, 10000
	if driver == "postgres" {
		cfg.DB = storetest.PostgresSchema(t)
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &firstRunCatcher{codes: make(chan string, 1)}
	srv, err := server.New(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("server did not stop within 20s")
		}
	})
	<-srv.Ready()
	ts := &testServer{t: t, url: "http://" + srv.Addr().String()}
	var code string
	select {
	case code = <-logs.codes:
	case <-time.After(10 * time.Second):
		t.Fatal("no first-run code logged")
	}
	ts.admin, _, err = client.New(ts.url).SignUp(ctx, "admin", "correct horse battery", code)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// firstRunCatcher picks the first-run invite code out of the JSON log.
type firstRunCatcher struct{ codes chan string }

func (f *firstRunCatcher) Write(p []byte) (int, error) {
	var rec map[string]any
	if json.Unmarshal(p, &rec) == nil {
		if c, ok := rec["invite_code"].(string); ok {
			select {
			case f.codes <- c:
			default:
			}
		}
	}
	return len(p), nil
}

var _ io.Writer = (*firstRunCatcher)(nil)

// user signs up a new user invited by the admin.
func (ts *testServer) user(name string) *client.Client {
	ts.t.Helper()
	ctx := context.Background()
	inv, err := ts.admin.CreateInvite(ctx)
	if err != nil {
		ts.t.Fatal(err)
	}
	c, _, err := client.New(ts.url).SignUp(ctx, name, "correct horse battery", inv.Code)
	if err != nil {
		ts.t.Fatal(err)
	}
	return c
}

func (ts *testServer) uniq(prefix string) string {
	ts.n++
	return fmt.Sprintf("%s%d", prefix, ts.n)
}

// waitFor reads messages from s until match returns true, failing after 10 s.
func waitFor(t *testing.T, s *client.Socket, what string, match func(client.Message) bool) client.Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatalf("socket closed while waiting for %s", what)
			}
			if match(m) {
				return m
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// event matches an event message of kind.
func event(kind string) func(client.Message) bool {
	return func(m client.Message) bool { return m.Type == "event" && m.Kind == kind }
}

func msgType(typ string) func(client.Message) bool {
	return func(m client.Message) bool { return m.Type == typ }
}
