package recorder

import (
	"slices"
	"time"
)

// Turn is one stretch of time in which a speaker was heard: the timeline of a
// recording is its turns.
type Turn struct {
	Speaker string
	Start   time.Time
	End     time.Time
}

// Thresholds of the timeline.
const (
	// voicedLevel: a packet whose RFC 6464 level is under it (louder than -60 dBov)
	// is speech; quieter ones are pauses, breath, comfort noise. A packet without
	// the extension counts as speech.
	voicedLevel = 60
	// turnGap: a pause shorter than this stays inside one turn.
	turnGap = 1500 * time.Millisecond
)

// turnBook gathers the turns of the speakers being heard.
type turnBook struct {
	open   map[string]*Turn
	closed []Turn
}

// heard notes a packet of speaker that lasts d, arrived at at.
func (b *turnBook) heard(speaker string, voiced bool, at time.Time, d time.Duration) {
	if !voiced {
		return
	}
	if b.open == nil {
		b.open = map[string]*Turn{}
	}
	t := b.open[speaker]
	if t != nil && at.Sub(t.End) > turnGap {
		b.closed = append(b.closed, *t)
		t = nil
	}
	if t == nil {
		t = &Turn{Speaker: speaker, Start: at}
		b.open[speaker] = t
	}
	t.End = at.Add(d)
}

// take returns the turns over by now (all of them when final), oldest first.
func (b *turnBook) take(now time.Time, final bool) []Turn {
	for id, t := range b.open {
		if final || now.Sub(t.End) > turnGap {
			b.closed = append(b.closed, *t)
			delete(b.open, id)
		}
	}
	out := b.closed
	b.closed = nil
	slices.SortFunc(out, func(a, b Turn) int { return a.Start.Compare(b.Start) })
	return out
}
