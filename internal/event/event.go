// Package event holds townhall's scheduled events: a conversation planned for a
// time, with a host, co-hosts, an optional club and the type of room it will open.
// People who may see an event subscribe to it ("notify me"); the Scheduler
// reminds them shortly before it starts, and Service.Start opens its room with
// one click, the co-hosts as moderators and the invited guests on stage.
package event

import (
	"context"
	"slices"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/room"
)

// Limits of an event.
const (
	MaxTitle       = 60
	MaxDescription = 200
	MaxCoHosts     = 10
	MaxInvitees    = room.MaxInvitees
	MaxMessage     = 280
	// MaxAhead is how far ahead an event may be scheduled.
	MaxAhead = 366 * 24 * time.Hour
)

// Event is a scheduled conversation.
type Event struct {
	ID          string
	Title       string
	Description string
	StartsAt    time.Time // UTC
	TimeZone    string    // IANA name the host scheduled it in, e.g. "Europe/Paris"
	HostID      string
	CoHosts     []string // user IDs, in the order the host named them
	ClubID      string   // "" for none
	RoomType    room.Type
	MembersOnly bool // only members of the club see it and join its room
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CancelledAt time.Time // zero unless cancelled
	StartedAt   time.Time // zero until its room opens
	RoomID      string    // the room it opened, once started
}

// Cancelled reports whether the event was cancelled.
func (e Event) Cancelled() bool { return !e.CancelledAt.IsZero() }

// Started reports whether the event's room was opened.
func (e Event) Started() bool { return !e.StartedAt.IsZero() }

// IsHost reports whether u is the host or a co-host.
func (e Event) IsHost(u string) bool { return u == e.HostID || slices.Contains(e.CoHosts, u) }

// Answers of an event invitation (the same words as invitations to a conversation).
const (
	AnswerPending  = "pending"
	AnswerAccepted = "accepted"
	AnswerDeclined = "declined"
	AnswerQuestion = "question"
)

// Invitation is one person invited to an event, and their answer.
type Invitation struct {
	EventID    string
	UserID     string
	InviterID  string
	Message    string
	ToStage    bool // a host invited them: they land on stage when the room opens
	Status     string
	Text       string // a question, or a note with the answer
	CreatedAt  time.Time
	AnsweredAt time.Time
}

// Reminder kinds, as recorded once per event.
const (
	ReminderSoon = "soon" // the reminder shortly before the start
	ReminderLive = "live" // the notice that the room is open
)

// Errors of events.
var (
	ErrNotFound      = errcode.New(errcode.NotFound, "no such event, or you cannot see it")
	ErrNotHost       = errcode.New(errcode.Forbidden, "only the event's hosts can do that")
	ErrClosed        = errcode.New(errcode.Conflict, "the event was cancelled or has started")
	ErrTooLate       = errcode.New(errcode.Conflict, "the event has started: it is too late to answer")
	ErrNoInvitation  = errcode.New(errcode.NotFound, "no invitation to this event for you")
	ErrInvalidField  = errcode.New(errcode.InvalidField, "invalid field")
	ErrInviteClosed  = errcode.New(errcode.Forbidden, "only the hosts invite people to a closed event")
	ErrBadAnswer     = errcode.New(errcode.InvalidField, "answer must be accept, decline or question")
	ErrNotClubLeader = errcode.New(errcode.Forbidden, "only the club's leaders and admins schedule its events")
	// ErrStageBlocked refuses a co-host, or a guest invited on stage, between whom
	// and a host or another guest on stage a block stands, one way or the other:
	// the room would keep one of them off the stage (room.ErrBlockedOnStage). It
	// names neither the other person nor the direction of the block.
	ErrStageBlocked = errcode.New(errcode.Blocked, "nobody can share the stage with someone who blocks them or whom they block: a block stands between this person and a host or a guest of the event")
)

// Store is what Service and Scheduler need from durable storage. A missing event
// gives ErrNotFound, a missing invitation ErrNoInvitation, a missing user or club
// account.ErrNotFound.
type Store interface {
	// CreateEvent stores e with its co-hosts.
	CreateEvent(ctx context.Context, e Event) error
	// EventByID returns an event with its co-hosts.
	EventByID(ctx context.Context, id string) (Event, error)
	// UpdateEvent changes the text, start, time zone, co-hosts, room type and
	// members-only flag of e.ID, and UpdatedAt. With resetReminder, the reminder
	// sent before the old start is forgotten, so one goes out before the new one.
	// ErrClosed if the event was cancelled or has started.
	UpdateEvent(ctx context.Context, e Event, resetReminder bool) error
	// CancelEvent marks the event cancelled at at; ErrClosed if it was cancelled
	// or has started.
	CancelEvent(ctx context.Context, id string, at time.Time) error
	// ClaimEventStart marks the event started at at, once: ErrClosed if it was
	// cancelled or already started (so two clicks open one room).
	ClaimEventStart(ctx context.Context, id string, at time.Time) error
	// UnclaimEventStart undoes ClaimEventStart when the room could not open.
	UnclaimEventStart(ctx context.Context, id string) error
	// SetEventRoom records the room the event opened.
	SetEventRoom(ctx context.Context, id, roomID string) error

	// UpcomingEvents lists events not cancelled that start at or after from and
	// that concern viewerID: hosted or co-hosted by them or by someone they follow,
	// of a club they belong to, or that they subscribed to or were invited to. By
	// start, at most limit.
	UpcomingEvents(ctx context.Context, viewerID string, from time.Time, limit int) ([]Event, error)
	// HostedEvents lists the events hostID hosts or co-hosts, not cancelled,
	// starting at or after from, by start.
	HostedEvents(ctx context.Context, hostID string, from time.Time, limit int) ([]Event, error)
	// ClubEvents lists a club's events, not cancelled, starting at or after from.
	ClubEvents(ctx context.Context, clubID string, from time.Time, limit int) ([]Event, error)
	// ExploreEvents lists the events anyone may join, for viewerID: open, not
	// members-only, not cancelled, of a host whose account is not disabled, with
	// no block either way between the viewer and a host. An event is listed while
	// it has yet to start (after now), or once started while its start is at or
	// after from. By start then ID, the page after after (zero for the first), at
	// most limit; next is zero on the last page.
	ExploreEvents(ctx context.Context, viewerID string, from, now time.Time, after account.Cursor, limit int) (
		list []Event, next account.Cursor, err error)

	// Subscribe makes userID a subscriber (idempotent).
	Subscribe(ctx context.Context, eventID, userID string, at time.Time) error
	// Unsubscribe is idempotent.
	Unsubscribe(ctx context.Context, eventID, userID string) error
	// Subscribers lists the subscribers of an event, first subscribed first.
	Subscribers(ctx context.Context, eventID string) ([]string, error)
	// IsSubscribed reports whether userID subscribed to the event.
	IsSubscribed(ctx context.Context, eventID, userID string) (bool, error)

	// AddEventInvitations invites users with inv's inviter, message, stage flag and
	// time, pending. Someone already invited keeps their invitation, except that a
	// stage invitation upgrades theirs.
	AddEventInvitations(ctx context.Context, inv Invitation, users []string) error
	// EventInvitation returns userID's invitation to the event.
	EventInvitation(ctx context.Context, eventID, userID string) (Invitation, error)
	// EventInvitations lists an event's invitations, first invited first.
	EventInvitations(ctx context.Context, eventID string) ([]Invitation, error)
	// EventInvitationsTo lists userID's invitations to events not cancelled that
	// start at or after from, by start.
	EventInvitationsTo(ctx context.Context, userID string, from time.Time, limit int) ([]Invitation, error)
	// AnswerEventInvitation records an answer; ErrNoInvitation if none.
	AnswerEventInvitation(ctx context.Context, eventID, userID, status, text string, at time.Time) error

	// DueEvents lists events neither cancelled nor started, starting in (from, to],
	// whose reminder of kind was neither sent nor claimed by a claim still running
	// at now (ClaimReminder), by start.
	DueEvents(ctx context.Context, kind string, now, from, to time.Time, limit int) ([]Event, error)
	// NextDue returns the earliest start after from of an event neither cancelled
	// nor started whose reminder of kind was not sent, claimed or not; ok is
	// false if none.
	NextDue(ctx context.Context, kind string, from time.Time) (at time.Time, ok bool, err error)
	// ClaimReminder claims the sending of the reminder of kind for the event at
	// at, until until: ok is true for one caller only, unless the claim expires
	// unfinished (its sender died), when the next caller gets it.
	ClaimReminder(ctx context.Context, eventID, kind string, at, until time.Time) (ok bool, err error)
	// FinishReminder records that a claimed reminder went out, for good.
	FinishReminder(ctx context.Context, eventID, kind string) error
	// MarkReminder records that the reminder of kind for the event was sent at at.
	// first is false if it was already recorded (then nothing changes).
	MarkReminder(ctx context.Context, eventID, kind string, at time.Time) (first bool, err error)
}
