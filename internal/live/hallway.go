package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/townhall/townhall/internal/room"
)

// HallwayRoom is one card of the hallway.
type HallwayRoom struct {
	ID                string    `json:"id"`
	Title             string    `json:"title"`
	Type              room.Type `json:"type"`
	AllowGuests       bool      `json:"allow_guests"`
	Speakers          []Person  `json:"speakers"` // up to 3, people the viewer follows first
	SpeakerCount      int       `json:"speaker_count"`
	ListenerCount     int       `json:"listener_count"`
	FollowedSpeakers  int       `json:"followed_speakers"`
	FollowedListeners int       `json:"followed_listeners"`
	ClubID            string    `json:"club_id,omitempty"`
	ClubMember        bool      `json:"club_member,omitempty"` // the viewer belongs to the room's club
	Reason            string    `json:"reason"`
}

// maxFollowingConsidered bounds how much of a viewer's following list ranks rooms.
const maxFollowingConsidered = 5000

// visibility decides, for one viewer, which rooms they may see. It is the one
// place that rule lives: the hallway, the room page and invitations all use it.
type visibility struct {
	hub    *Hub
	viewer string
	edges  map[string]Edge // viewer's edges to the moderators of the rooms asked about
	clubs  map[string]bool // the clubs viewer belongs to
}

func (h *Hub) newVisibility(ctx context.Context, viewer string, rooms []DirectoryEntry) (*visibility, error) {
	var mods []string
	for _, e := range rooms {
		mods = append(mods, e.moderators()...)
		mods = append(mods, e.CreatorID)
	}
	edges, err := h.opts.Store.Edges(ctx, viewer, mods)
	if err != nil {
		return nil, err
	}
	clubs := map[string]bool{}
	if h.opts.MemberClubs != nil {
		if clubs, err = h.opts.MemberClubs(ctx, viewer); err != nil {
			return nil, err
		}
	}
	return &visibility{hub: h, viewer: viewer, edges: edges, clubs: clubs}, nil
}

// member reports whether the viewer belongs to the room's conversation: a host,
// invited, or present; never once removed (room.Room.IsMember, from the
// directory).
func (v *visibility) member(e DirectoryEntry) bool {
	if e.isRemoved(v.viewer) {
		return false
	}
	if e.hosts(v.viewer) || slices.Contains(e.Invited, v.viewer) {
		return true
	}
	where, ok := v.hub.cl.Presence.Where(v.viewer)
	return ok && where == e.ID
}

// sees reports whether the viewer may see the room: never one a moderator there
// blocks them from; open rooms always; social rooms when a moderator follows them
// or they were invited; closed rooms only when they are a member.
func (v *visibility) sees(e DirectoryEntry) bool {
	if e.hosts(v.viewer) {
		return v.member(e) // the hosts, unless a moderator removed them
	}
	for _, m := range e.moderators() {
		if v.edges[m].BlockedBy {
			return false
		}
	}
	if e.MembersOnly {
		return v.clubs[e.ClubID] || v.member(e)
	}
	switch e.Type {
	case room.Open:
		return true
	case room.Social:
		for _, m := range e.moderators() {
			if v.edges[m].FollowedBy {
				return true
			}
		}
		return v.member(e)
	default:
		return v.member(e)
	}
}

// Hallway lists the live rooms viewer may see, ranked: rooms where people they
// follow speak, then rooms where people they follow listen, then the rest by size.
func (h *Hub) Hallway(ctx context.Context, viewer string) ([]HallwayRoom, error) {
	rooms := h.liveEntries()
	vis, err := h.newVisibility(ctx, viewer, rooms)
	if err != nil {
		return nil, err
	}
	following, err := h.opts.Store.FollowingIDs(ctx, viewer, maxFollowingConsidered)
	if err != nil {
		return nil, err
	}
	follows := make(map[string]bool, len(following))
	// Followed people listening, by room: read from the cluster's presence.
	listening := map[string]int{}
	for _, id := range following {
		follows[id] = true
		if rid, ok := h.cl.Presence.Where(id); ok {
			listening[rid]++
		}
	}

	out := []HallwayRoom{}
	for _, e := range rooms {
		// A room that removed the viewer is not offered to them again; its page
		// still answers, and says why they cannot rejoin.
		if e.State != room.StateLive || e.isRemoved(viewer) || !vis.sees(e) {
			continue
		}
		card := HallwayRoom{ID: e.ID, Title: e.Title, Type: e.Type, AllowGuests: e.AllowGuests,
			SpeakerCount: len(e.Stage), ListenerCount: e.ListenerCount, Speakers: []Person{},
			ClubID: e.ClubID, ClubMember: e.ClubID != "" && vis.clubs[e.ClubID]}
		var others []Person
		for _, p := range e.Stage {
			if follows[p.ID] {
				card.FollowedSpeakers++
				card.Speakers = append(card.Speakers, p.Person)
			} else {
				others = append(others, p.Person)
			}
		}
		card.Speakers = append(card.Speakers, others...)
		card.Speakers = card.Speakers[:min(3, len(card.Speakers))]
		card.FollowedListeners = max(0, listening[e.ID]-card.FollowedSpeakers)
		card.Reason = reason(card, e.hosts(viewer))
		out = append(out, card)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.FollowedSpeakers != b.FollowedSpeakers {
			return a.FollowedSpeakers > b.FollowedSpeakers
		}
		if a.ClubMember != b.ClubMember {
			return a.ClubMember // the rooms of the viewer's clubs come next
		}
		if a.FollowedListeners != b.FollowedListeners {
			return a.FollowedListeners > b.FollowedListeners
		}
		if sa, sb := a.SpeakerCount+a.ListenerCount, b.SpeakerCount+b.ListenerCount; sa != sb {
			return sa > sb
		}
		return a.ID < b.ID
	})
	return out, nil
}

// reason says in words why a room is in the hallway.
func reason(c HallwayRoom, host bool) string {
	switch {
	case c.FollowedSpeakers == 1:
		return c.Speakers[0].DisplayName + ", whom you follow, is speaking"
	case c.FollowedSpeakers > 1:
		return fmt.Sprintf("%d people you follow are speaking", c.FollowedSpeakers)
	case c.ClubMember:
		return "a room of your club"
	case c.FollowedListeners == 1:
		return "someone you follow is listening"
	case c.FollowedListeners > 1:
		return fmt.Sprintf("%d people you follow are listening", c.FollowedListeners)
	case host:
		return "you host it"
	case c.Type == room.Social:
		return "a moderator follows you"
	case c.Type == room.Closed:
		return "you were invited"
	}
	return "live now"
}

// RelationChanged tells the live rooms that how userID stands to otherID changed
// (a follow, an unfollow, a block or an unblock). If both are in the same room,
// the room learns the edges between them as they now stand, both ways, so that
// its stage and hand rules follow them; otherwise it does nothing. It reads the
// store, off the room goroutines. The HTTP handlers of the social graph call it
// after each change.
func (h *Hub) RelationChanged(ctx context.Context, userID, otherID string) error {
	rid, in := h.cl.Presence.Where(userID)
	if other, ok := h.cl.Presence.Where(otherID); !in || !ok || other != rid {
		return nil
	}
	edges, err := h.opts.Store.Edges(ctx, userID, []string{otherID})
	if err != nil {
		return err
	}
	e := edges[otherID]
	_, err = h.roomCall(ctx, rid, roomReq{Op: opRelation, From: Person{ID: userID}, User: otherID, Edge: &e})
	if errors.Is(err, ErrRoomNotFound) {
		return nil // it ended meanwhile
	}
	return err
}

// RoomInfo returns a live room's summary if viewer may see it ("" viewer: a guest,
// who sees open rooms that allow guests).
func (h *Hub) RoomInfo(ctx context.Context, viewer, roomID string) (Summary, error) {
	e, err := h.visibleEntry(ctx, viewer, roomID)
	return e.Summary, err
}

// AdminRoomInfo is RoomInfo for a server admin (the caller checked the account):
// any live room, as the admin console lists them all.
func (h *Hub) AdminRoomInfo(roomID string) (Summary, error) {
	e, ok := h.entry(roomID)
	if !ok {
		return Summary{}, ErrRoomNotFound
	}
	return e.Summary, nil
}

// visibleEntry returns the directory entry of a room viewer may see ("" viewer: a
// guest).
func (h *Hub) visibleEntry(ctx context.Context, viewer, roomID string) (DirectoryEntry, error) {
	e, ok := h.entry(roomID)
	if !ok {
		return DirectoryEntry{}, ErrRoomNotFound
	}
	if viewer == "" {
		if e.Type == room.Open && e.AllowGuests {
			return e, nil
		}
		return DirectoryEntry{}, ErrRoomNotFound
	}
	vis, err := h.newVisibility(ctx, viewer, []DirectoryEntry{e})
	if err != nil {
		return DirectoryEntry{}, err
	}
	if !vis.sees(e) {
		return DirectoryEntry{}, ErrRoomNotFound
	}
	return e, nil
}

// entry returns the directory entry of a live room: this node's own, which is
// never behind, for the rooms it runs.
func (h *Hub) entry(roomID string) (DirectoryEntry, bool) {
	if r, ok := h.room(roomID); ok {
		if e, ok := r.getEntry(); ok {
			return e, true
		}
	}
	return h.cl.Directory.Get(roomID)
}

func (h *Hub) markHallway() {
	select {
	case h.hallwayDirty <- struct{}{}:
	default:
	}
}

// pushHallways sends each user socket its hallway when rooms changed, at most every
// HallwayEvery, and only if that user's hallway changed.
func (h *Hub) pushHallways() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case <-h.hallwayDirty:
		}
		h.mu.Lock()
		conns := make([]*userConn, 0, len(h.users))
		for _, set := range h.users {
			for uc := range set {
				conns = append(conns, uc)
			}
		}
		h.mu.Unlock()
		for _, uc := range conns {
			h.sendHallway(uc)
		}
		select {
		case <-h.stop:
			return
		case <-time.After(h.opts.HallwayEvery):
		}
	}
}

func (h *Hub) sendHallway(uc *userConn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := h.Hallway(ctx, uc.user)
	if err != nil {
		h.log.Warn("hallway", "err", err)
		return
	}
	msg, _ := json.Marshal(struct {
		Type  string        `json:"type"`
		Rooms []HallwayRoom `json:"rooms"`
	}{"hallway", list})
	if uc.setLast(msg) {
		uc.send(msg)
	}
}
