// Package livecap captions a live room: it taps what the audience hears (the
// forwarder's slot streams, as the recorder does), cuts each speaker's packets
// into short segments at pauses, at a change of speaker, or at MaxSegment, has
// ffmpeg decode each one (a subprocess: nothing here touches audio samples) to a
// 16 kHz WAV file and a caption.Engine transcribe it, and hands the lines to
// Emit, labelled with the speaker.
//
// Why the slot streams rather than every speaker's uplink: they are what the
// audience hears, so only what is heard is captioned (a muted speaker, or one
// the room does not forward, is not), at most K speakers at once whatever the
// size of the stage, which bounds the cost; they are the same tap the recorder
// uses (sfu.Tap), on the node that runs the room, where the speakers of every
// node of a cluster arrive.
//
// It never delays or risks the audio path: Tap only copies the packet into a
// fixed-size queue (no allocation, no waiting) and drops it when the queue is
// full; the segments wait for the engine in a bounded queue too, and a segment
// that finds it full is dropped and counted (a slow engine loses segments, not
// audio, and the captions stay current rather than fall behind). It knows
// nothing of rooms, sockets or HTTP.
package livecap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/recorder"
	"github.com/townhall/townhall/internal/sfu"
)

// Line is one line of captions: what Speaker said from Start to End.
type Line struct {
	Speaker    string // the participant ID
	Text       string
	Start, End time.Time
	Words      []caption.Word // their times from Start
}

// Options configure a Captioner.
type Options struct {
	Engine caption.Engine
	FFmpeg string // "ffmpeg" when empty
	// Emit is given each line transcribed, on a worker goroutine.
	Emit    func(Line)
	Metrics *Metrics
	Log     *slog.Logger
	// Queue is how many segments may wait for the engine (default 2): more
	// and the captions would lag behind the room; a segment that finds the
	// queue full is dropped.
	Queue int
	// Workers transcribe segments side by side (default 2).
	Workers int
	// MaxSegment is the longest segment (default 2.5 s); Pause, the silence
	// (or the gap without packets) that ends one (default 300 ms).
	MaxSegment, Pause time.Duration
	// Timeout bounds the decoding and transcription of one segment (default 10 s).
	Timeout time.Duration
	Now     func() time.Time
}

// Sizes of the tap's queue: about two seconds of three slots of 20 ms packets,
// which the segmenting goroutine drains within microseconds. A packet longer
// than maxPayload (speech at 32-40 kbit/s is 80-100 bytes a 20 ms frame) is not
// captioned.
const (
	tapQueue   = 256
	maxPayload = 512
)

// voicedLevel: a packet whose RFC 6464 level is under it (louder than -60 dBov)
// is speech, as the recorder's timeline counts it; quieter ones are pauses.
const voicedLevel = 60

// minVoiced: a segment with less speech than this is not worth transcribing.
const minVoiced = 200 * time.Millisecond

// Captioner captions one room. Make it with New, give it to the room's
// forwarder (sfu.Forwarder.SetTap, alone or with a recorder), and Close it
// after taking it back.
type Captioner struct {
	opts   Options
	in     chan tapped
	segs   chan segment
	ctx    context.Context
	cancel context.CancelFunc
	dir    string // the segments' WAV files
	wg     sync.WaitGroup
	once   sync.Once
}

// tapped is a packet as Tap copies it: fixed size, so that queueing it
// allocates nothing.
type tapped struct {
	slot     int
	speaker  string
	level    uint8
	hasLevel bool
	at       time.Time
	n        int
	payload  [maxPayload]byte
}

// segment is a few seconds of one speaker's packets.
type segment struct {
	speaker    string
	pkts       [][]byte
	start, end time.Time // the first packet's arrival; the last one's, plus its length
	cut        time.Time // when it was cut: its latency counts from here
}

// New starts a Captioner.
func New(opts Options) (*Captioner, error) {
	if opts.Engine == nil || opts.Emit == nil {
		return nil, errors.New("livecap: an engine and an Emit are needed")
	}
	if opts.FFmpeg == "" {
		opts.FFmpeg = "ffmpeg"
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Queue <= 0 {
		opts.Queue = 2
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.MaxSegment <= 0 {
		opts.MaxSegment = 2500 * time.Millisecond
	}
	if opts.Pause <= 0 {
		opts.Pause = 300 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dir, err := os.MkdirTemp("", "townhall-captions-")
	if err != nil {
		return nil, fmt.Errorf("livecap: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Captioner{opts: opts, in: make(chan tapped, tapQueue), segs: make(chan segment, opts.Queue),
		ctx: ctx, cancel: cancel, dir: dir}
	c.wg.Add(1 + opts.Workers)
	go c.segmentLoop()
	for range opts.Workers {
		go c.work()
	}
	return c, nil
}

var _ sfu.Tap = (*Captioner)(nil)

// Tap implements sfu.Tap: it copies p into the queue, on the packet path, or
// drops it if the queue is full.
func (c *Captioner) Tap(p sfu.TapPacket) {
	if len(p.Payload) == 0 || len(p.Payload) > maxPayload {
		c.opts.Metrics.droppedPacket()
		return
	}
	var t tapped
	t.slot, t.speaker, t.level, t.hasLevel, t.at, t.n = p.Slot, p.Speaker, p.Level, p.HasLevel, c.opts.Now(), len(p.Payload)
	copy(t.payload[:], p.Payload)
	select {
	case c.in <- t:
	default:
		c.opts.Metrics.droppedPacket()
	}
}

// Close stops captioning: what is being transcribed is abandoned. Take the
// Captioner off its forwarder first.
func (c *Captioner) Close() {
	c.once.Do(func() {
		c.cancel()
		c.wg.Wait()
		os.RemoveAll(c.dir)
	})
}

// building is the segment a slot is gathering.
type building struct {
	speaker string
	pkts    [][]byte
	start   time.Time
	last    time.Time // the last packet's arrival
	samples int       // 48 kHz
	voiced  int
	quiet   int // trailing unvoiced samples
}

func (c *Captioner) segmentLoop() {
	defer c.wg.Done()
	slots := map[int]*building{}
	tick := time.NewTicker(c.opts.Pause / 3)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case t := <-c.in:
			b := slots[t.slot]
			if b == nil {
				b = &building{}
				slots[t.slot] = b
			}
			c.add(b, &t)
		case <-tick.C:
			now := c.opts.Now()
			for _, b := range slots {
				if len(b.pkts) > 0 && now.Sub(b.last) > c.opts.Pause {
					c.cut(b) // the speaker went quiet (no packets: DTX, or out of the slot)
				}
			}
		}
	}
}

// add adds a tapped packet to its slot's segment, cutting it where it ends.
func (c *Captioner) add(b *building, t *tapped) {
	payload := t.payload[:t.n]
	n, err := recorder.PacketSamples(payload)
	if err != nil {
		c.opts.Metrics.droppedPacket()
		return
	}
	if len(b.pkts) > 0 && (b.speaker != t.speaker || t.at.Sub(b.last) > c.opts.Pause) {
		c.cut(b)
	}
	if len(b.pkts) == 0 {
		b.speaker, b.start = t.speaker, t.at
	}
	b.pkts = append(b.pkts, bytes.Clone(payload))
	b.last = t.at
	b.samples += n
	if !t.hasLevel || t.level < voicedLevel {
		b.voiced += n
		b.quiet = 0
	} else {
		b.quiet += n
	}
	switch {
	case samplesDuration(b.quiet) >= c.opts.Pause && b.voiced > 0:
		c.cut(b) // a pause
	case samplesDuration(b.samples) >= c.opts.MaxSegment:
		c.cut(b)
	}
}

// cut ends b's segment and queues it for the engine, or drops it when the
// queue is full.
func (c *Captioner) cut(b *building) {
	voiced := samplesDuration(b.voiced)
	seg := segment{speaker: b.speaker, pkts: b.pkts, start: b.start, end: b.start.Add(samplesDuration(b.samples)),
		cut: c.opts.Now()}
	*b = building{}
	if voiced < minVoiced {
		return
	}
	select {
	case c.segs <- seg:
	default:
		c.opts.Metrics.droppedSegment()
	}
}

func samplesDuration(n int) time.Duration { return time.Duration(n) * time.Second / 48000 }

func (c *Captioner) work() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case seg := <-c.segs:
			line, err := c.transcribe(seg)
			switch {
			case c.ctx.Err() != nil:
				return
			case err != nil:
				c.opts.Metrics.failed()
				c.opts.Log.Warn("captioning a segment", "speaker", seg.speaker, "err", err)
				continue
			}
			c.opts.Metrics.transcribed(c.opts.Now().Sub(seg.cut), seg.end.Sub(seg.start))
			if line.Text != "" {
				c.opts.Emit(line)
			}
		}
	}
}

// transcribe decodes seg with ffmpeg and has the engine transcribe it.
func (c *Captioner) transcribe(seg segment) (Line, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.Timeout)
	defer cancel()
	ogg, err := oggOf(seg.pkts)
	if err != nil {
		return Line{}, err
	}
	f, err := os.CreateTemp(c.dir, "segment-*.wav")
	if err != nil {
		return Line{}, fmt.Errorf("livecap: %w", err)
	}
	wav := f.Name()
	f.Close()
	defer os.Remove(wav)
	if err := Decode(ctx, c.opts.FFmpeg, ogg, wav); err != nil {
		return Line{}, err
	}
	words, err := c.opts.Engine.Transcribe(ctx, wav)
	if err != nil {
		return Line{}, err
	}
	texts := make([]string, 0, len(words))
	for _, w := range words {
		texts = append(texts, w.Text)
	}
	return Line{Speaker: seg.speaker, Text: strings.Join(texts, " "), Start: seg.start, End: seg.end, Words: words}, nil
}

// oggOf writes Opus packets as an Ogg Opus stream, one after the other.
func oggOf(pkts [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := oggwriter.NewWith(&buf, 48000, 1)
	if err != nil {
		return nil, fmt.Errorf("livecap: ogg: %w", err)
	}
	// pion's stream says its first 3840 samples (80 ms) are pre-skip (RFC 7845
	// §4.2), which the decoder drops: they are empty frames (RFC 6716 §3.2.1),
	// as the recorder's streams begin.
	if err := w.WriteRTP(&rtp.Packet{Payload: []byte{31<<3 | 3, 4}}); err != nil {
		return nil, fmt.Errorf("livecap: ogg: %w", err)
	}
	for _, p := range pkts {
		if err := w.WriteRTP(&rtp.Packet{Payload: p}); err != nil {
			return nil, fmt.Errorf("livecap: ogg: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// Decode has ffmpeg decode the Ogg Opus stream ogg into wav: 16 kHz mono 16-bit,
// at a steady loudness (EBU R128, as the replays' captions: Pocketsphinx misses
// words of loud speech).
func Decode(ctx context.Context, ffmpeg string, ogg []byte, wav string) error {
	cmd := exec.CommandContext(ctx, ffmpeg, "-v", "error", "-y", "-f", "ogg", "-i", "pipe:0",
		"-af", "loudnorm=I=-23", "-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", wav)
	cmd.Stdin = bytes.NewReader(ogg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("livecap: ffmpeg: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
