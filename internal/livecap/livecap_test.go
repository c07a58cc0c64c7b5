package livecap

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/sfu"
	"github.com/townhall/townhall/internal/testwait"
)

// phrases are said one after the other, with a pause between them.
var phrases = []string{
	"welcome to the morning show",
	"today we talk about the weather",
	"and the city council",
}

// play taps the packets of each phrase at the pace of a microphone (20 ms),
// with pause between phrases (no packets, as a sender with DTX), and returns
// the longest Tap call.
func play(t *testing.T, tap sfu.Tap, speaker string, pause time.Duration, phrases ...string) time.Duration {
	t.Helper()
	var slowest time.Duration
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, ph := range phrases {
		pkts := audiotest.Packets(t, audiotest.Speech(t, t.TempDir(), ph))
		for j, p := range pkts {
			<-tick.C
			start := time.Now()
			tap.Tap(sfu.TapPacket{Slot: 0, Speaker: speaker, Seq: uint16(i*1000 + j), Payload: p.Payload, Level: 20, HasLevel: true})
			slowest = max(slowest, time.Since(start))
		}
		for range pause / (20 * time.Millisecond) { // silence between the phrases
			<-tick.C
		}
	}
	return slowest
}

type lines struct {
	mu  sync.Mutex
	got []Line
}

func (l *lines) emit(line Line) {
	l.mu.Lock()
	l.got = append(l.got, line)
	l.mu.Unlock()
}

func (l *lines) all() []Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Line(nil), l.got...)
}

// TestPocketsphinxCaptionsSpeechLive: espeak-ng's phrases, tapped as a slot
// stream carries them, come out as lines of their speaker, each within about
// a second and a half of the end of the segment, with a word error rate we
// measured at 0.20 ("the weather" is heard "that where there") (the threshold leaves room).
func TestPocketsphinxCaptionsSpeechLive(t *testing.T) {
	audiotest.Tools(t, "espeak-ng", "opusenc", "ffmpeg", "pocketsphinx_continuous")
	var l lines
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	c, err := New(Options{Engine: caption.Pocketsphinx{}, Emit: l.emit, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	play(t, c, "ada", 600*time.Millisecond, phrases...)
	testwait.Until(t, 10*time.Second, "three segments transcribed", func() bool {
		return testutil.ToFloat64(m.segmentsTranscribed)+testutil.ToFloat64(m.segmentsFailed) >= 3
	})
	var heard []string
	for _, line := range l.all() {
		if line.Speaker != "ada" {
			t.Errorf("a line of %q, want ada's", line.Speaker)
		}
		if !line.End.After(line.Start) {
			t.Errorf("line %+v ends before it starts", line)
		}
		heard = append(heard, line.Text)
	}
	want := caption.Words(strings.Join(phrases, " "))
	wer := caption.WER(want, caption.Words(strings.Join(heard, " ")))
	t.Logf("heard %q: WER %.2f; %v segments, %v dropped, %v failed", heard, wer, testutil.ToFloat64(m.segmentsTranscribed),
		testutil.ToFloat64(m.segmentsDropped), testutil.ToFloat64(m.segmentsFailed))
	if wer > 0.35 {
		t.Errorf("WER %.2f over 0.35", wer)
	}
	if n := testutil.CollectAndCount(reg, "townhall_caption_latency_seconds"); n != 1 {
		t.Errorf("latency histogram: %d series", n)
	}
}

// TestSlowEngineDropsSegments: an OpenAI-compatible server that takes two
// seconds a segment cannot keep up with a speaker cut into half-second
// segments: the queue fills, segments are dropped and counted, and Tap, on the
// audio path, never waits.
func TestSlowEngineDropsSegments(t *testing.T) {
	audiotest.Tools(t, "espeak-ng", "opusenc", "ffmpeg")
	release := make(chan struct{})
	var calls sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		defer calls.Done()
		select {
		case <-time.After(2 * time.Second):
		case <-release:
		case <-r.Context().Done():
		}
		w.Write([]byte(`{"text":"slow","words":[{"word":"slow","start":0,"end":0.5}]}`))
	}))
	defer srv.Close()
	defer close(release)
	var l lines
	m := NewMetrics(nil)
	c, err := New(Options{Engine: caption.Whisper{URL: srv.URL}, Emit: l.emit, Metrics: m, Queue: 1, Workers: 1,
		MaxSegment: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	slowest := play(t, c, "bob", 0, phrases...)
	c.Close()
	dropped := testutil.ToFloat64(m.segmentsDropped)
	t.Logf("%v segments dropped, %v transcribed; the slowest Tap took %v", dropped, testutil.ToFloat64(m.segmentsTranscribed), slowest)
	if dropped < 2 {
		t.Errorf("%v segments dropped, want several", dropped)
	}
	if slowest > 5*time.Millisecond {
		t.Errorf("a Tap took %v: it must never wait for the engine", slowest)
	}
}

// TestTapAllocatesNothing: on the packet path, tapping a packet for the live
// captions allocates nothing, whether the queue takes it or is full.
func TestTapAllocatesNothing(t *testing.T) {
	c := &Captioner{opts: Options{Now: time.Now}, in: make(chan tapped, 4)}
	p := sfu.TapPacket{Slot: 1, Speaker: "ada", Payload: make([]byte, 90), Level: 20, HasLevel: true}
	if n := testing.AllocsPerRun(100, func() { c.Tap(p) }); n != 0 {
		t.Errorf("Tap allocates %v times a packet", n)
	}
}
