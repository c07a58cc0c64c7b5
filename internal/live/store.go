package live

import (
	"context"
	"time"
)

// RoomRecord is the durable record of a room: what stays in history after it ends.
type RoomRecord struct {
	ID          string
	Title       string
	Description string
	Type        string // "open", "social" or "closed"
	AllowGuests bool
	CreatorID   string
	CreatedAt   time.Time
	EndedAt     time.Time // zero while live
	// Setup is the room's room.Config as JSON, stored at creation so that a room
	// not yet opened survives a restart; nil in records read back but from
	// WaitingRooms.
	Setup []byte
}

// Invitation is an invitation to a conversation: one inviter, a message, one or
// more invitees, each of whom answers.
type Invitation struct {
	ID        string
	RoomID    string
	InviterID string
	Message   string
	ToStage   bool // the inviter was a moderator: accepting lands on stage
	CreatedAt time.Time
}

// Answer statuses of an invitee.
const (
	AnswerPending  = "pending"
	AnswerAccepted = "accepted"
	AnswerDeclined = "declined"
	AnswerQuestion = "question" // the invitee asked something back
)

// Recipient is one invitee of an Invitation and their latest answer.
type Recipient struct {
	InvitationID string
	UserID       string
	Status       string // one of the Answer constants
	Text         string // the question, or a note with the answer
	AnsweredAt   time.Time
}

// Notification is a stored, per-user notice (invitation, answer, ping...). Data is
// a JSON object whose shape depends on Kind.
type Notification struct {
	ID        string
	UserID    string
	Kind      string
	Data      []byte
	CreatedAt time.Time
	ReadAt    time.Time // zero while unread
}

// ChatMessage is a message of a room's chat.
type ChatMessage struct {
	ID     string    `json:"id"`
	RoomID string    `json:"-"`
	UserID string    `json:"user_id"`
	Name   string    `json:"name"` // the author's display name when they wrote
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Edge is how one other user stands to a given user.
type Edge struct {
	Follows    bool // the user follows the other
	FollowedBy bool // the other follows the user
	Blocks     bool // the user blocks the other
	BlockedBy  bool // the other blocks the user
}

// Store is what the live layer needs from durable storage. internal/store
// implements it for SQLite and Postgres. Missing rows give account.ErrNotFound.
type Store interface {
	CreateRoom(ctx context.Context, r RoomRecord) error
	RoomByID(ctx context.Context, id string) (RoomRecord, error)
	// EndRoom sets ended_at once, by the owner whose lease is epoch; ending an
	// ended room is a no-op, and so is ending it with an epoch older than the
	// last ClaimRoom.
	EndRoom(ctx context.Context, id string, at time.Time, epoch uint64) error
	// ClaimRoom records that the owner whose lease is epoch runs the room now.
	ClaimRoom(ctx context.Context, id string, epoch uint64) error
	// AddSpeaker records that userID spoke in the room (idempotent: first time kept).
	AddSpeaker(ctx context.Context, roomID, userID string, at time.Time) error
	// RoomSpeakers lists who spoke, in the order they first did.
	RoomSpeakers(ctx context.Context, roomID string) ([]string, error)
	// EndedRoomsOf lists ended rooms the user created or spoke in, newest first.
	EndedRoomsOf(ctx context.Context, userID string, limit int) ([]RoomRecord, error)
	// EndLiveRooms ends every room still marked live but the rooms still waiting to
	// be opened created at or after keepWaitingSince (a restart loses the live
	// state of opened rooms, and brings back the others).
	EndLiveRooms(ctx context.Context, at, keepWaitingSince time.Time) (int, error)
	// OpenRoom records when the room was first opened.
	OpenRoom(ctx context.Context, id string, at time.Time) error
	// WaitingRooms lists the rooms neither opened nor ended, with their Setup.
	WaitingRooms(ctx context.Context) ([]RoomRecord, error)

	// CreateInvitation stores inv with one pending Recipient per invitee.
	CreateInvitation(ctx context.Context, inv Invitation, invitees []string) error
	// Invitation returns an invitation with all its recipients.
	Invitation(ctx context.Context, id string) (Invitation, []Recipient, error)
	// AnswerInvitation records userID's answer; ErrNotFound unless userID is one of
	// its recipients.
	AnswerInvitation(ctx context.Context, id, userID, status, text string, at time.Time) error
	// InvitationsTo lists invitations userID received, newest first.
	InvitationsTo(ctx context.Context, userID string, limit int) ([]Invitation, error)
	// InvitationsFrom lists invitations userID sent, newest first.
	InvitationsFrom(ctx context.Context, userID string, limit int) ([]Invitation, error)

	AddNotification(ctx context.Context, n Notification) error
	// AddNotificationOnce stores n unless a notification with its ID exists;
	// added says whether it was stored.
	AddNotificationOnce(ctx context.Context, n Notification) (added bool, err error)
	// Notifications lists userID's notifications newest first, starting before
	// the notification with ID before ("" for the newest).
	Notifications(ctx context.Context, userID, before string, limit int) ([]Notification, error)
	// MarkNotificationsRead marks the listed notifications of userID read (all
	// of them when ids is empty).
	MarkNotificationsRead(ctx context.Context, userID string, ids []string, at time.Time) error

	// AddChat stores a chat message; ChatPage lists a room's messages not deleted,
	// newest first, before the message before ("" for the newest); DeleteChat
	// marks one deleted (ErrNotFound if the room has no such message); DropChat
	// deletes a room's whole chat.
	AddChat(ctx context.Context, m ChatMessage) error
	ChatPage(ctx context.Context, roomID, before string, limit int) ([]ChatMessage, error)
	ChatMessage(ctx context.Context, id string) (ChatMessage, error) // with its RoomID; not a deleted one
	DeleteChat(ctx context.Context, roomID, id string, at time.Time) error
	DropChat(ctx context.Context, roomID string) error

	// Edges returns, for each of others, how it stands to userID. Others with no
	// relation may be missing from the map.
	Edges(ctx context.Context, userID string, others []string) (map[string]Edge, error)
	// FollowingIDs returns the IDs of up to limit users userID follows.
	FollowingIDs(ctx context.Context, userID string, limit int) ([]string, error)
}
