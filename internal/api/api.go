// Package api is townhall's HTTP JSON API under /api/v1, plus /healthz, /readyz and
// /metrics. It authenticates requests and translates JSON to calls of the domain
// services; the services decide what is allowed.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// Options configure the API.
type Options struct {
	Accounts        *account.Service
	Hub             *live.Hub
	Log             *slog.Logger
	Registry        *prometheus.Registry // metrics are registered here and served at /metrics
	PublicURL       string               // base of links handed out (invites)
	LoginPerMinute  float64              // per account and per IP
	LookupPerSecond float64              // per session
	Ready           func(ctx context.Context) error
	Now             func() time.Time
}

// API serves the HTTP API.
type API struct {
	accounts  *account.Service
	hub       *live.Hub
	log       *slog.Logger
	publicURL string
	ready     func(ctx context.Context) error
	csrf      *http.CrossOriginProtection
	metrics   *httpMetrics
	registry  *prometheus.Registry

	loginByIP      *keyedLimiter
	loginByAccount *keyedLimiter
	lookups        *keyedLimiter
	mux            *http.ServeMux
}

// New returns the API with every route registered.
func New(opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	loginBurst := int(opts.LoginPerMinute)
	lookupBurst := int(opts.LookupPerSecond * 4)
	a := &API{
		accounts:       opts.Accounts,
		hub:            opts.Hub,
		log:            opts.Log,
		publicURL:      opts.PublicURL,
		ready:          opts.Ready,
		csrf:           http.NewCrossOriginProtection(),
		metrics:        newHTTPMetrics(opts.Registry),
		registry:       opts.Registry,
		loginByIP:      newKeyedLimiter(opts.LoginPerMinute/60, loginBurst, opts.Now),
		loginByAccount: newKeyedLimiter(opts.LoginPerMinute/60, loginBurst, opts.Now),
		lookups:        newKeyedLimiter(opts.LookupPerSecond, lookupBurst, opts.Now),
		mux:            http.NewServeMux(),
	}
	a.routes()
	return a
}

// route is one line of the routing table.
type route struct {
	pattern string
	handler http.Handler
}

// routes registers the whole API: one table, standard library patterns.
func (a *API) routes() {
	table := []route{
		{"GET /healthz", http.HandlerFunc(a.healthz)},
		{"GET /readyz", http.HandlerFunc(a.readyz)},
		{"GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{})},

		{"POST /api/v1/signup", http.HandlerFunc(a.signup)},
		{"POST /api/v1/login", http.HandlerFunc(a.login)},
		{"GET /api/v1/invites/{code}", http.HandlerFunc(a.checkInvite)},
		{"POST /api/v1/logout", a.authed(a.logout)},
		{"GET /api/v1/me", a.authed(a.me)},
		{"PATCH /api/v1/me", a.authed(a.updateMe)},
		{"GET /api/v1/sessions", a.authed(a.listSessions)},
		{"DELETE /api/v1/sessions/{id}", a.authed(a.revokeSession)},
		{"POST /api/v1/invites", a.authed(a.createInvite)},
		{"GET /api/v1/invites", a.authed(a.listInvites)},

		{"GET /api/v1/users/{username}", a.authed(a.lookup(a.profile))},
		{"GET /api/v1/users/{username}/followers", a.authed(a.lookup(a.followers))},
		{"GET /api/v1/users/{username}/following", a.authed(a.lookup(a.following))},
		{"PUT /api/v1/users/{username}/follow", a.authed(a.follow)},
		{"DELETE /api/v1/users/{username}/follow", a.authed(a.unfollow)},
		{"PUT /api/v1/users/{username}/block", a.authed(a.block)},
		{"DELETE /api/v1/users/{username}/block", a.authed(a.unblock)},

		{"POST /api/v1/admin/users/{username}/disable", a.authed(a.disable)},

		{"POST /api/v1/rooms", a.authed(a.createRoom)},
		{"GET /api/v1/rooms/{id}", http.HandlerFunc(a.getRoom)},
		{"GET /api/v1/rooms/{id}/socket", http.HandlerFunc(a.roomSocket)},
		{"POST /api/v1/rooms/{id}/invitations", a.authed(a.invite)},
		{"POST /api/v1/rooms/{id}/pings", a.authed(a.ping)},
		{"GET /api/v1/hallway", a.authed(a.hallway)},
		{"GET /api/v1/socket", a.authed(a.userSocket)},
		{"GET /api/v1/me/rooms", a.authed(a.roomHistory)},
		{"GET /api/v1/invitations", a.authed(a.listInvitations)},
		{"GET /api/v1/invitations/{id}", a.authed(a.getInvitation)},
		{"POST /api/v1/invitations/{id}/answer", a.authed(a.answerInvitation)},
		{"GET /api/v1/notifications", a.authed(a.notifications)},
		{"POST /api/v1/notifications/read", a.authed(a.markRead)},

		{"/api/", http.HandlerFunc(a.notFound)},
	}
	for _, rt := range table {
		a.mux.Handle(rt.pattern, rt.handler)
	}
}

// Handle adds a route outside the API's own table (the web UI, the room socket).
func (a *API) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// Handler returns the API with its middleware: metrics, recovery and the
// cross-origin check.
func (a *API) Handler() http.Handler {
	return a.instrument(a.recoverPanics(a.checkOrigin(a.mux)))
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	writeCode(w, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if a.ready != nil {
		if err := a.ready(ctx); err != nil {
			a.log.WarnContext(ctx, "not ready", "err", err)
			writeCode(w, "unavailable", "the store is unreachable")
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
