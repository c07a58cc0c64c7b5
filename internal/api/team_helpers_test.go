package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/room"
	"github.com/townhall/townhall/internal/search"
	"github.com/townhall/townhall/internal/store"
	"github.com/townhall/townhall/internal/store/storetest"
)

// roomLog is a RoomStarter that records the rooms events and clubs open.
type roomLog struct {
	mu    sync.Mutex
	rooms map[string]room.Config
}

func (l *roomLog) StartRoom(_ context.Context, creator string, cfg room.Config) (string, error) {
	cfg.ID, cfg.CreatorID = ids.New(), creator
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rooms[cfg.ID] = cfg
	return cfg.ID, nil
}

func (l *roomLog) config(id string) room.Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rooms[id]
}

// teamEnv is env with the services of clubs, events, delegates, notifications and
// search, over a real store and a real live hub (notifications go through it).
type teamEnv struct {
	*env
	db    *store.DB
	rooms *roomLog
}

func newTeamEnv(t *testing.T, driver string, searchPerSecond float64, options ...envOption) *teamEnv {
	t.Helper()
	db := storetest.Open(t, driver)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	aopts := account.Options{SessionTTL: time.Hour, InviteTTL: time.Hour, InvitesPerUser: 5,
		Hasher: account.NewHasher(64, 1)}
	opts := api.Options{Log: log, Registry: prometheus.NewRegistry(), PublicURL: "http://townhall.test",
		LoginPerMinute: 1000, LookupPerSecond: 1000, Ready: db.Ping, SearchPerSecond: searchPerSecond}
	for _, o := range options {
		o(&opts, &aopts)
	}
	accounts, err := account.NewService(context.Background(), db, aopts)
	if err != nil {
		t.Fatal(err)
	}
	hub := live.NewHub(live.Options{Store: db, Log: log})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
	})
	rooms := &roomLog{rooms: map[string]room.Config{}}
	delegation := account.NewDelegation(accounts, db)
	gate := notify.New(notify.Options{Store: db, Sender: hub})
	clubs := club.NewService(club.Options{Store: db, Notifier: gate, Rooms: rooms})
	events := event.NewService(event.Options{Store: db, Graph: db, Clubs: clubs, Notifier: gate, Rooms: rooms,
		Delegates: delegation.RoomDelegates})
	opts.Accounts, opts.Hub, opts.Delegation, opts.Clubs, opts.Events, opts.Notify, opts.Search =
		accounts, hub, delegation, clubs, events, gate, search.New(db, events, nil)
	srv := httptest.NewServer(api.New(opts).Handler())
	t.Cleanup(srv.Close)
	return &teamEnv{env: &env{t: t, srv: srv, accounts: accounts, opts: opts}, db: db, rooms: rooms}
}

// people makes an admin and users invited by them, by name.
func (e *teamEnv) people(names ...string) map[string]user {
	e.t.Helper()
	out := map[string]user{}
	first := e.admin(names[0])
	out[names[0]] = first
	for _, n := range names[1:] {
		out[n] = e.invited(first, n)
	}
	return out
}

// as is a request by u acting for the account owner.
func as(owner string) map[string]string { return map[string]string{api.ActingAsHeader: owner} }

// kinds lists the kinds of u's notifications, newest first.
func (e *teamEnv) kinds(u user) []string {
	e.t.Helper()
	resp := e.do(req{method: "GET", path: "/api/v1/notifications", token: u.token})
	expect(e.t, resp, 200, "")
	list, _ := resp.body["notifications"].([]any)
	out := []string{}
	for _, n := range list {
		m, _ := n.(map[string]any)
		k, _ := m["kind"].(string)
		out = append(out, k)
	}
	return out
}

// list returns the array field key of a response body.
func list(resp response, key string) []map[string]any {
	items, _ := resp.body[key].([]any)
	out := make([]map[string]any, 0, len(items))
	for _, x := range items {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// soon is a start time an hour ahead, in RFC 3339.
func soon() string { return time.Now().Add(time.Hour).UTC().Format(time.RFC3339) }
