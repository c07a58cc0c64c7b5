package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/townhall/townhall/internal/room"
)

// A room runs on one node, its owner, which holds the room's lease (Lease). The
// owner keeps the room's lasting state in RoomStates after every change that
// matters to it, so that another node can go on with the room: at a handover
// (the owner drains) or a takeover (the owner died, and its lease expired).

// savedRoom is what RoomStates keeps of a room.
type savedRoom struct {
	Room   room.Saved `json:"room"`
	People []Person   `json:"people"` // the names of the people the room kept
}

// saveState keeps the room's lasting state if it changed, before the command that
// changed it is acknowledged: an owner killed right after its ok loses nothing.
// Only what matters to the state saves (mattersToState): a listener coming or
// going does not. Room goroutine only.
func (r *liveRoom) saveState() {
	if r.st.Ended() {
		return // finish forgets the state: an ended room goes on nowhere
	}
	sv := savedRoom{Room: r.st.Save()}
	for _, m := range sv.Room.Members {
		sv.People = append(sv.People, r.person(m.ID))
	}
	data, err := json.Marshal(sv)
	if err != nil {
		r.hub.log.Error("encoding a room's state", "room", r.id, "err", err)
		return
	}
	if string(data) == string(r.lastSaved) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	switch err := r.hub.cl.RoomStates.Save(ctx, r.id, r.lease.Epoch(), data); {
	case err == nil:
		r.lastSaved = data
	case errors.Is(err, ErrStaleEpoch):
		r.hub.log.Warn("another node owns the room now: stepping down", "room", r.id, "epoch", r.lease.Epoch())
		go r.post(r.stepDown)
	default:
		r.hub.log.Error("saving a room's state", "room", r.id, "err", err) // the next change tries again
	}
}

// mattersToState reports whether events change what saveState keeps: anything but
// plain listeners coming and going.
func mattersToState(evs []room.Event) bool {
	for _, ev := range evs {
		switch e := ev.(type) {
		case room.ListenerJoined:
		case room.ListenerLeft:
			if e.Reason == room.ReasonRemoved {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// forgetState removes what the cluster keeps of an ended room: its entry at
// once (nobody finds the room any more when its sockets hear it ended), then its
// state and its lease. Room goroutine only.
func (h *Hub) forgetState(r *liveRoom) {
	id, lease := r.id, r.lease
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := h.cl.Directory.Delete(ctx, id); err != nil {
		h.log.Warn("deleting an ended room's directory entry", "room", id, "err", err)
	}
	cancel()
	h.persist("forget room", func(ctx context.Context) error {
		var errs []error
		if err := h.cl.RoomStates.Delete(ctx, id); err != nil {
			errs = append(errs, err)
		}
		lease.Release(ctx, true)
		if len(errs) > 0 {
			return fmt.Errorf("%v", errs)
		}
		return nil
	})
}

// stepDown stops running the room on this node without ending it: the lease is
// lost or handed over, and another node goes on with the room. Its sockets are
// told to reconnect (bye moved), which brings them to the new owner. Room
// goroutine only.
func (r *liveRoom) stepDown() {
	if r.stopped {
		return
	}
	r.stopped = true
	r.hub.forget(r)
	r.markGone()
	for u, c := range r.conns {
		delete(r.conns, u)
		if c.edge != nil {
			// Connected to another node: the socket stays, and its edge
			// brings it to the next owner (edge.go).
			c.edge.forget(c)
			continue
		}
		c.close(ByeMoved)
		if m := r.hub.opts.Media; m != nil {
			m.Disconnect(r.id, u)
		}
	}
	r.endGrace()
	if m := r.hub.opts.Media; m != nil {
		m.CloseRoom(r.id)
	}
	r.stopServing()
	lease := r.lease
	r.hub.persist("release lease", func(ctx context.Context) error { lease.Release(ctx, false); return nil })
	r.once.Do(func() { close(r.quit) })
}

// markGone stops the room's directory entry from being written again.
func (r *liveRoom) markGone() {
	r.sumMu.Lock()
	r.gone = true
	r.sumMu.Unlock()
}

// serve answers the room's requests from other nodes while this node runs it.
func (h *Hub) serve(r *liveRoom) error {
	stop, err := h.cl.Rooms.Serve(r.id, func(ctx context.Context, req []byte) []byte {
		return h.answerRoomRequest(ctx, r, req)
	})
	if err != nil {
		return err
	}
	stopEdges, err := h.serveEdges(r)
	if err != nil {
		stop()
		return err
	}
	r.stopServing = func() { stop(); stopEdges() }
	return nil
}

// restore runs roomID on this node, which just won its lease, from the state its
// last owner kept. Everyone the state kept is present again, in their grace
// window: they come back with their role by reconnecting.
func (h *Hub) restore(ctx context.Context, roomID string, lease Lease) error {
	data, epoch, ok, err := h.cl.RoomStates.Load(ctx, roomID)
	if err != nil || !ok {
		lease.Release(ctx, !ok && err == nil)
		if err == nil {
			err = fmt.Errorf("live: no state kept for room %s", roomID)
		}
		return err
	}
	var sv savedRoom
	if err := json.Unmarshal(data, &sv); err != nil {
		h.log.Error("a room's state does not decode: ending the room", "room", roomID, "epoch", epoch, "err", err)
		_ = h.opts.Store.EndRoom(ctx, roomID, h.now(), lease.Epoch())
		_ = h.cl.RoomStates.Delete(ctx, roomID)
		_ = h.cl.Directory.Delete(ctx, roomID)
		lease.Release(ctx, true)
		return fmt.Errorf("live: the state of room %s (epoch %d) does not decode: %w", roomID, epoch, err)
	}
	if sv.Room.State == room.StateEnded {
		// Its owner died between saving its end and forgetting it: forget it now.
		_ = h.opts.Store.EndRoom(ctx, roomID, h.now(), lease.Epoch())
		_ = h.cl.RoomStates.Delete(ctx, roomID)
		_ = h.cl.Directory.Delete(ctx, roomID)
		lease.Release(ctx, true)
		return nil
	}
	st, err := room.Load(sv.Room)
	if err != nil {
		// A state that does not load will never load: leave the room ended
		// rather than try again every second.
		h.log.Error("a room's state does not load: ending the room", "room", roomID, "epoch", epoch, "err", err)
		_ = h.opts.Store.EndRoom(ctx, roomID, h.now(), lease.Epoch())
		_ = h.cl.RoomStates.Delete(ctx, roomID)
		_ = h.cl.Directory.Delete(ctx, roomID)
		lease.Release(ctx, true)
		return fmt.Errorf("live: the state of room %s (epoch %d): %w", roomID, epoch, err)
	}
	if err := h.opts.Store.ClaimRoom(ctx, roomID, lease.Epoch()); err != nil {
		lease.Release(ctx, false)
		return fmt.Errorf("live: claiming room %s in the store: %w", roomID, err)
	}
	r := newLiveRoom(h, st.Config(), lease)
	r.st = st
	if recent, err := h.opts.Store.ChatPage(ctx, roomID, "", recentChat); err == nil {
		slices.Reverse(recent)
		r.bc.recent = recent
		if n := len(recent); n > 0 {
			r.bc.last = recent[n-1].At
		}
	} else {
		h.log.Warn("reading a room's latest chat", "room", roomID, "err", err)
	}
	for _, p := range sv.People {
		r.people[p.ID] = p
	}
	idle := startedIdle
	if st.State() == room.StateWaiting {
		idle -= h.now().Sub(st.Config().CreatedAt)
	}
	if err := h.start(r, idle); err != nil {
		return err
	}
	r.do(func() {
		for _, id := range st.PresentIDs() {
			h.enter(id, r.id, "")
			r.awaitReturn(id)
		}
		r.syncMedia(map[string]bool{})
		if st.LiveCaptions() { // the captions go on where the room now runs
			r.setCaptioning(true)
		}
		r.refreshSummary()
		r.saveState()
	})
	h.log.Info("running a room taken over from another node", "room", roomID, "epoch", lease.Epoch(), "kept", len(sv.People))
	return nil
}

// rank is where this node comes among the live nodes for roomID, by rendezvous
// hashing (the highest hash of node and room first): the first takes the room
// over, the next ones only if it does not.
func rank(roomID, self string, nodes []NodeInfo) int {
	score := func(name string) uint64 {
		f := fnv.New64a()
		f.Write([]byte(roomID))
		f.Write([]byte{0})
		f.Write([]byte(name))
		return f.Sum64()
	}
	type scored struct {
		name string
		s    uint64
	}
	var list []scored
	for _, n := range nodes {
		if !n.Draining || n.Name == self {
			list = append(list, scored{n.Name, score(n.Name)})
		}
	}
	slices.SortFunc(list, func(a, b scored) int {
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		return 0
	})
	for i, s := range list {
		if s.name == self {
			return i
		}
	}
	return len(list)
}

// orphanPatience is how long a room waits without an owner before the node
// ranked n after the first tries to take it: the first tries at once.
const orphanPatience = 1500 * time.Millisecond

// caretake runs on every node of a cluster: it takes over the rooms whose owner
// died (their state is kept, nobody holds their lease), the first node by rank at
// once and the others if it does not, and removes the directory entries of rooms
// that are gone.
func (h *Hub) caretake() {
	defer h.wg.Done()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	orphaned := map[string]time.Time{}
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		if h.isDraining() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		h.caretakeOnce(ctx, orphaned)
		cancel()
	}
}

func (h *Hub) caretakeOnce(ctx context.Context, orphaned map[string]time.Time) {
	ids, err := h.cl.RoomStates.List(ctx)
	if err != nil {
		h.log.Warn("listing the rooms' states", "err", err)
		return
	}
	self := h.cl.Nodes.Self().Name
	now := time.Now()
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
		if _, mine := h.room(id); mine {
			delete(orphaned, id)
			continue
		}
		_, _, held, err := h.cl.Leases.Holder(ctx, id)
		if err != nil || held {
			delete(orphaned, id)
			continue
		}
		since, ok := orphaned[id]
		if !ok {
			since = now
			orphaned[id] = now
		}
		// Ranked as the edges ranked the standby they send the speakers' audio
		// to (upstream): among the nodes heard lately, but for the room's last
		// owner, which a kill -9 leaves in Nodes.Live for seconds.
		var last string
		if e, ok := h.cl.Directory.Get(id); ok {
			last = e.Owner
		}
		if now.Sub(since) < time.Duration(rank(id, self, h.successors(last)))*orphanPatience {
			continue
		}
		lease, err := h.cl.Leases.Acquire(ctx, id, 0)
		if err != nil {
			continue // another node was quicker
		}
		delete(orphaned, id)
		if err := h.restore(ctx, id, lease); err != nil {
			h.log.Error("taking over a room", "room", id, "err", err)
		}
	}
	for id := range orphaned {
		if !seen[id] {
			delete(orphaned, id)
		}
	}
	// Entries of rooms that have no state any more: their owner died between
	// forgetting the state and the entry.
	for _, e := range h.cl.Directory.List() {
		if !seen[e.ID] {
			if _, mine := h.room(e.ID); !mine && now.Sub(e.CreatedAt) > time.Minute {
				if _, _, held, err := h.cl.Leases.Holder(ctx, e.ID); err == nil && !held {
					_ = h.cl.Directory.Delete(ctx, e.ID)
				}
			}
		}
	}
}
