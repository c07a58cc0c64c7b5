package server

import (
	"context"
	"errors"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/invitation"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/store"
)

// newPages builds the invitation pages over the hub, the events and the store.
func newPages(db *store.DB, accounts *account.Service, hub *live.Hub, t *team, publicURL string, ttl time.Duration) *invitation.Service {
	return invitation.New(invitation.Options{
		Store:     db,
		Rooms:     pageRooms{hub: hub, db: db},
		Events:    pageEvents{db: db, events: t.events},
		People:    pagePeople{accounts: accounts, db: db},
		Notifier:  t.notify,
		PublicURL: publicURL,
		TTL:       ttl,
	})
}

// pageRooms is the live hub as pages see it.
type pageRooms struct {
	hub *live.Hub
	db  *store.DB
}

// Room is the room's live summary, or its stored record once it ended.
func (p pageRooms) Room(ctx context.Context, id string) (invitation.Room, error) {
	if e, ok := p.hub.Look(id); ok {
		r := invitation.Room{ID: e.ID, Title: e.Title, Description: e.Description, Type: string(e.Type),
			MembersOnly: e.MembersOnly, State: string(e.State), ListenerCount: e.ListenerCount, AllowGuests: e.AllowGuests}
		for _, s := range e.Stage {
			r.Stage = append(r.Stage, invitation.OnStage{Person: invitation.Person{ID: s.ID, Username: s.Username,
				DisplayName: s.DisplayName}, Role: string(s.Role)})
		}
		return r, nil
	}
	rec, err := p.db.RoomByID(ctx, id)
	if errors.Is(err, account.ErrNotFound) {
		return invitation.Room{}, invitation.ErrNotFound
	}
	if err != nil {
		return invitation.Room{}, err
	}
	r := invitation.Room{ID: rec.ID, Title: rec.Title, Description: rec.Description, Type: rec.Type,
		AllowGuests: rec.AllowGuests, State: string(room.StateWaiting)}
	if !rec.EndedAt.IsZero() {
		r.State = string(room.StateEnded)
	}
	r.MembersOnly = setupMembersOnly(rec.Setup)
	return r, nil
}

// Accept admits an invitee who accepted a link.
func (p pageRooms) Accept(ctx context.Context, roomID, inviterID, userID string) (bool, error) {
	return p.hub.AcceptInvitation(ctx, roomID, inviterID, userID)
}

// Answer answers an invitation to a room, which tells its inviter.
func (p pageRooms) Answer(ctx context.Context, invitationID string, user invitation.Person, status, text string) error {
	_, err := p.hub.Answer(ctx, live.Person{ID: user.ID, Username: user.Username, DisplayName: user.DisplayName},
		invitationID, status, text)
	return err
}

// pageEvents is the events service as pages see it.
type pageEvents struct {
	db     *store.DB
	events *event.Service
}

func (p pageEvents) Event(ctx context.Context, id string) (invitation.Event, error) {
	e, err := p.db.EventByID(ctx, id)
	if errors.Is(err, event.ErrNotFound) || errors.Is(err, account.ErrNotFound) {
		return invitation.Event{}, invitation.ErrNotFound
	}
	if err != nil {
		return invitation.Event{}, err
	}
	return invitation.Event{ID: e.ID, Title: e.Title, Description: e.Description, StartsAt: e.StartsAt,
		TimeZone: e.TimeZone, HostID: e.HostID, RoomType: string(e.RoomType), MembersOnly: e.MembersOnly,
		Cancelled: e.Cancelled(), Started: e.Started(), RoomID: e.RoomID}, nil
}

func (p pageEvents) Invite(ctx context.Context, inviterID, eventID, userID, message string) error {
	_, err := p.events.Invite(ctx, inviterID, eventID, []string{userID}, message)
	return err
}

func (p pageEvents) Answer(ctx context.Context, userID, eventID, status, text string) error {
	_, err := p.events.Answer(ctx, userID, eventID, status, text)
	return err
}

// pagePeople names accounts and tells blocks.
type pagePeople struct {
	accounts *account.Service
	db       *store.DB
}

func (p pagePeople) Person(ctx context.Context, id string) (invitation.Person, error) {
	s, err := p.accounts.SummaryByID(ctx, id)
	if err != nil {
		return invitation.Person{}, err
	}
	return invitation.Person{ID: s.ID, Username: s.Username, DisplayName: s.DisplayName}, nil
}

func (p pagePeople) Blocked(ctx context.Context, a, b string) (bool, error) {
	rel, err := p.db.Relation(ctx, a, b)
	return rel.Blocked(), err
}
