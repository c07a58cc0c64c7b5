package sfu

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// marshalRTP builds a packet with pion, as a reference encoder.
func marshalRTP(t testing.TB, h rtp.Header, payload []byte, padding byte) []byte {
	t.Helper()
	p := rtp.Packet{Header: h, Payload: payload}
	if padding > 0 {
		p.Header.Padding = true
		p.PaddingSize = padding
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// withLevel returns a header carrying an audio level element with ID id.
func withLevel(t testing.TB, profile uint16, id, octet byte, others ...byte) rtp.Header {
	t.Helper()
	h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 4242, Timestamp: 960 * 7, SSRC: 0xCAFEBABE}
	h.Extension, h.ExtensionProfile = true, profile
	for _, o := range others { // other elements first, each with two data octets
		if err := h.SetExtension(o, []byte{0xAA, 0xBB}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.SetExtension(id, []byte{octet}); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseRTP(t *testing.T) {
	payload := []byte{31 << 3, 1, 2, 3, 4, 5}
	oneByte := withLevel(t, rtp.ExtensionProfileOneByte, 1, 0x80|42, 2, 3)
	twoByte := withLevel(t, rtp.ExtensionProfileTwoByte, 20, 17, 4)
	csrc := withLevel(t, rtp.ExtensionProfileOneByte, 1, 50)
	csrc.CSRC = []uint32{1, 2, 3}
	plain := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1, Timestamp: 2, SSRC: 3, Marker: true}
	good := marshalRTP(t, oneByte, payload, 0)

	tests := []struct {
		name      string
		buf       []byte
		levelID   uint8
		wantErr   bool
		wantLevel int // -1: no level
		wantVoice bool
	}{
		{"a one-byte element after two others", good, 1, false, 42, true},
		{"a two-byte element", marshalRTP(t, twoByte, payload, 0), 20, false, 17, false},
		{"a level behind CSRCs and padding", marshalRTP(t, csrc, payload, 4), 1, false, 50, false},
		{"no extension at all", marshalRTP(t, plain, payload, 0), 1, false, -1, false},
		{"an extension without the level's ID", good, 9, false, -1, false},
		{"the level not negotiated", good, 0, false, -1, false},
		{"shorter than a header", good[:11], 1, true, -1, false},
		{"version 1", append([]byte{0x50}, good[1:]...), 1, true, -1, false},
		{"CSRCs beyond the end", append([]byte{0x8F}, good[1:14]...), 1, true, -1, false},
		{"an extension block beyond the end", good[:20], 1, true, -1, false},
		{"padding longer than the packet", append(append([]byte{0xA0}, marshalRTP(t, plain, payload, 0)[1:]...), 200), 1, true, -1, false},
		{"zero padding", append(append([]byte{0xA0}, marshalRTP(t, plain, payload, 0)[1:]...), 0), 1, true, -1, false},
		{"an element overrunning its block", overrun(good), 1, true, -1, false},
		{"ID 15 ends the block", id15(good), 1, false, -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p rtpPacket
			err := parseRTP(tc.buf, tc.levelID, &p)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed % x", tc.buf)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if tc.wantLevel < 0 {
				if p.hasLevel {
					t.Errorf("found level %d", p.level)
				}
			} else if !p.hasLevel || int(p.level) != tc.wantLevel || p.voice != tc.wantVoice {
				t.Errorf("level %v %d voice %v, want %d %v", p.hasLevel, p.level, p.voice, tc.wantLevel, tc.wantVoice)
			}
			if !bytes.Equal(p.payload, payload) {
				t.Errorf("payload % x, want % x", p.payload, payload)
			}
		})
	}
}

// overrun makes the first element of a one-byte block claim 16 data octets.
func overrun(b []byte) []byte {
	b = bytes.Clone(b)
	b[16] |= 0x0F
	return b
}

// id15 puts the reserved ID 15 first in a one-byte block.
func id15(b []byte) []byte {
	b = bytes.Clone(b)
	b[16] = 0xF0
	return b
}

func TestParseRTPDoesNotAllocate(t *testing.T) {
	buf := marshalRTP(t, withLevel(t, rtp.ExtensionProfileOneByte, 1, 30), make([]byte, 60), 0)
	var p rtpPacket
	if n := allocsPerRun(100, func() { _ = parseRTP(buf, 1, &p) }); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}

func TestLevelMeter(t *testing.T) {
	ms := int64(time.Millisecond)
	var m levelMeter
	if _, fresh := m.read(1); fresh {
		t.Fatal("a meter that heard nothing is fresh")
	}
	m.observe(20, true, 1)
	if loud, _ := m.read(1); loudToLevel(loud) != 20 {
		t.Errorf("first sample: level %d, want 20", loudToLevel(loud))
	}
	for i := int64(1); i <= 50; i++ { // one second at 20 ms: the average converges
		m.observe(40, true, 1+i*20*ms)
	}
	if loud, fresh := m.read(1 + 50*20*ms); !fresh || loudToLevel(loud) < 39 || loudToLevel(loud) > 41 {
		t.Errorf("after a second at 40: level %d fresh %v", loudToLevel(loud), fresh)
	}
	if _, fresh := m.read(1 + 50*20*ms + int64(staleAfter) + 1); fresh {
		t.Error("a meter is fresh after staleAfter without a packet")
	}
	m.observe(10, true, 5000*ms) // after a gap: restart from the sample
	if loud, _ := m.read(5000 * ms); loudToLevel(loud) != 10 {
		t.Errorf("after a gap: level %d, want 10", loudToLevel(loud))
	}
	m.observe(0, false, 5020*ms) // no extension: silence
	m.observe(127, true, 5040*ms)
	if loud, _ := m.read(5040 * ms); loud >= int32(127-10)<<loudShift {
		t.Errorf("silence did not lower the level: %d", loudToLevel(loud))
	}
}

// FuzzParseAudioLevel parses arbitrary bytes as RTP with an audio level: no panic,
// everything returned lies inside the input, and where pion's own parser accepts
// the packet both agree on every field.
func FuzzParseAudioLevel(f *testing.F) {
	payload := []byte{31 << 3, 9, 9, 9}
	f.Add(marshalRTP(f, withLevel(f, rtp.ExtensionProfileOneByte, 1, 0x80|30), payload, 0), uint8(1))
	f.Add(marshalRTP(f, withLevel(f, rtp.ExtensionProfileOneByte, 3, 127, 1, 2), payload, 3), uint8(3))
	f.Add(marshalRTP(f, withLevel(f, rtp.ExtensionProfileTwoByte, 200, 5, 1), payload, 0), uint8(200))
	// Chrome's shape: level (ID 1), abs-send-time (ID 2, 3 octets), mid (ID 4, 1 octet).
	f.Add([]byte{0x90, 0x6F, 0x12, 0x34, 0, 0, 0x3C, 0, 0xDE, 0xAD, 0xBE, 0xEF,
		0xBE, 0xDE, 0, 3, 0x10, 0xA8, 0x22, 1, 2, 3, 0x40, 0x30, 0, 0, 0xF8, 0xFF, 0xFE}, uint8(1))
	f.Add([]byte{0x80, 0x6F, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, uint8(1))
	f.Fuzz(func(t *testing.T, buf []byte, id uint8) {
		var p rtpPacket
		if err := parseRTP(buf, id, &p); err != nil {
			return
		}
		if len(p.payload) > len(buf) || p.level > 127 || p.hasLevel && id == 0 {
			t.Fatalf("impossible packet: %+v", p)
		}
		if len(p.payload) > 0 && &p.payload[len(p.payload)-1] != &buf[len(buf)-1] &&
			!(buf[0]&0x20 != 0) {
			t.Fatalf("payload does not end the packet")
		}
		var ref rtp.Packet
		if err := ref.Unmarshal(buf); err != nil {
			return
		}
		if ref.SequenceNumber != p.seq || ref.Timestamp != p.ts || ref.SSRC != p.ssrc ||
			ref.Marker != p.marker || ref.PayloadType != p.payloadType || !bytes.Equal(ref.Payload, p.payload) {
			t.Fatalf("pion and we disagree: %+v vs %+v", ref.Header, p)
		}
		profile := ref.ExtensionProfile
		if id != 0 && (profile == rtp.ExtensionProfileOneByte || profile == rtp.ExtensionProfileTwoByte) {
			want := ref.GetExtension(id)
			if (len(want) > 0) != p.hasLevel || len(want) > 0 && want[0]&0x7F != p.level {
				t.Fatalf("level: pion % x, we %v %d", want, p.hasLevel, p.level)
			}
		}
	})
}
