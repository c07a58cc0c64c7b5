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
// expects the server's resident memory back near where it was before (after a
// few guests, so that "before" has the binary's code for guests paged in).
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
	wave := func(guests int) {
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
	// A few guests first: the code that serves a guest (WebRTC, DTLS) is paged in
	// from the binary the first time it runs, which RSS counts too.
	wave(50)
	before := settled("the memory before the guests")
	anon, file := srv.Status(t, "RssAnon"), srv.Status(t, "RssFile")
	wave(guests)
	peakish := srv.RSSKiB(t)
	after := settled("the memory after the guests left")
	t.Logf("RSS: %d KiB before, %d KiB right after %d guests left, %d KiB settled", before, peakish, guests, after)
	t.Logf("anonymous %d → %d KiB, file-backed %d → %d KiB", anon, srv.Status(t, "RssAnon"), file, srv.Status(t, "RssFile"))
	// What stays is the Go runtime's own bookkeeping of a crowd it once had, per
	// socket that was open at once: the descriptor of its goroutine (0.5 KiB of
	// heap, never freed) and of its poller entry (0.6 KiB off the heap, never
	// freed), plus span metadata for the peak heap and the binary's pages the
	// crowd touched: 3.5-4.5 MiB after 2,000 concurrent sockets, or 7.0-9.5 %
	// of a 42-52 MiB process in nine runs on a quiet machine, 7.6-10.7 % beside
	// other tests, 13 % once inside the whole suite (docs/security.md; the target
	// is 10 %, the bound below is for a loaded CI machine). It was 11-16 % before
	// the writers were pooled, the media server's tables shrunk and a join's
	// snapshot stopped copying the audience, and 23 MiB (over 60 %) before the
	// hub gave memory back.
	if float64(after) > 1.20*float64(before) {
		t.Fatalf("RSS %d KiB after %d guests came and went, over 120 %% of the %d KiB before", after, guests, before)
	}
}
