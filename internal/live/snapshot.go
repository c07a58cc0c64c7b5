package live

import (
	"slices"

	"github.com/townhall/townhall/internal/room"
)

// sendSnapshot sends c the whole room as they may see it, at their current seq;
// id is the request id of the snapshot message that asked for it, if any. What
// only moderators see (the raised hands, the pending invitations to speak, who
// is muted in the chat) a non-moderator sees of themselves alone.
func (r *liveRoom) sendSnapshot(c *conn, id string) {
	s := r.st.SnapshotUpTo(r.hub.opts.ListedListeners) // not the whole audience: a join's snapshot costs the same in a room of a million
	me := c.person.ID
	mod := false
	for _, p := range s.Stage {
		if p.UserID == me && p.Role == room.Moderator {
			mod = true
		}
	}
	v := snapshotView{
		roomView: viewRoom(s.Config), State: s.State, HandPolicy: s.HandPolicy,
		Stage: make([]stageView, 0, len(s.Stage)), RaisedHands: make([]Person, 0, len(s.RaisedHands)),
		SpeakInvitations: []string{}, ListenerCount: s.ListenerCount,
		Listeners: make([]listenerView, 0, len(s.Listeners)),
	}
	v.AllowGuests = s.GuestsAllowed
	v.Recorded = r.st.Recording()
	v.LiveCaptions, v.CaptionsShown = s.LiveCaptions, c.captions
	v.GuestsClosed = s.Config.AllowGuests && !s.GuestsAllowed
	for _, p := range s.Stage {
		_, away := r.grace[p.UserID]
		v.Stage = append(v.Stage, stageView{Person: r.person(p.UserID), Role: p.Role, Muted: p.Muted, Held: p.Held, Since: p.Since,
			Reconnecting: away})
	}
	v.ChatMode, v.SlowSeconds, v.PinnedLink, v.ReactionsAllowed = s.Chat, s.SlowSeconds, s.PinnedLink, s.ReactionsAllowed
	v.Reactions, v.KeepChat = room.Reactions, s.Config.KeepChat
	v.ChatMuted = []string{}
	for _, id := range s.ChatMuted {
		if mod || id == me {
			v.ChatMuted = append(v.ChatMuted, id)
		}
	}
	v.Chat = r.visibleChat(c, r.bc.recent)
	for _, id := range s.RaisedHands {
		if mod || id == me { // the hand queue is the moderators'; a listener sees their own hand
			v.RaisedHands = append(v.RaisedHands, r.person(id))
		}
	}
	for _, id := range s.SpeakInvitations {
		if mod || id == me { // pending invitations to speak are for the invitee and moderators
			v.SpeakInvitations = append(v.SpeakInvitations, id)
		}
	}
	v.ListenersCut = s.ListenerCount > len(s.Listeners)
	for _, p := range s.Listeners {
		v.Listeners = append(v.Listeners, listenerView{Person: r.person(p.UserID), HandRaised: p.HandRaised && (mod || p.UserID == me)})
	}
	if c.edge != nil {
		c.edge.snapshot(c, id, mustJSON(v)) // at the seq the edge numbers
	} else {
		c.send(mustJSON(snapshotMsg{Type: "snapshot", ID: id, Seq: c.seq, Room: v}))
	}
	if r.speakers.msg != nil { // who is heard now: active_speakers comes only on changes
		c.send(r.speakers.msg)
	}
}

func viewRoom(cfg room.Config) roomView {
	return roomView{ID: cfg.ID, Title: cfg.Title, Description: cfg.Description, Type: cfg.Type,
		AllowGuests: cfg.AllowGuests, CreatorID: cfg.CreatorID, CreatedAt: cfg.CreatedAt,
		Recorded: cfg.Record, ClipsAllowed: cfg.AllowClips, Captioned: cfg.Captions}
}

// Summary is a live room as the hallway and the room page show it.
type Summary struct {
	roomView
	State         room.State `json:"state"`
	Stage         []Onstage  `json:"stage"`
	ListenerCount int        `json:"listener_count"`
}

// Onstage is someone on a room's stage, in a summary.
type Onstage struct {
	Person
	Role room.Role `json:"role"`
}

// SpeakerCount is how many people are on stage.
func (s Summary) SpeakerCount() int { return len(s.Stage) }

// moderators lists the moderators on stage.
func (s Summary) moderators() []string {
	var out []string
	for _, p := range s.Stage {
		if p.Role == room.Moderator {
			out = append(out, p.ID)
		}
	}
	return out
}

// refreshSummary republishes the room's summary for readers off its goroutine.
func (r *liveRoom) refreshSummary() {
	s := Summary{roomView: viewRoom(r.st.Config()), State: r.st.State(), ListenerCount: r.st.ListenerCount(),
		Stage: []Onstage{}}
	s.Recorded = r.st.Recording()
	s.AllowGuests = r.st.GuestsAllowed()
	for _, id := range r.st.StageUserIDs() {
		p, _ := r.st.Participant(id)
		s.Stage = append(s.Stage, Onstage{Person: r.person(id), Role: p.Role})
	}
	e := r.entryOf(s)
	r.sumMu.Lock()
	old := r.entry
	changed := !r.published || !slices.Equal(s.Stage, old.Stage) || s.State != old.State ||
		s.ListenerCount != old.ListenerCount || s.AllowGuests != old.AllowGuests || s.Recorded != old.Recorded ||
		!slices.Equal(e.Invited, old.Invited) || !slices.Equal(e.Removed, old.Removed) || !slices.Equal(e.Edges, old.Edges)
	r.entry, r.published = e, true
	r.sumMu.Unlock()
	if changed {
		r.hub.markEntry(r)
	}
}

// getEntry returns the room's directory entry, false once it is gone from this
// node (ended or moved).
func (r *liveRoom) getEntry() (DirectoryEntry, bool) {
	r.sumMu.Lock()
	defer r.sumMu.Unlock()
	if r.gone {
		return DirectoryEntry{}, false
	}
	e := r.entry
	e.Stage = slices.Clone(e.Stage)
	return e, true
}

// audiencePage is how many listeners an audience page lists at most, and by
// default.
const audiencePage = 100

// audienceMsg answers an audience request: a page of the audience in the order
// it came, after the listener asked for.
type audienceMsg struct {
	Type          string         `json:"type"` // "audience"
	ID            string         `json:"id,omitempty"`
	Listeners     []listenerView `json:"listeners"`
	ListenerCount int            `json:"listener_count"`
	More          bool           `json:"more"` // ask again with the last one's id as after
}

// answerAudience answers c's request for a page of the audience, beyond the
// snapshot's first Options.ListedListeners: from the room's list, at the cost of the
// page however big the audience is. It reports whether the socket is done.
func (r *liveRoom) answerAudience(c *conn, msg ClientMessage) bool {
	if !c.limits().page.Allow() {
		c.send(errorFrame(msg.ID, ErrRateLimited))
		return false
	}
	limit := msg.Limit
	if limit == 0 {
		limit = audiencePage
	}
	return !r.do(func() {
		me := c.person.ID
		p, _ := r.st.Participant(me)
		mod := p.Role == room.Moderator
		page, more, err := r.st.AudiencePage(msg.After, limit)
		if err != nil {
			c.send(errorFrame(msg.ID, err))
			return
		}
		out := audienceMsg{Type: MsgAudience, ID: msg.ID, Listeners: make([]listenerView, 0, len(page)),
			ListenerCount: r.st.ListenerCount(), More: more}
		for _, l := range page {
			out.Listeners = append(out.Listeners, listenerView{Person: r.person(l.UserID), HandRaised: l.HandRaised && (mod || l.UserID == me)})
		}
		c.send(mustJSON(out))
	})
}
