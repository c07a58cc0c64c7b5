package server_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/sfu/sfutest"
)

// audio is a participant's audio connection, made the way a browser makes it: it
// answers the offer that follows the snapshot on the room socket.
type audio struct {
	*sfutest.Client
	tag  byte // first payload byte of everything this participant sends
	sent atomic.Uint32
}

func connectAudio(t *testing.T, s *sock, tag byte) *audio {
	t.Helper()
	offer := s.mediaMsg(t, "offer")
	var o struct {
		SDP string `json:"sdp"`
	}
	if err := json.Unmarshal(offer.Raw, &o); err != nil || o.SDP == "" {
		t.Fatalf("%s: bad offer %s", s.who, offer.Raw)
	}
	c, err := sfutest.New(sfutest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	answer, err := c.Answer(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP})
	if err != nil {
		t.Fatalf("%s: answering: %v", s.who, err)
	}
	s.do(t, "answer", map[string]any{"sdp": answer.SDP})
	select {
	case <-c.Connected():
	case <-time.After(patience):
		t.Fatalf("%s: audio did not connect", s.who)
	}
	return &audio{Client: c, tag: tag}
}

// talk sends 20 ms packets until stop closes: payload = tag, counter (4 bytes),
// padding to an Opus-like 80 bytes; loud (level 10).
func (a *audio) talk(t *testing.T, stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				p := make([]byte, 80)
				p[0] = a.tag
				binary.BigEndian.PutUint32(p[1:], a.sent.Add(1))
				if err := a.Send(p, 10); err != nil {
					return
				}
			}
		}
	}()
}

// heard returns the counters of the packets from tag that a received, all slots.
func (a *audio) heard(tag byte) []uint32 {
	var out []uint32
	for slot := range a.Slots() {
		for _, p := range a.Received(slot) {
			if len(p.Payload) >= 5 && p.Payload[0] == tag {
				out = append(out, binary.BigEndian.Uint32(p.Payload[1:]))
			}
		}
	}
	return out
}

// slotZero returns who an active_speakers message puts in slot 0 and whether they
// speak ("" if it does not parse or has no slot).
func slotZero(m client.Message) (user string, speaking bool) {
	var a struct {
		Slots []struct {
			UserID   string `json:"user_id"`
			Speaking bool   `json:"speaking"`
		} `json:"slots"`
	}
	if json.Unmarshal(m.Raw, &a) != nil || len(a.Slots) == 0 {
		return "", false
	}
	return a.Slots[0].UserID, a.Slots[0].Speaking
}

func TestAudio(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada := ts.admin
	bob, cyd := ts.user("bob"), ts.user("cyd")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Voices", Type: "open"})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	cs := join(t, cyd, rm.ID)
	aa, ba, ca := connectAudio(t, as, 'a'), connectAudio(t, bs, 'b'), connectAudio(t, cs, 'c')

	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); wg.Wait() })
	for _, a := range []*audio{aa, ba, ca} {
		a.talk(t, stop, &wg)
	}

	t.Run("a muted creator is not heard; unmuted, every listener hears them", func(t *testing.T) {
		as.do(t, "set_muted", map[string]any{"muted": false})
		eventually(t, "bob and cyd hearing ada", func() bool { return len(ba.heard('a')) > 20 && len(ca.heard('a')) > 20 })
		if n := len(aa.heard('a')); n != 0 {
			t.Fatalf("ada heard herself %d times", n)
		}
	})
	t.Run("the active speakers name ada in a slot", func(t *testing.T) {
		for {
			if user, speaking := slotZero(bs.mediaMsg(t, "active_speakers")); user == ada.ID && speaking {
				return
			}
		}
	})
	t.Run("while ada talks on, listeners are not told again", func(t *testing.T) {
		bs.drainMedia()
		from := len(ba.heard('a'))
		eventually(t, "a second more of ada", func() bool { return len(ba.heard('a')) > from+50 })
		if n := bs.drainMedia()["active_speakers"]; n != 0 {
			t.Fatalf("bob was sent active_speakers %d times in a second in which nothing changed", n)
		}
	})
	t.Run("someone who joins is told at once who is speaking", func(t *testing.T) {
		ds := join(t, ts.user("dee"), rm.ID)
		m := ds.mediaMsg(t, "active_speakers")
		if user, speaking := slotZero(m); user != ada.ID || !speaking {
			t.Fatalf("dee's first active_speakers: %s", m.Raw)
		}
	})
	t.Run("listeners who send audio are never heard", func(t *testing.T) {
		if n := len(aa.heard('b')) + len(ca.heard('b')) + len(aa.heard('c')) + len(ba.heard('c')); n != 0 {
			t.Fatalf("listeners' audio was forwarded %d times", n)
		}
	})
	t.Run("a speaker invited on stage is heard once unmuted", func(t *testing.T) {
		as.do(t, "invite_to_speak", map[string]any{"target": bob.ID})
		bs.event(t, "speak_invited", bob.ID)
		bs.do(t, "accept_speak", nil)
		if n := len(ca.heard('b')); n != 0 {
			t.Fatalf("bob was heard %d times while muted on stage", n)
		}
		bs.do(t, "set_muted", map[string]any{"muted": false})
		eventually(t, "cyd hearing bob", func() bool { return len(ca.heard('b')) > 20 })
	})
	for _, hold := range []bool{false, true} {
		name := "after a listener is told of a soft mute, not one more packet of the speaker reaches them"
		if hold {
			name = "after a listener is told of a held mute, not one more packet of the speaker reaches them"
		}
		t.Run(name, func(t *testing.T) {
			as.do(t, "mute", map[string]any{"target": bob.ID, "hold": hold})
			cs.event(t, "muted", bob.ID)
			// Every packet forwarded was sent before the mute took effect, and
			// the mute took effect before the event left the server.
			last := ba.sent.Load()
			until := last + 25 // half a second more of bob talking
			eventually(t, "bob sending on", func() bool { return ba.sent.Load() > until })
			for _, n := range append(ca.heard('b'), aa.heard('b')...) {
				if n > last {
					t.Fatalf("packet %d of bob reached a listener after the mute event (bob had sent %d then)", n, last)
				}
			}
			if hold {
				as.do(t, "release_mute", map[string]any{"target": bob.ID})
			}
			bs.do(t, "set_muted", map[string]any{"muted": false})
			before := len(ca.heard('b'))
			eventually(t, "cyd hearing bob again", func() bool { return len(ca.heard('b')) > before+10 })
		})
	}
	t.Run("a speaker moved to the audience is silent at once", func(t *testing.T) {
		as.do(t, "move_to_audience", map[string]any{"target": bob.ID})
		cs.event(t, "left_stage", bob.ID)
		last := ba.sent.Load()
		eventually(t, "bob sending on", func() bool { return ba.sent.Load() > last+25 })
		for _, n := range ca.heard('b') {
			if n > last {
				t.Fatalf("packet %d of bob reached cyd after he left the stage", n)
			}
		}
	})
	t.Run("a removed participant's audio connection closes", func(t *testing.T) {
		as.do(t, "remove", map[string]any{"target": cyd.ID})
		eventually(t, "cyd's audio closing", func() bool {
			s := ca.PeerState()
			return s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateDisconnected
		})
	})
}
