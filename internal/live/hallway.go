package live

import (
	"context"
	"encoding/json"
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

// liveSummaries returns the summaries of the live rooms.
func (h *Hub) liveSummaries() []*liveRoom {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*liveRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		out = append(out, r)
	}
	return out
}

// visibility decides, for one viewer, which rooms they may see. It is the one
// place that rule lives: the hallway, the room page and invitations all use it.
type visibility struct {
	viewer string
	edges  map[string]Edge // viewer's edges to the moderators of the rooms asked about
	clubs  map[string]bool // the clubs viewer belongs to
}

func (h *Hub) newVisibility(ctx context.Context, viewer string, sums []Summary) (*visibility, error) {
	var mods []string
	for _, s := range sums {
		mods = append(mods, s.moderators()...)
		mods = append(mods, s.CreatorID)
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
	return &visibility{viewer: viewer, edges: edges, clubs: clubs}, nil
}

// sees reports whether the viewer may see the room: never one a moderator there
// blocks them from; open rooms always; social rooms when a moderator follows them
// or they were invited; closed rooms only when they are a member.
func (v *visibility) sees(r *liveRoom, s Summary) bool {
	member := func() bool {
		ok := false
		r.do(func() { ok = r.st.IsMember(v.viewer) })
		return ok
	}
	if s.CreatorID == v.viewer || slices.Contains(r.cfg.CoHosts, v.viewer) {
		return member() // the hosts, unless a moderator removed them
	}
	for _, m := range s.moderators() {
		if v.edges[m].BlockedBy {
			return false
		}
	}
	if r.cfg.MembersOnly {
		return v.clubs[r.cfg.ClubID] || member()
	}
	switch s.Type {
	case room.Open:
		return true
	case room.Social:
		for _, m := range s.moderators() {
			if v.edges[m].FollowedBy {
				return true
			}
		}
		return member()
	default:
		return member()
	}
}

// Hallway lists the live rooms viewer may see, ranked: rooms where people they
// follow speak, then rooms where people they follow listen, then the rest by size.
func (h *Hub) Hallway(ctx context.Context, viewer string) ([]HallwayRoom, error) {
	rooms := h.liveSummaries()
	sums := make([]Summary, len(rooms))
	for i, r := range rooms {
		sums[i] = r.getSummary()
	}
	vis, err := h.newVisibility(ctx, viewer, sums)
	if err != nil {
		return nil, err
	}
	following, err := h.opts.Store.FollowingIDs(ctx, viewer, maxFollowingConsidered)
	if err != nil {
		return nil, err
	}
	follows := make(map[string]bool, len(following))
	for _, id := range following {
		follows[id] = true
	}
	// Followed people listening, by room: read from the hub's user→room index.
	listening := map[string]int{}
	h.mu.Lock()
	for _, id := range following {
		if rid, ok := h.userRoom[id]; ok {
			listening[rid]++
		}
	}
	h.mu.Unlock()

	out := []HallwayRoom{}
	for i, r := range rooms {
		s := sums[i]
		// A room that removed the viewer is not offered to them again; its page
		// still answers, and says why they cannot rejoin.
		if s.State != room.StateLive || r.isRemoved(viewer) || !vis.sees(r, s) {
			continue
		}
		card := HallwayRoom{ID: s.ID, Title: s.Title, Type: s.Type, AllowGuests: s.AllowGuests,
			SpeakerCount: len(s.Stage), ListenerCount: s.ListenerCount, Speakers: []Person{},
			ClubID: r.cfg.ClubID, ClubMember: r.cfg.ClubID != "" && vis.clubs[r.cfg.ClubID]}
		var others []Person
		for _, p := range s.Stage {
			if follows[p.ID] {
				card.FollowedSpeakers++
				card.Speakers = append(card.Speakers, p.Person)
			} else {
				others = append(others, p.Person)
			}
		}
		card.Speakers = append(card.Speakers, others...)
		card.Speakers = card.Speakers[:min(3, len(card.Speakers))]
		card.FollowedListeners = max(0, listening[s.ID]-card.FollowedSpeakers)
		card.Reason = reason(card, s.CreatorID == viewer || slices.Contains(r.cfg.CoHosts, viewer))
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
	h.mu.Lock()
	rid, in := h.userRoom[userID]
	same := in && h.userRoom[otherID] == rid
	h.mu.Unlock()
	if !same {
		return nil
	}
	r, ok := h.room(rid)
	if !ok {
		return nil
	}
	edges, err := h.opts.Store.Edges(ctx, userID, []string{otherID})
	if err != nil {
		return err
	}
	e := edges[otherID]
	r.do(func() {
		for _, c := range []struct {
			actor string
			cmd   room.SetRelation
		}{
			{userID, room.SetRelation{Target: otherID, Follows: e.Follows, Blocks: e.Blocks}},
			{otherID, room.SetRelation{Target: userID, Follows: e.FollowedBy, Blocks: e.BlockedBy}},
		} {
			if err := r.apply(c.actor, c.cmd); err != nil {
				h.log.Debug("relation not applied", "room", r.id, "err", err) // one of them left meanwhile
			}
		}
	})
	return nil
}

// RoomInfo returns a live room's summary if viewer may see it ("" viewer: a guest,
// who sees open rooms that allow guests).
func (h *Hub) RoomInfo(ctx context.Context, viewer, roomID string) (Summary, error) {
	r, ok := h.room(roomID)
	if !ok {
		return Summary{}, ErrRoomNotFound
	}
	s := r.getSummary()
	if viewer == "" {
		if s.Type == room.Open && s.AllowGuests {
			return s, nil
		}
		return Summary{}, ErrRoomNotFound
	}
	vis, err := h.newVisibility(ctx, viewer, []Summary{s})
	if err != nil {
		return Summary{}, err
	}
	if !vis.sees(r, s) {
		return Summary{}, ErrRoomNotFound
	}
	return s, nil
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
