// Package club holds townhall's clubs: a name, a description, rules, and members
// with the roles of Clubhouse's model. Admins manage members and roles, leaders
// start club rooms and schedule club events, members join members-only rooms.
// Membership is open (join freely) or by approval (requests that admins decide).
// Every rule of who may do what in a club is decided here, once, by Service.
package club

import (
	"context"
	"time"

	"github.com/townhall/townhall/internal/errcode"
)

// Role is a member's standing in a club.
type Role string

// The roles, from the most to the least powerful.
const (
	// RoleAdmin manages the club: its text, members, roles and requests.
	RoleAdmin Role = "admin"
	// RoleLeader starts club rooms and schedules club events.
	RoleLeader Role = "leader"
	// RoleMember joins the club's members-only rooms and sees its events.
	RoleMember Role = "member"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleLeader || r == RoleMember }

// Leads reports whether r may start club rooms and schedule club events.
func (r Role) Leads() bool { return r == RoleAdmin || r == RoleLeader }

// Limits of a club's text.
const (
	MaxName        = 60
	MaxDescription = 500
	MaxRules       = 2000
)

// Club is a club.
type Club struct {
	ID          string
	Name        string
	Description string
	Rules       string
	Approval    bool // joining takes an admin's approval; otherwise anyone joins
	CreatedBy   string
	CreatedAt   time.Time
	Members     int // how many members it has (read only)
}

// Member is one member of a club.
type Member struct {
	ClubID   string
	UserID   string
	Role     Role
	JoinedAt time.Time
}

// Membership is a club with the role a user holds in it.
type Membership struct {
	Club
	Role Role
}

// Request is a pending request to join a club by approval.
type Request struct {
	ClubID    string
	UserID    string
	CreatedAt time.Time
}

// Errors of clubs.
var (
	ErrNotFound     = errcode.New(errcode.NotFound, "no such club")
	ErrNameTaken    = errcode.New(errcode.Conflict, "a club with that name exists")
	ErrNotAdmin     = errcode.New(errcode.Forbidden, "only the club's admins can do that")
	ErrNotLeader    = errcode.New(errcode.Forbidden, "only the club's leaders and admins can do that")
	ErrNotMember    = errcode.New(errcode.NotFound, "that person is not a member of the club")
	ErrAlreadyIn    = errcode.New(errcode.Conflict, "already a member of the club")
	ErrPending      = errcode.New(errcode.Conflict, "a request to join is already pending")
	ErrNoRequest    = errcode.New(errcode.NotFound, "no pending request from that person")
	ErrLastAdmin    = errcode.New(errcode.Conflict, "a club needs at least one admin")
	ErrInvalidRole  = errcode.New(errcode.InvalidField, "role must be admin, leader or member")
	ErrInvalidField = errcode.New(errcode.InvalidField, "invalid field")
)

// Store is what Service needs from durable storage. Missing rows give ErrNotFound
// (clubs), ErrNotMember (members) or ErrNoRequest (requests); a missing user gives
// account.ErrNotFound.
type Store interface {
	// CreateClub stores c with its creator as its first admin, at c.CreatedAt.
	// ErrNameTaken if another club has the name, whatever its case.
	CreateClub(ctx context.Context, c Club) error
	// ClubByID returns a club with its member count.
	ClubByID(ctx context.Context, id string) (Club, error)
	// UpdateClub changes the name, description, rules and approval of c.ID.
	UpdateClub(ctx context.Context, c Club) error
	// ClubsOf lists the clubs userID belongs to, by name.
	ClubsOf(ctx context.Context, userID string) ([]Membership, error)
	// ClubMember returns userID's membership of clubID.
	ClubMember(ctx context.Context, clubID, userID string) (Member, error)
	// ClubMembers lists members by role (admins, leaders, members), then by who
	// joined first, at most limit.
	ClubMembers(ctx context.Context, clubID string, limit int) ([]Member, error)
	// AddClubMember adds a member; ErrAlreadyIn if they are one. Any pending
	// request of theirs is dropped.
	AddClubMember(ctx context.Context, m Member) error
	// SetClubRole changes a member's role; ErrLastAdmin if it would leave the club
	// without an admin.
	SetClubRole(ctx context.Context, clubID, userID string, role Role) error
	// RemoveClubMember removes a member; ErrLastAdmin if they are its last admin.
	RemoveClubMember(ctx context.Context, clubID, userID string) error
	// AddClubRequest stores a request to join; ErrPending if one is pending,
	// ErrAlreadyIn if the user is a member.
	AddClubRequest(ctx context.Context, r Request) error
	// ClubRequests lists the pending requests of a club, oldest first.
	ClubRequests(ctx context.Context, clubID string, limit int) ([]Request, error)
	// DecideClubRequest deletes a pending request and, if approve, adds its user
	// as a member joined at at, in one transaction. ErrNoRequest if none.
	DecideClubRequest(ctx context.Context, clubID, userID string, approve bool, at time.Time) error
}
