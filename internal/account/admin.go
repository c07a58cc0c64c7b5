package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
)

// SeenEvery is how often a session's last request is written down: more often
// would cost a write per request.
const SeenEvery = 5 * time.Minute

// Seen records that sess made a request now, at most once every SeenEvery.
func (s *Service) Seen(ctx context.Context, sess Session) {
	now := s.now()
	last := sess.LastSeen
	if last.IsZero() {
		last = sess.CreatedAt
	}
	if now.Sub(last) < SeenEvery {
		return
	}
	_ = s.store.TouchSession(ctx, sess.ID, now) // a lost update only makes "last seen" older
}

// Enable lets an admin lift the disabling of the account called username. It
// returns the account.
func (s *Service) Enable(ctx context.Context, admin User, username string) (User, error) {
	if !admin.IsAdmin {
		return User{}, ErrForbidden
	}
	target, err := s.lookup(ctx, username)
	if err != nil {
		return User{}, err
	}
	if err := s.store.EnableUser(ctx, target.ID); err != nil {
		return User{}, err
	}
	target.DisabledAt = time.Time{}
	return target, nil
}

// MaxUserQuery is the longest text an admin searches accounts by.
const MaxUserQuery = 50

// Users lists accounts for an admin: those whose username or display name holds
// q (every account when q is empty), newest first, at most limit.
func (s *Service) Users(ctx context.Context, admin User, q string, limit int) ([]User, error) {
	if !admin.IsAdmin {
		return nil, ErrForbidden
	}
	q = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(q), "@"))
	if len(q) > MaxUserQuery {
		return nil, fmt.Errorf("%w: q is at most %d bytes", ErrInvalid, MaxUserQuery)
	}
	return s.store.ListUsers(ctx, q, limit)
}

// AccountFor is an account as an admin sees it: the account, its live sessions
// and the invite codes it made.
type AccountFor struct {
	User     User
	Sessions []Session
	Invites  []Invite
}

// Account returns the account called username with its sessions and invites,
// for an admin.
func (s *Service) Account(ctx context.Context, admin User, username string) (AccountFor, error) {
	if !admin.IsAdmin {
		return AccountFor{}, ErrForbidden
	}
	u, err := s.lookup(ctx, username)
	if err != nil {
		return AccountFor{}, err
	}
	sessions, err := s.store.ListSessions(ctx, u.ID, s.now())
	if err != nil {
		return AccountFor{}, err
	}
	invites, err := s.store.ListInvites(ctx, u.ID)
	if err != nil {
		return AccountFor{}, err
	}
	return AccountFor{User: u, Sessions: sessions, Invites: invites}, nil
}

// PasswordReset is a one-time link that sets a new password. Only the SHA-256
// of its token is stored.
type PasswordReset struct {
	TokenHash []byte
	UserID    string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ResetTTL is how long a reset link works.
const ResetTTL = 24 * time.Hour

// ErrResetInvalid refuses a reset link that is unknown, used or expired.
var ErrResetInvalid = errcode.New(errcode.InviteInvalid, "this reset link is unknown, used or expired; ask an admin for a new one")

// CreateReset lets an admin make a one-time password reset link for the account
// called username. It returns the token (shown once) and the account.
func (s *Service) CreateReset(ctx context.Context, admin User, username string) (string, User, time.Time, error) {
	if !admin.IsAdmin {
		return "", User{}, time.Time{}, ErrForbidden
	}
	u, err := s.lookup(ctx, username)
	if err != nil {
		return "", User{}, time.Time{}, err
	}
	token := ids.Secret()
	now := s.now()
	r := PasswordReset{TokenHash: hashToken(token), UserID: u.ID, CreatedBy: admin.ID, CreatedAt: now, ExpiresAt: now.Add(ResetTTL)}
	if err := s.store.CreatePasswordReset(ctx, r); err != nil {
		return "", User{}, time.Time{}, err
	}
	return token, u, r.ExpiresAt, nil
}

// ResetFor returns the account a usable reset token is for.
func (s *Service) ResetFor(ctx context.Context, token string) (User, error) {
	if token == "" || len(token) > 100 {
		return User{}, ErrResetInvalid
	}
	u, err := s.store.PasswordResetUser(ctx, hashToken(token), s.now())
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrResetInvalid
	}
	return u, err
}

// Reset spends a reset token: the account's password becomes next, and every
// one of its sessions ends. It returns the account's ID and the ended sessions,
// whose connections the caller closes.
func (s *Service) Reset(ctx context.Context, token, next string) (string, []string, error) {
	if _, err := s.ResetFor(ctx, token); err != nil {
		return "", nil, err
	}
	if err := checkPassword(next); err != nil {
		return "", nil, err
	}
	hash, err := s.opts.Hasher.Hash(ctx, next)
	if err != nil {
		return "", nil, err
	}
	user, ended, err := s.store.UsePasswordReset(ctx, hashToken(token), hash, s.now())
	if errors.Is(err, ErrNotFound) { // spent by a concurrent request
		return "", nil, ErrResetInvalid
	}
	return user, ended, err
}

// ErrLastAdmin refuses to delete the only active admin's account.
var ErrLastAdmin = errcode.New(errcode.Conflict, "you are the only admin: make someone else an admin before you delete your account")

// Deleted is what deleting an account ended.
type Deleted struct {
	Sessions []string // the sessions that ended
	Events   []string // the events that were cancelled
}

// Delete deletes u's account once password proves it is them. What goes and
// what stays is the store's DeleteAccount; the caller closes the account's
// connections and ends its live rooms.
func (s *Service) Delete(ctx context.Context, u User, password string) (Deleted, error) {
	ok, err := s.opts.Hasher.Check(ctx, u.PasswordHash, password)
	if err != nil {
		return Deleted{}, err
	}
	if !ok {
		return Deleted{}, ErrBadCredentials
	}
	if u.IsAdmin {
		n, err := s.store.CountAdmins(ctx)
		if err != nil {
			return Deleted{}, err
		}
		if n <= 1 {
			return Deleted{}, ErrLastAdmin
		}
	}
	ended, cancelled, err := s.store.DeleteAccount(ctx, u.ID, s.now())
	if err != nil {
		return Deleted{}, err
	}
	return Deleted{Sessions: ended, Events: cancelled}, nil
}

// UserByID returns the account with that ID.
func (s *Service) UserByID(ctx context.Context, id string) (User, error) {
	return s.store.UserByID(ctx, id)
}

// RevokeOthers ends every session of u but keep, and returns those it ended.
func (s *Service) RevokeOthers(ctx context.Context, u User, keep string) ([]string, error) {
	list, err := s.store.ListSessions(ctx, u.ID, s.now())
	if err != nil {
		return nil, err
	}
	var ended []string
	for _, sess := range list {
		if sess.ID == keep {
			continue
		}
		if err := s.store.DeleteSession(ctx, u.ID, sess.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return ended, err
		}
		ended = append(ended, sess.ID)
	}
	return ended, nil
}
