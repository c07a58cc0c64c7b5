package server

import (
	"context"
	"log/slog"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/search"
	"github.com/townhall/townhall/internal/store"
)

// team holds the services of clubs, scheduled events, delegates, the
// notification gate and search, and the reminder scheduler.
type team struct {
	delegation *account.Delegation
	notify     *notify.Service
	clubs      *club.Service
	events     *event.Service
	search     *search.Service
	scheduler  *event.Scheduler
}

// newTeam builds the team services over the store and the live hub.
func newTeam(db *store.DB, accounts *account.Service, hub *live.Hub, log *slog.Logger) *team {
	t := &team{delegation: account.NewDelegation(accounts, db)}
	t.notify = notify.New(notify.Options{Store: db, Sender: hub})
	rooms := hubRooms{hub: hub}
	t.clubs = club.NewService(club.Options{Store: db, Notifier: t.notify, Rooms: rooms})
	var wake func()
	t.events = event.NewService(event.Options{Store: db, Graph: db, Clubs: t.clubs, Notifier: t.notify, Rooms: rooms,
		Delegates: t.delegation.RoomDelegates, Wake: func() { wake() }})
	t.scheduler = event.NewScheduler(t.events, event.SchedulerOptions{Log: log})
	wake = t.scheduler.Wake
	t.search = search.New(db, t.events, nil)
	return t
}

// errMembersOnlyRooms refuses members-only club rooms until the live hub enforces
// them (live.RoomSpec has no MembersOnly yet): opening one as a plain room would
// let anyone in.
var errMembersOnlyRooms = errcode.New(errcode.Unavailable, "members-only rooms are not available on this server yet")

// hubRooms opens the rooms of events and clubs on the live hub.
//
// TODO(live): live.RoomSpec does not carry CoHosts, Speakers, ClubID and
// MembersOnly yet, so co-hosts join as listeners and stage guests are not
// brought on stage; pass the whole room.Config through once it does.
type hubRooms struct{ hub *live.Hub }

// StartRoom creates the room on the hub.
func (h hubRooms) StartRoom(ctx context.Context, creatorID string, cfg room.Config) (string, error) {
	if cfg.MembersOnly {
		return "", errMembersOnlyRooms
	}
	rec, err := h.hub.CreateRoom(ctx, creatorID, live.RoomSpec{Title: cfg.Title, Description: cfg.Description,
		Type: cfg.Type, AllowGuests: cfg.AllowGuests})
	return rec.ID, err
}
