// Package invitation holds the page of every invitation to a conversation: one
// invitee, invited to a live room or a scheduled event, at /i/{code}. The page
// shows who invites, to what, the message and where it stands; it carries a
// short thread of questions and answers between the two sides (or their
// delegates with the invitations scope); and its inviter may make it public, to
// be read by anyone, on their profile and on the room's or event's page.
//
// Someone without an account is invited through a link that holds the page's
// key (in the URL's fragment, which no server sees): with it they decline or ask
// a question without an account, and sign up (or log in) to accept, which makes
// the page theirs. The existing ways to invite stay what they are (an
// invitation to a room in internal/live, an event's invitations in
// internal/event, a sign-up code in internal/account): this package keeps a page
// beside each, and answers through them.
package invitation

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"time"

	"github.com/townhall/townhall/internal/errcode"
)

// Statuses of an invitation, as its thread moves on.
const (
	StatusSent     = "sent"     // nobody of the invitee's side opened it yet
	StatusSeen     = "seen"     // the invitee's side opened the page
	StatusQuestion = "question" // the invitee's side asked a question
	StatusAccepted = "accepted"
	StatusDeclined = "declined"
)

// Sides of a thread.
const (
	SideInviter = "inviter"
	SideInvitee = "invitee"
)

// Kinds of a post.
const (
	PostQuestion = "question" // the invitee's side asks
	PostReply    = "reply"    // the inviter's side answers
	PostAccepted = "accepted" // the invitee's side accepts (with an optional note)
	PostDeclined = "declined" // the invitee's side declines (with an optional note)
)

// Limits of what people write.
const (
	MaxText    = 280 // a question, a reply, a note, a message
	MaxName    = 50  // the name of someone without an account, or of an invitee
	MaxPosts   = 100 // posts in one thread
	MaxPerPage = 50  // invitations in one list
)

// Errors of invitations.
var (
	ErrNotFound     = errcode.New(errcode.NotFound, "no such invitation, or you cannot see it")
	ErrForbidden    = errcode.New(errcode.Forbidden, "only the other side of this invitation can do that")
	ErrNeedAccount  = errcode.New(errcode.Unauthenticated, "sign up or log in to accept this invitation")
	ErrDeclined     = errcode.New(errcode.Conflict, "this invitation was declined: it takes no more questions or answers")
	ErrExpired      = errcode.New(errcode.Conflict, "this invitation has expired: its conversation is over")
	ErrClaimed      = errcode.New(errcode.Conflict, "this invitation belongs to an account now: log in to answer it")
	ErrNotPublic    = errcode.New(errcode.Conflict, "an invitation to a closed or members-only conversation cannot be public")
	ErrTooManyPosts = errcode.New(errcode.Conflict, "this thread has as many posts as allowed")
	ErrInvalid      = errcode.New(errcode.InvalidField, "invalid field")
	ErrYourOwn      = errcode.New(errcode.InvalidField, "you cannot answer your own invitation")
	ErrBlocked      = errcode.New(errcode.Blocked, "a block stands between you and the one who invites you")
)

// Invitation is the page of one invitation to one invitee.
type Invitation struct {
	Code         string // the page: /i/{code}
	KeyHash      string // SHA-256 of the invitee's key, hex
	InviterID    string
	InviteeID    string // "" until someone without an account claims it
	InviteeName  string // how the inviter names an invitee without an account
	RoomID       string // an invitation to a live room, or
	EventID      string // to a scheduled event
	InvitationID string // the invitation to a room (live.Invitation) it belongs to
	SignupCode   string // the sign-up code of someone without an account
	Message      string
	ToStage      bool // the inviter moderates (hosts): accepting lands on stage
	Public       bool
	Status       string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	SeenAt       time.Time
	AnsweredAt   time.Time
	UpdatedAt    time.Time
	Posts        int
}

// Post is one entry of an invitation's thread.
type Post struct {
	Seq      int
	Side     string // SideInviter or SideInvitee
	Kind     string // PostQuestion, PostReply, PostAccepted, PostDeclined
	AuthorID string // who wrote it; "" for someone without an account
	ForID    string // the account a delegate wrote it for; "" in person
	Name     string // the name someone without an account gave
	Text     string
	At       time.Time
}

// HashKey returns the stored form of a page's key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte("townhall invitation key\x00" + key))
	return hex.EncodeToString(sum[:])
}

// KeyOpens reports whether key is the key of inv.
func (inv Invitation) KeyOpens(key string) bool {
	if key == "" || len(key) > 100 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashKey(key)), []byte(inv.KeyHash)) == 1
}

// Of names the invitations of one room, one event, one inviter or one invitee;
// InvitationPageFor reads InvitationID (or EventID) and InviteeID.
type Of struct {
	RoomID       string
	EventID      string
	InviterID    string
	InviteeID    string
	InvitationID string
}

// Store keeps the pages and their threads. A missing page gives ErrNotFound.
type Store interface {
	// CreateInvitationPages stores pages, all or none.
	CreateInvitationPages(ctx context.Context, pages []Invitation) error
	// InvitationPage returns a page and its thread, oldest post first.
	InvitationPage(ctx context.Context, code string) (Invitation, []Post, error)
	// InvitationPageFor returns the page of of.InvitationID (an invitation to a
	// room), or of the newest invitation to of.EventID, for of.InviteeID.
	InvitationPageFor(ctx context.Context, of Of) (Invitation, error)
	// InvitationPageBySignup returns the page whose sign-up code is code.
	InvitationPageBySignup(ctx context.Context, code string) (Invitation, error)
	// AddInvitationPost appends p to the thread (its Seq is the next one) and
	// sets the page's status unless status is "", in one transaction. max bounds
	// the posts (ErrTooManyPosts).
	AddInvitationPost(ctx context.Context, code string, p Post, status string, max int) (Post, error)
	// MarkInvitationSeen sets the status seen if it is sent; changed says
	// whether it was.
	MarkInvitationSeen(ctx context.Context, code string, at time.Time) (changed bool, err error)
	// ClaimInvitationPage makes an unclaimed page userID's, and uses up its
	// sign-up code; ErrClaimed if it is another's already.
	ClaimInvitationPage(ctx context.Context, code, userID string, at time.Time) error
	// SetInvitationPublic makes a page public or private.
	SetInvitationPublic(ctx context.Context, code string, public bool, at time.Time) error
	// InvitationPages lists pages newest first: of a room, an event, an inviter
	// or an invitee (one of them), only public ones when public.
	InvitationPages(ctx context.Context, of Of, public bool, limit int) ([]Invitation, error)
	// InvitationPosts returns the threads of the pages codes, by code.
	InvitationPosts(ctx context.Context, codes []string) (map[string][]Post, error)
}
