package event

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/room"
)

// Subscribe asks to be reminded of an event ("notify me"): anyone who sees it.
func (s *Service) Subscribe(ctx context.Context, viewer, id string) error {
	e, err := s.Get(ctx, viewer, id)
	if err != nil {
		return err
	}
	if e.Cancelled() {
		return ErrClosed
	}
	return s.opts.Store.Subscribe(ctx, id, viewer, s.now())
}

// Unsubscribe stops the reminders of an event.
func (s *Service) Unsubscribe(ctx context.Context, viewer, id string) error {
	if _, err := s.Get(ctx, viewer, id); err != nil {
		return err
	}
	return s.opts.Store.Unsubscribe(ctx, id, viewer)
}

// IsSubscribed reports whether viewer subscribed to the event.
func (s *Service) IsSubscribed(ctx context.Context, viewer, id string) (bool, error) {
	return s.opts.Store.IsSubscribed(ctx, id, viewer)
}

// Invite invites people to an event that has not started: in a closed event only
// its hosts may; elsewhere anyone who sees it. The hosts' invitations bring the
// invitees on stage when the room opens, so they are refused (ErrStageBlocked) for
// anyone a block separates from a host, from a guest already invited on stage or
// from another of the invitees. Each invitee is told.
func (s *Service) Invite(ctx context.Context, actor, id string, users []string, message string) (Invitation, error) {
	e, err := s.Get(ctx, actor, id)
	if err != nil {
		return Invitation{}, err
	}
	if !utf8.ValidString(message) || utf8.RuneCountInString(message) > MaxMessage {
		return Invitation{}, fmt.Errorf("%w: the message is at most %d characters", ErrInvalidField, MaxMessage)
	}
	if len(users) == 0 || len(users) > MaxInvitees {
		return Invitation{}, fmt.Errorf("%w: invite 1 to %d people", ErrInvalidField, MaxInvitees)
	}
	host := e.IsHost(actor)
	switch {
	case e.Cancelled() || e.Started():
		return Invitation{}, ErrClosed
	case e.RoomType == room.Closed && !host:
		return Invitation{}, ErrInviteClosed
	}
	var list []string
	for _, u := range users {
		if !ids.Valid(u) {
			return Invitation{}, fmt.Errorf("%w: not a user ID", ErrInvalidField)
		}
		if !e.IsHost(u) && !slices.Contains(list, u) {
			list = append(list, u)
		}
	}
	inv := Invitation{EventID: id, InviterID: actor, Message: message, ToStage: host, Status: AnswerPending, CreatedAt: s.now()}
	if len(list) == 0 {
		return inv, nil
	}
	if host {
		guests, err := s.stageGuests(ctx, id)
		if err != nil {
			return Invitation{}, err
		}
		if err := s.checkStage(ctx, list, slices.Concat([]string{e.HostID}, e.CoHosts, guests)); err != nil {
			return Invitation{}, err
		}
	}
	if err := s.opts.Store.AddEventInvitations(ctx, inv, list); err != nil {
		return Invitation{}, err
	}
	n := Notice{EventID: e.ID, Title: e.Title, StartsAt: e.StartsAt, From: s.sender(ctx, actor), Message: message, ToStage: host}
	for _, u := range list {
		if err := s.notify(ctx, u, notify.KindEventInvitation, actor, n); err != nil {
			return inv, err
		}
	}
	return inv, nil
}

// stageGuests lists the people invited to the event on stage who have not
// declined: those its room will put on stage.
func (s *Service) stageGuests(ctx context.Context, id string) ([]string, error) {
	invs, err := s.opts.Store.EventInvitations(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, inv := range invs {
		if inv.ToStage && inv.Status != AnswerDeclined {
			out = append(out, inv.UserID)
		}
	}
	return out, nil
}

// checkStage refuses with ErrStageBlocked if a block stands, one way or the other,
// between one of newcomers and another of them or one of others: people the
// event's room would put on stage together (hosts and the guests they invite).
// The room enforces the rule again when people join it (room.Join); this only
// refuses, while the event is planned, what the room would undo. Pairs among
// others are not asked: they were when those people came.
func (s *Service) checkStage(ctx context.Context, newcomers, others []string) error {
	for i, a := range newcomers {
		for _, b := range slices.Concat(newcomers[i+1:], others) {
			if a == b {
				continue
			}
			rel, err := s.opts.Graph.Relation(ctx, a, b)
			if err != nil {
				return err
			}
			if rel.Blocked() {
				return ErrStageBlocked
			}
		}
	}
	return nil
}

func (s *Service) notify(ctx context.Context, user, kind, sender string, data any) error {
	if s.opts.Notifier == nil {
		return nil
	}
	return s.opts.Notifier.Notify(ctx, user, kind, sender, data)
}

// Answer records actor's answer to their invitation to an event (accepted,
// declined or question, with an optional text), before the event starts, and
// tells the inviter.
func (s *Service) Answer(ctx context.Context, actor, id, answer, text string) (Invitation, error) {
	switch answer {
	case AnswerAccepted, AnswerDeclined, AnswerQuestion:
	default:
		return Invitation{}, ErrBadAnswer
	}
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > MaxMessage {
		return Invitation{}, fmt.Errorf("%w: the text is at most %d characters", ErrInvalidField, MaxMessage)
	}
	if answer == AnswerQuestion && text == "" {
		return Invitation{}, fmt.Errorf("%w: a question needs its text", ErrInvalidField)
	}
	if !ids.Valid(id) {
		return Invitation{}, ErrNoInvitation
	}
	e, err := s.opts.Store.EventByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Invitation{}, ErrNoInvitation
	}
	if err != nil {
		return Invitation{}, err
	}
	inv, err := s.opts.Store.EventInvitation(ctx, id, actor)
	if err != nil {
		return Invitation{}, err
	}
	now := s.now()
	switch {
	case e.Cancelled():
		return Invitation{}, ErrClosed
	case e.Started() || !now.Before(e.StartsAt):
		return Invitation{}, ErrTooLate
	}
	if err := s.opts.Store.AnswerEventInvitation(ctx, id, actor, answer, text, now); err != nil {
		return Invitation{}, err
	}
	inv.Status, inv.Text, inv.AnsweredAt = answer, text, now
	err = s.notify(ctx, inv.InviterID, notify.KindEventInvitationAnswer, actor,
		Notice{EventID: e.ID, Title: e.Title, StartsAt: e.StartsAt, From: s.sender(ctx, actor), Answer: answer, Message: text})
	return inv, err
}

// Invitations lists an event's invitations to its hosts, and to an invitee only
// their own.
func (s *Service) Invitations(ctx context.Context, viewer, id string) ([]Invitation, error) {
	e, err := s.Get(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	all, err := s.opts.Store.EventInvitations(ctx, id)
	if err != nil || e.IsHost(viewer) {
		return all, err
	}
	out := []Invitation{}
	for _, inv := range all {
		if inv.UserID == viewer || inv.InviterID == viewer {
			out = append(out, inv)
		}
	}
	return out, nil
}

// InvitationsTo lists viewer's invitations to upcoming events.
func (s *Service) InvitationsTo(ctx context.Context, viewer string, limit int) ([]Invitation, error) {
	return s.opts.Store.EventInvitationsTo(ctx, viewer, s.now().Add(-LiveFor), limit)
}

// Start opens the event's room, once, with one click of a host or co-host, who
// becomes its creator. The other hosts (and the creator's delegates with the rooms
// scope) join as moderators; the guests the hosts invited, unless they declined,
// land on stage. Subscribers, hosts and invitees are told it is live.
func (s *Service) Start(ctx context.Context, actor, id string) (Event, error) {
	e, err := s.Get(ctx, actor, id)
	if err != nil {
		return Event{}, err
	}
	if !e.IsHost(actor) {
		return Event{}, ErrNotHost
	}
	invs, err := s.opts.Store.EventInvitations(ctx, id)
	if err != nil {
		return Event{}, err
	}
	cfg := room.Config{ID: ids.New(), Title: e.Title, Description: e.Description, Type: e.RoomType,
		CreatorID: actor, ClubID: e.ClubID, MembersOnly: e.MembersOnly, CreatedAt: s.now()}
	hosts := append([]string{e.HostID}, e.CoHosts...)
	if s.opts.Delegates != nil {
		dels, err := s.opts.Delegates(ctx, actor)
		if err != nil {
			return Event{}, err
		}
		hosts = append(hosts, dels...)
	}
	for _, h := range hosts {
		if h != actor && !slices.Contains(cfg.CoHosts, h) && len(cfg.CoHosts) < room.MaxInvitees {
			cfg.CoHosts = append(cfg.CoHosts, h)
		}
	}
	for _, inv := range invs {
		if inv.ToStage && inv.Status != AnswerDeclined && !e.IsHost(inv.UserID) && inv.UserID != actor &&
			!slices.Contains(cfg.CoHosts, inv.UserID) && len(cfg.Speakers) < room.MaxInvitees {
			cfg.Speakers = append(cfg.Speakers, inv.UserID)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Event{}, err
	}
	now := s.now()
	if err := s.opts.Store.ClaimEventStart(ctx, id, now); err != nil {
		return Event{}, err
	}
	roomID, err := s.opts.Rooms.StartRoom(ctx, actor, cfg)
	if err != nil {
		if uerr := s.opts.Store.UnclaimEventStart(context.WithoutCancel(ctx), id); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return Event{}, err
	}
	if err := s.opts.Store.SetEventRoom(ctx, id, roomID); err != nil {
		return Event{}, err
	}
	e.StartedAt, e.RoomID = now, roomID
	first, err := s.opts.Store.MarkReminder(ctx, id, ReminderLive, now)
	if err != nil || !first {
		return e, err
	}
	return e, s.tell(ctx, e, notify.KindEventLive, actor, s.audience(ctx, e, true))
}
