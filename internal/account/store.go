package account

import (
	"context"
	"time"
)

// Store is what Service needs from durable storage. internal/store implements it for
// SQLite and Postgres; both pass the same test suite.
//
// Methods return ErrNotFound for a missing row and the other sentinel errors of this
// package where noted; any other error is a storage failure.
type Store interface {
	// CreateUser inserts u. If inviteCode is not empty, it atomically redeems that
	// invite for u (in the same transaction): ErrInviteInvalid if the code is unknown,
	// already used or expired at now. ErrUsernameTaken if the username is in use.
	// When the invite grants admin, u is stored as an admin whatever u.IsAdmin says.
	CreateUser(ctx context.Context, u User, inviteCode string, now time.Time) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	CountUsers(ctx context.Context) (int, error)
	UpdateProfile(ctx context.Context, id, displayName, bio string) error
	// SetEmail sets the account's e-mail address ("" clears it); ErrNotFound for
	// an unknown or deleted account.
	SetEmail(ctx context.Context, id, email string) error
	// DisableUser marks the account disabled at at and deletes all its sessions, in
	// one transaction.
	DisableUser(ctx context.Context, id string, at time.Time) error
	// SetPassword replaces the user's password hash and deletes every session of
	// theirs but keep, in one transaction, returning the IDs of the sessions it
	// deleted.
	SetPassword(ctx context.Context, id, hash, keep string) (ended []string, err error)

	CreateSession(ctx context.Context, s Session) error
	// SessionByTokenHash returns the session with that token hash (expired or not;
	// the caller checks expiry).
	SessionByTokenHash(ctx context.Context, hash []byte) (Session, error)
	// ListSessions returns the user's unexpired sessions at now, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// DeleteSession deletes the user's session; ErrNotFound if the user has no
	// session with that ID.
	DeleteSession(ctx context.Context, userID, sessionID string) error
	// DeleteExpiredSessions removes sessions that expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// CreateInvite stores inv unless its creator already has max or more usable
	// (unused, unexpired at now) invites, in which case ErrInviteLimit. max < 0
	// means no limit. The check and the insert are atomic.
	CreateInvite(ctx context.Context, inv Invite, max int, now time.Time) error
	// InviteByCode returns the invite with that code, usable or not.
	InviteByCode(ctx context.Context, code string) (Invite, error)
	// ListInvites returns the invites a user created, newest first.
	ListInvites(ctx context.Context, creatorID string) ([]Invite, error)
	// AdminInvite returns a usable admin-granting invite at now, or ErrNotFound.
	AdminInvite(ctx context.Context, now time.Time) (Invite, error)

	// Follow makes follower follow followee (idempotent). ErrBlocked if either blocks
	// the other; ErrNotFound if either user does not exist. Atomic with that check.
	Follow(ctx context.Context, follower, followee string, at time.Time) error
	// Unfollow is idempotent.
	Unfollow(ctx context.Context, follower, followee string) error
	// Block makes blocker block blocked (idempotent) and removes any follow between
	// them in both directions, in one transaction.
	Block(ctx context.Context, blocker, blocked string, at time.Time) error
	// Unblock is idempotent.
	Unblock(ctx context.Context, blocker, blocked string) error
	// Relation tells how a and b stand to each other.
	Relation(ctx context.Context, a, b string) (Relation, error)
	// FollowCounts returns how many follow userID and how many userID follows.
	FollowCounts(ctx context.Context, userID string) (followers, following int, err error)
	// Followers lists the users who follow userID, newest follow first, starting
	// after cursor, at most limit of them, leaving out anyone who blocks viewerID or
	// whom viewerID blocks. next is the zero Cursor at the end of the list.
	Followers(ctx context.Context, userID, viewerID string, after Cursor, limit int) (users []User, next Cursor, err error)
	// Following lists the users userID follows, with the same rules as Followers.
	Following(ctx context.Context, userID, viewerID string, after Cursor, limit int) (users []User, next Cursor, err error)

	// Ping checks the store is reachable (readiness).
	Ping(ctx context.Context) error

	// TouchSession records that the session made a request at at.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// EnableUser lifts a disabling; ErrNotFound for an unknown or deleted account.
	EnableUser(ctx context.Context, id string) error
	// ListUsers lists accounts whose username or display name holds q, newest
	// first, disabled ones included and deleted ones not.
	ListUsers(ctx context.Context, q string, limit int) ([]User, error)
	// CountAdmins counts the active admins.
	CountAdmins(ctx context.Context) (int, error)
	// DeleteAccount empties an account (see the store's documentation of what
	// goes and what stays) and returns the sessions it ended and the events it
	// cancelled; ErrNotFound for an unknown or already deleted account.
	DeleteAccount(ctx context.Context, id string, at time.Time) (ended, cancelled []string, err error)
	// CreatePasswordReset stores a reset link; ErrNotFound for an unknown user.
	CreatePasswordReset(ctx context.Context, r PasswordReset) error
	// PasswordResetUser returns the account of a usable reset link at now, or
	// ErrNotFound.
	PasswordResetUser(ctx context.Context, hash []byte, now time.Time) (User, error)
	// UsePasswordReset spends a usable link, sets the password and ends every
	// session of the account, atomically; it returns the account's ID and the
	// sessions it ended, or ErrNotFound.
	UsePasswordReset(ctx context.Context, hash []byte, passwordHash string, now time.Time) (string, []string, error)
}
