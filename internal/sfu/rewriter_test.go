package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestSlotStreamIsContinuousAcrossSwitches(t *testing.T) {
	ms := int64(time.Millisecond)
	a, b := newMember("a"), newMember("b")
	var s slotStream
	s.reset(1)
	type step struct {
		name   string
		src    *member
		ssrc   uint32
		seq    uint16
		ts     uint32
		at     int64  // ms
		wantTS uint32 // timestamp step from the previous packet
		marker bool
	}
	steps := []step{
		{"a's first packet starts the stream", a, 1, 100, 5000, 20, 0, true},
		{"a's next packet", a, 1, 101, 5960, 40, 960, false},
		{"a gap inside a's stream passes through", a, 1, 102, 7880, 60, 1920, false},
		{"b takes the slot 20 ms later", b, 2, 60000, 123, 80, 960, true},
		{"b's next packet", b, 2, 60001, 1083, 100, 960, false},
		{"a comes back after 1 s", a, 1, 150, 50000, 1100, 48000, true},
		{"a's next packet", a, 1, 151, 50960, 1120, 960, false},
		{"b comes back 5 ms later: at least a frame", b, 2, 60100, 99999, 1125, 960, true},
		{"a new SSRC of the same speaker is a switch", b, 3, 7, 7, 1145, 960, true},
	}
	var prevSeq uint16
	var prevTS uint32
	for i, st := range steps {
		p := rtpPacket{ssrc: st.ssrc, seq: st.seq, ts: st.ts}
		h := s.rewrite(st.src, &p, st.at*ms)
		if i > 0 {
			if h.SequenceNumber != prevSeq+1 {
				t.Errorf("%s: seq %d after %d", st.name, h.SequenceNumber, prevSeq)
			}
			if h.Timestamp-prevTS != st.wantTS {
				t.Errorf("%s: ts step %d, want %d", st.name, h.Timestamp-prevTS, st.wantTS)
			}
		}
		if h.Marker != st.marker {
			t.Errorf("%s: marker %v, want %v", st.name, h.Marker, st.marker)
		}
		prevSeq, prevTS = h.SequenceNumber, h.Timestamp
	}

	// A late packet of the current source keeps its place and does not move the
	// stream's head: the next switch still follows the newest packet.
	p := rtpPacket{ssrc: 3, seq: 5, ts: 1}
	if h := s.rewrite(b, &p, 1150*ms); h.SequenceNumber != prevSeq-2 {
		t.Errorf("late packet: seq %d, want %d", h.SequenceNumber, prevSeq-2)
	}
	p = rtpPacket{ssrc: 1, seq: 9, ts: 9}
	if h := s.rewrite(a, &p, 1165*ms); h.SequenceNumber != prevSeq+1 || h.Timestamp-prevTS != 960 {
		t.Errorf("switch after a late packet: seq %d ts step %d", h.SequenceNumber, h.Timestamp-prevTS)
	}
}

func TestSlotStreamKeepsTheAudioLevel(t *testing.T) {
	a := newMember("a")
	var s slotStream
	s.reset(1)
	loud := rtpPacket{ssrc: 1, seq: 1, hasLevel: true, level: 33, voice: true}

	if h := s.rewrite(a, &loud, 2); h.Extension {
		t.Errorf("an extension on a slot that did not negotiate it")
	}
	s.levelID.Store(5)
	h := s.rewrite(a, &loud, 3)
	if got := h.GetExtension(5); !h.Extension || h.ExtensionProfile != rtp.ExtensionProfileOneByte || len(got) != 1 || got[0] != 0x80|33 {
		t.Errorf("level element: %v % x", h.Extension, got)
	}
	s.levelID.Store(20) // beyond the one-byte form's IDs
	h = s.rewrite(a, &loud, 4)
	if got := h.GetExtension(20); h.ExtensionProfile != rtp.ExtensionProfileTwoByte || len(got) != 1 || got[0] != 0x80|33 {
		t.Errorf("two-byte level element: %x % x", h.ExtensionProfile, got)
	}
	silent := rtpPacket{ssrc: 1, seq: 2}
	if h := s.rewrite(a, &silent, 5); h.Extension {
		t.Errorf("an extension on a packet that came without a level")
	}
	buf := make([]byte, 1500)
	if n := allocsPerRun(100, func() {
		loud.seq++
		h := s.rewrite(a, &loud, 6)
		_, _ = h.MarshalTo(buf)
	}); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}
