package club

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/room"
)

// Notifier delivers a notice through the notification gate: *notify.Service.
type Notifier interface {
	Notify(ctx context.Context, user, kind, sender string, data any) error
}

// RoomStarter opens live rooms. cfg carries the room's text, type, co-hosts,
// club and members-only flag; the starter fills in the ID, the creator, the time
// and the participant limit, and returns the new room's ID.
type RoomStarter interface {
	StartRoom(ctx context.Context, creatorID string, cfg room.Config) (roomID string, err error)
}

// Options configure a Service.
type Options struct {
	Store    Store
	Notifier Notifier
	Rooms    RoomStarter
	Now      func() time.Time
}

// Service runs the rules of clubs.
type Service struct {
	opts Options
}

// NewService returns the club rules over opts.Store.
func NewService(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// Details is what someone creates or changes a club with.
type Details struct {
	Name        string
	Description string
	Rules       string
	Approval    bool
}

func text(field, v string, max int, required, multiline bool) (string, error) {
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
		if unicode.IsControl(r) && !(multiline && r == '\n') {
			return "", fmt.Errorf("%w: %s holds a control character", ErrInvalidField, field)
		}
	}
	return v, nil
}

func (d Details) check() (Details, error) {
	var err error
	if d.Name, err = text("name", d.Name, MaxName, true, false); err != nil {
		return d, err
	}
	if d.Description, err = text("description", d.Description, MaxDescription, false, true); err != nil {
		return d, err
	}
	if d.Rules, err = text("rules", d.Rules, MaxRules, false, true); err != nil {
		return d, err
	}
	return d, nil
}

// Create makes a club with its creator as its first admin.
func (s *Service) Create(ctx context.Context, creator string, d Details) (Club, error) {
	d, err := d.check()
	if err != nil {
		return Club{}, err
	}
	c := Club{ID: ids.New(), Name: d.Name, Description: d.Description, Rules: d.Rules, Approval: d.Approval,
		CreatedBy: creator, CreatedAt: s.now()}
	if err := s.opts.Store.CreateClub(ctx, c); err != nil {
		return Club{}, err
	}
	c.Members = 1
	return c, nil
}

// Get returns a club and the viewer's role in it ("" if not a member). Clubs are
// public: anyone signed in sees their name, description and rules.
func (s *Service) Get(ctx context.Context, viewer, clubID string) (Club, Role, error) {
	if !ids.Valid(clubID) {
		return Club{}, "", ErrNotFound
	}
	c, err := s.opts.Store.ClubByID(ctx, clubID)
	if err != nil {
		return Club{}, "", err
	}
	role, err := s.RoleOf(ctx, clubID, viewer)
	return c, role, err
}

// RoleOf returns userID's role in the club, "" if they are not a member.
func (s *Service) RoleOf(ctx context.Context, clubID, userID string) (Role, error) {
	m, err := s.opts.Store.ClubMember(ctx, clubID, userID)
	if errors.Is(err, ErrNotMember) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return m.Role, nil
}

// IsMember reports whether userID belongs to the club: what a members-only room
// asks on join (room.Join.ClubMember).
func (s *Service) IsMember(ctx context.Context, clubID, userID string) (bool, error) {
	r, err := s.RoleOf(ctx, clubID, userID)
	return r != "", err
}

// MemberClubs returns the IDs of the clubs userID belongs to: the hallway ranks
// their rooms first.
func (s *Service) MemberClubs(ctx context.Context, userID string) (map[string]bool, error) {
	list, err := s.opts.Store.ClubsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(list))
	for _, m := range list {
		out[m.ID] = true
	}
	return out, nil
}

// requireRole checks that actor holds at least the power of want in the club.
func (s *Service) requireRole(ctx context.Context, clubID, actor string, want Role) (Club, error) {
	c, role, err := s.Get(ctx, actor, clubID)
	if err != nil {
		return Club{}, err
	}
	switch {
	case want == RoleAdmin && role != RoleAdmin:
		return Club{}, ErrNotAdmin
	case want == RoleLeader && !role.Leads():
		return Club{}, ErrNotLeader
	}
	return c, nil
}

// RequireLeader checks that actor may start rooms and schedule events for the club.
func (s *Service) RequireLeader(ctx context.Context, clubID, actor string) (Club, error) {
	return s.requireRole(ctx, clubID, actor, RoleLeader)
}

// Update changes a club's text and approval (admins).
func (s *Service) Update(ctx context.Context, actor, clubID string, d Details) (Club, error) {
	c, err := s.requireRole(ctx, clubID, actor, RoleAdmin)
	if err != nil {
		return Club{}, err
	}
	if d, err = d.check(); err != nil {
		return Club{}, err
	}
	c.Name, c.Description, c.Rules, c.Approval = d.Name, d.Description, d.Rules, d.Approval
	if err := s.opts.Store.UpdateClub(ctx, c); err != nil {
		return Club{}, err
	}
	return c, nil
}

// Join makes actor a member of an open club, or files their request to join a
// club by approval (and tells its admins). joined is false for a request.
func (s *Service) Join(ctx context.Context, actor, clubID string) (joined bool, err error) {
	c, role, err := s.Get(ctx, actor, clubID)
	if err != nil {
		return false, err
	}
	if role != "" {
		return false, ErrAlreadyIn
	}
	now := s.now()
	if !c.Approval {
		return true, s.opts.Store.AddClubMember(ctx, Member{ClubID: clubID, UserID: actor, Role: RoleMember, JoinedAt: now})
	}
	if err := s.opts.Store.AddClubRequest(ctx, Request{ClubID: clubID, UserID: actor, CreatedAt: now}); err != nil {
		return false, err
	}
	members, err := s.opts.Store.ClubMembers(ctx, clubID, 500)
	if err != nil {
		return false, err
	}
	for _, m := range members {
		if m.Role != RoleAdmin {
			continue
		}
		if err := s.notify(ctx, m.UserID, notify.KindClubRequest, actor, requestData{ClubID: c.ID, ClubName: c.Name, UserID: actor}); err != nil {
			return false, err
		}
	}
	return false, nil
}

// requestData is the data of club_request and club_request_decided notices.
type requestData struct {
	ClubID   string `json:"club_id"`
	ClubName string `json:"club_name"`
	UserID   string `json:"user_id,omitempty"`
	Approved *bool  `json:"approved,omitempty"`
}

func (s *Service) notify(ctx context.Context, user, kind, sender string, data any) error {
	if s.opts.Notifier == nil {
		return nil
	}
	return s.opts.Notifier.Notify(ctx, user, kind, sender, data)
}

// Leave takes actor out of the club; the last admin cannot leave (ErrLastAdmin).
func (s *Service) Leave(ctx context.Context, actor, clubID string) error {
	if _, _, err := s.Get(ctx, actor, clubID); err != nil {
		return err
	}
	return s.opts.Store.RemoveClubMember(ctx, clubID, actor)
}

// Requests lists the pending requests to join (admins).
func (s *Service) Requests(ctx context.Context, actor, clubID string) ([]Request, error) {
	if _, err := s.requireRole(ctx, clubID, actor, RoleAdmin); err != nil {
		return nil, err
	}
	return s.opts.Store.ClubRequests(ctx, clubID, 500)
}

// Decide approves or declines userID's request to join (admins), and tells them.
func (s *Service) Decide(ctx context.Context, actor, clubID, userID string, approve bool) error {
	c, err := s.requireRole(ctx, clubID, actor, RoleAdmin)
	if err != nil {
		return err
	}
	if err := s.opts.Store.DecideClubRequest(ctx, clubID, userID, approve, s.now()); err != nil {
		return err
	}
	return s.notify(ctx, userID, notify.KindClubRequestDecided, actor,
		requestData{ClubID: c.ID, ClubName: c.Name, Approved: &approve})
}

// Members lists a club's members (anyone signed in may see them).
func (s *Service) Members(ctx context.Context, viewer, clubID string, limit int) ([]Member, error) {
	if _, _, err := s.Get(ctx, viewer, clubID); err != nil {
		return nil, err
	}
	return s.opts.Store.ClubMembers(ctx, clubID, limit)
}

// SetRole changes a member's role (admins). An admin may step down to leader or
// member while another admin remains.
func (s *Service) SetRole(ctx context.Context, actor, clubID, userID string, role Role) error {
	if !role.Valid() {
		return ErrInvalidRole
	}
	if _, err := s.requireRole(ctx, clubID, actor, RoleAdmin); err != nil {
		return err
	}
	return s.opts.Store.SetClubRole(ctx, clubID, userID, role)
}

// Remove takes a member out of the club (admins; anyone may Leave).
func (s *Service) Remove(ctx context.Context, actor, clubID, userID string) error {
	if _, err := s.requireRole(ctx, clubID, actor, RoleAdmin); err != nil {
		return err
	}
	if _, err := s.opts.Store.ClubMember(ctx, clubID, userID); err != nil {
		return err
	}
	return s.opts.Store.RemoveClubMember(ctx, clubID, userID)
}

// Clubs lists the clubs userID belongs to.
func (s *Service) Clubs(ctx context.Context, userID string) ([]Membership, error) {
	return s.opts.Store.ClubsOf(ctx, userID)
}

// RoomRequest is what a leader opens a club room with.
type RoomRequest struct {
	Title       string
	Description string
	Type        room.Type
	MembersOnly bool
	// Record, AllowClips and Captions are room.Config's: a recorded club room
	// leaves a replay that the club's page lists.
	Record, AllowClips, Captions bool
}

// StartRoom opens a room of the club (leaders and admins); its creator is actor.
func (s *Service) StartRoom(ctx context.Context, actor, clubID string, req RoomRequest) (string, error) {
	if _, err := s.RequireLeader(ctx, clubID, actor); err != nil {
		return "", err
	}
	if req.Type == "" {
		req.Type = room.Open
	}
	cfg := room.Config{ID: ids.New(), Title: req.Title, Description: req.Description, Type: req.Type,
		CreatorID: actor, ClubID: clubID, MembersOnly: req.MembersOnly, CreatedAt: s.now(),
		Record: req.Record, AllowClips: req.AllowClips, Captions: req.Captions}
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	if s.opts.Rooms == nil {
		return "", errors.New("club: no room starter")
	}
	return s.opts.Rooms.StartRoom(ctx, actor, cfg)
}
