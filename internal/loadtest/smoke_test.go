package loadtest_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/loadtest"
	"github.com/townhall/townhall/internal/server"
)

// startServer runs a whole townhall server on loopback, with open sign-up so that
// the load test can make its speakers.
func startServer(t *testing.T) string {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.RTCUDPPort, cfg.RTCTCPPort, cfg.RTCLoopbackOnly = 0, 0, true
	cfg.PasswordMemoryKiB, cfg.PasswordTime = 64, 1
	cfg.OpenSignup = true
	// Every listener of the load is a guest from 127.0.0.1.
	cfg.MaxGuestsPerIP, cfg.MaxGuestsPerIPRoom, cfg.MaxGuestsPerRoom = 0, 0, 0
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("server stopped before it was ready: %v", err)
	}
	return "http://" + srv.Addr().String()
}

// TestSmokeLoad is CI's small load: 3 speakers talking, 50 guest listeners, 10 s
// measured, and not one packet lost.
func TestSmokeLoad(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("a 15-second load test")
	}
	url := startServer(t)
	cfg := loadtest.DefaultConfig()
	cfg.URL = url
	cfg.Listeners = 50
	cfg.JoinRate = 50
	cfg.Duration = 10 * time.Second
	cfg.Settle = time.Second
	var progress io.Writer
	if testing.Verbose() {
		progress = os.Stderr
	}
	res, err := loadtest.Run(context.Background(), cfg, progress)
	if res != nil && testing.Verbose() {
		res.WriteTable(os.Stderr)
	}
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case res.ListenersJoined != 50 || res.JoinFailures != 0:
		t.Fatalf("%d of 50 listeners joined, %d failed: %v", res.ListenersJoined, res.JoinFailures, res.JoinErrors)
	case res.PacketsSent < 3*45*10: // 3 speakers, 50 packets/s, 10 s, give or take a timer's slack
		t.Fatalf("the speakers sent %d packets in 10 s", res.PacketsSent)
	case res.PacketsReceived != res.PacketsExpected && (strictSmoke() || res.LossPct > 2):
		t.Fatalf("received %d packets of %d (loss %.3f %%)", res.PacketsReceived, res.PacketsExpected, res.LossPct)
	case res.PacketsBad != 0:
		t.Fatalf("%d packets did not decrypt or parse", res.PacketsBad)
	case res.ServerCPUCores <= 0 || res.ServerRSSBytes <= 0 || res.ServerRSSPeakBytes < res.ServerRSSBytes ||
		res.ServerHeapInuseBytes <= 0 || res.ServerGoroutines <= 0:
		t.Fatalf("no server CPU or memory read from /metrics: %+v", res)
	}
}

// strictSmoke says whether the smoke load must lose nothing at all. It must when it
// has the machine to itself: .ci/run runs it alone with TOWNHALL_SMOKE_STRICT=1.
// Inside the whole suite it shares two cores with the store, browser and audio
// tests, and a server starved of CPU drops audio that queued too long (by design),
// so there it only has to stay under 2 %.
func strictSmoke() bool { return os.Getenv("TOWNHALL_SMOKE_STRICT") == "1" }
