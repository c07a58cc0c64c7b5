package livecap

import (
	"testing"
	"time"

	"github.com/townhall/townhall/internal/recorder"
)

// FuzzSegments cuts any stream of packets (as a speaker's client may send
// anything that passes the media server) into segments: nothing panics, only
// Opus packets are kept, every segment is one speaker's, and none is longer
// than MaxSegment plus one packet. Each step of the input is: a payload length,
// a speaker, a level, a gap in 10 ms, then the payload.
func FuzzSegments(f *testing.F) {
	f.Add([]byte{3, 0, 20, 2, 0xf8, 0xff, 0xfe, 3, 0, 20, 2, 0xf8, 0xff, 0xfe, 2, 1, 100, 50, 0xfb, 0x04})
	f.Add([]byte{1, 0, 0, 0, 0x4b, 2, 0, 127, 0, 0x4b, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &Captioner{opts: Options{MaxSegment: 500 * time.Millisecond, Pause: 100 * time.Millisecond, Now: time.Now},
			segs: make(chan segment, 4096)}
		slots := map[int]*building{}
		at := time.Unix(0, 0)
		for len(data) >= 4 {
			n, who, level, gap := int(data[0]), data[1]%3, data[2], data[3]
			data = data[4:]
			n = min(n, len(data))
			var tp tapped
			tp.slot, tp.speaker, tp.level, tp.hasLevel, tp.n = int(who%2), string('a'+who), level&127, level&128 == 0, n
			copy(tp.payload[:], data[:n])
			data = data[n:]
			at = at.Add(time.Duration(gap) * 10 * time.Millisecond)
			tp.at = at
			b := slots[tp.slot]
			if b == nil {
				b = &building{}
				slots[tp.slot] = b
			}
			c.add(b, &tp)
		}
		for _, b := range slots {
			if len(b.pkts) > 0 {
				c.cut(b)
			}
		}
		close(c.segs)
		for seg := range c.segs {
			total := 0
			for _, p := range seg.pkts {
				n, err := recorder.PacketSamples(p)
				if err != nil {
					t.Fatalf("a segment holds a packet that is not Opus: %x", p)
				}
				total += n
			}
			if d := samplesDuration(total); d > c.opts.MaxSegment+120*time.Millisecond || d != seg.end.Sub(seg.start) {
				t.Fatalf("a segment of %v from %v to %v", d, seg.start, seg.end)
			}
			if seg.speaker == "" {
				t.Fatal("a segment without a speaker")
			}
		}
	})
}
