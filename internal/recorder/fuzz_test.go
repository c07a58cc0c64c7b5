package recorder

import (
	"context"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/sfu"
)

// FuzzRecord feeds the recorder packets of any bytes, as a speaker's client may
// send them (the media server forwards Opus payloads it does not parse): nothing
// may panic, every packet the recorder keeps is one packetSamples accepts, and
// the streams keep the wall clock's length. Seeded with the packets of a real
// Ogg Opus file (testdata/hi.ogg, espeak-ng and opusenc).
func FuzzRecord(f *testing.F) {
	src, err := client.OpenOgg("testdata/hi.ogg")
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		p, err := src.NextPacket()
		if err != nil {
			break
		}
		f.Add(append([]byte(nil), p.Payload...), uint16(i), uint32(i*960), uint8(30))
	}
	src.Close()
	f.Add([]byte{0xFB, 0x00}, uint16(1), uint32(0), uint8(0))       // code 3, no frames
	f.Add([]byte{0xFB, 0x3F}, uint16(2), uint32(0), uint8(0))       // code 3, 63 frames: over 120 ms
	f.Add([]byte{0x03}, uint16(3), uint32(1e9), uint8(127))         // code 3 without its count
	f.Add([]byte{0x79, 0x01, 0x02}, uint16(0), uint32(0), uint8(5)) // code 1

	f.Fuzz(func(t *testing.T, payload []byte, seq uint16, ts uint32, level uint8) {
		if n, err := packetSamples(payload); err == nil && (n <= 0 || n > maxPacketSamples) {
			t.Fatalf("packetSamples(%x) = %d, want 1 to %d", payload, n, maxPacketSamples)
		}
		clk := newClock()
		start := clk.Now()
		sink := &memSink{}
		r, err := New(Options{Slots: 2, Start: start, Sink: sink, Now: clk.Now, FlushEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 { // the packet, again (a repeat), and one later
			clk.set(start.Add(time.Duration(i) * 100 * time.Millisecond))
			r.Tap(sfu.TapPacket{Slot: i % 2, Speaker: "ada", SSRC: 1, Seq: seq + uint16(i/2), Timestamp: ts + uint32(i)*4800,
				Payload: payload, Level: level, HasLevel: true})
		}
		end := start.Add(time.Second)
		clk.set(end)
		if err := r.Stop(context.Background(), end); err != nil {
			t.Fatal(err)
		}
		for slot, data := range sink.slots {
			if len(data) == 0 {
				t.Errorf("slot %d: empty stream", slot)
			}
		}
	})
}
