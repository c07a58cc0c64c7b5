package sfu

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// SlotState is one slot of a Forwarder's assignment as the audience sees it: who is
// heard in the slot and how loud. (A speaker who occupies a slot hears someone else
// in it; see Forwarder.)
type SlotState struct {
	Slot          int    // 0 to K-1, the index of the slot's m-line among the slots
	ParticipantID string // "" for an empty slot
	Level         uint8  // smoothed RFC 6464 level: 0 (loudest) to 127 (silence)
	Speaking      bool   // the occupant is audible now
}

// slotWriter sends one rewritten RTP packet on one of a receiver's slots. The header
// carries the rewritten sequence number, timestamp, marker and audio level element;
// the writer sets the slot's own SSRC and payload type and must not keep hdr or
// payload after it returns. Writes to different slots of one receiver may run
// concurrently; writes to one slot never do.
//
// It is the seam between the forwarding core and the transport: pion's
// PeerConnection write path today (slotTracks), a lean SRTP path later.
type slotWriter interface {
	WriteSlot(slot int, hdr *rtp.Header, payload []byte) error
}

// member is one participant of a Forwarder: a possible speaker, and a receiver once
// its Peer is connected.
type member struct {
	id string

	// gate is the SetAllowed barrier: every packet of this member is handled (checked,
	// metered, fanned out) with gate read-locked; SetAllowed write-locks it.
	gate    sync.RWMutex
	allowed atomic.Bool // written with gate write-locked

	attached atomic.Bool              // a Peer owns this ID (written with Forwarder.mu held)
	remote   atomic.Bool              // its audio comes over the relay from an edge (cluster.go)
	rx       atomic.Pointer[receiver] // set while its Peer is connected
	meter    levelMeter               // written only by its packet path
	kickedAt atomic.Int64             // when its packet path last asked for a re-rank
	sel      selState                 // guarded by Forwarder.assignMu
}

func newMember(id string) *member {
	m := &member{id: id}
	m.sel.slot = -1
	return m
}

// receiver is the outbound side of one connected member: K slot streams, written
// by w (the pion transport) or by lean (the lean transport).
type receiver struct {
	m     *member
	w     slotWriter
	lean  *leanConn
	slots []slotStream
}

func newReceiver(m *member, w slotWriter, k int) *receiver {
	return &receiver{m: m, w: w, slots: make([]slotStream, k)}
}

// send rewrites p from src for this receiver's slot and writes it; the lean
// transport queues it on b.
func (r *receiver) send(slot int, src *member, p *rtpPacket, now int64, b *sendBatch) bool {
	s := &r.slots[slot]
	h := s.rewrite(src, p, now)
	if r.lean != nil {
		return r.lean.writeSlot(b, s, slot, h, p.payload)
	}
	return r.w.WriteSlot(slot, h, p.payload) == nil
}

// Forwarder is the media of one live room: it takes the RTP of the room's speakers,
// picks the K loudest allowed ones (with hysteresis) and forwards them into every
// participant's K slots, each slot one continuous Opus stream. A participant never
// hears itself: a receiver who occupies slot i hears, in slot i, the (K+1)-th
// speaker instead.
//
// Who may be heard is the room layer's decision, given with SetAllowed.
//
// Locks, in the order they are taken (never the reverse):
//
//	Forwarder.mu → member.gate → Forwarder.assignMu → frameJoiner.mu
//
// The packet path read-locks member.gate, then assignMu, and takes nothing else
// but, with Config.ListenerFrames > 1, the slot's frameJoiner.mu.
type Forwarder struct {
	slots    int
	metrics  *metrics
	epoch    time.Time
	seqStart uint16           // Config.SeqStart
	release  func(*Forwarder) // tells the Engine this Forwarder is closed

	mu      sync.Mutex // guards members, closed, and writes of rxs
	members map[string]*member
	closed  bool
	rxs     atomic.Pointer[[]*receiver] // copy on write: the packet path reads it lock-free

	assignMu sync.RWMutex // guards sel, every member.sel, free, tap
	sel      selector
	free     int // empty main slots
	tap      Tap // gets what the audience hears (SetTap); nil: nobody

	onActive atomic.Pointer[func([]SlotState)]
	kick     chan struct{}
	done     chan struct{}
	stopped  chan struct{}
	running  bool // start was called

	// owned by the selector goroutine
	scratch  []*member
	lastView []SlotState

	// joins make the listeners' joined stream of each slot (Config.ListenerFrames);
	// nil: listeners get the 20 ms stream.
	joins []frameJoiner

	cl        clusterState  // the room across nodes (cluster.go)
	memberGen atomic.Uint64 // changes whenever members does
}

func newForwarder(k int, met *metrics) *Forwarder {
	f := &Forwarder{
		slots:   k,
		metrics: met,
		epoch:   time.Now(),
		members: make(map[string]*member),
		sel:     newSelector(k),
		free:    k,
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	f.rxs.Store(&[]*receiver{})
	f.lastView = f.sel.view()
	return f
}

// start starts the re-ranking goroutine. (Unit tests drive rerank by hand.)
func (f *Forwarder) start() {
	f.running = true
	go f.run()
}

// Slots returns K, the number of slots of every participant.
func (f *Forwarder) Slots() int { return f.slots }

// OnActive sets the function called about five times a second, while someone is in
// a slot and whenever the assignment changes, with the general view of the slots.
// It runs on the Forwarder's own goroutine: it must return quickly and must not call
// Close. It may keep the slice.
func (f *Forwarder) OnActive(fn func([]SlotState)) {
	f.onActive.Store(&fn)
}

// SetAllowed says whether the participant id may be heard. It is a barrier: when
// SetAllowed(id, false) returns, no packet of id is being forwarded and none will be,
// so the room layer can call it before it tells clients about a mute and be sure
// that no listener hears one more packet of id after the event. Packets of a
// participant who is not allowed are dropped, counted, and do not count for slot
// selection. It may be called before the participant has a Peer.
func (f *Forwarder) SetAllowed(id string, allowed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	m := f.members[id]
	if m == nil {
		if !allowed {
			return
		}
		m = newMember(id)
		f.members[id] = m
		f.memberGen.Add(1)
	}
	m.gate.Lock()
	m.allowed.Store(allowed)
	m.gate.Unlock()
	if !allowed {
		f.dropJoined(m) // no frame of m held for the listeners outlives the barrier
		m.remote.Store(false)
		if !m.attached.Load() {
			delete(f.members, id)
			f.memberGen.Add(1)
		}
		f.requestRerank() // free its slot for someone else now
	}
}

// Close stops the Forwarder: every participant is disallowed and dropped, and the
// re-ranking goroutine ends. Close the room's Peers first; a Peer of a closed
// Forwarder stays connected but silent.
func (f *Forwarder) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	for id, m := range f.members {
		m.gate.Lock()
		m.allowed.Store(false)
		m.gate.Unlock()
		m.attached.Store(false)
		m.rx.Store(nil)
		delete(f.members, id)
	}
	f.rxs.Store(&[]*receiver{})
	f.mu.Unlock()
	close(f.done)
	if f.running {
		<-f.stopped
	}
	if f.release != nil {
		f.release(f)
	}
}

// join registers the Peer of participant id.
func (f *Forwarder) join(id string) (*member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	m := f.members[id]
	if m == nil {
		m = newMember(id)
		f.members[id] = m
		f.memberGen.Add(1)
	} else if m.attached.Load() {
		return nil, ErrDuplicatePeer
	}
	m.attached.Store(true)
	m.remote.Store(false) // connected here now
	return m, nil
}

// connect starts forwarding to rx, the receiver of m, once its transport is up.
func (f *Forwarder) connect(m *member, rx *receiver) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || !m.attached.Load() || m.rx.Load() != nil {
		return
	}
	now := f.now()
	for i := range rx.slots {
		rx.slots[i].reset(now)
		if f.seqStart != 0 {
			rx.slots[i].lastSeq = f.seqStart - 1
		}
	}
	rxs := *f.rxs.Load()
	next := make([]*receiver, len(rxs), len(rxs)+1)
	copy(next, rxs)
	next = append(next, rx)
	f.rxs.Store(&next)
	m.rx.Store(rx)
}

// leave removes m's Peer: nothing more is forwarded to it, and it leaves its slot at
// once. If m is still allowed, the room layer's decision stays for a later Peer.
func (f *Forwarder) leave(m *member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rx := m.rx.Swap(nil); rx != nil {
		rxs := *f.rxs.Load()
		next := slices.DeleteFunc(slices.Clone(rxs), func(r *receiver) bool { return r == rx })
		f.rxs.Store(&next)
	}
	m.attached.Store(false)
	f.dropJoined(m)
	if f.members[m.id] == m && !m.allowed.Load() {
		delete(f.members, m.id)
	}
	f.memberGen.Add(1)
	f.assignMu.Lock()
	for i, occ := range f.sel.slots {
		if occ == m {
			f.sel.slots[i] = nil
			f.free++
		}
	}
	if f.sel.alt == m {
		f.sel.alt = nil
	}
	m.sel.slot, m.sel.alt = -1, false
	f.assignMu.Unlock()
	f.requestRerank()
}

// now is the Forwarder's clock: monotonic nanoseconds, never 0.
func (f *Forwarder) now() int64 { return int64(time.Since(f.epoch)) + 1 }

// receive handles one RTP packet from m, read into buf, whose audio level extension
// has the ID levelID (0: none). p is scratch space reused across calls.
func (f *Forwarder) receive(m *member, buf []byte, levelID uint8, p *rtpPacket) {
	if err := parseRTP(buf, levelID, p); err != nil {
		f.metrics.droppedMalformed.Inc()
		return
	}
	p.raw, p.gen = buf, 0
	f.receiveParsed(m, p, f.now())
}

// receiveParsed handles p from m, parsed, at now: on an edge of a room spread over
// nodes, relays it to the owner; otherwise forwards it to whoever hears m.
func (f *Forwarder) receiveParsed(m *member, p *rtpPacket, now int64) {
	m.gate.RLock()
	defer m.gate.RUnlock()
	if !m.allowed.Load() {
		f.metrics.droppedUnauthorized.Inc()
		return
	}
	if rt := f.cl.route.Load(); rt != nil && !rt.Owner {
		f.uplink(m, p, rt)
		return
	}
	m.meter.observe(p.level, p.hasLevel, now)

	f.assignMu.RLock()
	sent, failed, slotted := f.fanOut(m, p, now)
	wantSlot := !slotted && f.free > 0
	f.assignMu.RUnlock()
	if wantSlot {
		if loud, _ := m.meter.read(now); loud >= audibleFloor {
			// A free slot: take it with this very packet rather than at the re-rank.
			f.assignMu.Lock()
			claimed := f.free > 0 && f.sel.claimFree(m, loud, now)
			if claimed {
				f.free--
			}
			f.assignMu.Unlock()
			if claimed {
				f.metrics.slotSwitches.Inc()
				f.requestRerank() // the new assignment goes to OnActive
				f.assignMu.RLock()
				sent, failed, slotted = f.fanOut(m, p, now)
				f.assignMu.RUnlock()
				wantSlot = false
			}
		}
	}

	switch {
	case slotted:
		f.metrics.forwardedPackets.Add(float64(sent))
		f.metrics.forwardedBytes.Add(float64(sent * len(p.payload)))
		if failed > 0 {
			f.metrics.droppedWriteError.Add(float64(failed))
		}
	default:
		f.metrics.droppedNoSlot.Inc()
		if loud, _ := m.meter.read(now); wantSlot && loud >= audibleFloor && now-m.kickedAt.Load() >= int64(kickSpacing) {
			m.kickedAt.Store(now)
			f.requestRerank() // a free slot: take it now rather than at the next tick
		}
	}
}

// fanOut writes p from m to every receiver that hears m, assignMu read-locked.
// slotted says whether m is heard at all (in a main slot or as the alternate).
// On the lean transport (p.fan set) the receivers are sharded over the cores.
func (f *Forwarder) fanOut(m *member, p *rtpPacket, now int64) (sent, failed int, slotted bool) {
	if slot := m.sel.slot; slot >= 0 {
		if f.tap != nil {
			f.tapPacket(m, slot, p)
		}
		sent, failed = f.fanSlot(m, m, slot, p, now)
		if f.cl.relay != nil {
			f.relaySlot(m, slot, p)
		}
		return sent, failed, true
	}
	if !m.sel.alt {
		return 0, 0, false
	}
	if f.cl.relay != nil {
		f.relaySlot(m, -1, p)
	}
	var b *sendBatch
	if p.fan != nil {
		b = p.fan.own
		defer b.flush()
	}
	// The alternate is heard only by the occupants, each in its own slot.
	for i, occ := range f.sel.slots {
		if occ == nil {
			continue
		}
		if r := occ.rx.Load(); r != nil {
			if r.send(i, m, p, now, b) {
				sent++
			} else {
				failed++
			}
		}
	}
	return sent, failed, true
}

// fanSlot writes p from src in slot to every receiver but skip's: with joined
// listener packets (f.joins), p to the stage and the joined stream to the others.
// The slot's frameJoiner.mu is held throughout, so that the re-rank tick's flush
// (flushStaleJoins) never writes to a slot stream at the same time, even while a
// receiver moves between the stage and the audience.
func (f *Forwarder) fanSlot(src, skip *member, slot int, p *rtpPacket, now int64) (sent, failed int) {
	var j *frameJoiner
	if f.joins != nil {
		j = &f.joins[slot]
		j.mu.Lock()
		defer j.mu.Unlock()
		p.audience = audienceStage
	}
	if p.fan != nil {
		sent, failed = p.fan.run(src, skip, slot, p, now, *f.rxs.Load())
	} else {
		sent, failed = fanShard(src, skip, slot, p, now, *f.rxs.Load(), nil)
	}
	if j != nil {
		p.audience = audienceAll
		s, fl := j.push(f, src, skip, p, now)
		sent, failed = sent+s, failed+fl
	}
	return sent, failed
}

// requestRerank asks the selector goroutine for a re-rank without waiting for it.
func (f *Forwarder) requestRerank() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// run is the Forwarder's goroutine: it re-ranks every rerankInterval, and early when
// asked, and reports the assignment to OnActive.
func (f *Forwarder) run() {
	defer close(f.stopped)
	t := time.NewTicker(rerankInterval)
	defer t.Stop()
	for {
		select {
		case <-f.done:
			return
		case <-t.C:
			f.flushStaleJoins()
			f.rerank(true)
		case <-f.kick:
			f.rerank(false)
		}
	}
}

// rerank runs the selector once; periodic says whether it is the 5 Hz tick.
func (f *Forwarder) rerank(periodic bool) {
	f.mu.Lock()
	members := f.scratch[:0]
	for _, m := range f.members {
		members = append(members, m)
	}
	f.mu.Unlock()
	now := f.now()

	f.assignMu.Lock()
	switches := f.sel.rerank(now, members)
	f.free = 0
	for _, m := range f.sel.slots {
		if m == nil {
			f.free++
		}
	}
	view := f.sel.view()
	f.assignMu.Unlock()

	clear(members) // keep no departed member alive until the next tick
	f.scratch = members[:0]
	f.metrics.slotSwitches.Add(float64(switches))

	changed := !slices.EqualFunc(view, f.lastView, func(a, b SlotState) bool {
		return a.ParticipantID == b.ParticipantID
	})
	occupied := slices.ContainsFunc(view, func(s SlotState) bool { return s.ParticipantID != "" })
	f.lastView = view
	if fn := f.onActive.Load(); fn != nil && (changed || periodic && occupied) {
		(*fn)(view)
	}
}
