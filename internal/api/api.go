// Package api is townhall's HTTP JSON API under /api/v1, plus /healthz, /readyz and
// /metrics. It authenticates requests and translates JSON to calls of the domain
// services; the services decide what is allowed.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/invitation"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/mail"
	"github.com/townhall/townhall/internal/moderation"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/photo"
	"github.com/townhall/townhall/internal/push"
	"github.com/townhall/townhall/internal/search"
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

	// The services of clubs, events, delegates, the notification gate and search.
	// Their routes answer 503 unavailable while unset.
	Delegation *account.Delegation
	Clubs      *club.Service
	Events     *event.Service
	Notify     *notify.Service
	Search     *search.Service
	// SearchReplays adds replays to the search's answer (nil: none).
	SearchReplays ReplaySearch
	// SearchPerSecond limits searches per session (default 2).
	SearchPerSecond float64
	// GuestKey signs the browsers' identities (GuestCookie). Every node of a
	// cluster has the same one.
	GuestKey []byte
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// Limiters, when set, makes the rate limiters shared by the nodes of a
	// cluster; nil keeps them in this process.
	Limiters LimiterFactory
	// NoRecording, when set, is why this server cannot record rooms (its
	// ffmpeg is missing): a room asked to record is refused with it.
	NoRecording string
	// Nodes lists the nodes of a cluster, for admins; nil on one node.
	Nodes func() []live.NodeInfo

	// Photos keeps profile photos; their routes answer 503 while unset.
	Photos PhotoStore
	// PhotoLimits bound uploads (photo.DefaultLimits when zero).
	PhotoLimits photo.Limits
	// Moderation keeps reports and the admins' audit log.
	Moderation *moderation.Service
	// Resolvers find what a report is about, by kind, besides the users, rooms
	// and invitations the API resolves itself (a chat message).
	Resolvers map[moderation.Kind]ReportResolver
	// Figures counts the accounts (all, disabled), for the admin console.
	Figures func(ctx context.Context) (users, disabled int, err error)
	// UploadsPerHour and ReportsPerHour limit photo uploads and reports per
	// user (defaults 20 and 30), across the cluster like every limit.
	UploadsPerHour, ReportsPerHour float64
	// Invitations runs the pages of invitations (/i/{code}); their routes
	// answer 503 while unset.
	Invitations *invitation.Service
	// Push stores Web Push subscriptions; PushKinds are the kinds one may have
	// pushed. Their routes answer 503 while unset.
	Push      *push.Service
	PushKinds []string
	// Mailer, when set, lets an admin send a password reset link to the
	// address an account's owner gave; without it links are shown only.
	Mailer Mailer
}

// Mailer sends one e-mail: *mail.Sender.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
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

	loginByIP      limited
	loginByAccount limited
	lookups        limited
	mux            *http.ServeMux

	delegation *account.Delegation
	mailer     Mailer // nil: no mail server
	clubs      *club.Service
	events     *event.Service
	notify     *notify.Service
	search     *search.Service
	// searchReplays finds replays for a search (Options.SearchReplays).
	searchReplays ReplaySearch
	searches      limited

	photos        PhotoStore
	processor     *photo.Processor
	uploads       limited
	moderation    *moderation.Service
	reports       limited
	resolvers     map[moderation.Kind]ReportResolver
	figures       func(ctx context.Context) (users, disabled int, err error)
	invitations   *invitation.Service
	pagePosts     limited // posts to one invitation's thread
	pagePostsByIP limited // posts without an account, per address
	push          *push.Service
	pushKinds     []string

	guestKey       []byte
	trustedProxies []*net.IPNet
	nodes          func() []live.NodeInfo
	noRecording    string // Options.NoRecording
	now            func() time.Time
}

// New returns the API with every route registered.
func New(opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// Every limit is the cluster's when there is one (Limiters), so that it holds
	// whichever node a request reaches.
	limiter := func(name string, perSecond float64, burst int) limited {
		local := newKeyedLimiter(perSecond, burst, opts.Now)
		if opts.Limiters == nil {
			return limited{local}
		}
		return limited{opts.Limiters(name, perSecond, burst, local)}
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
		loginByIP:      limiter("login-ip", opts.LoginPerMinute/60, loginBurst),
		loginByAccount: limiter("login-account", opts.LoginPerMinute/60, loginBurst),
		lookups:        limiter("lookups", opts.LookupPerSecond, lookupBurst),
		mux:            http.NewServeMux(),
		delegation:     opts.Delegation,
		clubs:          opts.Clubs,
		events:         opts.Events,
		notify:         opts.Notify,
		search:         opts.Search,
		searchReplays:  opts.SearchReplays,
		guestKey:       opts.GuestKey,
		trustedProxies: opts.TrustedProxies,
		nodes:          opts.Nodes,
		noRecording:    opts.NoRecording,
		now:            opts.Now,
	}
	if len(a.guestKey) == 0 {
		a.guestKey = ids.SecretBytes() // one process: identities last as long as it
	}
	if opts.SearchPerSecond <= 0 {
		opts.SearchPerSecond = 2
	}
	a.searches = limiter("searches", opts.SearchPerSecond, int(opts.SearchPerSecond*5))
	if opts.PhotoLimits == (photo.Limits{}) {
		opts.PhotoLimits = photo.DefaultLimits()
	}
	if opts.UploadsPerHour <= 0 {
		opts.UploadsPerHour = 20
	}
	if opts.ReportsPerHour <= 0 {
		opts.ReportsPerHour = 30
	}
	a.photos, a.processor = opts.Photos, photo.NewProcessor(opts.PhotoLimits)
	a.uploads = limiter("photo-uploads", opts.UploadsPerHour/3600, int(opts.UploadsPerHour/4)+1)
	a.moderation, a.figures = opts.Moderation, opts.Figures
	a.reports = limiter("reports", opts.ReportsPerHour/3600, int(opts.ReportsPerHour/3)+1)
	a.resolvers = a.defaultResolvers()
	for k, f := range opts.Resolvers {
		a.resolvers[k] = f
	}
	a.invitations, a.push, a.pushKinds = opts.Invitations, opts.Push, opts.PushKinds
	a.mailer = opts.Mailer
	// A thread takes 20 posts at once, then 30 an hour; someone without an
	// account posts 5 at once, then one every two minutes, from one address.
	a.pagePosts = limiter("invitation-posts", 30.0/3600, 20)
	a.pagePostsByIP = limiter("invitation-posts-ip", 1.0/120, 5)
	a.routes()
	return a
}

// route is one line of the routing table.
type route struct {
	pattern string
	handler http.Handler
}

// routes registers the whole API: one table, standard library patterns. A route
// with a {username} in its pattern needs a session (as), and as counts it against
// the session's look-up limit (lookups.go).
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
		{"PUT /api/v1/me/password", a.authed(a.changePassword)},
		{"PUT /api/v1/me/email", a.authed(a.setEmail)},
		{"DELETE /api/v1/me", a.authed(a.deleteMe)},
		{"PUT /api/v1/me/photo", a.authed(a.putPhoto)},
		{"DELETE /api/v1/me/photo", a.authed(a.deletePhoto)},
		{"GET /api/v1/photos/{hash}/{size}", http.HandlerFunc(a.getPhoto)},
		{"GET /api/v1/password-reset/{token}", http.HandlerFunc(a.resetInfo)},
		{"POST /api/v1/password-reset", http.HandlerFunc(a.resetPassword)},
		{"GET /api/v1/sessions", a.authed(a.listSessions)},
		{"DELETE /api/v1/sessions", a.authed(a.revokeOthers)},
		{"DELETE /api/v1/sessions/{id}", a.authed(a.revokeSession)},
		{"POST /api/v1/invites", a.authed(a.createInvite)},
		{"GET /api/v1/invites", a.authed(a.listInvites)},

		{"GET /api/v1/users/{username}", a.authed(a.profile)},
		{"GET /api/v1/users/{username}/followers", a.authed(a.followers)},
		{"GET /api/v1/users/{username}/following", a.authed(a.following)},
		{"PUT /api/v1/users/{username}/follow", a.authed(a.follow)},
		{"DELETE /api/v1/users/{username}/follow", a.authed(a.unfollow)},
		{"PUT /api/v1/users/{username}/block", a.authed(a.block)},
		{"DELETE /api/v1/users/{username}/block", a.authed(a.unblock)},

		{"POST /api/v1/admin/users/{username}/disable", a.authed(a.disable)},
		{"GET /api/v1/admin/cluster", a.authed(a.clusterNodes)},
		{"POST /api/v1/reports", a.authed(a.report)},
		{"GET /api/v1/admin/reports", a.authed(a.adminReports)},
		{"GET /api/v1/admin/reports/{id}", a.authed(a.adminReport)},
		{"POST /api/v1/admin/reports/{id}/resolve", a.authed(a.resolveReport)},
		{"GET /api/v1/admin/users", a.authed(a.adminUsers)},
		{"GET /api/v1/admin/users/{username}", a.authed(a.adminUser)},
		{"POST /api/v1/admin/users/{username}/enable", a.authed(a.enable)},
		{"DELETE /api/v1/admin/users/{username}/sessions", a.authed(a.signOutUser)},
		{"POST /api/v1/admin/users/{username}/reset-link", a.authed(a.resetLink)},
		{"GET /api/v1/admin/rooms", a.authed(a.adminRooms)},
		{"POST /api/v1/admin/rooms/{id}/end", a.authed(a.endRoom)},
		{"POST /api/v1/admin/rooms/{id}/moderate", a.authed(a.moderateRoom)},
		{"GET /api/v1/admin/stats", a.authed(a.adminStats)},
		{"GET /api/v1/admin/audit", a.authed(a.adminAudit)},

		{"POST /api/v1/rooms", a.authed(a.createRoom)},
		{"GET /api/v1/rooms/{id}", http.HandlerFunc(a.getRoom)},
		{"GET /api/v1/rooms/{id}/socket", http.HandlerFunc(a.roomSocket)},
		{"GET /api/v1/rooms/{id}/chat", http.HandlerFunc(a.roomChat)},
		{"POST /api/v1/rooms/{id}/join", http.HandlerFunc(a.joinRoom)},
		{"POST /api/v1/rooms/{id}/invitations", a.authed(a.invite)},
		{"POST /api/v1/rooms/{id}/pings", a.authed(a.ping)},
		{"GET /api/v1/hallway", a.authed(a.hallway)},
		{"GET /api/v1/socket", a.authed(a.userSocket)},
		{"GET /api/v1/me/rooms", a.authed(a.roomHistory)},
		{"GET /api/v1/invitations", a.as(account.ScopeInvitations, a.listInvitations)},
		{"GET /api/v1/invitations/{id}", a.as(account.ScopeInvitations, a.getInvitation)},
		{"POST /api/v1/invitations/{id}/answer", a.as(account.ScopeInvitations, a.answerInvitation)},
		{"GET /api/v1/notifications", a.authed(a.notifications)},
		{"POST /api/v1/notifications/read", a.authed(a.markRead)},

		{"GET /api/v1/notifications/settings", a.authed(a.notificationSettings)},
		{"PUT /api/v1/notifications/settings", a.authed(a.setNotificationSettings)},

		{"POST /api/v1/clubs", a.authed(a.createClub)},
		{"GET /api/v1/clubs", a.authed(a.myClubs)},
		{"GET /api/v1/clubs/{id}", a.authed(a.getClub)},
		{"PATCH /api/v1/clubs/{id}", a.authed(a.updateClub)},
		{"POST /api/v1/clubs/{id}/join", a.authed(a.joinClub)},
		{"POST /api/v1/clubs/{id}/leave", a.authed(a.leaveClub)},
		{"GET /api/v1/clubs/{id}/members", a.authed(a.clubMembers)},
		{"PUT /api/v1/clubs/{id}/members/{username}", a.authed(a.setClubRole)},
		{"DELETE /api/v1/clubs/{id}/members/{username}", a.authed(a.removeClubMember)},
		{"GET /api/v1/clubs/{id}/requests", a.authed(a.clubRequests)},
		{"POST /api/v1/clubs/{id}/requests/{username}", a.authed(a.decideClubRequest)},
		{"POST /api/v1/clubs/{id}/rooms", a.authed(a.startClubRoom)},
		{"GET /api/v1/clubs/{id}/events", a.as(account.ScopeEvents, a.clubEvents)},

		{"POST /api/v1/events", a.as(account.ScopeEvents, a.createEvent)},
		{"GET /api/v1/events", a.as(account.ScopeEvents, a.upcomingEvents)},
		{"GET /api/v1/events/explore", a.as(account.ScopeEvents, a.exploreEvents)},
		{"GET /api/v1/events/{id}", a.as(account.ScopeEvents, a.getEvent)}, // also {id}.ics
		{"PATCH /api/v1/events/{id}", a.as(account.ScopeEvents, a.updateEvent)},
		{"DELETE /api/v1/events/{id}", a.as(account.ScopeEvents, a.cancelEvent)},
		{"POST /api/v1/events/{id}/start", a.as(account.ScopeEvents, a.startEvent)},
		{"POST /api/v1/events/{id}/invitations", a.as(account.ScopeEvents, a.inviteToEvent)},
		{"GET /api/v1/events/{id}/invitations", a.as(account.ScopeEvents, a.eventInvitations)},
		{"POST /api/v1/events/{id}/answer", a.as(account.ScopeInvitations, a.answerEvent)},
		{"PUT /api/v1/events/{id}/subscription", a.authed(a.subscribe)},
		{"DELETE /api/v1/events/{id}/subscription", a.authed(a.unsubscribe)},
		{"GET /api/v1/me/event-invitations", a.as(account.ScopeInvitations, a.myEventInvitations)},
		{"GET /api/v1/users/{username}/events", a.as(account.ScopeEvents, a.hostedEvents)},

		{"GET /api/v1/me/delegates", a.authed(a.listDelegates)},
		{"PUT /api/v1/me/delegates/{username}", a.authed(a.nameDelegate)},
		{"DELETE /api/v1/me/delegates/{username}", a.authed(a.revokeDelegate)},
		{"GET /api/v1/me/delegations", a.authed(a.listDelegations)},
		{"GET /api/v1/me/audit", a.authed(a.auditLog)},

		{"GET /api/v1/search", a.authed(a.searchAll)},

		{"GET /api/v1/i", a.as(account.ScopeInvitations, a.myPages)},
		{"GET /api/v1/i/{code}", a.viewer(a.getPage)},
		{"PATCH /api/v1/i/{code}", a.viewer(a.patchPage)},
		{"POST /api/v1/i/{code}/answer", a.viewer(a.answerPage)},
		{"POST /api/v1/i/{code}/reply", a.viewer(a.replyPage)},
		{"POST /api/v1/i/{code}/signup", http.HandlerFunc(a.signupFromPage)},
		{"GET /api/v1/rooms/{id}/public-invitations", a.viewer(a.roomPublicPages)},
		{"GET /api/v1/events/{id}/public-invitations", a.as(account.ScopeEvents, a.eventPublicPages)},
		{"GET /api/v1/users/{username}/public-invitations", a.authed(a.userPublicPages)},

		{"GET /api/v1/push", a.authed(a.pushSettings)},
		{"PUT /api/v1/push/kinds", a.authed(a.setPushKinds)},
		{"POST /api/v1/push/subscriptions", a.authed(a.subscribePush)},
		{"POST /api/v1/push/unsubscribe", a.authed(a.unsubscribePush)},

		{"/api/", http.HandlerFunc(a.notFound)},
	}
	for _, rt := range table {
		a.mux.Handle(rt.pattern, rt.handler)
	}
}

// Handle adds a route outside the API's own table (the web UI, the room socket).
func (a *API) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// Handler returns the API with its middleware: the security headers, metrics,
// recovery and the cross-origin check.
func (a *API) Handler() http.Handler {
	return SecurityHeaders(a.instrument(a.recoverPanics(a.checkOrigin(a.mux))))
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
