package server

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
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
func newTeam(db *store.DB, accounts *account.Service, hub *live.Hub, log *slog.Logger, pings notifyLimiter,
	reminderClaim time.Duration) *team {
	t := &team{delegation: account.NewDelegation(accounts, db)}
	t.notify = notify.New(notify.Options{Store: db, Sender: hub, PingLimiter: pings})
	rooms := hubRooms{hub: hub}
	t.clubs = club.NewService(club.Options{Store: db, Notifier: t.notify, Rooms: rooms})
	var wake func()
	t.events = event.NewService(event.Options{Store: db, Graph: db, Clubs: t.clubs, Notifier: t.notify, Rooms: rooms,
		Delegates: t.delegation.RoomDelegates, Wake: func() { wake() },
		Names: func(ctx context.Context, id string) (event.Sender, error) {
			u, err := accounts.SummaryByID(ctx, id)
			return event.Sender{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}, err
		}})
	t.scheduler = event.NewScheduler(t.events, event.SchedulerOptions{Log: log, Claim: reminderClaim, AfterClaim: afterClaim(log)})
	wake = t.scheduler.Wake
	t.search = search.New(db, t.events, nil)
	return t
}

// hubRooms opens the rooms of events and clubs on the live hub.
type hubRooms struct{ hub *live.Hub }

// StartRoom creates the room on the hub, with its co-hosts, stage guests and
// club, recorded if asked.
func (h hubRooms) StartRoom(ctx context.Context, creatorID string, cfg room.Config) (string, error) {
	rec, err := h.hub.CreateRoom(ctx, creatorID, live.RoomSpec{Title: cfg.Title, Description: cfg.Description,
		Type: cfg.Type, AllowGuests: cfg.AllowGuests, CoHosts: cfg.CoHosts, Speakers: cfg.Speakers,
		ClubID: cfg.ClubID, MembersOnly: cfg.MembersOnly, Record: cfg.Record, AllowClips: cfg.AllowClips, Captions: cfg.Captions})
	return rec.ID, err
}

// gateFunc adapts a function to live.Gate.
type gateFunc func(ctx context.Context, user, kind, sender string) error

// Allow calls f.
func (f gateFunc) Allow(ctx context.Context, user, kind, sender string) error {
	return f(ctx, user, kind, sender)
}

// FaultEnv names faults a test can inject into a townhall process (several
// separated by commas): with "reminder-claim-hang", its scheduler claims a
// reminder and then never sends it, as a node that dies at that moment; with
// "seq-near-wrap", every outbound audio stream starts at sequence number
// 65,500, so that a test crosses the wrap (docs/cluster.md). Never set in
// production.
const FaultEnv = "TOWNHALL_TEST_FAULT"

// fault reports whether the fault name is injected (FaultEnv).
func fault(name string) bool {
	return slices.Contains(strings.Split(os.Getenv(FaultEnv), ","), name)
}

// afterClaim is the scheduler's AfterClaim: nothing, but under the fault.
func afterClaim(log *slog.Logger) func(event.Event) {
	if !fault("reminder-claim-hang") {
		return nil
	}
	return func(e event.Event) {
		log.Warn("fault injected: a claimed reminder is never sent", "event", e.ID)
		select {} // as if the node died here
	}
}
