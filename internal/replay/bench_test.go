package replay

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/recorder"
	"github.com/townhall/townhall/internal/sfu"
)

// childrenCPU is the CPU time (user and system) of this process's children that
// were waited for: the ffmpeg runs.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRecorded is how long the recording that BenchmarkMix mixes lasts.
const benchRecorded = time.Minute

// recordSlots records benchRecorded of a room with 3 slots into dir, as a
// recording does (the recorder, on a clock moved by hand, into slot files):
// speakers of the slots speak espeak-ng's sentence over and over, one after
// the other, the others are silent. It returns the slot files and the turns.
func recordSlots(b *testing.B, dir string, speakers int) ([]string, []Turn) {
	b.Helper()
	pkts := audiotest.Packets(b, audiotest.Speech(b, b.TempDir(), "the recording of a room, mixed into its replay by ffmpeg"))
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clk := &clock{now: start}
	sink := &diskSink{dir: dir}
	rec, err := recorder.New(recorder.Options{Slots: 3, Start: start, Sink: sink, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	seq := make([]uint16, 3)
	for at, i := start, 0; at.Before(start.Add(benchRecorded)); i++ {
		p := pkts[i%len(pkts)]
		clk.set(at)
		for slot := range speakers {
			seq[slot]++
			rec.Tap(sfu.TapPacket{Slot: slot, Speaker: fmt.Sprint("speaker", slot), SSRC: uint32(slot + 1), Seq: seq[slot],
				Timestamp: uint32(seq[slot]) * 960, Payload: p.Payload, Level: p.Level, HasLevel: true})
		}
		at = at.Add(time.Duration(p.Samples) * time.Second / 48000)
	}
	end := start.Add(benchRecorded)
	clk.set(end)
	if err := rec.Stop(context.Background(), end); err != nil {
		b.Fatal(err)
	}
	ins, err := slotPaths(dir)
	if err != nil || len(ins) == 0 {
		b.Fatalf("slot files %v, %v", ins, err)
	}
	return ins, offsets(sink.turns, start)
}

// BenchmarkMix measures what making a replay costs the node that recorded the
// room: ffmpeg mixing a minute of 3 slot streams into one Ogg Opus file with
// chapters, with 1 or 3 of them speaking the whole time. ffmpeg-cpu-s/hour is
// the CPU time of ffmpeg (user and system, getrusage of the children) per hour
// recorded, scaled from the minute; wall-s/hour the same for the time it took.
func BenchmarkMix(b *testing.B) {
	audiotest.Tools(b, "ffmpeg")
	for _, speakers := range []int{1, 3} {
		b.Run(fmt.Sprintf("speakers=%d", speakers), func(b *testing.B) {
			dir := b.TempDir()
			ins, turns := recordSlots(b, dir, speakers)
			out := filepath.Join(dir, "replay.ogg")
			scale := float64(time.Hour) / float64(benchRecorded)
			cpu0 := childrenCPU()
			b.ResetTimer()
			for range b.N {
				if err := mix(context.Background(), "ffmpeg", ins, turns, out); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := childrenCPU() - cpu0
			if d := audiotest.Decoded(b, out); !near(d, benchRecorded, 100*time.Millisecond) {
				b.Fatalf("the replay lasts %v, want the %v recorded", d, benchRecorded)
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N)*scale, "ffmpeg-cpu-s/hour")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*scale, "wall-s/hour")
		})
	}
}
