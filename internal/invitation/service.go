package invitation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/ids"
)

// Notification kinds this package sends (the others are the live layer's and
// the events').
const (
	// KindAnswer tells the inviter that the invitee's side answered or asked
	// (the live layer's invitation_answer, with the page's code).
	KindAnswer = "invitation_answer"
	// KindReply tells an invitee with an account that the inviter's side replied.
	KindReply = "invitation_reply"
)

// Person is someone as a page shows them: an account, or someone without one
// (Guest, with the name they gave).
type Person struct {
	ID          string `json:"id,omitempty"`
	Username    string `json:"username,omitempty"`
	DisplayName string `json:"display_name"`
	Guest       bool   `json:"guest,omitempty"`
}

// Room is what a page shows of a live room.
type Room struct {
	ID            string
	Title         string
	Description   string
	Type          string // open, social, closed
	MembersOnly   bool
	State         string // waiting, live, ended
	Stage         []OnStage
	ListenerCount int
	AllowGuests   bool
}

// OnStage is someone on a room's stage.
type OnStage struct {
	Person
	Role string `json:"role"`
}

// Event is what a page shows of a scheduled event.
type Event struct {
	ID          string
	Title       string
	Description string
	StartsAt    time.Time
	TimeZone    string
	HostID      string
	RoomType    string
	MembersOnly bool
	Cancelled   bool
	Started     bool
	RoomID      string
}

// Rooms is the live layer, as pages need it.
type Rooms interface {
	// Room returns a room, live or ended; ErrNotFound if there is none.
	Room(ctx context.Context, id string) (Room, error)
	// Accept lets userID into the room as inviterID invited them, on stage when
	// the inviter moderates it now; toStage says whether they do.
	Accept(ctx context.Context, roomID, inviterID, userID string) (toStage bool, err error)
	// Answer records an invitee's answer to an invitation to a room (accepted,
	// declined or question) and tells its inviter.
	Answer(ctx context.Context, invitationID string, user Person, status, text string) error
}

// Events is the events service, as pages need it.
type Events interface {
	// Event returns an event whoever asks; ErrNotFound if there is none.
	Event(ctx context.Context, id string) (Event, error)
	// Invite invites userID to the event for inviterID (a page claimed by
	// someone who had no account when invited).
	Invite(ctx context.Context, inviterID, eventID, userID, message string) error
	// Answer records userID's answer to their invitation and tells its inviter.
	Answer(ctx context.Context, userID, eventID, status, text string) error
}

// People names accounts and tells blocks.
type People interface {
	Person(ctx context.Context, id string) (Person, error)
	// Blocked reports whether a block stands between a and b, either way.
	Blocked(ctx context.Context, a, b string) (bool, error)
}

// Notifier sends a notification through the gate (muted kinds).
type Notifier interface {
	Notify(ctx context.Context, user, kind, sender string, data any) error
}

// Options configure a Service.
type Options struct {
	Store    Store
	Rooms    Rooms
	Events   Events
	People   People
	Notifier Notifier
	// PublicURL is the base of the pages' links.
	PublicURL string
	// TTL is how long an invitation lasts, at most (the sign-up code's too).
	TTL time.Duration
	Now func() time.Time
}

// Service runs the pages of invitations.
type Service struct {
	opts Options
}

// New returns the service.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TTL <= 0 {
		opts.TTL = 7 * 24 * time.Hour
	}
	return &Service{opts: opts}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// URL is where the page of code is.
func (s *Service) URL(code string) string { return s.opts.PublicURL + "/i/" + code }

// Created is a page just made, with its key, which is shown once: the link for
// someone without an account carries it (KeyURL).
type Created struct {
	Invitation
	Key    string
	URL    string // the page, for anyone who may see it
	KeyURL string // the page with its key, for the invitee
}

// Target is what an invitation is to: a room or an event.
type Target struct {
	RoomID  string
	EventID string
}

// NewPage is one page to make.
type NewPage struct {
	Target
	InviterID    string
	InviteeID    string // "" for someone without an account
	InviteeName  string // their name, as the inviter gives it
	InvitationID string // the room invitation it belongs to
	SignupCode   string // the sign-up code of someone without an account
	Message      string
	ToStage      bool
	Public       bool
}

// Create makes the pages of invitations just sent (one per invitee), all or
// none. A public one must be to an open or social room, or such an event.
func (s *Service) Create(ctx context.Context, pages []NewPage) ([]Created, error) {
	now := s.now()
	var out []Created
	var rows []Invitation
	for _, p := range pages {
		name, err := CleanText(p.InviteeName, MaxName, false)
		if err != nil {
			return nil, fmt.Errorf("%w: name: %v", ErrInvalid, err)
		}
		if p.Public {
			if err := s.mayBePublic(ctx, p.Target); err != nil {
				return nil, err
			}
		}
		expires := now.Add(s.opts.TTL)
		if p.EventID != "" {
			// An invitation to an event lasts until the event is over, however
			// far ahead it is.
			e, err := s.opts.Events.Event(ctx, p.EventID)
			if err != nil {
				return nil, err
			}
			if end := e.StartsAt.Add(eventOver); end.After(expires) {
				expires = end
			}
		}
		key := ids.Secret()
		inv := Invitation{Code: ids.New(), KeyHash: HashKey(key), InviterID: p.InviterID, InviteeID: p.InviteeID,
			InviteeName: name, RoomID: p.RoomID, EventID: p.EventID, InvitationID: p.InvitationID,
			SignupCode: p.SignupCode, Message: p.Message, ToStage: p.ToStage, Public: p.Public, Status: StatusSent,
			CreatedAt: now, ExpiresAt: expires, UpdatedAt: now}
		rows = append(rows, inv)
		out = append(out, Created{Invitation: inv, Key: key, URL: s.URL(inv.Code), KeyURL: s.URL(inv.Code) + "#k=" + key})
	}
	if err := s.opts.Store.CreateInvitationPages(ctx, rows); err != nil {
		return nil, err
	}
	return out, nil
}

// mayBePublic refuses to make public an invitation to a closed or members-only
// room or event: their very existence is for their members.
func (s *Service) mayBePublic(ctx context.Context, t Target) error {
	if t.RoomID != "" {
		r, err := s.opts.Rooms.Room(ctx, t.RoomID)
		if err != nil {
			return err
		}
		if r.Type == "closed" || r.MembersOnly {
			return ErrNotPublic
		}
		return nil
	}
	e, err := s.opts.Events.Event(ctx, t.EventID)
	if err != nil {
		return err
	}
	if e.RoomType == "closed" || e.MembersOnly {
		return ErrNotPublic
	}
	return nil
}

// CleanText checks what someone wrote: valid UTF-8, at most max characters,
// no control characters (but newlines when multiline) and no bidirectional
// overrides, trimmed. It is shown as text, always; this keeps it text-shaped.
func CleanText(s string, max int, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("not valid UTF-8")
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if n := utf8.RuneCountInString(s); n > max {
		return "", fmt.Errorf("%d characters, at most %d", n, max)
	}
	for _, r := range s {
		switch {
		case r == '\n' && multiline:
		case unicode.IsControl(r):
			return "", errors.New("control characters are not allowed")
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return "", errors.New("bidirectional overrides are not allowed")
		}
	}
	return s, nil
}

// Viewer is who looks at or acts on a page: an account (User), perhaps through
// one of its delegates (Delegate, acting with the invitations scope), and the
// key of the link if they have it.
type Viewer struct {
	User     string
	Delegate string
	Key      string
}

// role is how a viewer stands to a page.
type role struct {
	side     string // SideInviter, SideInvitee, or "" for a reader
	keyOnly  bool   // an invitee who holds the key of an unclaimed page
	mayClaim bool   // ... and, signed in in person, may make it theirs
}

// roleOf returns how v stands to inv; ErrNotFound when v may not see it.
func roleOf(inv Invitation, v Viewer) (role, error) {
	switch {
	case v.User != "" && v.User == inv.InviterID:
		return role{side: SideInviter}, nil
	case v.User != "" && v.User == inv.InviteeID:
		return role{side: SideInvitee}, nil
	case inv.InviteeID == "" && inv.KeyOpens(v.Key):
		return role{side: SideInvitee, keyOnly: true, mayClaim: v.User != "" && v.Delegate == ""}, nil
	case inv.Public || inv.KeyOpens(v.Key):
		return role{}, nil
	}
	return role{}, ErrNotFound
}

// load reads a page for v.
func (s *Service) load(ctx context.Context, code string, v Viewer) (Invitation, []Post, role, error) {
	if !ids.Valid(code) {
		return Invitation{}, nil, role{}, ErrNotFound
	}
	inv, posts, err := s.opts.Store.InvitationPage(ctx, code)
	if err != nil {
		return Invitation{}, nil, role{}, err
	}
	r, err := roleOf(inv, v)
	return inv, posts, r, err
}

// target is what a page is to, as it is now.
type target struct {
	room  *Room
	event *Event
}

func (s *Service) target(ctx context.Context, inv Invitation) (target, error) {
	var t target
	if inv.RoomID != "" {
		r, err := s.opts.Rooms.Room(ctx, inv.RoomID)
		if err != nil {
			return t, err
		}
		t.room = &r
		return t, nil
	}
	e, err := s.opts.Events.Event(ctx, inv.EventID)
	if err != nil {
		return t, err
	}
	t.event = &e
	if e.Started && e.RoomID != "" {
		if r, err := s.opts.Rooms.Room(ctx, e.RoomID); err == nil {
			t.room = &r
		}
	}
	return t, nil
}

// eventOver is how long after its start an event that never started is over.
const eventOver = 2 * time.Hour

// expired reports whether the conversation of a page is over, or its time ran out.
func (s *Service) expired(inv Invitation, t target) bool {
	now := s.now()
	switch {
	case !now.Before(inv.ExpiresAt):
		return true
	case t.event != nil && t.event.Cancelled:
		return true
	case t.event != nil && !t.event.Started && now.After(t.event.StartsAt.Add(eventOver)):
		return true
	case t.room != nil && t.room.State == "ended":
		return true
	}
	return false
}
