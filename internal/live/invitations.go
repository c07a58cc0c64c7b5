package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/room"
)

// Notification kinds of the live layer.
const (
	NotifyInvitation = "invitation"        // you are invited to a conversation
	NotifyAnswer     = "invitation_answer" // an invitee answered your invitation
	NotifyPing       = "ping"              // someone on stage pings you into their room
)

// MaxInvitationMessage is the longest message of an invitation or an answer.
const MaxInvitationMessage = 280

// Errors of invitations and pings.
var (
	ErrInvitationNotFound = errcode.New(errcode.NotFound, "no such invitation")
	ErrBadAnswer          = errcode.New(errcode.InvalidField, "answer must be accept, decline or question")
	ErrNotFollower        = errcode.New(errcode.Forbidden, "you can only ping people who follow you")
	ErrNotOnStageToPing   = errcode.New(errcode.Forbidden, "only speakers and moderators can ping people into a room")
)

// invitationData is the data of an invitation notification.
type invitationData struct {
	InvitationID string `json:"invitation_id"`
	RoomID       string `json:"room_id"`
	RoomTitle    string `json:"room_title"`
	From         Person `json:"from"`
	Message      string `json:"message"`
	ToStage      bool   `json:"to_stage"`
}

type answerData struct {
	InvitationID string `json:"invitation_id"`
	RoomID       string `json:"room_id"`
	From         Person `json:"from"`
	Answer       string `json:"answer"`
	Text         string `json:"text,omitempty"`
}

type madeModeratorData struct {
	RoomID    string `json:"room_id"`
	RoomTitle string `json:"room_title"`
	By        string `json:"by,omitempty"` // "" when the room promoted its longest-serving speaker
}

type pingData struct {
	RoomID    string `json:"room_id"`
	RoomTitle string `json:"room_title"`
	From      Person `json:"from"`
}

func checkMessage(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxInvitationMessage {
		return fmt.Errorf("%w: the message must be at most %d characters of text", account.ErrInvalid, MaxInvitationMessage)
	}
	return nil
}

// Invite invites people to the conversation in roomID. The room decides whether
// the inviter may (closed rooms: moderators only); an invitation from a moderator
// brings the invitee straight onto the stage when they join. Each invitee is
// notified, except those a moderator removed from the room, whom nothing lets
// back in; the invitation and every answer are stored.
func (h *Hub) Invite(ctx context.Context, from Person, roomID string, to []Person, message string) (Invitation, error) {
	if err := checkMessage(message); err != nil {
		return Invitation{}, err
	}
	if len(to) == 0 || len(to) > room.MaxInvitees {
		return Invitation{}, fmt.Errorf("%w: invite 1 to %d people", account.ErrInvalid, room.MaxInvitees)
	}
	var users []string
	for _, p := range to {
		if !slices.Contains(users, p.ID) { // at most MaxInvitees
			users = append(users, p.ID)
		}
	}
	// told: the invitees the room counts in, not those it removed.
	resp, err := h.roomCall(ctx, roomID, roomReq{Op: opInvite, From: from, Users: users})
	if err != nil {
		return Invitation{}, err
	}
	toStage, title, told := resp.ToStage, resp.Title, resp.Told
	inv := Invitation{ID: ids.New(), RoomID: roomID, InviterID: from.ID, Message: message, ToStage: toStage, CreatedAt: h.now()}
	if err := h.opts.Store.CreateInvitation(ctx, inv, users); err != nil {
		return Invitation{}, err
	}
	for _, u := range told {
		if err := h.notifyGated(ctx, u, NotifyInvitation, from.ID, invitationData{InvitationID: inv.ID, RoomID: roomID,
			RoomTitle: title, From: from, Message: message, ToStage: toStage}); err != nil {
			return inv, err
		}
	}
	return inv, nil
}

// MayInvite reports whether from may invite people into the conversation in
// roomID, without inviting anyone: the check behind an invitation link, whose
// invitee has no account yet. The room decides, as for Invite: from must be in
// the room, and a moderator in a closed one.
func (h *Hub) MayInvite(ctx context.Context, roomID string, from Person) error {
	_, err := h.roomCall(ctx, roomID, roomReq{Op: opMayInvite, From: from})
	return err
}

// Admit lets a user who signed up through an invitation link into the room, as
// the link's maker invited them.
func (h *Hub) Admit(ctx context.Context, roomID, inviterID, userID string) {
	if _, err := h.roomCall(ctx, roomID, roomReq{Op: opAdmit, From: Person{ID: inviterID}, User: userID}); err != nil {
		h.log.Info("admitting an invited sign-up", "room", roomID, "err", err)
	}
}

// Answer records user's answer to an invitation and tells the inviter at once.
// Only an invitee may answer.
func (h *Hub) Answer(ctx context.Context, user Person, invitationID, answer, text string) (Invitation, error) {
	switch answer {
	case AnswerAccepted, AnswerDeclined, AnswerQuestion:
	default:
		return Invitation{}, ErrBadAnswer
	}
	if err := checkMessage(text); err != nil {
		return Invitation{}, err
	}
	if answer == AnswerQuestion && text == "" {
		return Invitation{}, fmt.Errorf("%w: a question needs its text", account.ErrInvalid)
	}
	inv, _, err := h.invitationFor(ctx, user.ID, invitationID)
	if err != nil {
		return Invitation{}, err
	}
	if err := h.opts.Store.AnswerInvitation(ctx, invitationID, user.ID, answer, text, h.now()); err != nil {
		if errors.Is(err, account.ErrNotFound) {
			return Invitation{}, ErrInvitationNotFound
		}
		return Invitation{}, err
	}
	if answer == AnswerAccepted && inv.ToStage {
		h.bringOnStage(ctx, inv.RoomID, inv.InviterID, user.ID)
	}
	err = h.notifyGated(ctx, inv.InviterID, NotifyAnswer, user.ID, answerData{InvitationID: inv.ID, RoomID: inv.RoomID,
		From: user, Answer: answer, Text: text})
	return inv, err
}

// bringOnStage puts an invitee who accepted a moderator's invitation on stage if
// they are in the room's audience now. (One who joins later lands on stage by the
// invitation itself; one who was already in the room when invited was not counted
// in by it.) It takes the room's own way, so that its rules and events are the
// usual ones: the inviter invites them to speak, which needs the inviter to still
// be a moderator there, and they accept, as they just did.
func (h *Hub) bringOnStage(ctx context.Context, roomID, inviterID, userID string) {
	if _, err := h.roomCall(ctx, roomID, roomReq{Op: opBringOnStage, From: Person{ID: inviterID}, User: userID}); err != nil {
		h.log.Info("an accepted invitation could not bring its invitee on stage", "room", roomID, "err", err)
	}
}

// invitationFor returns an invitation if user sent or received it.
func (h *Hub) invitationFor(ctx context.Context, user, id string) (Invitation, []Recipient, error) {
	if !ids.Valid(id) {
		return Invitation{}, nil, ErrInvitationNotFound
	}
	inv, recips, err := h.opts.Store.Invitation(ctx, id)
	if errors.Is(err, account.ErrNotFound) {
		return Invitation{}, nil, ErrInvitationNotFound
	}
	if err != nil {
		return Invitation{}, nil, err
	}
	if inv.InviterID == user {
		return inv, recips, nil
	}
	for _, rc := range recips {
		if rc.UserID == user {
			return inv, recips, nil
		}
	}
	return Invitation{}, nil, ErrInvitationNotFound
}

// InvitationFor returns an invitation and its answers to its inviter or invitees.
func (h *Hub) InvitationFor(ctx context.Context, user, id string) (Invitation, []Recipient, error) {
	return h.invitationFor(ctx, user, id)
}

// Ping notifies a follower of from with a link into the room. Only people on stage
// ping; in social and closed rooms the ping also lets them in (as the room's rules
// allow the pinger to invite).
func (h *Hub) Ping(ctx context.Context, from Person, roomID string, to Person) error {
	edges, err := h.opts.Store.Edges(ctx, from.ID, []string{to.ID})
	if err != nil {
		return err
	}
	if !edges[to.ID].FollowedBy {
		return ErrNotFollower
	}
	if _, err := h.roomCall(ctx, roomID, roomReq{Op: opPingCheck, From: from}); err != nil {
		return err
	}
	// The gate counts the ping against its sender's hourly cap: only once it is
	// otherwise valid, and before it lets anyone into the room.
	deliver, err := h.gate(ctx, to.ID, NotifyPing, from.ID)
	if err != nil {
		return err
	}
	resp, err := h.roomCall(ctx, roomID, roomReq{Op: opPingAdmit, From: from, User: to.ID})
	if err != nil || !deliver {
		return err
	}
	title := resp.Title
	return h.Notify(ctx, to.ID, NotifyPing, pingData{RoomID: roomID, RoomTitle: title, From: from})
}

// gate asks Options.Gate whether a notice of kind from sender may reach user:
// deliver is false when user muted the kind; err refuses the action (the ping cap).
func (h *Hub) gate(ctx context.Context, user, kind, sender string) (deliver bool, err error) {
	if h.opts.Gate == nil {
		return true, nil
	}
	switch err := h.opts.Gate.Allow(ctx, user, kind, sender); {
	case errors.Is(err, notify.ErrMuted):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// notifyGated notifies user unless they muted kind.
func (h *Hub) notifyGated(ctx context.Context, user, kind, sender string, data any) error {
	deliver, err := h.gate(ctx, user, kind, sender)
	if err != nil || !deliver {
		return err
	}
	return h.Notify(ctx, user, kind, data)
}

// InvitationWithAnswers is an invitation and where each invitee stands.
type InvitationWithAnswers struct {
	Invitation
	Recipients []Recipient
}

// Invitations lists the invitations user received and sent, newest first.
func (h *Hub) Invitations(ctx context.Context, user string) (received, sent []InvitationWithAnswers, err error) {
	load := func(list []Invitation) ([]InvitationWithAnswers, error) {
		out := make([]InvitationWithAnswers, 0, len(list))
		for _, inv := range list {
			_, rc, err := h.opts.Store.Invitation(ctx, inv.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, InvitationWithAnswers{Invitation: inv, Recipients: rc})
		}
		return out, nil
	}
	in, err := h.opts.Store.InvitationsTo(ctx, user, 50)
	if err != nil {
		return nil, nil, err
	}
	out, err := h.opts.Store.InvitationsFrom(ctx, user, 50)
	if err != nil {
		return nil, nil, err
	}
	if received, err = load(in); err != nil {
		return nil, nil, err
	}
	if sent, err = load(out); err != nil {
		return nil, nil, err
	}
	return received, sent, nil
}

// Notifications lists user's notifications, newest first.
func (h *Hub) Notifications(ctx context.Context, user, before string, limit int) ([]Notification, error) {
	return h.opts.Store.Notifications(ctx, user, before, limit)
}

// MarkRead marks user's notifications read (all when ids is empty).
func (h *Hub) MarkRead(ctx context.Context, user string, ids []string) error {
	return h.opts.Store.MarkNotificationsRead(ctx, user, ids, h.now())
}
