package api

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "townhall_session"

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "townhall_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (WebSockets
// hijack through it).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// instrument counts requests by route pattern (never by raw path, which would let
// clients create unbounded label values) and status.
func (a *API) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		a.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		a.metrics.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

func (a *API) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", v)
				writeCode(w, errcode.Internal, "something went wrong on the server")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// HSTS is the Strict-Transport-Security that every response over TLS carries
// (RFC 6797): browsers use nothing but HTTPS for this host and its subdomains for
// two years after they see it.
const HSTS = "max-age=63072000; includeSubDomains"

// SecurityHeaders sets the headers every response of townhall carries, whatever
// answers it (the API, its errors, the web app, /metrics, a 404):
// X-Content-Type-Options: nosniff, so that no browser reads a response as another
// type than it says; and, on a connection that is TLS, Strict-Transport-Security
// (RFC 6797 §7.2: never over plain HTTP), whether the certificate comes from files
// or from ACME.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", HSTS)
		}
		next.ServeHTTP(w, r)
	})
}

// checkOrigin refuses state-changing cross-origin browser requests (CSRF). Requests
// that authenticate with a bearer token are not at risk and skip it.
func (a *API) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			if err := a.csrf.Check(r); err != nil {
				writeCode(w, errcode.CrossOrigin, "cross-origin request refused")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
	actorKey
)

// authedFunc is a handler that runs for a signed-in user.
type authedFunc func(w http.ResponseWriter, r *http.Request, u account.User)

// token returns the session token of r: a bearer token, or the session cookie.
func token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// Authenticate resolves the session behind r, in person, for the handlers that
// do without as (a room's page and its socket, which guests may use too). Rooms
// are personal: a request that would act for another account (ActingAsHeader)
// is refused with account.ErrNotForDelegates, session or not.
func (a *API) Authenticate(r *http.Request) (account.Session, account.User, error) {
	if r.Header.Get(ActingAsHeader) != "" {
		return account.Session{}, account.User{}, account.ErrNotForDelegates
	}
	return a.accounts.Authenticate(r.Context(), token(r))
}

// authed runs f only for a signed-in user of an active account, in person: a
// request that acts for another account (ActingAsHeader) is refused.
func (a *API) authed(f authedFunc) http.Handler { return a.as("", f) }

// ActingAsHeader names the account (by username) a delegate's request acts for.
const ActingAsHeader = "Townhall-Acting-As"

// as runs f for a signed-in user in person, or for a delegate acting for the
// account named in ActingAsHeader when their delegation covers scope ("" covers
// nothing: the route is personal). The delegation is resolved once, here, from
// the store, so a revoked delegate is refused at their next request. f gets the
// account acted for; actorOf tells who acts. A state-changing request a delegate
// makes that succeeds is written to the owner's audit log. A route whose
// pattern takes a {username} costs one look-up (lookups.go) before f runs.
func (a *API) as(scope account.Scope, f authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, u, err := a.accounts.Authenticate(r.Context(), token(r))
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		actor := account.Self(u)
		if owner := r.Header.Get(ActingAsHeader); owner != "" {
			if scope == "" || a.delegation == nil {
				a.writeError(w, r, account.ErrNotForDelegates)
				return
			}
			if actor, err = a.delegation.ActAs(r.Context(), u, owner); err != nil {
				a.writeError(w, r, err)
				return
			}
			if !actor.Can(scope) {
				a.writeError(w, r, account.ErrScope)
				return
			}
		}
		ctx := context.WithValue(context.WithValue(r.Context(), sessionKey, sess), actorKey, actor)
		r = r.WithContext(ctx)
		if namesUser(r.Pattern) {
			if err := a.countLookups(r, 1); err != nil {
				a.writeError(w, r, err)
				return
			}
		}
		if !actor.Acting() {
			f(w, r, u)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		f(sw, r, actor.Principal)
		if r.Method != http.MethodGet && r.Method != http.MethodHead && sw.status != 0 && sw.status < 400 {
			if err := a.delegation.Record(context.WithoutCancel(ctx), actor, r.Pattern, r.URL.Path); err != nil {
				a.log.ErrorContext(ctx, "writing the audit log", "owner", actor.Principal.ID,
					"delegate", actor.Delegate.ID, "action", r.Pattern, "err", err)
			}
		}
	})
}

// actorOf returns who a request acts as (in person unless a delegate acts).
func actorOf(r *http.Request) account.Actor {
	a, _ := r.Context().Value(actorKey).(account.Actor)
	return a
}

func sessionOf(r *http.Request) account.Session {
	s, _ := r.Context().Value(sessionKey).(account.Session)
	return s
}

// clientIP is the remote address of r without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
