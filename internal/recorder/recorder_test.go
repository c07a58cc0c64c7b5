package recorder

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/sfu"
)

// clock is a clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// memSink keeps what a recording writes.
type memSink struct {
	mu      sync.Mutex
	slots   map[int][]byte
	turns   []Turn
	through time.Time
}

func (s *memSink) Append(_ context.Context, slot int, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slots == nil {
		s.slots = map[int][]byte{}
	}
	s.slots[slot] = append(s.slots[slot], data...)
	return nil
}

func (s *memSink) Progress(_ context.Context, turns []Turn, through time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.turns = append(s.turns, turns...)
	s.through = through
	return nil
}

// file writes slot's stream to a file of dir.
func (s *memSink) file(t *testing.T, dir string, slot int) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := filepath.Join(dir, "slot"+string(rune('0'+slot))+".ogg")
	if err := os.WriteFile(p, s.slots[slot], 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// speaker plays packets into a recorder's slot, with the clock following.
type speaker struct {
	r    *Recorder
	clk  *clock
	id   string
	ssrc uint32
	slot int
	seq  uint16
	ts   uint32
	at   time.Time // when its next packet arrives
}

// play sends pkts, one every packet's duration from s.at.
func (s *speaker) play(pkts []client.OpusPacket) {
	for _, p := range pkts {
		s.clk.set(s.at)
		s.r.Tap(sfu.TapPacket{Slot: s.slot, Speaker: s.id, SSRC: s.ssrc, Seq: s.seq, Timestamp: s.ts, Payload: p.Payload,
			Level: p.Level, HasLevel: true})
		s.seq++
		s.ts += uint32(p.Samples)
		s.at = s.at.Add(time.Duration(p.Samples) * time.Second / clockRate)
	}
}

// pause advances the speaker's clock without packets: its timestamps go on (DTX).
func (s *speaker) pause(d time.Duration) {
	s.at = s.at.Add(d)
	s.ts += uint32(d * clockRate / time.Second)
}

func TestRecordingKeepsTheSilences(t *testing.T) {
	audiotest.Tools(t, "ffprobe")
	dir := t.TempDir()
	pkts := audiotest.Packets(t, audiotest.Speech(t, dir, "one two three"))
	speech := time.Duration(len(pkts)) * 20 * time.Millisecond
	clk := newClock()
	sink := &memSink{}
	start := clk.Now()
	r, err := New(Options{Slots: 3, Start: start, Sink: sink, Now: clk.Now, FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	a := &speaker{r: r, clk: clk, id: "ada", ssrc: 7, slot: 0, at: start.Add(time.Second)}
	a.play(pkts)
	a.pause(2 * time.Second)
	a.play(pkts)
	b := &speaker{r: r, clk: clk, id: "bob", ssrc: 9, slot: 1, at: a.at.Add(500 * time.Millisecond)}
	b.play(pkts)
	end := b.at.Add(time.Second)
	clk.set(end)
	if err := r.Stop(context.Background(), end); err != nil {
		t.Fatal(err)
	}
	total := end.Sub(start)
	for slot := range 3 {
		path := sink.file(t, dir, slot)
		if got := audiotest.Duration(t, path) - preSkip*time.Second/clockRate; got < total-25*time.Millisecond || got > total+25*time.Millisecond {
			t.Errorf("slot %d lasts %v by ffprobe (less the pre-skip), want the recording's %v", slot, got, total)
		}
		if got := audiotest.Decoded(t, path); got < total-25*time.Millisecond || got > total+25*time.Millisecond {
			t.Errorf("slot %d decodes to %v, want %v", slot, got, total)
		}
	}
	slot0 := sink.file(t, dir, 0)
	tests := []struct {
		name     string
		path     string
		from, to time.Duration
		loud     bool
	}{
		{"slot 0 is silent before ada speaks", slot0, 0, 900 * time.Millisecond, false},
		{"slot 0 carries ada's first sentence", slot0, time.Second, time.Second + speech, true},
		{"slot 0 is silent in ada's pause", slot0, time.Second + speech + 200*time.Millisecond, 3*time.Second + speech - 100*time.Millisecond, false},
		{"slot 0 carries ada's second sentence", slot0, 3*time.Second + speech, 3*time.Second + 2*speech, true},
		{"slot 1 is silent before bob speaks", sink.file(t, dir, 1), 0, 3*time.Second + 2*speech + 400*time.Millisecond, false},
		{"slot 1 carries bob", sink.file(t, dir, 1), 3*time.Second + 2*speech + 500*time.Millisecond, total - time.Second, true},
		{"slot 2 is silent throughout", sink.file(t, dir, 2), 0, total, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := audiotest.Loudness(t, tt.path, tt.from, tt.to)
			if tt.loud && v < -30 || !tt.loud && v > -60 {
				t.Errorf("loudest sample %.1f dBFS from %v to %v, want loud: %v", v, tt.from, tt.to, tt.loud)
			}
		})
	}
	if len(sink.turns) != 3 {
		t.Fatalf("turns %+v, want ada twice (a 2 s pause splits a turn) and bob once", sink.turns)
	}
	for i, want := range []struct {
		who   string
		start time.Duration
	}{{"ada", time.Second}, {"ada", 3*time.Second + speech}, {"bob", 3*time.Second + 2*speech + 500*time.Millisecond}} {
		got := sink.turns[i]
		if off := got.Start.Sub(start); got.Speaker != want.who || off < want.start || off > want.start+700*time.Millisecond {
			t.Errorf("turn %d: %s from %v, want %s from about %v", i, got.Speaker, off, want.who, want.start)
		}
	}
	if !sink.through.Equal(end) {
		t.Errorf("the sink was told it holds everything up to %v, want %v", sink.through, end)
	}
}

func TestClipTakesTheLastMoments(t *testing.T) {
	audiotest.Tools(t, "ffprobe")
	dir := t.TempDir()
	pkts := audiotest.Packets(t, audiotest.Speech(t, dir, "hello"))
	clk := newClock()
	start := clk.Now()
	r, err := New(Options{Slots: 2, Start: start, Sink: &memSink{}, Now: clk.Now, FlushEvery: time.Hour, ClipWindow: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background(), time.Time{}) })
	a := &speaker{r: r, clk: clk, id: "ada", ssrc: 1, at: start.Add(time.Second)}
	a.play(pkts)
	a.pause(8 * time.Second)
	a.play(pkts)
	clk.set(a.at.Add(time.Second))

	c, err := r.Clip(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.End.Sub(c.Start); got != 5*time.Second {
		t.Errorf("the clip lasts %v, want the window's 5 s", got)
	}
	if len(c.Slots) != 2 {
		t.Fatalf("%d slot streams, want 2", len(c.Slots))
	}
	p := filepath.Join(dir, "clip0.ogg")
	if err := os.WriteFile(p, c.Slots[0], 0o600); err != nil {
		t.Fatal(err)
	}
	if got := audiotest.Decoded(t, p); got < 5*time.Second-25*time.Millisecond || got > 5*time.Second+25*time.Millisecond {
		t.Errorf("the clip's slot stream lasts %v, want 5 s", got)
	}
	speech := time.Duration(len(pkts)) * 20 * time.Millisecond
	if v := audiotest.Loudness(t, p, 5*time.Second-time.Second-speech, 4*time.Second); v < -30 {
		t.Errorf("the clip's end is silent (%.1f dBFS): it should carry the second hello", v)
	}
	if v := audiotest.Loudness(t, p, 0, 5*time.Second-time.Second-speech-200*time.Millisecond); v > -60 {
		t.Errorf("the clip's start is loud (%.1f dBFS): the first hello was before its window", v)
	}

	clk.set(clk.Now().Add(time.Minute))
	if _, err := r.Clip(context.Background(), time.Minute); err != ErrNothingToClip {
		t.Errorf("a clip of a silent minute: %v, want ErrNothingToClip", err)
	}
}

func TestTapAllocatesNothing(t *testing.T) {
	r, err := New(Options{Slots: 3, Sink: &memSink{}, FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background(), time.Time{}) })
	payload := make([]byte, 120)
	payload[0] = silentTOC
	seq := uint16(0)
	if n := testing.AllocsPerRun(500, func() {
		seq++
		r.Tap(sfu.TapPacket{Slot: 1, Speaker: "ada", SSRC: 1, Seq: seq, Timestamp: uint32(seq) * 960, Payload: payload})
	}); n != 0 {
		t.Errorf("%v allocations per tapped packet", n)
	}
}

func TestRingDropsWhatDoesNotFit(t *testing.T) {
	tests := []struct {
		name    string
		sizes   []int
		takes   int // packets taken before the last put
		last    int
		fits    bool
		dropped int64
	}{
		{"an empty ring takes a packet", nil, 0, 100, true, 0},
		{"a packet bigger than the arena is dropped", nil, 0, ringArena + 1, false, 1},
		{"a full arena drops the next packet", []int{ringArena / 2, ringArena/2 - 10}, 0, 100, false, 1},
		{"a packet wraps to the arena's start once the oldest went", []int{ringArena / 2, ringArena/2 - 10}, 1, 1000, true, 0},
		{"a full queue of headers drops the next packet", make512(), 0, 10, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing()
			now := time.Now()
			for _, n := range tt.sizes {
				if !r.put(sfu.TapPacket{Payload: make([]byte, n)}, now) {
					t.Fatalf("a packet of %d bytes did not fit", n)
				}
			}
			var buf []byte
			for range tt.takes {
				_, _, buf, _ = r.take(buf)
			}
			if got := r.put(sfu.TapPacket{Payload: make([]byte, tt.last), Seq: 42}, now); got != tt.fits {
				t.Errorf("put of %d bytes: %v, want %v", tt.last, got, tt.fits)
			}
			if got := r.takeDropped(); got != tt.dropped {
				t.Errorf("dropped %d, want %d", got, tt.dropped)
			}
			n := 0
			for {
				p, _, b, ok := r.take(buf)
				buf = b
				if !ok {
					break
				}
				n++
				if p.Seq == 42 && len(p.Payload) != tt.last {
					t.Errorf("the last packet came back with %d bytes, want %d", len(p.Payload), tt.last)
				}
			}
			if want := len(tt.sizes) - tt.takes; tt.fits && n != want+1 || !tt.fits && n != want {
				t.Errorf("%d packets taken out, want %d and the last one: %v", n, want, tt.fits)
			}
		})
	}
}

func make512() []int {
	out := make([]int, ringPackets)
	for i := range out {
		out[i] = 10
	}
	return out
}
