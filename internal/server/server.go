// Package server wires townhall together: configuration, store, services, the HTTP
// API, and the process lifecycle (listen, serve, drain on shutdown).
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/livecap"
	"github.com/townhall/townhall/internal/mail"
	"github.com/townhall/townhall/internal/moderation"
	"github.com/townhall/townhall/internal/push"
	"github.com/townhall/townhall/internal/store"
	"github.com/townhall/townhall/internal/web"
)

// Server is one running townhall process.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	db       *store.DB
	accounts *account.Service
	hub      *live.Hub
	api      *api.API
	http     *http.Server
	ln       net.Listener
	ready    chan struct{}
	liveOpts []func(*live.Options) // from WithLiveOptions
	pushOpts []func(*push.Options) // from WithPushOptions
}

// New opens the store (running migrations) and builds the services. Call Run to
// serve; Close releases the store if Run is never called.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DSN())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	accounts, err := account.NewService(ctx, db, account.Options{
		SessionTTL: cfg.SessionTTL, InviteTTL: cfg.InviteTTL, InvitesPerUser: cfg.InvitesPerUser,
		OpenSignup: cfg.OpenSignup, Hasher: account.NewHasher(cfg.PasswordMemoryKiB, cfg.PasswordTime),
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, db: db, accounts: accounts, ready: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Listen binds the HTTP address. After it returns, Addr reports the bound address
// (useful with ":0").
func (s *Server) Listen() error {
	addr := s.cfg.Addr
	if s.cfg.Domain != "" && addr == config.Default().Addr {
		addr = ":443" // a real domain is served on the HTTPS port
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Addr is the bound HTTP address (after Listen).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL is the base URL printed in links: --public-url, or http://localhost:PORT.
func (s *Server) URL() string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && !ip.IsUnspecified() && s.cfg.Domain == "" {
		// Bound to one address (127.0.0.1 on a test cluster): links name it, so
		// that every node's URL reaches that node.
		scheme := "http://"
		if s.cfg.TLS() {
			scheme = "https://"
		}
		return scheme + host + ":" + port
	}
	switch {
	case s.cfg.Domain != "" && port == "443":
		return "https://" + s.cfg.Domain
	case s.cfg.Domain != "":
		return "https://" + s.cfg.Domain + ":" + port
	case s.cfg.TLS():
		return "https://localhost:" + port
	}
	return "http://localhost:" + port
}

// Ready is closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run serves until ctx is cancelled, then stops accepting, drains requests in flight
// (up to ShutdownTimeout) and closes the store. It calls Listen if needed.
func (s *Server) Run(ctx context.Context) error {
	defer s.db.Close()
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	guestKey, err := s.db.Secret(ctx, "guest-identity")
	if err != nil {
		return err
	}
	mediaServer, engine, rl, err := s.startMedia(ctx, reg)
	if err != nil {
		return err
	}
	defer engine.Close()
	defer mediaServer.Close()
	if rl != nil {
		defer rl.Close()
	}
	replays := s.newReplays()
	var hubRef atomic.Pointer[live.Hub]
	recording := newRecordingMedia(mediaServer, s.db, replays, s.log,
		s.newLiveCaptions(s.captionEngine(), livecap.NewMetrics(reg), &hubRef))
	defer recording.wait() // the replays being made, before the store closes
	stopPprof, err := s.startPprof()
	if err != nil {
		return err
	}
	defer stopPprof()
	cl, err := s.startCluster(ctx, engine, rl)
	if err != nil {
		return err
	}
	defer cl.close()
	hubOpts := live.Options{Store: s.db, Log: s.log, Grace: s.cfg.Grace, MaxParticipants: s.cfg.MaxParticipants,
		Cluster:           cl.seams(),
		MaxSocketsPerUser: s.cfg.MaxSocketsPerUser, Media: recording, NodeMaxSockets: s.cfg.NodeMaxSockets,
		MaxGuestSocketsPerAddr: s.cfg.MaxGuestsPerIP, MaxGuests: s.cfg.MaxGuestsPerRoom, MaxGuestsPerAddr: s.cfg.MaxGuestsPerIPRoom}
	pusher, err := newPush(ctx, s.db, s.URL(), s.log, s.pushOpts)
	if err != nil {
		return err
	}
	hubOpts.Clip = func(ctx context.Context, roomID, userID string) (string, error) {
		c, err := replays.Cut(ctx, roomID, userID)
		return c.ID, err
	}
	hubOpts.Delivered = func(ctx context.Context, n live.Notification) {
		if p, ok := payloadOf(n); ok {
			pusher.Enqueue(push.Message{UserID: n.UserID, Payload: p})
		}
	}
	var team *team // made after the hub, which it needs; the hub calls back into it
	hubOpts.RoomDelegates = func(ctx context.Context, owner string) ([]string, error) {
		return team.delegation.RoomDelegates(ctx, owner)
	}
	hubOpts.ClubMember = func(ctx context.Context, club, user string) (bool, error) {
		return team.clubs.IsMember(ctx, club, user)
	}
	hubOpts.MemberClubs = func(ctx context.Context, user string) (map[string]bool, error) {
		return team.clubs.MemberClubs(ctx, user)
	}
	hubOpts.Gate = gateFunc(func(ctx context.Context, user, kind, sender string) error {
		return team.notify.Allow(ctx, user, kind, sender)
	})
	hubOpts.OnStage = func(ctx context.Context, roomID, title string, p live.Person) error {
		return speakingPushes(s.db, s.hub, team.notify, pusher)(ctx, roomID, title, p)
	}
	for _, f := range s.liveOpts {
		f(&hubOpts)
	}
	s.hub = live.NewHub(hubOpts)
	hubRef.Store(s.hub)
	if cl == nil { // a cluster's rooms outlive any one node: nobody ends them at start
		if err := s.hub.Recover(ctx); err != nil {
			return err
		}
		if err := replays.Recover(ctx); err != nil {
			return err
		}
	}
	team = newTeam(s.db, s.accounts, s.hub, s.log, cl.pingLimiter(), s.cfg.ReminderClaim)
	pages := newPages(s.db, s.accounts, s.hub, team, s.URL(), s.cfg.InviteTTL)
	mailer, err := s.mailer()
	if err != nil {
		return err
	}
	var replayLists *replayRoutes // made after the API, which it needs; the search calls back into it
	s.api = api.New(api.Options{
		Accounts: s.accounts, Hub: s.hub, Log: s.log, Registry: reg, PublicURL: s.URL(), NoRecording: s.noRecording(),
		LoginPerMinute: s.cfg.LoginPerMinute, LookupPerSecond: s.cfg.LookupPerSecond,
		Ready: cl.ready(s.db.Ping), Delegation: team.delegation, Clubs: team.clubs, Events: team.events,
		Notify: team.notify, Search: team.search, GuestKey: guestKey, TrustedProxies: s.cfg.TrustedProxies,
		Limiters: cl.limiters(), Nodes: cl.nodes(),
		Photos: s.db, Moderation: moderation.NewService(s.db, nil), Figures: s.db.Figures,
		Invitations: pages, Push: pusher, PushKinds: PushKinds(), Mailer: mailer,
		SearchReplays: func(ctx context.Context, viewer string, terms []string) ([]api.ReplayItem, error) {
			return replayLists.search(ctx, viewer, terms)
		},
	})
	replayLists = &replayRoutes{db: s.db, hub: s.hub, api: s.api, replays: replays, clubs: team.clubs, publicURL: s.URL(),
		log: s.log}
	replayLists.register()
	sh := newShares(s.db, s.hub, s.URL())
	s.api.Handle("GET /preview/{kind}/{file}", sh)
	s.api.Handle("/", web.Handler(web.Options{Nodes: cl.nodeURLs(), Preview: sh.Preview}))
	handler := s.api.Handler() // with HSTS on every response over TLS (api.SecurityHeaders)
	tlsCfg, stopACME, err := s.tlsConfig(ctx)
	if err != nil {
		return err
	}
	defer stopACME()
	s.http = &http.Server{
		Handler:           handler,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if err := s.announceFirstRun(ctx); err != nil {
		return err
	}
	go s.sweepSessions(ctx)
	go team.scheduler.Run(ctx)
	expired := make(chan struct{})
	go func() { s.expireReplays(ctx, replays); close(expired) }()
	defer func() { <-expired }()
	pushCtx, stopPush := context.WithCancel(context.WithoutCancel(ctx))
	pushDone := make(chan struct{})
	go func() { pusher.Run(pushCtx); close(pushDone) }()
	defer func() { stopPush(); <-pushDone }()

	errc := make(chan error, 1)
	ln := s.ln
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	go func() { errc <- s.http.Serve(ln) }()
	s.log.Info("townhall is listening", "addr", s.ln.Addr().String(), "url", s.URL(), "store", s.db.Driver())
	close(s.ready)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: draining requests", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if cl != nil {
		// A node of a cluster ends no room: it hands its rooms to other nodes
		// and sends its clients there, while it still answers the join API.
		if err := s.hub.Drain(sctx); err != nil {
			s.log.Warn("draining: sockets still open at the timeout", "err", err)
		}
	}
	if err := s.http.Shutdown(sctx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	// Hijacked connections (the sockets) are not drained by Shutdown: the hub
	// tells each one the server is going away and closes it.
	if err := s.hub.Shutdown(sctx); err != nil {
		return fmt.Errorf("closing rooms: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// announceFirstRun logs the one-time link that creates the first (admin) account,
// as long as no account exists.
func (s *Server) announceFirstRun(ctx context.Context) error {
	code, ok, err := s.accounts.FirstRunInvite(ctx)
	if err != nil || !ok {
		return err
	}
	s.log.Info("no account exists yet: open this link to create the first (admin) account",
		"link", s.URL()+"/join/"+code, "invite_code", code)
	return nil
}

// sweepSessions deletes expired sessions once an hour.
func (s *Server) sweepSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.accounts.SweepSessions(ctx); err != nil {
				s.log.Warn("sweeping expired sessions", "err", err)
			} else if n > 0 {
				s.log.Debug("swept expired sessions", "count", n)
			}
		}
	}
}

// mailer is the mail sender of --smtp-addr, or nil without one.
func (s *Server) mailer() (api.Mailer, error) {
	if s.cfg.SMTPAddr == "" {
		return nil, nil
	}
	m, err := mail.New(mail.Config{Addr: s.cfg.SMTPAddr, User: s.cfg.SMTPUser, Password: s.cfg.SMTPPassword, From: s.cfg.SMTPFrom})
	if err != nil {
		return nil, err
	}
	s.log.Info("password reset links may be sent by mail", "smtp", s.cfg.SMTPAddr, "from", s.cfg.SMTPFrom)
	return m, nil
}
