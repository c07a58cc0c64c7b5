// Package client is townhall's Go client: sign in, create and join rooms, send room
// commands and receive events. The tests, the bot and the load generator use it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client talks to a townhall server, or to any node of a cluster, as one user (or
// as nobody, for guests).
type Client struct {
	servers  *servers
	http     *http.Client
	token    string
	header   http.Header // sent with every request and socket (WithHeader)
	identity *identity   // shared by the copies WithToken makes
}

// servers are the base URLs a Client may ask, shared by its copies: a request
// goes to the one that answered last, and to the next when it cannot be reached.
type servers struct {
	urls []string
	cur  atomic.Int32 // the index of the one to ask first
}

// first returns the index of the server to ask first.
func (s *servers) first() int { return int(s.cur.Load()) % len(s.urls) }

// answered makes the server at index i the first to ask.
func (s *servers) answered(i int) { s.cur.Store(int32(i % len(s.urls))) }

// rotate makes the server after the one asked first the first to ask: the first
// answered, but could not help (it drains, or it lost the room a moment ago).
func (s *servers) rotate() {
	if len(s.urls) > 1 {
		s.answered(s.first() + 1)
	}
}

// try calls f with each base URL in turn, from the one to ask first, until f's
// error is not one of a server that cannot be reached, and returns it.
func (s *servers) try(ctx context.Context, f func(base string) error) error {
	start := s.first()
	var err error
	for i := range s.urls {
		at := (start + i) % len(s.urls)
		if err = f(s.urls[at]); !unreachable(err) || ctx.Err() != nil {
			if err == nil && i > 0 {
				s.answered(at)
			}
			return err
		}
	}
	return err
}

// unreachable reports whether err says a server could not be reached at all: no
// connection was made, so the request was not handled and may go to another.
func unreachable(err error) bool {
	var op *net.OpError
	return err != nil && errors.As(err, &op) && op.Op == "dial"
}

// identity is the browser identity the server gave this client (its guest cookie),
// sent back on every socket as a browser would.
type identity struct {
	mu     sync.Mutex
	cookie *http.Cookie
}

func (i *identity) get() *http.Cookie {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.cookie
}

// keep stores the guest cookie among cookies, if there is one.
func (i *identity) keep(cookies []*http.Cookie) {
	for _, c := range cookies {
		if c.Name == GuestCookie && c.Value != "" {
			i.mu.Lock()
			i.cookie = &http.Cookie{Name: c.Name, Value: c.Value}
			i.mu.Unlock()
		}
	}
}

// GuestCookie is the cookie in which the server gives a browser its identity.
const GuestCookie = "townhall_guest"

// New returns a client of the server at baseURL (http://host:port). The others
// are more nodes of the same cluster: every request goes to the node that
// answered last (baseURL at first), and, when that one cannot be reached, to the
// next, in order.
func New(baseURL string, others ...string) *Client {
	srv := &servers{}
	for _, u := range append([]string{baseURL}, others...) {
		srv.urls = append(srv.urls, strings.TrimRight(u, "/"))
	}
	return &Client{servers: srv, http: &http.Client{}, identity: &identity{}}
}

// Identity returns the browser identity the server gave this client ("" before
// its first room socket).
func (c *Client) Identity() string {
	if ck := c.identity.get(); ck != nil {
		return ck.Value
	}
	return ""
}

// ForgetIdentity drops the browser identity, as clearing a browser's cookies does.
func (c *Client) ForgetIdentity() {
	c.identity.mu.Lock()
	c.identity.cookie = nil
	c.identity.mu.Unlock()
}

// WithToken returns a copy of c that authenticates with a bearer token.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// WithHeader returns a copy of c that sends the header key: value with every
// request and socket (a proxy's X-Forwarded-For, in tests).
func (c *Client) WithHeader(key, value string) *Client {
	cp := *c
	cp.header = c.header.Clone()
	if cp.header == nil {
		cp.header = http.Header{}
	}
	cp.header.Set(key, value)
	return &cp
}

// Token is the bearer token in use ("" for none).
func (c *Client) Token() string { return c.token }

// BaseURL is the base URL of the server the next request goes to first: the one
// that answered last.
func (c *Client) BaseURL() string { return c.servers.urls[c.servers.first()] }

// Servers returns the base URLs the client may ask, in the order given to New.
func (c *Client) Servers() []string { return append([]string(nil), c.servers.urls...) }

// Error is an error answer of the server: an HTTP status and a stable code.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("townhall: %d %s: %s", e.Status, e.Code, e.Message)
}

// Code returns the stable code of err if it is a server error (for a *ByeError,
// its reason), else "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var se *SocketError
	if errors.As(err, &se) {
		return se.Code
	}
	var be *ByeError
	if errors.As(err, &be) {
		return be.Reason
	}
	return ""
}

// Do sends a request to path (under the base URL) with an optional JSON body and
// decodes a JSON answer into out (if not nil). A server that cannot be reached is
// skipped for the next of New's (the request was not sent).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	_, err := c.do(ctx, method, path, body, out)
	return err
}

// do is Do, and also returns the base URL of the server that answered.
func (c *Client) do(ctx context.Context, method, path string, body, out any) (string, error) {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return "", err
		}
		payload = b
	}
	var (
		answered string
		status   int
		data     []byte
	)
	err := c.servers.try(ctx, func(base string) error {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
		if err != nil {
			return err
		}
		for k, v := range c.header {
			req.Header[k] = v
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		answered, status = base, resp.StatusCode
		data, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		return err
	})
	if err != nil {
		return answered, err
	}
	if status >= 400 {
		return answered, errorOf(status, data)
	}
	if out != nil && len(data) > 0 {
		return answered, json.Unmarshal(data, out)
	}
	return answered, nil
}

// errorOf decodes the API's error body ({"error":{"code","message"}}) of an
// answer with status.
func errorOf(status int, body []byte) *Error {
	var eb struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(body, &eb)
	return &Error{Status: status, Code: eb.Error.Code, Message: eb.Error.Message}
}

// User is an account as the API shows it.
type User struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	IsAdmin     bool   `json:"is_admin"`
}

// Session is the answer of sign-up and login.
type Session struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
	User      User   `json:"user"`
	RoomID    string `json:"room_id"` // set when the invite code led into a room
}

// SignUp creates an account with an invite code and returns a client signed in as it.
func (c *Client) SignUp(ctx context.Context, username, password, inviteCode string) (*Client, Session, error) {
	var s Session
	err := c.Do(ctx, "POST", "/api/v1/signup", map[string]string{"username": username, "password": password, "invite_code": inviteCode}, &s)
	if err != nil {
		return nil, Session{}, err
	}
	return c.WithToken(s.Token), s, nil
}

// Login signs in and returns a client signed in as the user.
func (c *Client) Login(ctx context.Context, username, password string) (*Client, Session, error) {
	var s Session
	if err := c.Do(ctx, "POST", "/api/v1/login", map[string]string{"username": username, "password": password}, &s); err != nil {
		return nil, Session{}, err
	}
	return c.WithToken(s.Token), s, nil
}

// Invite is a sign-up code.
type Invite struct {
	Code string `json:"code"`
	URL  string `json:"url"`
}

// CreateInvite makes a sign-up code.
func (c *Client) CreateInvite(ctx context.Context) (Invite, error) {
	var inv Invite
	return inv, c.Do(ctx, "POST", "/api/v1/invites", nil, &inv)
}

// Follow follows username.
func (c *Client) Follow(ctx context.Context, username string) error {
	return c.Do(ctx, "PUT", "/api/v1/users/"+url.PathEscape(username)+"/follow", nil, nil)
}

// Unfollow stops following username.
func (c *Client) Unfollow(ctx context.Context, username string) error {
	return c.Do(ctx, "DELETE", "/api/v1/users/"+url.PathEscape(username)+"/follow", nil, nil)
}

// Block blocks username.
func (c *Client) Block(ctx context.Context, username string) error {
	return c.Do(ctx, "PUT", "/api/v1/users/"+url.PathEscape(username)+"/block", nil, nil)
}

// Unblock lifts a block of username.
func (c *Client) Unblock(ctx context.Context, username string) error {
	return c.Do(ctx, "DELETE", "/api/v1/users/"+url.PathEscape(username)+"/block", nil, nil)
}

// Me returns the signed-in user.
func (c *Client) Me(ctx context.Context) (User, error) {
	var u User
	return u, c.Do(ctx, "GET", "/api/v1/me", nil, &u)
}

// SessionInfo is one signed-in device of the user.
type SessionInfo struct {
	ID        string    `json:"id"`
	UserAgent string    `json:"user_agent"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Current   bool      `json:"current"`
}

// Sessions lists the user's sessions.
func (c *Client) Sessions(ctx context.Context) ([]SessionInfo, error) {
	var out struct {
		Sessions []SessionInfo `json:"sessions"`
	}
	return out.Sessions, c.Do(ctx, "GET", "/api/v1/sessions", nil, &out)
}

// RevokeSession signs out one of the user's sessions.
func (c *Client) RevokeSession(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/api/v1/sessions/"+url.PathEscape(id), nil, nil)
}

// ChangePassword sets a new password; the server ends every other session.
func (c *Client) ChangePassword(ctx context.Context, current, next string) error {
	return c.Do(ctx, "PUT", "/api/v1/me/password", map[string]string{"current_password": current, "new_password": next}, nil)
}

// DisableUser disables an account (admins).
func (c *Client) DisableUser(ctx context.Context, username string) error {
	return c.Do(ctx, "POST", "/api/v1/admin/users/"+url.PathEscape(username)+"/disable", nil, nil)
}

// Logout ends the client's session.
func (c *Client) Logout(ctx context.Context) error {
	return c.Do(ctx, "POST", "/api/v1/logout", nil, nil)
}

// RoomSpec describes a room to start.
type RoomSpec struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Type        string `json:"type"` // open, social or closed
	AllowGuests bool   `json:"allow_guests,omitempty"`
	// Chat is who may write in the chat at first: off, speakers or everyone
	// ("" for the type's default); KeepChat keeps it after the room ends.
	Chat     string `json:"chat,omitempty"`
	KeepChat bool   `json:"keep_chat,omitempty"`
	// Record records the room for a replay (everyone is told before joining);
	// AllowClips lets listeners keep its last moments as clips.
	Record     bool `json:"record,omitempty"`
	AllowClips bool `json:"allow_clips,omitempty"`
	Captions   bool `json:"captions,omitempty"` // caption the replay
}

// Person is someone as the rooms and sockets show them.
type Person struct {
	ID          string `json:"id"`
	Username    string `json:"username,omitempty"`
	DisplayName string `json:"display_name"`
	Guest       bool   `json:"guest,omitempty"`
}

// Onstage is someone on a room's stage, as GET /api/v1/rooms/{id} shows them.
type Onstage struct {
	Person
	Role string `json:"role"`
}

// Room is a room as the API shows it.
type Room struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	Description   string    `json:"description"`
	Type          string    `json:"type"`
	AllowGuests   bool      `json:"allow_guests"`
	CreatorID     string    `json:"creator_id"`
	CreatedAt     time.Time `json:"created_at"`
	URL           string    `json:"url"`
	State         string    `json:"state"`
	ListenerCount int       `json:"listener_count"`
	Stage         []Onstage `json:"stage"`
	// Recorded: the room is recorded, which a client says before joining.
	Recorded     bool `json:"recorded"`
	ClipsAllowed bool `json:"clips_allowed"`
}

// CreateRoom starts a room; the creator opens it by joining.
func (c *Client) CreateRoom(ctx context.Context, spec RoomSpec) (Room, error) {
	var r Room
	return r, c.Do(ctx, "POST", "/api/v1/rooms", spec, &r)
}

// Room returns a live room if the caller may see it.
func (c *Client) Room(ctx context.Context, id string) (Room, error) {
	var r Room
	return r, c.Do(ctx, "GET", "/api/v1/rooms/"+url.PathEscape(id), nil, &r)
}

// HallwayRoom is one card of the hallway.
type HallwayRoom struct {
	ID                string   `json:"id"`
	Title             string   `json:"title"`
	Type              string   `json:"type"`
	AllowGuests       bool     `json:"allow_guests"`
	Speakers          []Person `json:"speakers"`
	SpeakerCount      int      `json:"speaker_count"`
	ListenerCount     int      `json:"listener_count"`
	FollowedSpeakers  int      `json:"followed_speakers"`
	FollowedListeners int      `json:"followed_listeners"`
	Reason            string   `json:"reason"`
}

// Hallway lists the live rooms the caller may see, ranked.
func (c *Client) Hallway(ctx context.Context) ([]HallwayRoom, error) {
	var out struct {
		Rooms []HallwayRoom `json:"rooms"`
	}
	return out.Rooms, c.Do(ctx, "GET", "/api/v1/hallway", nil, &out)
}

// PastRoom is an ended room of the caller's history.
type PastRoom struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	EndedAt   time.Time `json:"ended_at"`
	Speakers  []string  `json:"speakers"` // user IDs, in the order they first spoke
}

// History lists the ended rooms the caller created or spoke in, newest first.
func (c *Client) History(ctx context.Context) ([]PastRoom, error) {
	var out struct {
		Rooms []PastRoom `json:"rooms"`
	}
	return out.Rooms, c.Do(ctx, "GET", "/api/v1/me/rooms", nil, &out)
}

// Recipient is one invitee of an invitation and their answer.
type Recipient struct {
	User       User      `json:"user"`
	Status     string    `json:"status"` // pending, accepted, declined or question
	Text       string    `json:"text"`
	AnsweredAt time.Time `json:"answered_at"`
}

// Invitation is an invitation to a conversation.
type Invitation struct {
	ID         string      `json:"id"`
	RoomID     string      `json:"room_id"`
	From       User        `json:"from"`
	Message    string      `json:"message"`
	ToStage    bool        `json:"to_stage"`
	CreatedAt  time.Time   `json:"created_at"`
	Link       string      `json:"link"`
	Recipients []Recipient `json:"recipients"`
}

// LinkCode returns the invite code at the end of the invitation's link ("" if
// there is no link).
func (inv Invitation) LinkCode() string {
	if inv.Link == "" {
		return ""
	}
	return inv.Link[strings.LastIndex(inv.Link, "/")+1:]
}

// InviteToRoom invites usernames to the conversation in roomID with a message;
// link also asks for a sign-up link for someone without an account.
func (c *Client) InviteToRoom(ctx context.Context, roomID string, usernames []string, message string, link bool) (Invitation, error) {
	var inv Invitation
	if usernames == nil {
		usernames = []string{}
	}
	return inv, c.Do(ctx, "POST", "/api/v1/rooms/"+url.PathEscape(roomID)+"/invitations",
		map[string]any{"usernames": usernames, "message": message, "link": link}, &inv)
}

// AnswerInvitation answers accept, decline or question (with text).
func (c *Client) AnswerInvitation(ctx context.Context, id, answer, text string) error {
	return c.Do(ctx, "POST", "/api/v1/invitations/"+url.PathEscape(id)+"/answer", map[string]string{"answer": answer, "text": text}, nil)
}

// GetInvitation returns an invitation with its answers.
func (c *Client) GetInvitation(ctx context.Context, id string) (Invitation, error) {
	var inv Invitation
	return inv, c.Do(ctx, "GET", "/api/v1/invitations/"+url.PathEscape(id), nil, &inv)
}

// Invitations lists the invitations the caller received and sent, newest first.
func (c *Client) Invitations(ctx context.Context) (received, sent []Invitation, err error) {
	var out struct {
		Received []Invitation `json:"received"`
		Sent     []Invitation `json:"sent"`
	}
	err = c.Do(ctx, "GET", "/api/v1/invitations", nil, &out)
	return out.Received, out.Sent, err
}

// PingIntoRoom pings username, who follows the caller, into roomID.
func (c *Client) PingIntoRoom(ctx context.Context, roomID, username string) error {
	return c.Do(ctx, "POST", "/api/v1/rooms/"+url.PathEscape(roomID)+"/pings", map[string]string{"username": username}, nil)
}

// Notification is a stored notice: an invitation, an answer, a ping.
type Notification struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"` // invitation, invitation_answer or ping
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
	Read      bool            `json:"read"`
}

// Notifications lists the caller's notifications, newest first.
func (c *Client) Notifications(ctx context.Context) ([]Notification, error) {
	var out struct {
		Notifications []Notification `json:"notifications"`
	}
	return out.Notifications, c.Do(ctx, "GET", "/api/v1/notifications", nil, &out)
}

// MarkNotificationsRead marks the listed notifications read (all when none are listed).
func (c *Client) MarkNotificationsRead(ctx context.Context, ids ...string) error {
	if ids == nil {
		ids = []string{}
	}
	return c.Do(ctx, "POST", "/api/v1/notifications/read", map[string]any{"ids": ids}, nil)
}
