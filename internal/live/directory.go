package live

import (
	"context"
	"slices"
	"time"
)

// publishEvery is the shortest time between two writes of one room's entry in the
// directory: a join storm changes the listener count thousands of times a second,
// and the hallway shows it a second late at most.
const publishEvery = 200 * time.Millisecond

// entryOf builds the directory entry of r from its summary. Room goroutine only.
func (r *liveRoom) entryOf(s Summary) DirectoryEntry {
	e := DirectoryEntry{Summary: s, Owner: r.hub.cl.Nodes.Self().Name, Epoch: r.lease.Epoch(),
		CoHosts: r.cfg.CoHosts, ClubID: r.cfg.ClubID, MembersOnly: r.cfg.MembersOnly,
		Invited: r.st.Invited(), Removed: r.st.Removed()}
	if len(e.Invited) == 0 {
		e.Invited = nil
	}
	if len(e.Removed) == 0 {
		e.Removed = nil
	}
	r.linkMu.Lock()
	for node, l := range r.links {
		l.mu.Lock()
		if len(l.socks) > 0 {
			e.Edges = append(e.Edges, node)
		}
		l.mu.Unlock()
	}
	r.linkMu.Unlock()
	slices.Sort(e.Edges)
	return e
}

// markEntry asks the publisher to write r's entry.
func (h *Hub) markEntry(r *liveRoom) {
	h.mu.Lock()
	if h.dirty == nil {
		h.dirty = map[*liveRoom]struct{}{}
	}
	h.dirty[r] = struct{}{}
	h.mu.Unlock()
	select {
	case h.entriesDirty <- struct{}{}:
	default:
	}
}

// publishEntries writes the entries of the rooms whose summary changed to the
// directory, each at most every publishEvery.
func (h *Hub) publishEntries() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case <-h.entriesDirty:
		}
		h.mu.Lock()
		batch := h.dirty
		h.dirty = nil
		h.mu.Unlock()
		for r := range batch {
			e, ok := r.getEntry()
			if !ok {
				continue // it ended, or moved: finish or stepDown deleted the entry
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := h.cl.Directory.Put(ctx, e); err != nil {
				h.log.Warn("writing a room's directory entry", "room", r.id, "err", err)
			}
			cancel()
		}
		select {
		case <-h.stop:
			return
		case <-time.After(publishEvery):
		}
	}
}

// watchDirectory pushes fresh hallways when the directory changes.
func (h *Hub) watchDirectory() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case <-h.cl.Directory.Changed():
			h.markHallway()
		}
	}
}

// moderators lists the moderators on stage.
func (e DirectoryEntry) moderators() []string { return e.Summary.moderators() }

// isRemoved reports whether a moderator removed user from the room.
func (e DirectoryEntry) isRemoved(user string) bool { return slices.Contains(e.Removed, user) }

// hosts reports whether user is the room's creator or one of its co-hosts.
func (e DirectoryEntry) hosts(user string) bool {
	return e.CreatorID == user || slices.Contains(e.CoHosts, user)
}

// liveEntries lists the live rooms of the cluster: the directory, with this node's
// own rooms as they are now (the directory lags by up to publishEvery).
func (h *Hub) liveEntries() []DirectoryEntry {
	self := h.cl.Nodes.Self().Name
	h.mu.Lock()
	local := make([]*liveRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		local = append(local, r)
	}
	h.mu.Unlock()
	out := make([]DirectoryEntry, 0, len(local))
	mine := make(map[string]bool, len(local))
	for _, r := range local {
		if e, ok := r.getEntry(); ok {
			out = append(out, e)
			mine[e.ID] = true
		}
	}
	for _, e := range h.cl.Directory.List() {
		// An entry of this node's that it no longer runs is on its way out.
		if !mine[e.ID] && e.Owner != self {
			out = append(out, e)
		}
	}
	return out
}
