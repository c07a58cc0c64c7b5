package loadtest

import (
	"bytes"
	"testing"
)

func TestPayloadFrames(t *testing.T) {
	frame := func(speaker int, seq uint32) []byte {
		b := make([]byte, payloadSize)
		putPayload(b, speaker, seq, int64(seq)*1000)
		return b[1:] // without the TOC
	}
	f1, f2, f3 := frame(1, 7), frame(1, 8), frame(1, 9)
	long := bytes.Repeat([]byte{9}, 300)
	join := func(frames ...[]byte) []byte { // code 3, VBR (RFC 6716 §3.2.5)
		b := []byte{payloadTOC | 3, 0x80 | byte(len(frames))}
		for _, f := range frames[:len(frames)-1] {
			if n := len(f); n < 252 {
				b = append(b, byte(n))
			} else {
				b = append(b, byte(252+n%4), byte((n-252-n%4)/4))
			}
		}
		for _, f := range frames {
			b = append(b, f...)
		}
		return b
	}
	for _, tt := range []struct {
		name    string
		payload []byte
		want    [][]byte
		ok      bool
	}{
		{"a code-0 packet is its one frame", append([]byte{payloadTOC}, f1...), [][]byte{f1}, true},
		{"two joined frames come apart", join(f1, f2), [][]byte{f1, f2}, true},
		{"three joined frames come apart", join(f1, f2, f3), [][]byte{f1, f2, f3}, true},
		{"a long first frame takes a two-byte length", join(long, f2), [][]byte{long, f2}, true},
		{"constant-size frames split evenly", append([]byte{payloadTOC | 3, 2}, append(append([]byte{}, f1...), f2...)...), [][]byte{f1, f2}, true},
		{"an empty payload is refused", nil, nil, false},
		{"code 1 is refused", []byte{payloadTOC | 1, 1, 2}, nil, false},
		{"a count of zero is refused", []byte{payloadTOC | 3, 0x80}, nil, false},
		{"more than three frames are refused", join(f1, f2, f3, f1), nil, false},
		{"lengths past the end are refused", []byte{payloadTOC | 3, 0x82, 200, 1, 2}, nil, false},
		{"padding is refused", []byte{payloadTOC | 3, 0xC2, 0, 1, 2}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out [maxFrames][]byte
			n, ok := payloadFrames(tt.payload, &out)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if n != len(tt.want) {
				t.Fatalf("%d frames, want %d", n, len(tt.want))
			}
			for i := range n {
				if !bytes.Equal(out[i], tt.want[i]) {
					t.Fatalf("frame %d differs", i)
				}
			}
		})
	}
	if _, seq, sent, ok := readFrame(f2); !ok || seq != 8 || sent != 8000 {
		t.Fatalf("readFrame = %d %d %v", seq, sent, ok)
	}
}

// FuzzPayloadFrames: any payload is split within its bounds or refused.
func FuzzPayloadFrames(f *testing.F) {
	f.Add([]byte{payloadTOC, 'T', 'H'})
	f.Add([]byte{payloadTOC | 3, 0x82, 2, 1, 2, 3, 4})
	f.Add([]byte{payloadTOC | 3, 0x83, 252, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var out [maxFrames][]byte
		n, ok := payloadFrames(b, &out)
		if !ok {
			return
		}
		total := 0
		for _, fr := range out[:n] {
			total += len(fr)
		}
		if total > len(b) {
			t.Fatalf("%d bytes of frames from a %d-byte payload", total, len(b))
		}
	})
}
