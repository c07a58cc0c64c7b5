package account

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/townhall/townhall/internal/ids"
)

// Options configure a Service.
type Options struct {
	SessionTTL     time.Duration
	InviteTTL      time.Duration
	InvitesPerUser int  // outstanding invites per non-admin user
	OpenSignup     bool // sign up without an invite code
	Hasher         *Hasher
	Now            func() time.Time // the clock; time.Now when nil
}

// Service applies the account rules on top of a Store.
type Service struct {
	store Store
	opts  Options
	// dummyHash is checked when a login names an unknown user, so that the
	// response time does not reveal which usernames exist.
	dummyHash string
}

// NewService returns a Service over store.
func NewService(ctx context.Context, store Store, opts Options) (*Service, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hasher == nil {
		return nil, errors.New("account: Options.Hasher is required")
	}
	dummy, err := opts.Hasher.Hash(ctx, ids.Secret())
	if err != nil {
		return nil, err
	}
	return &Service{store: store, opts: opts, dummyHash: dummy}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// FirstRunInvite returns the admin-granting invite code that creates the first
// account, making one if needed. ok is false once any account exists.
func (s *Service) FirstRunInvite(ctx context.Context) (code string, ok bool, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	now := s.now()
	inv, err := s.store.AdminInvite(ctx, now)
	if err == nil {
		return inv.Code, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", false, err
	}
	inv = Invite{Code: ids.Secret(), GrantsAdmin: true, CreatedAt: now, ExpiresAt: now.Add(s.opts.InviteTTL)}
	if err := s.store.CreateInvite(ctx, inv, -1, now); err != nil {
		return "", false, err
	}
	return inv.Code, true, nil
}

// SignUp is what a new user supplies.
type SignUp struct {
	Username    string
	DisplayName string
	Password    string
	InviteCode  string
}

// SignUp creates an account, redeeming the invite code (required unless sign-up is
// open). It returns the redeemed invite (zero without a code), whose RoomID tells
// where an invitation to a conversation leads.
func (s *Service) SignUp(ctx context.Context, req SignUp) (User, Invite, error) {
	u, err := s.signUp(ctx, req)
	if err != nil {
		return User{}, Invite{}, err
	}
	if req.InviteCode == "" {
		return u, Invite{}, nil
	}
	inv, err := s.store.InviteByCode(ctx, req.InviteCode)
	return u, inv, err
}

func (s *Service) signUp(ctx context.Context, req SignUp) (User, error) {
	username, err := NormalizeUsername(req.Username)
	if err != nil {
		return User{}, err
	}
	display := req.DisplayName
	if display == "" {
		display = req.Username
	}
	if display, err = checkText("display_name", display, MaxDisplayName, true, false); err != nil {
		return User{}, err
	}
	if err := checkPassword(req.Password); err != nil {
		return User{}, err
	}
	if req.InviteCode == "" && !s.opts.OpenSignup {
		return User{}, fmt.Errorf("%w: an invite code is required to sign up", ErrInviteInvalid)
	}
	if req.InviteCode != "" {
		// Reject a bad code before paying for the hash; the store checks again
		// atomically.
		inv, err := s.store.InviteByCode(ctx, req.InviteCode)
		if errors.Is(err, ErrNotFound) || err == nil && !inv.Usable(s.now()) {
			return User{}, ErrInviteInvalid
		}
		if err != nil {
			return User{}, err
		}
	}
	hash, err := s.opts.Hasher.Hash(ctx, req.Password)
	if err != nil {
		return User{}, err
	}
	u := User{ID: ids.New(), Username: username, DisplayName: display, PasswordHash: hash, CreatedAt: s.now()}
	return s.store.CreateUser(ctx, u, req.InviteCode, u.CreatedAt)
}

// Login checks a username and password and opens a session. It returns the bearer
// token, which is shown once and stored only as a hash.
func (s *Service) Login(ctx context.Context, username, password, userAgent string) (string, Session, User, error) {
	name, err := NormalizeUsername(username)
	if err != nil {
		_, _ = s.opts.Hasher.Check(ctx, s.dummyHash, password)
		return "", Session{}, User{}, ErrBadCredentials
	}
	u, err := s.store.UserByUsername(ctx, name)
	if errors.Is(err, ErrNotFound) {
		_, _ = s.opts.Hasher.Check(ctx, s.dummyHash, password)
		return "", Session{}, User{}, ErrBadCredentials
	}
	if err != nil {
		return "", Session{}, User{}, err
	}
	ok, err := s.opts.Hasher.Check(ctx, u.PasswordHash, password)
	if err != nil {
		return "", Session{}, User{}, err
	}
	if !ok {
		return "", Session{}, User{}, ErrBadCredentials
	}
	if u.Disabled() {
		return "", Session{}, User{}, ErrDisabled
	}
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	token := ids.Secret()
	now := s.now()
	sess := Session{ID: ids.New(), TokenHash: hashToken(token), UserID: u.ID, UserAgent: userAgent,
		CreatedAt: now, ExpiresAt: now.Add(s.opts.SessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", Session{}, User{}, err
	}
	return token, sess, u, nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Authenticate returns the live session and active user behind a bearer token.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, User, error) {
	if token == "" || len(token) > 100 {
		return Session{}, User{}, ErrUnauthenticated
	}
	sess, err := s.store.SessionByTokenHash(ctx, hashToken(token))
	if errors.Is(err, ErrNotFound) {
		return Session{}, User{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, User{}, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		return Session{}, User{}, ErrUnauthenticated
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, ErrNotFound) {
		return Session{}, User{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, User{}, err
	}
	if u.Disabled() {
		return Session{}, User{}, ErrDisabled
	}
	s.Seen(ctx, sess)
	return sess, u, nil
}

// Sessions lists a user's live sessions.
func (s *Service) Sessions(ctx context.Context, u User) ([]Session, error) {
	return s.store.ListSessions(ctx, u.ID, s.now())
}

// RevokeSession ends one of u's sessions (logout is revoking the current one).
func (s *Service) RevokeSession(ctx context.Context, u User, sessionID string) error {
	return s.store.DeleteSession(ctx, u.ID, sessionID)
}

// UpdateProfile changes u's display name and bio.
func (s *Service) UpdateProfile(ctx context.Context, u User, displayName, bio string) (User, error) {
	d, err := checkText("display_name", displayName, MaxDisplayName, true, false)
	if err != nil {
		return User{}, err
	}
	b, err := checkText("bio", bio, MaxBio, false, true)
	if err != nil {
		return User{}, err
	}
	if err := s.store.UpdateProfile(ctx, u.ID, d, b); err != nil {
		return User{}, err
	}
	u.DisplayName, u.Bio = d, b
	return u, nil
}

// CreateInvite makes a single-use sign-up code for u. Non-admins may hold
// InvitesPerUser usable codes at a time.
func (s *Service) CreateInvite(ctx context.Context, u User) (Invite, error) {
	return s.CreateRoomInvite(ctx, u, "")
}

// CreateRoomInvite makes a sign-up code that also leads into a room: the link of an
// invitation to a conversation for someone without an account.
func (s *Service) CreateRoomInvite(ctx context.Context, u User, roomID string) (Invite, error) {
	max := s.opts.InvitesPerUser
	if u.IsAdmin {
		max = -1
	}
	now := s.now()
	inv := Invite{Code: ids.Secret(), CreatedBy: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.opts.InviteTTL), RoomID: roomID}
	if err := s.store.CreateInvite(ctx, inv, max, now); err != nil {
		return Invite{}, err
	}
	return inv, nil
}

// Invites lists the codes u made.
func (s *Service) Invites(ctx context.Context, u User) ([]Invite, error) {
	return s.store.ListInvites(ctx, u.ID)
}

// Disable lets an admin disable the account called username; its sessions end at
// once. Admins cannot disable themselves. It returns the disabled account, whose
// open connections the caller closes.
func (s *Service) Disable(ctx context.Context, admin User, username string) (User, error) {
	if !admin.IsAdmin {
		return User{}, ErrForbidden
	}
	target, err := s.lookup(ctx, username)
	if err != nil {
		return User{}, err
	}
	if target.ID == admin.ID {
		return User{}, fmt.Errorf("%w: you cannot disable your own account", ErrForbidden)
	}
	if err := s.store.DisableUser(ctx, target.ID, s.now()); err != nil {
		return User{}, err
	}
	return target, nil
}

// ChangePassword sets u's password to next once current proves it is them, and
// ends every other session of theirs (keep is the session making the change). It
// returns the IDs of the sessions it ended, whose open connections the caller
// closes.
func (s *Service) ChangePassword(ctx context.Context, u User, keep, current, next string) ([]string, error) {
	ok, err := s.opts.Hasher.Check(ctx, u.PasswordHash, current)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	if err := checkPassword(next); err != nil {
		return nil, err
	}
	hash, err := s.opts.Hasher.Hash(ctx, next)
	if err != nil {
		return nil, err
	}
	return s.store.SetPassword(ctx, u.ID, hash, keep)
}

func (s *Service) lookup(ctx context.Context, username string) (User, error) {
	name, err := NormalizeUsername(username)
	if err != nil {
		return User{}, ErrNotFound
	}
	return s.store.UserByUsername(ctx, name)
}

// InviteInfo is what a sign-up page may show about a usable invite code.
type InviteInfo struct {
	GrantsAdmin bool
	Inviter     *Summary
	ExpiresAt   time.Time
	RoomID      string // set for an invitation to a conversation
}

// InviteInfo describes a usable invite code; ErrInviteInvalid if it is not usable.
func (s *Service) InviteInfo(ctx context.Context, code string) (InviteInfo, error) {
	if code == "" || len(code) > 100 {
		return InviteInfo{}, ErrInviteInvalid
	}
	inv, err := s.store.InviteByCode(ctx, code)
	if errors.Is(err, ErrNotFound) || err == nil && !inv.Usable(s.now()) {
		return InviteInfo{}, ErrInviteInvalid
	}
	if err != nil {
		return InviteInfo{}, err
	}
	info := InviteInfo{GrantsAdmin: inv.GrantsAdmin, ExpiresAt: inv.ExpiresAt, RoomID: inv.RoomID}
	if inv.CreatedBy != "" {
		u, err := s.store.UserByID(ctx, inv.CreatedBy)
		if err != nil {
			return InviteInfo{}, err
		}
		sum := SummaryOf(u)
		info.Inviter = &sum
	}
	return info, nil
}

// SweepSessions deletes expired sessions.
func (s *Service) SweepSessions(ctx context.Context) (int, error) {
	return s.store.DeleteExpiredSessions(ctx, s.now())
}
