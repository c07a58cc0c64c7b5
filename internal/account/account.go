// Package account holds townhall's people: accounts, sessions, invite codes, follows
// and blocks. Every rule about who may sign up, sign in, follow or see whom is decided
// here, once, by Service; the HTTP layer only translates.
package account

import (
	"time"

	"github.com/townhall/townhall/internal/errcode"
)

// User is an account. Username is stored lower-cased; it is unique.
type User struct {
	ID           string
	Username     string
	DisplayName  string
	Bio          string
	PasswordHash string // PHC-encoded argon2id; never logged or sent
	IsAdmin      bool
	InvitedBy    string // user ID of the inviter, "" for the first admin or open sign-up
	CreatedAt    time.Time
	DisabledAt   time.Time // zero while the account is active
	Photo        string    // content hash of the profile photo; "" without one
	DeletedAt    time.Time // zero unless its owner deleted the account
	// Email is the address its owner gave for password reset links ("" for
	// none): shown to them alone, never to other users. Not verified.
	Email string
}

// Disabled reports whether an admin disabled the account.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Session is a signed-in device. The bearer token itself is never stored: only its
// SHA-256, so a leaked database does not leak live sessions.
type Session struct {
	ID        string // public ID, used to list and revoke
	TokenHash []byte
	UserID    string
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
	// LastSeen is when the session last made a request, to within
	// SeenEvery; zero if it has made none since it was opened.
	LastSeen time.Time
}

// Invite is a single-use sign-up code.
type Invite struct {
	Code        string
	CreatedBy   string // "" for the first-run admin code
	GrantsAdmin bool   // the first-run code makes its redeemer an admin
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedBy      string // user ID, "" while unused
	UsedAt      time.Time
	RoomID      string // an invitation to a conversation: sign-up lands in this room
}

// Usable reports whether the invite can still be redeemed at now.
func (i Invite) Usable(now time.Time) bool { return i.UsedBy == "" && now.Before(i.ExpiresAt) }

// Relation is how two users, A and B, stand to each other.
type Relation struct {
	AFollowsB bool
	BFollowsA bool
	ABlocksB  bool
	BBlocksA  bool
}

// Blocked reports whether either user blocks the other.
func (r Relation) Blocked() bool { return r.ABlocksB || r.BBlocksA }

// Cursor marks a position in a follower or following list, which is ordered by the
// time of the follow, newest first, then by user ID. The zero Cursor is the start.
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.At.IsZero() && c.ID == "" }

// Sentinel errors. Each carries its stable client code.
var (
	ErrNotFound        = errcode.New(errcode.NotFound, "not found")
	ErrUsernameTaken   = errcode.New(errcode.UsernameTaken, "that username is taken")
	ErrInviteInvalid   = errcode.New(errcode.InviteInvalid, "the invite code is unknown, used or expired")
	ErrInviteLimit     = errcode.New(errcode.InviteLimit, "you have as many open invites as allowed; wait for one to be used or to expire")
	ErrBadCredentials  = errcode.New(errcode.BadCredentials, "wrong username or password")
	ErrDisabled        = errcode.New(errcode.AccountDisabled, "this account is disabled")
	ErrUnauthenticated = errcode.New(errcode.Unauthenticated, "sign in first: the session is missing, expired or revoked")
	ErrForbidden       = errcode.New(errcode.Forbidden, "you are not allowed to do that")
	ErrBlocked         = errcode.New(errcode.Blocked, "a block stands between you and this user")
	ErrInvalid         = errcode.New(errcode.InvalidField, "invalid field")
)
