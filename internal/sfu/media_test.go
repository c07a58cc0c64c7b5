package sfu

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/townhall/townhall/internal/sfu/sfutest"
)

// These tests run real pion peers over loopback: server Peers of an Engine, and
// sfutest clients playing the browsers.

func TestSpeakerReachesEveryListenerInOrder(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	sp := join(t, e, f, "speaker", sfutest.Options{})
	var listeners []*participant
	for _, id := range []string{"l1", "l2", "l3"} {
		listeners = append(listeners, join(t, e, f, id, sfutest.Options{}))
	}
	f.SetAllowed("speaker", true)
	s := startSpeaking(t, sp, 1, 30)

	const want = 50
	for _, l := range listeners {
		waitFor(t, 10*time.Second, l.id+" hears 50 packets", func() bool { return len(l.client.Received(0)) >= want })
	}
	s.halt()
	for _, l := range listeners {
		got := l.client.Received(0)
		for i, p := range got {
			idx, n, ok := payloadFrom(p.Payload)
			if !ok || idx != 1 {
				t.Fatalf("%s: packet %d is not from the speaker: % x", l.id, i, p.Payload)
			}
			if !bytes.Equal(p.Payload, testPayload(1, n)) {
				t.Fatalf("%s: packet %d: payload changed on the way", l.id, i)
			}
			if !p.HasLevel || p.Level != 30 {
				t.Errorf("%s: packet %d: audio level %v %d, want 30", l.id, i, p.HasLevel, p.Level)
			}
			if i == 0 {
				continue
			}
			_, prev, _ := payloadFrom(got[i-1].Payload)
			if n != prev+1 {
				t.Fatalf("%s: packet %d has counter %d after %d: lost or out of order", l.id, i, n, prev)
			}
			if p.Seq != got[i-1].Seq+1 || p.TS != got[i-1].TS+960 {
				t.Fatalf("%s: packet %d: seq %d ts %d after seq %d ts %d", l.id, i, p.Seq, p.TS, got[i-1].Seq, got[i-1].TS)
			}
		}
		for slot := 1; slot < f.Slots(); slot++ {
			if n := len(l.client.Received(slot)); n != 0 {
				t.Errorf("%s: %d packets in slot %d, want none", l.id, n, slot)
			}
		}
	}
	if n := len(heard(sp.client, 0)); n != 0 {
		t.Errorf("the speaker heard %d packets of itself", n)
	}
	udpPort := e.UDPAddr().(*net.UDPAddr).Port
	for _, p := range append(listeners, sp) {
		if proto, port := selectedPath(t, p.peer); proto != webrtc.ICEProtocolUDP || port != udpPort {
			t.Errorf("%s: media over %s port %d, want the shared UDP port %d", p.id, proto, port, udpPort)
		}
	}
}

// slotsHeard returns, for each slot of c, the speaker of the last packet received
// there (0 if none), if that packet came within the last 200 ms.
func slotsHeard(c *sfutest.Client) []byte {
	out := make([]byte, c.Slots())
	for slot := range out {
		got := c.Received(slot)
		if len(got) == 0 || time.Since(got[len(got)-1].At) > 200*time.Millisecond {
			continue
		}
		out[slot], _, _ = payloadFrom(got[len(got)-1].Payload)
	}
	return out
}

// sameSet says whether a holds exactly the members of want, in any order.
func sameSet(a []byte, want ...byte) bool {
	if len(a) != len(want) {
		return false
	}
	for _, w := range want {
		if !bytes.Contains(a, []byte{w}) {
			return false
		}
	}
	return true
}

// checkContinuous fails if a slot's stream has a sequence gap or a timestamp step
// other than one frame, except at a change of speaker, where the step may be up to
// maxSwitchTS (the time between the two speakers' packets).
func checkContinuous(t *testing.T, who string, slot int, got []sfutest.Packet) (switches int) {
	t.Helper()
	const maxSwitchTS = 48000 / 5 // 200 ms: scheduling noise on a busy machine
	for i := 1; i < len(got); i++ {
		p, q := got[i-1], got[i]
		if q.Seq != p.Seq+1 {
			t.Errorf("%s slot %d: seq %d after %d: a gap", who, slot, q.Seq, p.Seq)
		}
		if q.SSRC != p.SSRC {
			t.Errorf("%s slot %d: SSRC changed from %x to %x", who, slot, p.SSRC, q.SSRC)
		}
		a, _, _ := payloadFrom(p.Payload)
		b, _, _ := payloadFrom(q.Payload)
		step := q.TS - p.TS
		if a == b {
			if step != 960 {
				t.Errorf("%s slot %d: ts step %d within one speaker's stream", who, slot, step)
			}
			continue
		}
		switches++
		if step < 960 || step > maxSwitchTS {
			t.Errorf("%s slot %d: ts step %d at a switch from %d to %d", who, slot, step, a, b)
		}
		if !q.Marker {
			t.Errorf("%s slot %d: no marker bit on the first packet after a switch", who, slot)
		}
	}
	return switches
}

func TestSlotsCarryTheThreeLoudest(t *testing.T) {
	e, reg := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	levels := []uint8{10, 20, 30, 40, 50} // -dBov: speaker 1 is the loudest
	var ps []*participant
	for i := range levels {
		id := string(rune('a' + i))
		ps = append(ps, join(t, e, f, id, sfutest.Options{}))
		f.SetAllowed(id, true)
	}
	listener := join(t, e, f, "listener", sfutest.Options{})
	var speakers []*speaker
	for i, p := range ps {
		speakers = append(speakers, startSpeaking(t, p, byte(i+1), levels[i]))
	}

	var before, after []byte
	waitFor(t, 10*time.Second, "the listener hears speakers 1, 2 and 3", func() bool {
		before = slotsHeard(listener.client)
		return sameSet(before, 1, 2, 3)
	})
	switchesBefore := counterValue(t, reg, "townhall_sfu_slot_switches_total")

	// Speaker 5 gets loud and speaker 3 quiet: 5 takes 3's slot, 1 and 2 stay put.
	speakers[4].level.Store(5)
	speakers[2].level.Store(60)
	waitFor(t, 10*time.Second, "the listener hears speakers 1, 2 and 5", func() bool {
		after = slotsHeard(listener.client)
		return sameSet(after, 1, 2, 5)
	})
	for slot := range before {
		want := before[slot]
		if want == 3 {
			want = 5
		}
		if after[slot] != want {
			t.Errorf("slot %d: speaker %d, want %d (slots before %v, after %v)", slot, after[slot], want, before, after)
		}
	}
	if got := counterValue(t, reg, "townhall_sfu_slot_switches_total"); got <= switchesBefore {
		t.Errorf("slot switches: %v, want more than %v", got, switchesBefore)
	}
	for _, s := range speakers {
		s.halt()
	}
	total := 0
	for slot := 0; slot < f.Slots(); slot++ {
		total += checkContinuous(t, "listener", slot, listener.client.Received(slot))
	}
	if total == 0 {
		t.Errorf("no switch seen in any slot")
	}
}

func TestSpeakerDoesNotHearThemself(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	levels := []uint8{10, 20, 30, 40} // speaker 4 is the (K+1)-th
	var ps []*participant
	for i := range levels {
		id := string(rune('a' + i))
		ps = append(ps, join(t, e, f, id, sfutest.Options{}))
		f.SetAllowed(id, true)
	}
	var active [][]SlotState
	activeCh := make(chan []SlotState, 64)
	f.OnActive(func(s []SlotState) {
		select {
		case activeCh <- s:
		default:
		}
	})
	for i, p := range ps {
		startSpeaking(t, p, byte(i+1), levels[i])
	}
	// Each of the three in a slot hears the two others and, in its own slot, speaker 4.
	for i, p := range ps[:3] {
		waitFor(t, 10*time.Second, p.id+" hears the others and speaker 4", func() bool {
			var want []byte
			for j := 1; j <= 4; j++ {
				if j != i+1 {
					want = append(want, byte(j))
				}
			}
			return sameSet(slotsHeard(p.client), want...)
		})
	}
	// The general view has speakers 1 to 3.
	deadline := time.After(5 * time.Second)
	for ok := false; !ok; {
		select {
		case s := <-activeCh:
			active = append(active, s)
			ids := make([]byte, 0, len(s))
			for _, st := range s {
				if st.ParticipantID != "" {
					ids = append(ids, st.ParticipantID[0])
				}
			}
			ok = sameSet(ids, 'a', 'b', 'c')
		case <-deadline:
			t.Fatalf("OnActive never reported a, b and c: %v", active)
		}
	}
	for i, p := range ps {
		for slot := 0; slot < f.Slots(); slot++ {
			for _, idx := range heard(p.client, slot) {
				if idx == byte(i+1) {
					t.Fatalf("speaker %d heard itself in slot %d", i+1, slot)
				}
			}
		}
	}
}
