package account

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Summary is the short form of a user shown in lists.
type Summary struct {
	ID          string
	Username    string
	DisplayName string
	Photo       string // the content hash of the profile photo, if any
}

// SummaryOf shortens u.
func SummaryOf(u User) Summary {
	return Summary{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Photo: u.Photo}
}

// Profile is a user as another user sees them.
type Profile struct {
	Summary
	Bio        string
	IsAdmin    bool
	CreatedAt  time.Time
	Followers  int
	Following  int
	InvitedBy  *Summary // nil for the first admin or open sign-ups
	YouFollow  bool     // the viewer follows this user
	FollowsYou bool     // this user follows the viewer
	YouBlock   bool     // the viewer blocks this user
	Disabled   bool
}

// target resolves username for viewer. A user who blocks the viewer is not found:
// blocking hides each from the other.
func (s *Service) target(ctx context.Context, viewer User, username string) (User, Relation, error) {
	t, err := s.lookup(ctx, username)
	if err != nil {
		return User{}, Relation{}, err
	}
	rel, err := s.store.Relation(ctx, viewer.ID, t.ID)
	if err != nil {
		return User{}, Relation{}, err
	}
	if rel.BBlocksA {
		return User{}, Relation{}, ErrNotFound
	}
	return t, rel, nil
}

// Profile returns the profile of username as viewer sees it.
func (s *Service) Profile(ctx context.Context, viewer User, username string) (Profile, error) {
	t, rel, err := s.target(ctx, viewer, username)
	if err != nil {
		return Profile{}, err
	}
	followers, following, err := s.store.FollowCounts(ctx, t.ID)
	if err != nil {
		return Profile{}, err
	}
	p := Profile{
		Summary: SummaryOf(t), Bio: t.Bio, IsAdmin: t.IsAdmin, CreatedAt: t.CreatedAt,
		Followers: followers, Following: following, Disabled: t.Disabled(),
		YouFollow: rel.AFollowsB, FollowsYou: rel.BFollowsA, YouBlock: rel.ABlocksB,
	}
	if t.InvitedBy != "" {
		inviter, err := s.store.UserByID(ctx, t.InvitedBy)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Profile{}, err
		}
		if err == nil {
			sum := SummaryOf(inviter)
			p.InvitedBy = &sum
		}
	}
	return p, nil
}

// Follow makes viewer follow username.
func (s *Service) Follow(ctx context.Context, viewer User, username string) error {
	t, rel, err := s.target(ctx, viewer, username)
	if err != nil {
		return err
	}
	if t.ID == viewer.ID {
		return fmt.Errorf("%w: you cannot follow yourself", ErrInvalid)
	}
	if rel.Blocked() {
		return ErrBlocked
	}
	return s.store.Follow(ctx, viewer.ID, t.ID, s.now())
}

// Unfollow stops viewer following username.
func (s *Service) Unfollow(ctx context.Context, viewer User, username string) error {
	t, _, err := s.target(ctx, viewer, username)
	if err != nil {
		return err
	}
	return s.store.Unfollow(ctx, viewer.ID, t.ID)
}

// Block makes viewer block username, which ends follows both ways and hides each
// from the other.
func (s *Service) Block(ctx context.Context, viewer User, username string) error {
	t, err := s.lookup(ctx, username)
	if err != nil {
		return err
	}
	if t.ID == viewer.ID {
		return fmt.Errorf("%w: you cannot block yourself", ErrInvalid)
	}
	return s.store.Block(ctx, viewer.ID, t.ID, s.now())
}

// Unblock lifts viewer's block of username.
func (s *Service) Unblock(ctx context.Context, viewer User, username string) error {
	t, err := s.lookup(ctx, username)
	if err != nil {
		return err
	}
	return s.store.Unblock(ctx, viewer.ID, t.ID)
}

// MaxPage is the most users one page of a list holds.
const MaxPage = 100

// Followers lists who follows username, as viewer may see it.
func (s *Service) Followers(ctx context.Context, viewer User, username string, after Cursor, limit int) ([]Summary, Cursor, error) {
	return s.list(ctx, viewer, username, after, limit, s.store.Followers)
}

// Following lists whom username follows, as viewer may see it.
func (s *Service) Following(ctx context.Context, viewer User, username string, after Cursor, limit int) ([]Summary, Cursor, error) {
	return s.list(ctx, viewer, username, after, limit, s.store.Following)
}

type listFunc func(ctx context.Context, userID, viewerID string, after Cursor, limit int) ([]User, Cursor, error)

func (s *Service) list(ctx context.Context, viewer User, username string, after Cursor, limit int, f listFunc) ([]Summary, Cursor, error) {
	t, _, err := s.target(ctx, viewer, username)
	if err != nil {
		return nil, Cursor{}, err
	}
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	users, next, err := f(ctx, t.ID, viewer.ID, after, limit)
	if err != nil {
		return nil, Cursor{}, err
	}
	out := make([]Summary, len(users))
	for i, u := range users {
		out[i] = SummaryOf(u)
	}
	return out, next, nil
}

// Lookup resolves username for viewer, with how they stand to each other. A user
// who blocks the viewer is not found.
func (s *Service) Lookup(ctx context.Context, viewer User, username string) (User, Relation, error) {
	return s.target(ctx, viewer, username)
}

// SummaryByID returns the short form of the user with that ID.
func (s *Service) SummaryByID(ctx context.Context, id string) (Summary, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return Summary{}, err
	}
	return SummaryOf(u), nil
}

// IDOf returns the ID of the user called username, whatever the relation: for
// internal bookkeeping, never shown to anyone.
func (s *Service) IDOf(ctx context.Context, username string) (string, error) {
	u, err := s.lookup(ctx, username)
	return u.ID, err
}
