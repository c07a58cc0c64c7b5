package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/bot"
)

// cutter is a TCP proxy in front of a server: the network between one client and
// the server, which the test cuts. A cut drops every connection through it at
// once, as a failing network or a vanished node would, without a close handshake;
// new connections go through again. The client's audio (ICE, on UDP) goes to the
// server directly: the server tears it down when the socket drops.
type cutter struct {
	url string // http://127.0.0.1:PORT, the proxy

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	cuts  int
	wg    sync.WaitGroup
}

// startCutter starts a proxy to the server at serverURL; it stops with the test.
func startCutter(t *testing.T, serverURL string) *cutter {
	t.Helper()
	target, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{url: "http://" + ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target.Host)
			if err != nil {
				_ = down.Close()
				continue
			}
			c.mu.Lock()
			c.conns[down], c.conns[up] = struct{}{}, struct{}{}
			c.mu.Unlock()
			c.wg.Add(2)
			go c.pipe(up, down)
			go c.pipe(down, up)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		c.cut()
		c.wg.Wait()
	})
	return c
}

// pipe copies from src to dst until either closes, then closes both.
func (c *cutter) pipe(dst, src net.Conn) {
	defer c.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	c.mu.Lock()
	delete(c.conns, dst)
	delete(c.conns, src)
	c.mu.Unlock()
}

// cut drops every connection through the proxy, at once.
func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for conn := range c.conns {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset, not a goodbye
		}
		_ = conn.Close()
	}
	c.cuts++
}

// TestABotStaysThroughADroppedSocket: ada's bot speaks a long sentence and bob's
// bot records it; in the middle, the network of one of them drops. The bot joins
// again through the join API, gets its place back (the server's grace window),
// negotiates its audio anew and goes on: the speaker plays on from where it was,
// the listener's recording goes on in the same file, the gap filled with silence,
// so that it lasts as long as the sentence. What went missing is under the 2 s
// the rolling restart of a cluster allows per restart.
func TestABotStaysThroughADroppedSocket(t *testing.T) {
	tools(t, "espeak-ng", "opusenc", "opusinfo")
	file, length := speech(t, "Good evening everyone. This sentence is long enough for the network to fail "+
		"somewhere in the middle of it, and for the bot to come back before it ends. Thank you for listening.")
	tests := []struct {
		name string
		cut  string // whose network drops: "ada" speaks, "bob" records
	}{
		{"the listener's socket drops: its recording goes on in the same file", "bob"},
		{"the speaker's socket drops: it plays on from where it was", "ada"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeaks(t)
			e := startServer(t)
			e.user(t, "bob")
			room, err := e.ada.CreateRoom(context.Background(), client.RoomSpec{Title: "Through a drop", Type: "open"})
			if err != nil {
				t.Fatal(err)
			}
			via := map[string]string{"ada": e.url, "bob": e.url}
			net := startCutter(t, e.url)
			via[tt.cut] = net.url
			out := filepath.Join(t.TempDir(), "bob.ogg")

			bobReady := make(chan struct{})
			ada := run(t, "ada", bot.Config{
				Server: via["ada"], Room: room.ID, Token: e.ada.Token(), Speak: file, LeaveWhenPlayed: true,
				SpeakAfter: once(bobReady),
			})
			await(t, "ada's bot opens the room and connects its audio", ada.Connected())
			bobs := run(t, "bob", bot.Config{Server: via["bob"], Room: room.ID, User: "bob", Password: password, Record: out})
			await(t, "bob's bot connects its audio", bobs.Connected())
			close(bobReady)

			heard := func() time.Duration {
				if st := bobs.Stats().Slots; len(st) > 0 {
					return st[0].Audio
				}
				return 0
			}
			eventually(t, "bob hearing ada for a second and a half", func() bool { return heard() >= 1500*time.Millisecond },
				func() string { return fmt.Sprintf("bob heard %s", heard()) })
			net.cut()
			cut := map[string]*running{"ada": ada, "bob": bobs}[tt.cut]
			eventually(t, tt.cut+"'s bot coming back", func() bool { return cut.Reconnects() == 1 },
				func() string { return cut.log.String() })

			adaRep, err := ada.wait(t, "ada")
			if err != nil {
				t.Fatalf("ada's bot: %v\n%s", err, ada.log)
			}
			bobRep, err := bobs.wait(t, "bob")
			if err != nil {
				t.Fatalf("bob's bot: %v\n%s", err, bobs.log)
			}
			var report bytes.Buffer
			bobRep.Print(&report)
			t.Logf("bob's report:\n%s", report.String())
			cutRep := map[string]bot.Report{"ada": adaRep, "bob": bobRep}[tt.cut]

			t.Run("the bot came back once, in its place", func(t *testing.T) {
				if cutRep.Reconnects != 1 {
					t.Fatalf("%d reconnects", cutRep.Reconnects)
				}
				if !strings.Contains(cut.log.String(), "back in (its place kept)") {
					t.Fatalf("the bot did not say it got its place back:\n%s", cut.log)
				}
				if other := map[string]bot.Report{"ada": bobRep, "bob": adaRep}[tt.cut]; other.Reconnects != 0 {
					t.Fatalf("the other bot reconnected %d times", other.Reconnects)
				}
			})
			t.Run("ada plays her whole file, once", func(t *testing.T) {
				sent := adaRep.Media.Sent.Audio
				// A packet or two may be lost to the drop; none is played twice.
				if !adaRep.Played || sent > length+100*time.Millisecond || sent < length-200*time.Millisecond {
					t.Fatalf("played %v, sent %s of audio; the file lasts %s", adaRep.Played, sent, length)
				}
			})
			if len(bobRep.Media.Slots) == 0 {
				t.Fatal("bob has no slots")
			}
			slot := bobRep.Media.Slots[0]
			t.Run("bob misses under 2 s of the sentence", func(t *testing.T) {
				if slot.Missing() > 2*time.Second || slot.Audio < length-2*time.Second {
					t.Fatalf("bob got %s of audio over %s, the sentence lasts %s", slot.Audio, slot.Span, length)
				}
			})
			t.Run("bob's report has ada in slot 0 for the sentence, but the time away", func(t *testing.T) {
				// The server says who is in a slot only when it changes, and to a
				// new socket right after its snapshot, before the audio offer.
				occ := slot.Occupants
				if len(occ) != 1 || occ[0].UserID != e.ada.ID || occ[0].InSlot < length-2*time.Second {
					t.Fatalf("occupants of slot 0: %+v; the sentence lasts %s", occ, length)
				}
			})
			t.Run("bob's recording is one file that keeps the room's pace", func(t *testing.T) {
				if slot.File != out {
					t.Fatalf("slot 0 recorded to %q", slot.File)
				}
				got := opusinfo(t, out)
				t.Logf("ada's sentence: %s; bob's recording: %s, of which %s filled (%s across the reconnection)",
					length, got, slot.Filled, slot.Bridged)
				if !within(got, slot.Span, 0.03) || !within(got, length, 0.1) {
					t.Fatalf("the recording lasts %s; the slot's span %s, the sentence %s", got, slot.Span, length)
				}
				if tt.cut == "bob" && slot.Bridged <= 0 {
					t.Fatalf("nothing was bridged across bob's reconnection: %+v", slot)
				}
			})
		})
	}
}
