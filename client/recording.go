package client

import (
	"errors"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// Recording counts and records what comes in each slot of a room's audio, each
// slot to its own Ogg Opus file (slot 0 to the path, slot i to SlotPath(path, i);
// nothing on disk without a path), across the Medias of successive sockets: a
// stay in a room that reconnects (RoomConn) makes a new Media for each socket and
// gives each the same Recording (MediaOptions.Recording). Each slot's file goes
// on from one connection to the next, the time between them filled with silence
// (SlotStats.Bridged), so that it keeps the pace of the room, and its counts add
// up.
//
// One Media feeds a Recording at a time: a Media that gets its offer takes the
// slots over, and what a previous one still receives is dropped.
type Recording struct {
	path string

	mu    sync.Mutex // guards slots; taken after Media.mu, before a slotRecorder's mu
	slots []*slotRecorder
}

// NewRecording returns a Recording to path ("" to count without recording). Close
// it after the last Media that uses it.
func NewRecording(path string) *Recording { return &Recording{path: path} }

// attach gives a Media the first k slots, making them as needed.
func (r *Recording) attach(k int) []slotTap {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.slots) < k {
		r.slots = append(r.slots, newSlotRecorder(len(r.slots), r.path))
	}
	taps := make([]slotTap, k)
	for i := range taps {
		taps[i] = slotTap{rec: r.slots[i], gen: r.slots[i].attach()}
	}
	return taps
}

// Stats returns what came in each slot so far, over every Media.
func (r *Recording) Stats() []SlotStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	out := make([]SlotStats, 0, len(r.slots))
	for _, s := range r.slots {
		out = append(out, s.snapshot(now))
	}
	return out
}

// Close finishes the files; what comes after is counted no more. Stats still
// answer.
func (r *Recording) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	var err error
	for _, s := range r.slots {
		s.end(now)
		err = errors.Join(err, s.close())
	}
	return err
}

// slotTap is one Media's hold on a slot: it passes on the packets and reports of
// its connection while it is the slot's last attachment.
type slotTap struct {
	rec *slotRecorder
	gen uint64
}

// packet counts and records pkt, if the tap still holds the slot.
func (t slotTap) packet(pkt *rtp.Packet, now time.Time) {
	r := t.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen == t.gen && !r.closed {
		r.packetLocked(pkt, now)
	}
}

// occupy notes an active_speakers report, if the tap still holds the slot.
func (t slotTap) occupy(user string, speaking bool, now time.Time) {
	r := t.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen == t.gen {
		r.occupyLocked(user, speaking, now)
	}
}

// detach ends the tap's connection at now: the occupants' clocks stop, and the
// next packet (another connection's) starts a new stream.
func (t slotTap) detach(now time.Time) {
	r := t.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen == t.gen {
		r.endLocked(now)
		r.cur, r.fresh = "", true
	}
}

// attach starts a new connection's stream in the slot and returns its
// generation.
func (r *slotRecorder) attach() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endLocked(time.Now()) // a previous Media that was not closed
	r.gen++
	r.fresh = true
	r.ended, r.cur, r.lastReport = time.Time{}, "", time.Time{}
	return r.gen
}
