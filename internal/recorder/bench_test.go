package recorder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/sfu"
)

// fileSink appends each slot's stream to a file of its own, as the replay
// service's sink does: what a recording costs includes its writes.
type fileSink struct{ files []*os.File }

func newFileSink(tb testing.TB, slots int) *fileSink {
	tb.Helper()
	s := &fileSink{}
	for i := range slots {
		f, err := os.Create(filepath.Join(tb.TempDir(), fmt.Sprintf("slot%d.ogg", i)))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { f.Close() })
		s.files = append(s.files, f)
	}
	return s
}

func (s *fileSink) Append(_ context.Context, slot int, data []byte) error {
	_, err := s.files[slot].Write(data)
	return err
}

func (s *fileSink) Progress(context.Context, []Turn, time.Time) error { return nil }

// processCPU is the CPU time (user and system) this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecorder measures what recording a room costs per packet: three
// slots all carrying speech (the most a room records: three packets every 20 ms,
// 150 a second), 80-byte Opus frames, on a clock that moves 20 ms every three
// packets, into files.
//
//   - ns/op is the tap on the packet path (the forwarder's goroutine): a copy into
//     the ring under its mutex and a wake-up, while the recorder's goroutine
//     drains the ring on the other core. The tap allocates nothing
//     (TestTapAllocatesNothing); allocs/op counts the whole process: the
//     recorder's goroutine, where pion's oggwriter makes one Ogg page per packet.
//   - cpu-ns/packet is all the process spent per packet recorded, up to the last
//     byte written (Stop): the tap, the recorder's goroutine, the writer and its
//     file writes.
//   - dropped/packet is the share of packets the ring had no room for: the
//     taps come a second of audio (150 packets) at a time, far faster than a
//     room's pace, and each batch waits for the recorder to take the last.
func BenchmarkRecorder(b *testing.B) {
	b.Run("slots=3", func(b *testing.B) { benchRecorder(b, 3) })
}

func benchRecorder(b *testing.B, slots int) {
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var ticks atomic.Int64 // 20 ms steps of the clock
	now := func() time.Time { return start.Add(time.Duration(ticks.Load()) * 20 * time.Millisecond) }
	// The taps come in batches of a second of the room's audio; before the
	// next batch, the recorder's goroutine has taken the last one (caught).
	batch := 50 * slots
	var recorded atomic.Int64
	caught := make(chan struct{}, 1)
	r, err := New(Options{Slots: slots, Start: start, Sink: newFileSink(b, slots), Now: now,
		FlushEvery: 10 * time.Millisecond, OnPacket: func(Packet) {
			if recorded.Add(1)%int64(batch) == 0 {
				caught <- struct{}{}
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 80)
	payload[0] = 31 << 3 // CELT, fullband, 20 ms, one frame (RFC 6716 §3.1)
	pkts := make([]sfu.TapPacket, slots)
	for i := range pkts {
		pkts[i] = sfu.TapPacket{Slot: i, Speaker: fmt.Sprintf("speaker%d", i), SSRC: uint32(i + 1), Payload: payload,
			Level: 30, HasLevel: true}
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for i := range b.N {
		p := &pkts[i%slots]
		p.Seq++
		p.Timestamp += 960
		r.Tap(*p)
		if i%slots == slots-1 {
			ticks.Add(1)
		}
		if i%batch == batch-1 { // not the tap's time: out of ns/op, in cpu-ns/packet
			b.StopTimer()
			select {
			case <-caught:
			case <-time.After(time.Second): // a batch lost packets: go on
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	if err := r.Stop(context.Background(), now()); err != nil {
		b.Fatal(err)
	}
	cpu := processCPU() - cpu0
	n := recorded.Load()
	if n == 0 {
		b.Fatal("nothing was recorded")
	}
	b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/packet")
	b.ReportMetric(float64(int64(b.N)-n)/float64(b.N), "dropped/packet")
}
