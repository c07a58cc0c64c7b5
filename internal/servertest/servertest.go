// Package servertest runs a whole townhall server on loopback for the tests of
// other packages, as `townhall serve` runs it: a fresh store, random ports for HTTP
// and audio, and the first-run invite code read from its log.
package servertest

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/server"
)

// Patience is how long Start waits for the server to be ready or to stop.
const Patience = 30 * time.Second

// Server is a running server.
type Server struct {
	URL  string        // http://127.0.0.1:PORT (https:// with TLS)
	Code string        // the first-run invite code: it makes the first, admin, account
	Cfg  config.Config // the configuration it runs with
	stop func()
}

// Option changes the server before it starts.
type Option func(*setup)

type setup struct {
	cfg  config.Config
	opts []server.Option
}

// WithConfig lets f change the configuration (TLS, the store, limits).
func WithConfig(f func(*config.Config)) Option { return func(s *setup) { f(&s.cfg) } }

// WithServerOptions passes options to server.New (the live hub's knobs).
func WithServerOptions(o ...server.Option) Option {
	return func(s *setup) { s.opts = append(s.opts, o...) }
}

// Config is the test configuration: loopback, random ports (test binaries run side
// by side), cheap password hashes, generous rate limits.
func Config(t testing.TB) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.RTCUDPPort, cfg.RTCTCPPort, cfg.RTCLoopbackOnly = 0, 0, true
	cfg.PasswordMemoryKiB, cfg.PasswordTime = 64, 1 // tests measure rules, not hashing cost
	cfg.LoginPerMinute, cfg.LookupPerSecond = 10000, 10000
	cfg.InvitesPerUser = 100
	return cfg
}

// Start runs a server until the test ends (t.Cleanup stops it and checks it
// stopped cleanly).
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	st := setup{cfg: Config(t)}
	for _, o := range opts {
		o(&st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &firstRunCatcher{codes: make(chan string, 1)}
	srv, err := server.New(ctx, st.cfg, slog.New(slog.NewJSONHandler(logs, nil)), st.opts...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server stopped with %v", err)
				}
			case <-time.After(Patience):
				t.Errorf("server did not stop within %s", Patience)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("server stopped before it was ready: %v", err)
	}
	scheme := "http://"
	if st.cfg.TLS() {
		scheme = "https://"
	}
	s := &Server{URL: scheme + srv.Addr().String(), Cfg: st.cfg, stop: stop}
	select {
	case s.Code = <-logs.codes:
	case <-time.After(Patience):
		t.Fatal("no first-run code logged")
	}
	return s
}

// Stop stops the server now (it is also stopped when the test ends).
func (s *Server) Stop() { s.stop() }

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
