// Package recorder records what the audience of a live room hears: each of the
// room's K slot streams (the loudest speakers, as the media server forwards them)
// as an Ogg Opus stream of its own, packet for packet (nothing is decoded or
// re-encoded), at the pace of the wall clock so that silences stay silences, plus
// the timeline of who was heard when. It keeps the last half minute at hand for
// clips and hands each packet to a listener (the live captions).
//
// A Recorder is an sfu.Tap: the media server gives it each packet on the packet
// path, where it only copies the packet into a fixed ring (no allocation, no
// waiting); its own goroutine does the rest, and another one writes to the Sink.
// It knows nothing of rooms, HTTP or SQL.
package recorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/townhall/townhall/internal/sfu"
)

// Sink is where a recording goes: the bytes of each slot's Ogg stream, in order,
// and the timeline. Its calls come from one goroutine, one at a time.
type Sink interface {
	// Append adds data at the end of the Ogg stream of slot.
	Append(ctx context.Context, slot int, data []byte) error
	// Progress records the turns over since the last call, and that every slot's
	// stream now holds the recording up to through.
	Progress(ctx context.Context, turns []Turn, through time.Time) error
}

// Packet is a packet as the recorder heard it, for a listener (the captions).
type Packet struct {
	Speaker  string
	SSRC     uint32
	Seq      uint16
	TS       uint32
	Payload  []byte // valid only during the call
	Samples  int    // its duration at 48 kHz
	Level    uint8  // RFC 6464, when HasLevel
	HasLevel bool
	At       time.Time // when it arrived
}

// Options configure a Recorder.
type Options struct {
	Slots int       // K, the slots of the room's forwarder
	Start time.Time // the recording's first instant (now, by default)
	Sink  Sink
	// OnPacket, when set, is given every packet recorded, on the recorder's
	// goroutine: it must return at once (copy what it keeps).
	OnPacket func(Packet)
	Log      *slog.Logger
	Metrics  *Metrics
	// FlushEvery is how often the streams go to the Sink (default 2 s): what a
	// node that dies loses at most.
	FlushEvery time.Duration
	// ClipWindow is how much of the recent recording a Clip can take (default 30 s).
	ClipWindow time.Duration
	Now        func() time.Time
}

// Errors of a Recorder.
var (
	ErrStopped = errors.New("recorder: the recording is over")
	// ErrBacklog: the Sink is so far behind that the recording stopped rather
	// than hold more in memory.
	ErrBacklog = errors.New("recorder: the store does not keep up")
)

// fillLag is how far behind the wall clock the streams are filled with silence
// between packets: a packet that arrives later than this after its time (network
// jitter) lands a little late rather than after silence already written.
const fillLag = 300 * time.Millisecond

// maxBacklog bounds the bytes waiting for the Sink.
const maxBacklog = 16 << 20

// Recorder records one room. Make it with New, give it to the room's forwarder
// (sfu.Forwarder.SetTap), and Stop it after taking it back (SetTap(nil)).
type Recorder struct {
	opts    Options
	ring    *ring
	wake    chan struct{}
	clips   chan clipRequest
	stop    chan stopRequest
	stopped chan struct{} // closed when the goroutine ends

	// owned by the goroutine
	streams []*oggStream
	recent  []recentRing
	turns   turnBook
	scratch []byte
	out     *writer
	err     error // the first error: the recording stopped
}

// New starts a recording of opts.Slots slot streams from opts.Start.
func New(opts Options) (*Recorder, error) {
	if opts.Slots < 1 || opts.Sink == nil {
		return nil, fmt.Errorf("recorder: %d slots and a sink %v: want at least one slot and a sink", opts.Slots, opts.Sink)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Start.IsZero() {
		opts.Start = opts.Now()
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 2 * time.Second
	}
	if opts.ClipWindow <= 0 {
		opts.ClipWindow = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	r := &Recorder{opts: opts, ring: newRing(), wake: make(chan struct{}, 1), clips: make(chan clipRequest),
		stop: make(chan stopRequest), stopped: make(chan struct{}), recent: make([]recentRing, opts.Slots),
		out: newWriter(opts.Sink, opts.Log)}
	for range opts.Slots {
		s, err := newOggStream()
		if err != nil {
			return nil, err
		}
		r.streams = append(r.streams, s)
	}
	go r.run()
	return r, nil
}

var _ sfu.Tap = (*Recorder)(nil)

// Tap implements sfu.Tap: it copies p into the ring, on the packet path.
func (r *Recorder) Tap(p sfu.TapPacket) {
	if p.Slot < 0 || p.Slot >= len(r.recent) {
		return
	}
	if r.ring.put(p, r.opts.Now()) {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// samplesAt is the position, in samples from the recording's start, of t.
func (r *Recorder) samplesAt(t time.Time) int64 {
	return int64(t.Sub(r.opts.Start)) * clockRate / int64(time.Second)
}

func (r *Recorder) run() {
	defer close(r.stopped)
	tick := time.NewTicker(r.opts.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.wake:
			r.drain()
		case <-tick.C:
			r.drain()
			now := r.opts.Now()
			r.fillAll(r.samplesAt(now.Add(-fillLag)))
			r.flush(now.Add(-fillLag), false)
		case req := <-r.clips:
			r.drain()
			req.reply <- r.clip(req.window)
		case req := <-r.stop:
			r.drain()
			r.fillAll(r.samplesAt(req.at))
			r.flush(req.at, true)
			req.reply <- r.out.close(req.ctx)
			return
		}
	}
}

// drain records every packet waiting in the ring.
func (r *Recorder) drain() {
	for {
		p, at, buf, ok := r.ring.take(r.scratch)
		r.scratch = buf
		if !ok {
			break
		}
		r.record(p, at)
	}
	if n := r.ring.takeDropped(); n > 0 {
		r.opts.Metrics.dropped(n)
	}
}

// record writes one packet into its slot's stream.
func (r *Recorder) record(p sfu.TapPacket, at time.Time) {
	if r.err != nil {
		return
	}
	n, err := packetSamples(p.Payload)
	if err != nil {
		r.opts.Metrics.dropped(1)
		return
	}
	s := r.streams[p.Slot]
	where := s.pos
	ok, err := s.write(p.Speaker, p.SSRC, p.Seq, p.Timestamp, p.Payload, r.samplesAt(at))
	if err != nil {
		r.fail(err)
		return
	}
	if !ok {
		r.opts.Metrics.dropped(1)
		return
	}
	where = max(where, s.pos-int64(n))
	r.recent[p.Slot].add(where, p.Payload, int64(r.opts.ClipWindow)*clockRate/int64(time.Second))
	d := time.Duration(n) * time.Second / clockRate
	r.turns.heard(p.Speaker, !p.HasLevel || p.Level < voicedLevel, at, d)
	if r.opts.OnPacket != nil {
		r.opts.OnPacket(Packet{Speaker: p.Speaker, SSRC: p.SSRC, Seq: p.Seq, TS: p.Timestamp, Payload: p.Payload,
			Samples: n, Level: p.Level, HasLevel: p.HasLevel, At: at})
	}
}

// fillAll fills every stream with silence up to where.
func (r *Recorder) fillAll(where int64) {
	if r.err != nil {
		return
	}
	for _, s := range r.streams {
		if err := s.fillTo(where); err != nil {
			r.fail(err)
			return
		}
	}
}

// flush hands what the streams hold and the turns over to the writer.
func (r *Recorder) flush(through time.Time, final bool) {
	if r.err != nil {
		return
	}
	for i, s := range r.streams {
		if data := s.take(); len(data) > 0 {
			if err := r.out.append(i, data); err != nil {
				r.fail(err)
				return
			}
		}
	}
	r.out.progress(r.turns.take(through, final), through)
}

func (r *Recorder) fail(err error) {
	if r.err == nil {
		r.err = err
		r.opts.Log.Error("a recording stopped", "err", err)
	}
}

type stopRequest struct {
	ctx   context.Context
	at    time.Time
	reply chan error
}

// Stop ends the recording at the instant at (now when zero): every stream is
// filled up to it, and Stop returns once the Sink has everything (or ctx is
// done). Take the Recorder off its forwarder first (SetTap(nil)): a packet tapped
// after Stop is ignored.
func (r *Recorder) Stop(ctx context.Context, at time.Time) error {
	if at.IsZero() {
		at = r.opts.Now()
	}
	req := stopRequest{ctx: ctx, at: at, reply: make(chan error, 1)}
	select {
	case r.stop <- req:
	case <-r.stopped:
		return ErrStopped
	}
	err := <-req.reply
	<-r.stopped
	return errors.Join(r.err, err)
}
