package api

import (
	"time"

	"github.com/townhall/townhall/internal/account"
)

// The JSON shapes the API sends. Field names are snake_case and stable.

type userView struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Photo       string `json:"photo,omitempty"` // GET /api/v1/photos/{photo}/{size}
}

func viewSummary(s account.Summary) userView {
	return userView{ID: s.ID, Username: s.Username, DisplayName: s.DisplayName, Photo: s.Photo}
}

type meView struct {
	userView
	Bio       string    `json:"bio"`
	IsAdmin   bool      `json:"is_admin"`
	CreatedAt time.Time `json:"created_at"`
	Email     string    `json:"email,omitempty"` // yours alone: no other view carries it
}

func viewMe(u account.User) meView {
	return meView{userView: viewSummary(account.SummaryOf(u)), Bio: u.Bio, IsAdmin: u.IsAdmin, CreatedAt: u.CreatedAt,
		Email: u.Email}
}

type profileView struct {
	userView
	Bio        string    `json:"bio"`
	IsAdmin    bool      `json:"is_admin"`
	CreatedAt  time.Time `json:"created_at"`
	Followers  int       `json:"followers"`
	Following  int       `json:"following"`
	InvitedBy  *userView `json:"invited_by"`
	YouFollow  bool      `json:"you_follow"`
	FollowsYou bool      `json:"follows_you"`
	YouBlock   bool      `json:"you_block"`
	Disabled   bool      `json:"disabled"`
}

func viewProfile(p account.Profile) profileView {
	v := profileView{userView: viewSummary(p.Summary), Bio: p.Bio, IsAdmin: p.IsAdmin, CreatedAt: p.CreatedAt,
		Followers: p.Followers, Following: p.Following, YouFollow: p.YouFollow, FollowsYou: p.FollowsYou,
		YouBlock: p.YouBlock, Disabled: p.Disabled}
	if p.InvitedBy != nil {
		iv := viewSummary(*p.InvitedBy)
		v.InvitedBy = &iv
	}
	return v
}

type sessionView struct {
	ID        string    `json:"id"`
	UserAgent string    `json:"user_agent"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	LastSeen  time.Time `json:"last_seen"` // to within five minutes
	Current   bool      `json:"current"`
}

func viewSession(s account.Session, current string) sessionView {
	seen := s.LastSeen
	if seen.IsZero() {
		seen = s.CreatedAt
	}
	return sessionView{ID: s.ID, UserAgent: s.UserAgent, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt,
		LastSeen: seen, Current: s.ID == current}
}

type inviteView struct {
	Code      string    `json:"code"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Used      bool      `json:"used"`
	UsedAt    time.Time `json:"used_at,omitzero"`
}

func (a *API) viewInvite(i account.Invite) inviteView {
	return inviteView{Code: i.Code, URL: a.publicURL + "/join/" + i.Code, CreatedAt: i.CreatedAt,
		ExpiresAt: i.ExpiresAt, Used: i.UsedBy != "", UsedAt: i.UsedAt}
}

type loginView struct {
	Token     string    `json:"token"`
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
	User      meView    `json:"user"`
	RoomID    string    `json:"room_id,omitempty"` // where an invitation to a conversation leads
}

type pageView struct {
	Users      []userView `json:"users"`
	NextCursor string     `json:"next_cursor,omitempty"`
}
