package sfu

import (
	"bytes"
	"errors"
	"testing"
)

// opusPacket is an Opus packet as RFC 6716 §3.2 frames it, parsed by
// parseOpusPacket: the TOC and the frames (sub-slices of the packet).
type opusPacket struct {
	toc    byte
	frames [][]byte
}

var errOpusMalformed = errors.New("opus: malformed packet")

// parseOpusPacket parses data strictly per RFC 6716 §3.2, independently of the
// packer: codes 0 to 3, the one-or-two-byte lengths of §3.2.1, and the rules R1 to
// R7 of §3.4 that concern framing (a packet has at least one byte, no frame is
// longer than 1275 bytes, a packet lasts at most 120 ms, the lengths fit).
//
// https://www.rfc-editor.org/rfc/rfc6716#section-3.2
// https://www.rfc-editor.org/rfc/rfc6716#section-3.4
func parseOpusPacket(data []byte) (opusPacket, error) {
	var p opusPacket
	if len(data) < 1 { // R1
		return p, errOpusMalformed
	}
	p.toc = data[0]
	rest := data[1:]
	length := func() (int, error) { // §3.2.1
		if len(rest) < 1 {
			return 0, errOpusMalformed
		}
		if rest[0] < 252 {
			n := int(rest[0])
			rest = rest[1:]
			return n, nil
		}
		if len(rest) < 2 {
			return 0, errOpusMalformed
		}
		n := int(rest[1])*4 + int(rest[0])
		rest = rest[2:]
		return n, nil
	}
	switch p.toc & 0x03 {
	case 0: // §3.2.2: one frame
		if len(rest) > opusMaxFrame { // R2
			return p, errOpusMalformed
		}
		p.frames = [][]byte{rest}
	case 1: // §3.2.3: two frames of equal size
		if len(rest)%2 != 0 || len(rest)/2 > opusMaxFrame { // R3
			return p, errOpusMalformed
		}
		p.frames = [][]byte{rest[:len(rest)/2], rest[len(rest)/2:]}
	case 2: // §3.2.4: two frames of different sizes
		n, err := length()
		if err != nil || n > len(rest) || len(rest)-n > opusMaxFrame { // R4
			return p, errOpusMalformed
		}
		p.frames = [][]byte{rest[:n], rest[n:]}
	case 3: // §3.2.5: an arbitrary number of frames
		if len(rest) < 1 { // R6
			return p, errOpusMalformed
		}
		vbr, padded, m := rest[0]&0x80 != 0, rest[0]&0x40 != 0, int(rest[0]&0x3F)
		rest = rest[1:]
		if m == 0 || m*opusFrameSamples(p.toc) > 5760 { // R5: at most 120 ms
			return p, errOpusMalformed
		}
		pad := 0
		if padded {
			for {
				if len(rest) < 1 {
					return p, errOpusMalformed
				}
				b := int(rest[0])
				rest = rest[1:]
				if b == 255 {
					pad += 254
					continue
				}
				pad += b
				break
			}
		}
		lens := make([]int, m)
		if vbr { // R7: the lengths of the first M-1 frames, the last takes the rest
			total := 0
			for i := range m - 1 {
				n, err := length()
				if err != nil || n > opusMaxFrame {
					return p, errOpusMalformed
				}
				lens[i] = n
				total += n
			}
			last := len(rest) - pad - total
			if last < 0 || last > opusMaxFrame {
				return p, errOpusMalformed
			}
			lens[m-1] = last
		} else { // R6: CBR, all frames of one size
			if len(rest) < pad || (len(rest)-pad)%m != 0 || (len(rest)-pad)/m > opusMaxFrame {
				return p, errOpusMalformed
			}
			for i := range lens {
				lens[i] = (len(rest) - pad) / m
			}
		}
		for _, n := range lens {
			p.frames = append(p.frames, rest[:n])
			rest = rest[n:]
		}
	}
	return p, nil
}

// code0 returns a code-0 packet of toc and a frame of n bytes, each byte seed+i.
func code0(toc byte, n int, seed byte) []byte {
	pkt := []byte{toc}
	for i := range n {
		pkt = append(pkt, seed+byte(i))
	}
	return pkt
}

func TestOpusCode3FramingRoundTrips(t *testing.T) {
	const celtFB20 = 31 << 3 // CELT-only, fullband, 20 ms, mono, code 0
	tests := []struct {
		name string
		pkts [][]byte
	}{
		{"two small frames", [][]byte{code0(celtFB20, 80, 1), code0(celtFB20, 120, 2)}},
		{"three small frames", [][]byte{code0(celtFB20, 80, 1), code0(celtFB20, 0, 2), code0(celtFB20, 251, 3)}},
		{"a first frame of 252 bytes takes a two-byte length", [][]byte{code0(celtFB20, 252, 1), code0(celtFB20, 10, 2)}},
		{"frames of 255 and 1275 bytes take two-byte lengths", [][]byte{code0(celtFB20, 255, 1), code0(celtFB20, 1275, 2), code0(celtFB20, 3, 3)}},
		{"a stereo SILK packet keeps its TOC", [][]byte{code0(1<<3|0x04, 40, 1), code0(1<<3|0x04, 41, 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pkt := range tt.pkts {
				if !opusCode0(pkt) || !opusJoinable(tt.pkts[0], pkt) {
					t.Fatalf("test packet %x… not a joinable code-0 packet", pkt[:1])
				}
			}
			out := appendOpusCode3(nil, tt.pkts)
			if got, want := len(out), opusCode3Size(tt.pkts); got != want {
				t.Errorf("packet of %d bytes, opusCode3Size says %d", got, want)
			}
			got, err := parseOpusPacket(out)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got.toc != tt.pkts[0][0]|3 {
				t.Errorf("TOC %#x, want %#x", got.toc, tt.pkts[0][0]|3)
			}
			if len(got.frames) != len(tt.pkts) {
				t.Fatalf("%d frames, want %d", len(got.frames), len(tt.pkts))
			}
			for i, pkt := range tt.pkts {
				if !bytes.Equal(got.frames[i], pkt[1:]) {
					t.Errorf("frame %d differs", i)
				}
			}
		})
	}
}

func TestOpusOnlyCode0PacketsOf20msAreJoined(t *testing.T) {
	tests := []struct {
		name string
		pkt  []byte
		want bool
	}{
		{"a CELT 20 ms code-0 packet is joined", code0(31<<3, 50, 0), true},
		{"a SILK 20 ms code-0 packet is joined", code0(1<<3, 50, 0), true},
		{"a hybrid 20 ms code-0 packet is joined", code0(13<<3, 50, 0), true},
		{"a DTX packet (empty frame) is joined", code0(31<<3, 0, 0), true},
		{"a code-1 packet is not", code0(31<<3|1, 50, 0), false},
		{"a code-2 packet is not", code0(31<<3|2, 50, 0), false},
		{"a code-3 packet is not", code0(31<<3|3, 50, 0), false},
		{"a 10 ms frame is not", code0(30<<3, 50, 0), false},
		{"a 60 ms SILK frame is not", code0(3<<3, 50, 0), false},
		{"an empty payload is not", nil, false},
		{"a frame over 1275 bytes is not", code0(31<<3, 1276, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := opusCode0(tt.pkt); got != tt.want {
				t.Errorf("opusCode0 = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpusFramesOfDifferentTOCsAreNotJoinable(t *testing.T) {
	tests := []struct {
		name string
		a, b byte
		want bool
	}{
		{"the same TOC", 31 << 3, 31 << 3, true},
		{"another configuration", 31 << 3, 27 << 3, false},
		{"mono and stereo", 31 << 3, 31<<3 | 0x04, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := opusJoinable([]byte{tt.a, 1}, []byte{tt.b, 1}); got != tt.want {
				t.Errorf("opusJoinable = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzOpusCode3 packs two or three frames cut from the input and checks that the
// independent parser gives them back; it also feeds the input to the parser as is.
func FuzzOpusCode3(f *testing.F) {
	f.Add([]byte{0xF8, 1, 2, 3}, uint16(1), uint16(2))
	f.Add(bytes.Repeat([]byte{0xF8}, 800), uint16(300), uint16(260))
	f.Add([]byte{0xFB, 0x83, 1, 1, 0, 7}, uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, cut1, cut2 uint16) {
		_, _ = parseOpusPacket(data) // never panics
		if len(data) < 1 {
			return
		}
		toc := data[0] &^ 3
		body := data[1:]
		a := min(int(cut1), len(body), opusMaxFrame)
		b := min(int(cut2), len(body)-a, opusMaxFrame)
		c := min(len(body)-a-b, opusMaxFrame)
		pkts := [][]byte{
			append([]byte{toc}, body[:a]...),
			append([]byte{toc}, body[a:a+b]...),
		}
		if cut2%2 == 0 {
			pkts = append(pkts, append([]byte{toc}, body[a+b:a+b+c]...))
		}
		if len(pkts)*opusFrameSamples(toc) > 5760 {
			return // over 120 ms: not a packet the joiner makes
		}
		out := appendOpusCode3(nil, pkts)
		if len(out) != opusCode3Size(pkts) {
			t.Fatalf("size %d, opusCode3Size %d", len(out), opusCode3Size(pkts))
		}
		got, err := parseOpusPacket(out)
		if err != nil {
			t.Fatalf("parse of %x: %v", out, err)
		}
		if len(got.frames) != len(pkts) {
			t.Fatalf("%d frames, want %d", len(got.frames), len(pkts))
		}
		for i := range pkts {
			if !bytes.Equal(got.frames[i], pkts[i][1:]) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}
