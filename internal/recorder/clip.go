package recorder

import (
	"context"
	"errors"
	"time"
)

// recentRing keeps a slot's packets of the last ClipWindow, with where each went.
type recentRing struct {
	pkts []recentPacket
}

type recentPacket struct {
	where   int64 // samples from the recording's start
	payload []byte
}

// add keeps a copy of payload, written at where, and forgets what is older than
// window samples before it.
func (q *recentRing) add(where int64, payload []byte, window int64) {
	drop := 0
	for drop < len(q.pkts) && q.pkts[drop].where < where-window {
		drop++
	}
	if drop > 0 {
		// Reuse the forgotten packets' memory for the new one when it fits.
		old := q.pkts[0].payload
		q.pkts = append(q.pkts[:0], q.pkts[drop:]...)
		if cap(old) >= len(payload) {
			q.pkts = append(q.pkts, recentPacket{where: where, payload: append(old[:0], payload...)})
			return
		}
	}
	q.pkts = append(q.pkts, recentPacket{where: where, payload: append([]byte(nil), payload...)})
}

// Clip is the last moments of a recording: one Ogg Opus stream per slot, each
// lasting from Start to End, to be mixed (ffmpeg) into one.
type Clip struct {
	Start, End time.Time
	Slots      [][]byte
}

type clipRequest struct {
	window time.Duration
	reply  chan clipReply
}

type clipReply struct {
	clip Clip
	err  error
}

// ErrNothingToClip: the recording holds nothing heard in the window.
var ErrNothingToClip = errors.New("recorder: nothing was heard in the last moments")

// Clip returns the last window (at most Options.ClipWindow) of the recording.
func (r *Recorder) Clip(ctx context.Context, window time.Duration) (Clip, error) {
	req := clipRequest{window: min(window, r.opts.ClipWindow), reply: make(chan clipReply, 1)}
	select {
	case r.clips <- req:
	case <-r.stopped:
		return Clip{}, ErrStopped
	case <-ctx.Done():
		return Clip{}, ctx.Err()
	}
	select {
	case rep := <-req.reply:
		return rep.clip, rep.err
	case <-ctx.Done():
		return Clip{}, ctx.Err()
	}
}

// clip builds the Clip of the last window, on the recorder's goroutine.
func (r *Recorder) clip(window time.Duration) clipReply {
	if r.err != nil {
		return clipReply{err: r.err}
	}
	end := r.opts.Now()
	start := end.Add(-window)
	if start.Before(r.opts.Start) {
		start = r.opts.Start
	}
	from, to := r.samplesAt(start), r.samplesAt(end)
	c := Clip{Start: start, End: end}
	heard := false
	for _, q := range r.recent {
		s, err := newOggStream()
		if err != nil {
			return clipReply{err: err}
		}
		for _, p := range q.pkts {
			if p.where < from || p.where >= to {
				continue
			}
			heard = true
			if err := s.fillTo(p.where - from); err != nil {
				return clipReply{err: err}
			}
			if err := s.writePacket(p.payload); err != nil {
				return clipReply{err: err}
			}
			n, _ := packetSamples(p.payload)
			s.pos += int64(n)
			s.toc = p.payload[0]
		}
		if err := s.fillTo(to - from); err != nil {
			return clipReply{err: err}
		}
		c.Slots = append(c.Slots, s.take())
	}
	if !heard {
		return clipReply{err: ErrNothingToClip}
	}
	return clipReply{clip: c}
}
