package invitation

import (
	"context"
	"errors"
	"time"
)

// View is a page as the API shows it to one viewer.
type View struct {
	Code         string     `json:"code"`
	URL          string     `json:"url"`
	Status       string     `json:"status"`
	Expired      bool       `json:"expired"`
	Public       bool       `json:"public"`
	Message      string     `json:"message"`
	ToStage      bool       `json:"to_stage"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	From         Person     `json:"from"`
	To           *Person    `json:"to,omitempty"`      // the invitee's account
	ToName       string     `json:"to_name,omitempty"` // or their name, as the inviter gave it
	InvitationID string     `json:"invitation_id,omitempty"`
	Room         *RoomView  `json:"room,omitempty"`
	Event        *EventView `json:"event,omitempty"`
	Thread       []PostView `json:"thread"`
	You          You        `json:"you"`
}

// RoomView is a page's room.
type RoomView struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	Description   string    `json:"description"`
	Type          string    `json:"type"`
	State         string    `json:"state"`
	Stage         []OnStage `json:"stage"`
	ListenerCount int       `json:"listener_count"`
	AllowGuests   bool      `json:"allow_guests"`
	URL           string    `json:"url"`
}

// EventView is a page's event.
type EventView struct {
	ID          string    `json:"id"`
	Title       string    `json:"name"`
	Description string    `json:"description"`
	StartsAt    time.Time `json:"starts_at"`
	TimeZone    string    `json:"time_zone"`
	Host        Person    `json:"host"`
	Cancelled   bool      `json:"cancelled"`
	Started     bool      `json:"started"`
	RoomID      string    `json:"room_id,omitempty"`
	URL         string    `json:"url"`
}

// PostView is one post of a thread: who wrote it (Author), and for whom when a
// delegate did (For).
type PostView struct {
	Seq    int       `json:"seq"`
	Side   string    `json:"side"`
	Kind   string    `json:"kind"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
	Author Person    `json:"author"`
	For    *Person   `json:"for,omitempty"`
}

// You says how the viewer stands to a page and what they may do there.
type You struct {
	Side   string   `json:"side"`             // inviter, invitee, or reader
	Acting bool     `json:"acting,omitempty"` // as a delegate
	Key    bool     `json:"key,omitempty"`    // through the link's key, the page being nobody's yet
	Can    []string `json:"can"`              // accept, decline, question, reply, publish, signup, login
}

// Get returns the page of code as v may see it. When the invitee's side looks,
// a page that was only sent is seen from now on.
func (s *Service) Get(ctx context.Context, code string, v Viewer) (View, error) {
	inv, posts, r, err := s.load(ctx, code, v)
	if err != nil {
		return View{}, err
	}
	if r.side == SideInvitee && inv.Status == StatusSent {
		if _, err := s.opts.Store.MarkInvitationSeen(ctx, code, s.now()); err != nil {
			return View{}, err
		}
		inv.Status = StatusSeen
	}
	return s.view(ctx, inv, posts, r, v, nil)
}

// view makes the view of a page; people caches the names it looked up.
func (s *Service) view(ctx context.Context, inv Invitation, posts []Post, r role, v Viewer, people map[string]Person) (View, error) {
	if people == nil {
		people = map[string]Person{}
	}
	name := func(id string) Person {
		if p, ok := people[id]; ok {
			return p
		}
		p := s.person(ctx, id)
		people[id] = p
		return p
	}
	t, err := s.target(ctx, inv)
	if err != nil {
		return View{}, err
	}
	out := View{Code: inv.Code, URL: s.URL(inv.Code), Status: inv.Status, Expired: s.expired(inv, t), Public: inv.Public,
		Message: inv.Message, ToStage: inv.ToStage, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt,
		From: name(inv.InviterID), ToName: inv.InviteeName, Thread: []PostView{}}
	if inv.InviteeID != "" {
		to := name(inv.InviteeID)
		out.To = &to
	}
	if r.side != "" {
		out.InvitationID = inv.InvitationID
	}
	if t.room != nil {
		out.Room = &RoomView{ID: t.room.ID, Title: t.room.Title, Description: t.room.Description, Type: t.room.Type,
			State: t.room.State, Stage: t.room.Stage, ListenerCount: t.room.ListenerCount, AllowGuests: t.room.AllowGuests,
			URL: s.opts.PublicURL + "/rooms/" + t.room.ID}
		if out.Room.Stage == nil {
			out.Room.Stage = []OnStage{}
		}
	}
	if t.event != nil {
		e := t.event
		out.Event = &EventView{ID: e.ID, Title: e.Title, Description: e.Description, StartsAt: e.StartsAt,
			TimeZone: e.TimeZone, Host: name(e.HostID), Cancelled: e.Cancelled, Started: e.Started, RoomID: e.RoomID,
			URL: s.opts.PublicURL + "/events/" + e.ID}
	}
	for _, p := range posts {
		pv := PostView{Seq: p.Seq, Side: p.Side, Kind: p.Kind, Text: p.Text, At: p.At}
		switch {
		case p.AuthorID == "":
			pv.Author = Person{DisplayName: p.Name, Guest: true}
		default:
			pv.Author = name(p.AuthorID)
		}
		if p.ForID != "" {
			f := name(p.ForID)
			pv.For = &f
		}
		out.Thread = append(out.Thread, pv)
	}
	out.You = s.you(inv, r, v, out.Expired)
	return out, nil
}

// you says what v may do on a page.
func (s *Service) you(inv Invitation, r role, v Viewer, expired bool) You {
	y := You{Side: r.side, Acting: v.Delegate != "" && r.side != "", Key: r.keyOnly, Can: []string{}}
	if y.Side == "" {
		y.Side = "reader"
	}
	can := func(what ...string) { y.Can = append(y.Can, what...) }
	switch r.side {
	case SideInviter:
		can("publish")
		if !expired {
			can("reply")
		}
	case SideInvitee:
		if expired || inv.Status == StatusDeclined {
			break
		}
		if inv.Status != StatusAccepted {
			if r.keyOnly && !r.mayClaim {
				if inv.SignupCode != "" {
					can("signup")
				}
				can("login")
			} else {
				can("accept")
			}
		}
		can("decline", "question")
	}
	return y
}

// SignupCode returns the sign-up code of a page nobody claimed, for whoever
// holds its key: they sign up with it from the page.
func (s *Service) SignupCode(ctx context.Context, code, key string) (string, error) {
	inv, _, r, err := s.load(ctx, code, Viewer{Key: key})
	if err != nil {
		return "", err
	}
	if !r.keyOnly || inv.SignupCode == "" {
		return "", ErrForbidden
	}
	t, err := s.target(ctx, inv)
	if err != nil {
		return "", err
	}
	if s.expired(inv, t) {
		return "", ErrExpired
	}
	return inv.SignupCode, nil
}

// Mine lists the pages v sent and received (newest first, at most MaxPerPage
// of each), with their threads: the sent list keeps every message and answer.
func (s *Service) Mine(ctx context.Context, v Viewer) (sent, received []View, err error) {
	if sent, err = s.list(ctx, Of{InviterID: v.User}, false, v, MaxPerPage); err != nil {
		return nil, nil, err
	}
	if received, err = s.list(ctx, Of{InviteeID: v.User}, false, v, MaxPerPage); err != nil {
		return nil, nil, err
	}
	return sent, received, nil
}

// Public lists the public pages of a room, an event or an inviter, newest first.
func (s *Service) Public(ctx context.Context, of Of, v Viewer, limit int) ([]View, error) {
	return s.list(ctx, of, true, v, limit)
}

// Find returns the code of the page of a room invitation or an event's for
// the invitee, if v may see it.
func (s *Service) Find(ctx context.Context, of Of, v Viewer) (string, error) {
	inv, err := s.opts.Store.InvitationPageFor(ctx, of)
	if err != nil {
		return "", err
	}
	if _, err := roleOf(inv, v); err != nil {
		return "", err
	}
	return inv.Code, nil
}

func (s *Service) list(ctx context.Context, of Of, public bool, v Viewer, limit int) ([]View, error) {
	pages, err := s.opts.Store.InvitationPages(ctx, of, public, limit)
	if err != nil {
		return nil, err
	}
	codes := make([]string, len(pages))
	for i, p := range pages {
		codes[i] = p.Code
	}
	posts, err := s.opts.Store.InvitationPosts(ctx, codes)
	if err != nil {
		return nil, err
	}
	people := map[string]Person{}
	out := []View{}
	for _, inv := range pages {
		r, err := roleOf(inv, v)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		vw, err := s.view(ctx, inv, posts[inv.Code], r, v, people)
		if errors.Is(err, ErrNotFound) {
			continue // its room or event is gone
		}
		if err != nil {
			return nil, err
		}
		out = append(out, vw)
	}
	return out, nil
}
