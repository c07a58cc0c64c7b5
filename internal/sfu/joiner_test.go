package sfu

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/pion/rtp"
)

// sent is one packet a header recorder got.
type sent struct {
	slot     int
	seq      uint16
	ts       uint32
	marker   bool
	level    int // -1: no audio level element
	payload  []byte
	speakers []byte // the speaker of each Opus frame (the frames' first byte)
}

// headerRecorder is a fake receiver that keeps the rewritten headers it got and
// parses the Opus payloads with the independent parser.
type headerRecorder struct {
	t   *testing.T
	mu  sync.Mutex
	got []sent
}

func (r *headerRecorder) WriteSlot(slot int, h *rtp.Header, payload []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := sent{slot: slot, seq: h.SequenceNumber, ts: h.Timestamp, marker: h.Marker, level: -1, payload: bytes.Clone(payload)}
	if e := h.GetExtension(1); h.Extension && len(e) == 1 {
		s.level = int(e[0])
	}
	op, err := parseOpusPacket(payload)
	if err != nil {
		r.t.Errorf("slot %d seq %d: payload %x is no Opus packet: %v", slot, s.seq, payload, err)
	}
	for _, fr := range op.frames {
		if len(fr) > 0 {
			s.speakers = append(s.speakers, fr[0])
		}
	}
	r.got = append(r.got, s)
	return nil
}

func (r *headerRecorder) take() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// attachRecording attaches id with a header recorder whose slots keep the audio
// level element under ID 1.
func attachRecording(t *testing.T, f *Forwarder, id string) (*member, *headerRecorder) {
	t.Helper()
	r := &headerRecorder{t: t}
	m := attach(t, f, id, r)
	for i := range m.rx.Load().slots {
		m.rx.Load().slots[i].levelID.Store(1)
	}
	return m, r
}

// withTOC returns pkt (made by packet) with another Opus TOC byte.
func withTOC(pkt []byte, toc byte) []byte {
	pkt[20] = toc
	return pkt
}

// checkStream checks that got is one stream: sequence numbers one apart, and each
// timestamp at least the duration of the packet before it (frames × 20 ms) later.
func checkStream(t *testing.T, who string, got []sent) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i].seq != got[i-1].seq+1 {
			t.Errorf("%s: packet %d has seq %d after %d", who, i, got[i].seq, got[i-1].seq)
		}
		dur := uint32(len(got[i-1].speakers)) * opusFrameTS
		if d := got[i].ts - got[i-1].ts; d < dur || d > 1<<30 {
			t.Errorf("%s: packet %d is %d samples after the one before, which lasts %d", who, i, d, dur)
		}
	}
}

// frameCounts returns how many frames each packet of got carries.
func frameCounts(got []sent) []int {
	var n []int
	for _, s := range got {
		n = append(n, len(s.speakers))
	}
	return n
}

func TestListenersGetJoinedPacketsAndTheStage20ms(t *testing.T) {
	f := newBareForwarder(t, 1)
	f.joins = newFrameJoiners(1, 2)
	a, ra := attachRecording(t, f, "a")
	b, rb := attachRecording(t, f, "b")
	_, rl := attachRecording(t, f, "listener")
	_, rp := attachRecording(t, f, "promoted")
	f.SetAllowed("a", true)
	f.SetAllowed("b", true)
	var p rtpPacket
	levels := []uint8{30, 10, 40, 50, 60, 20}
	for i, lvl := range levels { // a takes the free slot with its first packet
		f.receive(a, packet(1, uint16(1+i), lvl), 1, &p)
	}

	stage := rb.take()
	if got := frameCounts(stage); fmt.Sprint(got) != "[1 1 1 1 1 1]" {
		t.Fatalf("the stage got packets of %v frames, want six of one", got)
	}
	checkStream(t, "b", stage)
	for i, s := range stage {
		if s.level != int(levels[i]) || s.ts-stage[0].ts != uint32(i)*960 {
			t.Errorf("b: packet %d level %d ts +%d, want %d and +%d", i, s.level, s.ts-stage[0].ts, levels[i], i*960)
		}
	}
	if got := ra.take(); len(got) != 0 {
		t.Errorf("a heard itself: %d packets", len(got))
	}
	listener := rl.take()
	if got := frameCounts(listener); fmt.Sprint(got) != "[2 2 2]" {
		t.Fatalf("the listener got packets of %v frames, want three of two", got)
	}
	checkStream(t, "listener", listener)
	for i, s := range listener {
		want := int(min(levels[2*i], levels[2*i+1]))
		if s.level != want || s.ts-listener[0].ts != uint32(i)*1920 || s.payload[0] != 31<<3|3 {
			t.Errorf("listener: packet %d level %d ts +%d TOC %#x, want %d, +%d, %#x",
				i, s.level, s.ts-listener[0].ts, s.payload[0], want, i*1920, 31<<3|3)
		}
		if fmt.Sprint(s.speakers) != "[1 1]" {
			t.Errorf("listener: packet %d has frames of %v", i, s.speakers)
		}
	}
	lastJoined := listener[len(listener)-1]
	var lastPromoted sent // the last joined packet the one to be promoted got

	t.Run("a speaker switch keeps the listener's stream one stream", func(t *testing.T) {
		f.receive(a, packet(1, 7, 10), 1, &p) // held for the listeners…
		f.SetAllowed("a", false)              // …and dropped by the barrier
		f.rerank(false)                       // the slot is free
		for seq := uint16(100); seq < 104; seq++ {
			f.receive(b, packet(2, seq, 10), 1, &p)
		}
		got := rl.take()
		if fmt.Sprint(frameCounts(got)) != "[2 2]" || fmt.Sprint(got[0].speakers) != "[2 2]" {
			t.Fatalf("listener got %v frames from speakers %v, want two packets of b's two", frameCounts(got), got)
		}
		checkStream(t, "listener", append([]sent{lastJoined}, got...))
		if !got[0].marker {
			t.Error("the first packet of the new speaker has no marker")
		}
		if got := rp.take(); len(got) > 0 {
			lastPromoted = got[len(got)-1]
		}
	})

	t.Run("a listener promoted to the stage gets 20 ms packets that follow on", func(t *testing.T) {
		f.SetAllowed("promoted", true)
		for seq := uint16(104); seq < 108; seq++ {
			f.receive(b, packet(2, seq, 10), 1, &p)
		}
		got := rp.take()
		if fmt.Sprint(frameCounts(got)) != "[1 1 1 1]" {
			t.Fatalf("promoted got packets of %v frames, want four of one", frameCounts(got))
		}
		checkStream(t, "promoted", append([]sent{lastPromoted}, got...))
		if got := rl.take(); fmt.Sprint(frameCounts(got)) != "[2 2]" {
			t.Errorf("listener got packets of %v frames, want two of two", frameCounts(got))
		}
	})
}

func TestFramesThatCannotBeJoinedGoApart(t *testing.T) {
	const toc = 31 << 3
	tests := []struct {
		name   string
		frames int
		pkts   func() [][]byte
		want   string // frames per packet the listener gets
	}{
		{"three frames make a 60 ms packet", 3, func() [][]byte {
			return [][]byte{packet(1, 1, 9), packet(1, 2, 9), packet(1, 3, 9), packet(1, 4, 9)}
		}, "[3]"},
		{"a frame of another configuration is sent apart", 2, func() [][]byte {
			return [][]byte{packet(1, 1, 9), withTOC(packet(1, 2, 9), 27<<3), packet(1, 3, 9), packet(1, 4, 9)}
		}, "[1 1 2]"},
		{"a stereo frame is sent apart from mono ones", 2, func() [][]byte {
			return [][]byte{packet(1, 1, 9), withTOC(packet(1, 2, 9), toc|4), packet(1, 3, 9), packet(1, 4, 9)}
		}, "[1 1 2]"},
		{"a code-3 packet goes as it came", 2, func() [][]byte {
			code3 := withTOC(packet(1, 2, 9), toc|3)
			code3[21] = 1 // CBR, one frame
			return [][]byte{packet(1, 1, 9), code3, packet(1, 3, 9), packet(1, 4, 9)}
		}, "[1 1 2]"},
		{"a lost packet sends the frame held alone", 2, func() [][]byte {
			return [][]byte{packet(1, 1, 9), packet(1, 3, 9), packet(1, 4, 9)}
		}, "[1 2]"},
		{"a DTX frame goes at once, alone", 2, func() [][]byte {
			dtx := packet(1, 2, 127)[:22] // TOC and a one-byte frame
			return [][]byte{packet(1, 1, 9), dtx}
		}, "[1 1]"},
		{"two held frames go together before an odd one", 3, func() [][]byte {
			return [][]byte{packet(1, 1, 9), packet(1, 2, 9), withTOC(packet(1, 3, 9), toc|4)}
		}, "[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBareForwarder(t, 1)
			f.joins = newFrameJoiners(1, tt.frames)
			spk, _ := attachRecording(t, f, "speaker")
			_, rl := attachRecording(t, f, "listener")
			f.SetAllowed("speaker", true)
			var p rtpPacket
			for _, pkt := range tt.pkts() {
				f.receive(spk, pkt, 1, &p)
			}
			got := rl.take()
			if fmt.Sprint(frameCounts(got)) != tt.want {
				t.Errorf("listener got packets of %v frames, want %s", frameCounts(got), tt.want)
			}
			checkStream(t, "listener", got)
		})
	}
}

func TestTheReRankTickSendsAFrameHeldTooLong(t *testing.T) {
	f := newBareForwarder(t, 1)
	f.joins = newFrameJoiners(1, 2)
	spk, _ := attachRecording(t, f, "speaker")
	_, rl := attachRecording(t, f, "listener")
	f.SetAllowed("speaker", true)
	var p rtpPacket
	f.receive(spk, packet(1, 1, 9), 1, &p)
	f.rerank(false)
	f.flushStaleJoins()
	if got := rl.take(); len(got) != 0 {
		t.Fatalf("a frame held for less than %v was sent: %v", joinHoldMax, frameCounts(got))
	}
	f.joins[0].mu.Lock()
	f.joins[0].heldAt -= int64(2 * joinHoldMax) // as if held that long
	f.joins[0].mu.Unlock()
	f.flushStaleJoins()
	if got := rl.take(); fmt.Sprint(frameCounts(got)) != "[1]" {
		t.Fatalf("listener got %v frames, want the one held", frameCounts(got))
	}
}
