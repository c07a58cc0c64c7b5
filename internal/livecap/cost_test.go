package livecap

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/sfu"
	"github.com/townhall/townhall/internal/testwait"
)

// BenchmarkCaptionCost measures what live captions cost per captioned speaker:
// the CPU time of this process and of its subprocesses (ffmpeg decoding each
// segment, pocketsphinx transcribing it) per second of speech, as
// cpu-s/speech-s. Each iteration taps a minute of espeak-ng speech (the three
// phrases again and again, a pause between them), on a clock of its own so
// that it runs as fast as the engine goes; the queue is large enough that
// nothing is dropped.
//
//	go test ./internal/livecap -run '^$' -bench CaptionCost -benchtime 1x
func BenchmarkCaptionCost(b *testing.B) {
	audiotest.Tools(b, "espeak-ng", "opusenc", "ffmpeg", "pocketsphinx_continuous")
	b.Run("pocketsphinx", func(b *testing.B) { captionCost(b, caption.Pocketsphinx{}) })
	b.Run("decoding only", func(b *testing.B) { captionCost(b, noEngine{}) })
}

// noEngine hears nothing: what decoding costs alone.
type noEngine struct{}

func (noEngine) Transcribe(context.Context, string) ([]caption.Word, error) { return nil, nil }

func captionCost(b *testing.B, engine caption.Engine) {
	var phrasePkts [][][]byte
	for _, ph := range phrases {
		var pkts [][]byte
		for _, p := range audiotest.Packets(b, audiotest.Speech(b, b.TempDir(), ph)) {
			pkts = append(pkts, p.Payload)
		}
		phrasePkts = append(phrasePkts, pkts)
	}
	const speech = time.Minute
	var cpu, heard time.Duration
	for range b.N {
		var mu sync.Mutex
		now := time.Unix(1e9, 0)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		m := NewMetrics(nil)
		c, err := New(Options{Engine: engine, Emit: func(Line) {}, Metrics: m, Queue: 1000, Workers: 1,
			Timeout: time.Minute, Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		pace := time.NewTicker(20 * time.Microsecond)
		before := cpuTime()
		var said time.Duration
		for said < speech {
			for _, pkts := range phrasePkts {
				for _, p := range pkts {
					c.Tap(sfu.TapPacket{Speaker: "ada", Payload: p, Level: 20, HasLevel: true})
					mu.Lock()
					now = now.Add(20 * time.Millisecond)
					mu.Unlock()
					said += 20 * time.Millisecond
					<-pace.C // the tap's queue holds 5 s of packets: fill it no faster than this
				}
				mu.Lock()
				now = now.Add(600 * time.Millisecond) // a pause: the next packet cuts the segment
				mu.Unlock()
			}
		}
		c.Tap(sfu.TapPacket{Speaker: "bob", Payload: phrasePkts[0][0], Level: 20, HasLevel: true}) // ends the last one
		testwait.Until(b, 5*time.Minute, "every segment transcribed", func() bool {
			if testutil.ToFloat64(m.segmentsDropped)+testutil.ToFloat64(m.segmentsFailed) > 0 {
				b.Fatalf("segments dropped or failed: %v s of %v transcribed", testutil.ToFloat64(m.speech), said)
			}
			return testutil.ToFloat64(m.speech) >= (said - time.Second).Seconds()
		})
		pace.Stop()
		c.Close()
		cpu += cpuTime() - before
		heard += time.Duration(testutil.ToFloat64(m.speech) * float64(time.Second))
	}
	b.ReportMetric(cpu.Seconds()/heard.Seconds(), "cpu-s/speech-s")
	b.ReportMetric(heard.Seconds()/float64(b.N), "speech-s/op")
}

// cpuTime is the CPU time (user and system) of this process and of its
// children that ended.
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}
