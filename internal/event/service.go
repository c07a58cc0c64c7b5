package event

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database
	"unicode"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/room"
)

// Graph tells how two users stand to each other: *store.DB.
type Graph interface {
	Relation(ctx context.Context, a, b string) (account.Relation, error)
}

// Clubs tells a user's role in a club ("" if not a member): *club.Service.
type Clubs interface {
	RoleOf(ctx context.Context, clubID, userID string) (club.Role, error)
}

// Notifier delivers a notice through the notification gate: *notify.Service.
type Notifier interface {
	Notify(ctx context.Context, user, kind, sender string, data any) error
}

// RoomStarter opens live rooms. cfg carries the room's text, type, co-hosts, stage
// guests, club and members-only flag; the starter fills in the ID, the creator,
// the time and the participant limit, and returns the new room's ID.
type RoomStarter interface {
	StartRoom(ctx context.Context, creatorID string, cfg room.Config) (roomID string, err error)
}

// RoomDelegates returns the delegates of an owner with the rooms scope, who
// co-host the owner's rooms: (*account.Delegation).RoomDelegates.
type RoomDelegates func(ctx context.Context, ownerID string) ([]string, error)

// Options configure a Service.
type Options struct {
	Store    Store
	Graph    Graph
	Clubs    Clubs
	Notifier Notifier
	Rooms    RoomStarter
	// Delegates, when set, adds the creator's room delegates as co-hosts of the
	// rooms events open.
	Delegates RoomDelegates
	Now       func() time.Time
	// Wake, when set, is called after an event's start changes, so that a
	// Scheduler looks again (Scheduler.Wake).
	Wake func()
	// Names, when set, names the user behind an invitation or an answer in its
	// notice; without it the notice carries the bare ID.
	Names func(ctx context.Context, userID string) (Sender, error)
}

// Service runs the rules of scheduled events.
type Service struct {
	opts Options
}

// NewService returns the event rules over opts.
func NewService(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Wake == nil {
		opts.Wake = func() {}
	}
	return &Service{opts: opts}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// Details is what a host schedules or changes an event with.
type Details struct {
	Title       string
	Description string
	StartsAt    time.Time
	TimeZone    string   // IANA name; "" for UTC
	CoHosts     []string // user IDs
	ClubID      string
	RoomType    room.Type // "" for open
	MembersOnly bool
}

func checkText(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case !utf8.ValidString(v):
		return "", fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidField, field)
	case required && v == "":
		return "", fmt.Errorf("%w: %s must not be empty", ErrInvalidField, field)
	case utf8.RuneCountInString(v) > max:
		return "", fmt.Errorf("%w: %s is at most %d characters", ErrInvalidField, field, max)
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' {
			return "", fmt.Errorf("%w: %s holds a control character", ErrInvalidField, field)
		}
	}
	return v, nil
}

// check validates d for host at now and normalises it.
func (s *Service) check(d Details, host string, now time.Time) (Details, error) {
	var err error
	if d.Title, err = checkText("name", d.Title, MaxTitle, true); err != nil {
		return d, err
	}
	if strings.ContainsRune(d.Title, '\n') {
		return d, fmt.Errorf("%w: name holds a new line", ErrInvalidField)
	}
	if d.Description, err = checkText("description", d.Description, MaxDescription, false); err != nil {
		return d, err
	}
	if d.TimeZone == "" {
		d.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(d.TimeZone); err != nil || len(d.TimeZone) > 64 {
		return d, fmt.Errorf("%w: time_zone %q is not a known IANA time zone", ErrInvalidField, d.TimeZone)
	}
	d.StartsAt = d.StartsAt.UTC().Truncate(time.Millisecond)
	switch {
	case !d.StartsAt.After(now):
		return d, fmt.Errorf("%w: starts_at must be in the future", ErrInvalidField)
	case d.StartsAt.Sub(now) > MaxAhead:
		return d, fmt.Errorf("%w: starts_at is at most a year ahead", ErrInvalidField)
	}
	if d.RoomType == "" {
		d.RoomType = room.Open
	}
	if d.RoomType != room.Open && d.RoomType != room.Social && d.RoomType != room.Closed {
		return d, fmt.Errorf("%w: room_type must be open, social or closed", ErrInvalidField)
	}
	if d.MembersOnly && d.ClubID == "" {
		return d, fmt.Errorf("%w: a members-only event belongs to a club", ErrInvalidField)
	}
	if len(d.CoHosts) > MaxCoHosts {
		return d, fmt.Errorf("%w: at most %d co-hosts", ErrInvalidField, MaxCoHosts)
	}
	var cohosts []string
	for _, u := range d.CoHosts {
		if !ids.Valid(u) || u == host || slices.Contains(cohosts, u) {
			return d, fmt.Errorf("%w: co-hosts must be distinct people other than the host", ErrInvalidField)
		}
		cohosts = append(cohosts, u)
	}
	d.CoHosts = cohosts
	return d, nil
}

// checkClub checks that host may schedule an event of the club d names.
func (s *Service) checkClub(ctx context.Context, d Details, host string) error {
	if d.ClubID == "" {
		return nil
	}
	if !ids.Valid(d.ClubID) {
		return club.ErrNotFound
	}
	role, err := s.opts.Clubs.RoleOf(ctx, d.ClubID, host)
	if err != nil {
		return err
	}
	if !role.Leads() {
		return ErrNotClubLeader
	}
	return nil
}

// Create schedules an event hosted by host. A club event needs its host to be a
// leader or an admin of the club.
func (s *Service) Create(ctx context.Context, host string, d Details) (Event, error) {
	now := s.now()
	d, err := s.check(d, host, now)
	if err != nil {
		return Event{}, err
	}
	if err := s.checkClub(ctx, d, host); err != nil {
		return Event{}, err
	}
	if err := s.checkStage(ctx, d.CoHosts, []string{host}); err != nil {
		return Event{}, err
	}
	e := Event{ID: ids.New(), Title: d.Title, Description: d.Description, StartsAt: d.StartsAt, TimeZone: d.TimeZone,
		HostID: host, CoHosts: d.CoHosts, ClubID: d.ClubID, RoomType: d.RoomType, MembersOnly: d.MembersOnly,
		CreatedAt: now, UpdatedAt: now}
	if err := s.opts.Store.CreateEvent(ctx, e); err != nil {
		return Event{}, err
	}
	s.opts.Wake()
	return e, nil
}

// Get returns the event if viewer may see it; ErrNotFound otherwise, so that a
// closed event stays invisible to people not invited.
func (s *Service) Get(ctx context.Context, viewer, id string) (Event, error) {
	if !ids.Valid(id) {
		return Event{}, ErrNotFound
	}
	e, err := s.opts.Store.EventByID(ctx, id)
	if err != nil {
		return Event{}, err
	}
	ok, err := s.Sees(ctx, viewer, e)
	if err != nil {
		return Event{}, err
	}
	if !ok {
		return Event{}, ErrNotFound
	}
	return e, nil
}

// canManage reports whether actor may edit or cancel e: its host, or an admin of
// its club.
func (s *Service) canManage(ctx context.Context, actor string, e Event) (bool, error) {
	if actor == e.HostID {
		return true, nil
	}
	if e.ClubID == "" {
		return false, nil
	}
	role, err := s.opts.Clubs.RoleOf(ctx, e.ClubID, actor)
	return role == club.RoleAdmin, err
}

// Update changes an event (its host, or an admin of its club) and tells the
// subscribers. The club cannot change.
func (s *Service) Update(ctx context.Context, actor, id string, d Details) (Event, error) {
	e, err := s.Get(ctx, actor, id)
	if err != nil {
		return Event{}, err
	}
	ok, err := s.canManage(ctx, actor, e)
	if err != nil {
		return Event{}, err
	}
	if !ok {
		return Event{}, ErrNotHost
	}
	if e.Cancelled() || e.Started() {
		return Event{}, ErrClosed
	}
	now := s.now()
	d.ClubID = e.ClubID
	if d, err = s.check(d, e.HostID, now); err != nil {
		return Event{}, err
	}
	if err := s.checkNewCoHosts(ctx, e, d.CoHosts); err != nil {
		return Event{}, err
	}
	moved := !d.StartsAt.Equal(e.StartsAt)
	e.Title, e.Description, e.StartsAt, e.TimeZone = d.Title, d.Description, d.StartsAt, d.TimeZone
	e.CoHosts, e.RoomType, e.MembersOnly, e.UpdatedAt = d.CoHosts, d.RoomType, d.MembersOnly, now
	if err := s.opts.Store.UpdateEvent(ctx, e, moved); err != nil {
		return Event{}, err
	}
	if moved {
		s.opts.Wake()
	}
	return e, s.tell(ctx, e, notify.KindEventUpdated, actor, s.audience(ctx, e, false))
}

// checkNewCoHosts refuses, with ErrStageBlocked, the co-hosts an update adds to e
// if a block separates one of them from the host, another co-host or a guest
// invited on stage.
func (s *Service) checkNewCoHosts(ctx context.Context, e Event, cohosts []string) error {
	var added, kept []string
	for _, u := range cohosts {
		if slices.Contains(e.CoHosts, u) {
			kept = append(kept, u)
		} else {
			added = append(added, u)
		}
	}
	if len(added) == 0 {
		return nil
	}
	guests, err := s.stageGuests(ctx, e.ID)
	if err != nil {
		return err
	}
	return s.checkStage(ctx, added, slices.Concat([]string{e.HostID}, kept, guests))
}

// Cancel cancels an event (its host, or an admin of its club) and tells the
// subscribers and invitees.
func (s *Service) Cancel(ctx context.Context, actor, id string) (Event, error) {
	e, err := s.Get(ctx, actor, id)
	if err != nil {
		return Event{}, err
	}
	ok, err := s.canManage(ctx, actor, e)
	if err != nil {
		return Event{}, err
	}
	if !ok {
		return Event{}, ErrNotHost
	}
	now := s.now()
	if err := s.opts.Store.CancelEvent(ctx, id, now); err != nil {
		return Event{}, err
	}
	e.CancelledAt = now
	return e, s.tell(ctx, e, notify.KindEventCancelled, actor, s.audience(ctx, e, true))
}

// Notice is the data of the event notifications.
type Notice struct {
	EventID  string    `json:"event_id"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
	RoomID   string    `json:"room_id,omitempty"`
	From     *Sender   `json:"from,omitempty"` // who is behind an invitation or answer
	Message  string    `json:"message,omitempty"`
	Answer   string    `json:"answer,omitempty"`
	ToStage  bool      `json:"to_stage,omitempty"`
}

// Sender is the user behind a notice, as notifications show them.
type Sender struct {
	ID          string `json:"id"`
	Username    string `json:"username,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
}

// sender names userID for a notice.
func (s *Service) sender(ctx context.Context, userID string) *Sender {
	if s.opts.Names != nil {
		if n, err := s.opts.Names(ctx, userID); err == nil {
			return &n
		}
	}
	return &Sender{ID: userID}
}

// audience returns who hears about e: subscribers, hosts and the invitees who
// have not declined; withHost adds the host.
func (s *Service) audience(ctx context.Context, e Event, withHost bool) func() ([]string, error) {
	return func() ([]string, error) {
		subs, err := s.opts.Store.Subscribers(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		invs, err := s.opts.Store.EventInvitations(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		out := slices.Clone(e.CoHosts)
		if withHost {
			out = append(out, e.HostID)
		}
		out = append(out, subs...)
		for _, inv := range invs {
			if inv.Status != AnswerDeclined {
				out = append(out, inv.UserID)
			}
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	}
}

// tell sends a notice of kind about e to the listed people, but the sender.
func (s *Service) tell(ctx context.Context, e Event, kind, sender string, who func() ([]string, error)) error {
	if s.opts.Notifier == nil {
		return nil
	}
	users, err := who()
	if err != nil {
		return err
	}
	n := Notice{EventID: e.ID, Title: e.Title, StartsAt: e.StartsAt, RoomID: e.RoomID}
	var errs []error
	for _, u := range users {
		if u == sender {
			continue
		}
		if err := s.opts.Notifier.Notify(ctx, u, kind, sender, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
