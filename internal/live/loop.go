package live

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/shrink"
)

// liveRoom is one live room: a goroutine that owns the room state machine and the
// sockets of its participants. Everything that touches them runs on that goroutine,
// as a closure sent over ops, so there are no locks around room state.
type liveRoom struct {
	hub *Hub
	id  string
	cfg room.Config // never changes: read from any goroutine
	st  *room.Room  // room goroutine only

	ops  chan func()
	quit chan struct{} // closed to stop the loop
	once sync.Once

	conns    map[string]*conn  // user ID → their current socket
	sessions map[string]string // user ID → the session of their last socket (signed-in users)
	grace    map[string]uint64 // user ID → their grace window after a dropped socket (grace.go)
	windows  graceWindows
	people   map[string]Person // names of everyone present
	// adminGrants holds the server admins who asked to moderate the room, until
	// when their join is awaited (ModerateAsAdmin); nil until one asks.
	adminGrants map[string]time.Time

	audienceDirty bool
	pending       pendingHands  // room goroutine only
	speakers      speakerView   // room goroutine only
	pacer         *speakerPacer // big rooms' active_speakers; made on the room goroutine
	bc            roomBackchannel
	reacts        reactInbox // reactions waiting for the room goroutine (backchannel.go)

	sumMu     sync.Mutex // guards entry, published and gone, read by the directory's publisher
	entry     DirectoryEntry
	published bool // entry was made once
	gone      bool // the room ended or moved: its entry must not be written again

	lease       Lease  // this node's ownership of the room
	lastSaved   []byte // the last state saved; room goroutine only
	stopServing func() // stops answering other nodes' requests (set by Hub.serve)
	linkMu      sync.Mutex
	links       map[string]*edgeLink // the edges of the room, by node (link.go)
	stopped     bool                 // finish or stepDown ran; room goroutine only
}

func newLiveRoom(h *Hub, cfg room.Config, lease Lease) *liveRoom {
	r := &liveRoom{hub: h, id: cfg.ID, cfg: cfg, st: room.New(cfg), ops: make(chan func(), 1024), quit: make(chan struct{}),
		lease: lease, stopServing: func() {}, links: map[string]*edgeLink{},
		conns: map[string]*conn{}, sessions: map[string]string{}, grace: map[string]uint64{}, people: map[string]Person{},
		pending: pendingHands{}}
	r.bc.limit = rate.NewLimiter(roomChatRate, roomChatBurst)
	return r
}

// do runs f on the room goroutine and waits for it; false if the room is gone.
func (r *liveRoom) do(f func()) bool {
	done := make(chan struct{})
	select {
	case r.ops <- func() { f(); close(done) }:
	case <-r.quit:
		return false
	}
	select {
	case <-done:
		return true
	case <-r.quit:
		return false
	}
}

// post runs f on the room goroutine without waiting.
func (r *liveRoom) post(f func()) {
	select {
	case r.ops <- f:
	case <-r.quit:
	}
}

// startedIdle is how long a created room waits for its creator to open it.
const startedIdle = 10 * time.Minute

func (r *liveRoom) run(idleFor time.Duration) {
	defer r.hub.wg.Done()
	tick := time.NewTicker(r.hub.opts.AudienceEvery)
	defer tick.Stop()
	idle := time.NewTimer(max(idleFor, 0))
	defer idle.Stop()
	lost := r.lease.Lost()
	for {
		select {
		case f := <-r.ops:
			// select picks at random among ready cases: a room that has quit
			// must not run an op whose caller already gave up on it.
			select {
			case <-r.quit:
				return
			default:
			}
			if !r.lease.Valid() { // paused past the lease's life: do nothing of it
				r.hub.log.Warn("the room's lease expired unrenewed (was this process paused?): stepping down", "room", r.id)
				r.stepDown()
				return
			}
			f()
			r.flushLinks()
		case <-tick.C:
			r.flushAudience()
			r.flushLinks()
		case <-idle.C:
			if r.st.State() == room.StateWaiting && r.lease.Valid() {
				r.finish(ByeEnded)
			}
		case <-lost:
			r.hub.log.Warn("the room's lease was lost: stepping down", "room", r.id)
			r.stepDown()
			return
		case <-r.quit:
			r.endGrace()
			return
		}
	}
}

// person names a participant.
func (r *liveRoom) person(id string) Person {
	if p, ok := r.people[id]; ok {
		return p
	}
	return Person{ID: id}
}

// apply runs cmd for actor on the state machine and delivers what follows: the
// media server first (who may be heard), then the durable record, then the
// events, then the hallway.
func (r *liveRoom) apply(actor string, cmd room.Command) error {
	return r.applyThen(actor, cmd, nil)
}

// applyThen is apply, calling ack (if not nil) once the events are queued and
// before a room the command ended closes its sockets: the actor's ok goes out
// ahead of their bye.
func (r *liveRoom) applyThen(actor string, cmd room.Command, ack func()) error {
	audibleBefore, modsBefore := r.audibleSet(), r.moderatorSet()
	waiting := r.st.State() == room.StateWaiting
	evs, err := r.st.Apply(actor, cmd)
	if err != nil {
		return err
	}
	if waiting && r.st.State() != room.StateWaiting {
		// Written before the opener hears of it: a restart must not bring
		// back, as waiting, a room that was opened (its live state is gone).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := r.hub.opts.Store.OpenRoom(ctx, r.id, r.hub.now()); err != nil {
			r.hub.log.Error("recording that a room opened", "room", r.id, "err", err)
		}
		cancel()
	}
	if mattersToState(evs) {
		r.saveState()
	}
	r.syncMedia(audibleBefore)
	for _, ev := range evs {
		r.record(ev)
	}
	r.deliver(evs, actor)
	r.resyncModerators(modsBefore)
	r.syncRecording(evs) // after everyone is told that it starts
	r.syncCaptions(evs)
	r.refreshSummary()
	if ack != nil {
		ack()
	}
	if r.st.Ended() {
		r.finish(ByeEnded)
	}
	return nil
}

// audibleSet is who may be heard now.
func (r *liveRoom) audibleSet() map[string]bool {
	out := map[string]bool{}
	for _, id := range r.st.StageUserIDs() {
		if r.st.Audible(id) {
			out[id] = true
		}
	}
	return out
}

// moderatorSet is who moderates now.
func (r *liveRoom) moderatorSet() map[string]bool {
	out := map[string]bool{}
	for _, id := range r.st.StageUserIDs() {
		if p, _ := r.st.Participant(id); p.Role == room.Moderator {
			out[id] = true
		}
	}
	return out
}

// resyncModerators sends a fresh snapshot to everyone present whose moderator
// status changed since before: a snapshot shows a moderator what only
// moderators see (the hand queue, the pending invitations to speak, who is
// muted in the chat), which a new one was never told and a former one must
// no longer show. Made one (moderator_added, automatic or not), revoked
// (moderator_removed), or off the stage (stepped down or moved): each gets it
// after the events of the command.
func (r *liveRoom) resyncModerators(before map[string]bool) {
	after := r.moderatorSet()
	for u, c := range r.conns {
		if before[u] == after[u] {
			continue
		}
		if _, present := r.st.Participant(u); present {
			r.sendSnapshot(c, "")
		}
	}
}

// syncMedia tells the media server about every change of who may be heard before
// any event about it leaves: silencing is in force before a client learns of it.
func (r *liveRoom) syncMedia(before map[string]bool) {
	m := r.hub.opts.Media
	if m == nil {
		return
	}
	after := r.audibleSet()
	for id := range before {
		if !after[id] {
			m.SetAudible(r.id, id, false)
			r.allowRemote(id, false)
		}
	}
	for id := range after {
		if !before[id] {
			m.SetAudible(r.id, id, true)
			r.allowRemote(id, true)
		}
	}
}

// record keeps the room's history in the store.
func (r *liveRoom) record(ev room.Event) {
	st := r.hub.opts.Store
	switch e := ev.(type) {
	case room.JoinedStage:
		id, at := r.id, e.Since
		if p := r.person(e.UserID); !p.Guest {
			r.hub.persist("speaker", func(ctx context.Context) error { return st.AddSpeaker(ctx, id, e.UserID, at) })
			if on := r.hub.opts.OnStage; on != nil {
				title := r.cfg.Title
				r.hub.persist("on stage", func(ctx context.Context) error { return on(ctx, id, title, p) })
			}
		}
	case room.RoomEnded:
		id, at, epoch := r.id, r.hub.now(), r.lease.Epoch()
		r.hub.persist("end room", func(ctx context.Context) error { return st.EndRoom(ctx, id, at, epoch) })
	case room.ModeratorAdded:
		h, data := r.hub, madeModeratorData{RoomID: r.id, RoomTitle: r.cfg.Title, By: e.By}
		h.persist("made moderator notice", func(ctx context.Context) error {
			return h.notifyGated(ctx, e.UserID, notify.KindMadeModerator, e.By, data)
		})
	}
}

// deliver sends each event to its recipients. In a busy room, listener joins and
// leaves become one audience count a second; the leave of a listener with a
// raised hand or a pending invitation to speak goes to the moderators too, who
// alone saw it (pendingHands). The actor's own join is not echoed: their
// snapshot already holds it.
func (r *liveRoom) deliver(evs []room.Event, actor string) {
	busy := r.st.ListenerCount() > r.hub.opts.CoalesceAbove
	for _, ev := range evs {
		carried := r.pending.carried(ev)
		modsOnly := false
		if ev.Coalescible() && busy {
			r.audienceDirty = true
			if !carried {
				continue
			}
			modsOnly = true
		}
		data, err := json.Marshal(eventData(ev, r.person))
		if err != nil {
			r.hub.log.Error("encoding event", "kind", ev.Kind(), "err", err)
			continue
		}
		to := ev.Recipients()
		if to.Members {
			for u, c := range r.conns {
				// Members are the people present once the command is applied:
				// not whoever it removed, whose socket is still open for their
				// removed notice.
				if p, present := r.st.Participant(u); present && (!modsOnly || p.Role == room.Moderator) {
					c.sendEvent(ev.Kind(), data)
				}
			}
			continue
		}
		for _, u := range to.Users {
			if c, ok := r.conns[u]; ok {
				c.sendEvent(ev.Kind(), data)
			}
		}
	}
	for _, ev := range evs {
		if e, ok := ev.(room.Removed); ok {
			// A removed participant is told, then their socket closes, and the
			// room leaves their hallway (the directory entry lists them).
			r.drop(e.UserID, ByeRemoved)
		}
	}
}

// pendingHands are the listeners with a raised hand or a pending invitation to
// speak, as the events have told. A busy room counts listeners coming and going
// instead of announcing each, but hands and invitations are announced in full
// to the moderators (and their listener): the departure of a listener who holds
// one is announced to the moderators too, since it takes the hand or the
// invitation off their screen. Everyone else counts it in the audience.
type pendingHands map[string]bool

// carried keeps the set current with ev, every event in order, and reports
// whether ev must be sent even in a busy room. A lowered hand or a declined
// invitation stays in the set until the listener leaves the audience: telling
// of one departure too many is harmless.
func (p pendingHands) carried(ev room.Event) bool {
	switch e := ev.(type) {
	case room.HandRaised:
		p[e.UserID] = true
	case room.SpeakInvited:
		p[e.UserID] = true
	case room.JoinedStage:
		delete(p, e.UserID)
	case room.ListenerLeft:
		held := p[e.UserID]
		delete(p, e.UserID)
		return held
	}
	return false
}

// flushAudience sends the coalesced listener count.
func (r *liveRoom) flushAudience() {
	if !r.audienceDirty {
		return
	}
	r.audienceDirty = false
	data, _ := json.Marshal(audienceData{ListenerCount: r.st.ListenerCount()})
	for _, c := range r.conns {
		c.sendEvent(KindAudience, data)
	}
}

// drop closes a participant's socket and forgets it, without a room command.
func (r *liveRoom) drop(user, reason string) {
	if c, ok := r.conns[user]; ok {
		c.close(reason)
		delete(r.conns, user)
	}
	delete(r.grace, user) // their window, if any, ends without a leave
	delete(r.people, user)
	delete(r.sessions, user)
	if m := r.hub.opts.Media; m != nil {
		m.Disconnect(r.id, user)
	}
	r.hub.left(user, r.id)
}

// finish closes every socket and stops the room.
func (r *liveRoom) finish(reason string) {
	if r.stopped {
		return
	}
	r.stopped = true
	r.hub.forget(r) // first: once a socket hears the room ended, nobody finds it
	r.markGone()
	keep := reason == ByeShutdown && r.st.State() == room.StateWaiting
	if !keep {
		r.hub.forgetState(r)
		if !r.cfg.KeepChat { // after every chat write queued before
			st, id := r.hub.opts.Store, r.id
			r.bc.writes.push(r.hub, func(ctx context.Context) {
				if err := st.DropChat(ctx, id); err != nil {
					r.hub.log.Error("dropping an ended room's chat", "room", id, "err", err)
				}
			})
		}
	}
	for u := range r.people { // the sockets, and those in their grace window
		r.drop(u, reason)
	}
	if m := r.hub.opts.Media; m != nil {
		m.CloseRoom(r.id)
	}
	r.stopServing()
	r.flushLinks() // the edges' sockets hear the end too
	// A room nobody opened yet outlives a shutdown: the next run brings it back.
	if !r.st.Ended() && !keep {
		id, at, epoch := r.id, r.hub.now(), r.lease.Epoch()
		st := r.hub.opts.Store
		r.hub.persist("end room", func(ctx context.Context) error { return st.EndRoom(ctx, id, at, epoch) })
	}
	r.once.Do(func() { close(r.quit) })
}

// shutdown ends the room because the server stops.
func (r *liveRoom) shutdown() {
	if !r.do(func() { r.finish(ByeShutdown) }) {
		return
	}
}

// compact lets the room's tables start small again after a crowd left. Room
// goroutine only.
func (r *liveRoom) compact() {
	r.conns, r.people, r.grace, r.sessions = shrink.Map(r.conns), shrink.Map(r.people), shrink.Map(r.grace), shrink.Map(r.sessions)
	r.st.Compact()
}
