package recorder

import (
	"sync"
	"time"

	"github.com/townhall/townhall/internal/sfu"
)

// ring hands the packets the tap copies on the packet path to the recorder's
// goroutine: a fixed arena of bytes and a fixed queue of headers, under one mutex,
// so that taking a packet allocates nothing and never waits for the consumer. A
// full ring drops the packet and counts it.
type ring struct {
	mu      sync.Mutex
	arena   []byte
	heads   []ringHead
	first   int // index in heads of the oldest packet
	count   int // packets queued
	w       int // the arena's next write offset
	dropped int64
}

// ringHead is one queued packet: its fields and where its payload is.
type ringHead struct {
	pkt      sfu.TapPacket // Payload unset
	at       time.Time
	off, len int
}

// Sizes of the ring: about four seconds of three slots of ordinary speech (Opus
// at 32-40 kbit/s: 80-100 bytes every 20 ms), which the recorder's goroutine
// drains within milliseconds.
const (
	ringArena   = 64 << 10
	ringPackets = 512
)

func newRing() *ring {
	return &ring{arena: make([]byte, ringArena), heads: make([]ringHead, ringPackets)}
}

// put copies p, arrived at at, into the ring; false if it is full.
func (r *ring) put(p sfu.TapPacket, at time.Time) bool {
	n := len(p.Payload)
	r.mu.Lock()
	defer r.mu.Unlock()
	off, ok := r.space(n)
	if !ok || r.count == len(r.heads) {
		r.dropped++
		return false
	}
	copy(r.arena[off:], p.Payload)
	h := &r.heads[(r.first+r.count)%len(r.heads)]
	h.pkt, h.at, h.off, h.len = p, at, off, n
	h.pkt.Payload = nil
	r.count++
	r.w = off + n
	return true
}

// space finds n contiguous free bytes of the arena, mu held. The queued payloads
// occupy the arena from the oldest one's offset up to w, wrapping at its end.
func (r *ring) space(n int) (int, bool) {
	if n == 0 || n > len(r.arena) {
		return 0, false
	}
	if r.count == 0 {
		return 0, true // empty: start again at the beginning
	}
	oldest := r.heads[r.first].off
	if r.w > oldest { // not wrapped: free after w, and before oldest
		if r.w+n <= len(r.arena) {
			return r.w, true
		}
		if n <= oldest {
			return 0, true // wrap: the tail of the arena stays unused
		}
		return 0, false
	}
	if r.w+n <= oldest { // wrapped: free from w to oldest
		return r.w, true
	}
	return 0, false
}

// take copies the oldest packet into buf (grown when too small) and removes it
// from the ring; false when the ring is empty. The returned packet's Payload is
// buf's.
func (r *ring) take(buf []byte) (sfu.TapPacket, time.Time, []byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == 0 {
		return sfu.TapPacket{}, time.Time{}, buf, false
	}
	h := r.heads[r.first]
	r.heads[r.first] = ringHead{}
	buf = append(buf[:0], r.arena[h.off:h.off+h.len]...)
	r.first = (r.first + 1) % len(r.heads)
	r.count--
	p := h.pkt
	p.Payload = buf
	return p, h.at, buf, true
}

// takeDropped returns the packets dropped since the last call.
func (r *ring) takeDropped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.dropped
	r.dropped = 0
	return n
}
