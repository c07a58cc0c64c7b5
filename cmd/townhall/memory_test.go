package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/proctest"
)

// TestGuestMemoryComesBack opens 2,000 guest sockets in a room, closes them, and
// expects the server's resident memory back within 10 % of where it was before.
func TestGuestMemoryComesBack(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("2,000 sockets")
	}
	const guests = 2000
	// A real binary, not this test binary: under -race, the race detector's shadow
	// memory would be most of what is measured.
	srv := proctest.Start(t, "--open-signup", "--max-guests-per-ip", "0", "--max-guests-per-ip-room", "0",
		"--max-guests-per-room", "0", "--grace", "1s")
	url := srv.URL
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	host, _, err := client.New(url).SignUp(ctx, "host", "correct horse battery", "")
	if err != nil {
		t.Fatal(err)
	}
	rm, err := host.CreateRoom(ctx, client.RoomSpec{Title: "Drop in", Type: "open", AllowGuests: true})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := host.JoinRoom(ctx, rm.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	wave := func() {
		socks := make([]*client.Socket, 0, guests)
		for range guests {
			s, err := client.New(url).JoinAsGuest(ctx, rm.ID)
			if err != nil {
				t.Fatalf("guest %d: %v", len(socks), err)
			}
			socks = append(socks, s)
		}
		for _, s := range socks {
			s.Close()
		}
	}
	settled := func(what string) int {
		// Memory is given back a second after the sockets closed: wait until the
		// reading stops falling.
		last := srv.RSSKiB(t)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for stable := 0; stable < 4; {
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("waiting for %s: %v", what, ctx.Err())
			}
			now := srv.RSSKiB(t)
			if now >= last {
				stable++
			} else {
				stable = 0
			}
			last = min(last, now)
		}
		return last
	}
	before := settled("the memory before the guests")
	wave()
	peakish := srv.RSSKiB(t)
	after := settled("the memory after the guests left")
	t.Logf("RSS: %d KiB before, %d KiB right after %d guests left, %d KiB settled", before, peakish, guests, after)
	if float64(after) > 1.10*float64(before) {
		t.Fatalf("RSS %d KiB after %d guests came and went, over 110 %% of the %d KiB before", after, guests, before)
	}
}
