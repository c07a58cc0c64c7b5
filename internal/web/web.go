// Package web serves townhall's browser app: one HTML shell for every app route
// and the plain ES modules and CSS it loads, embedded in the binary. There is no
// build step and no Node toolchain: the files under static/ are what the browser
// runs. Static files live at a content-hashed URL (/static/<hash>/...), cached
// forever; a new binary has a new hash. Every page carries a strict
// Content-Security-Policy (no inline script or style, nothing from elsewhere).
//
// The app, under static/:
//
//   - app.js: boot (GET /api/v1/me), the header, the router (history API; links
//     are intercepted), the minibar of the room the user is in.
//   - state.js: the shared state (signed-in user, unread count, hallway, current
//     room), app events, toasts, the aria-live announcer, reconnection backoff.
//   - dom.js: h(), the element builder (strings always become text nodes), icons,
//     initials avatars. api.js: fetch with the session cookie, errors in words.
//   - usersocket.js: the user socket (hallway, notifications), reconnecting.
//   - roomsession.js: the room socket, the room model kept from snapshot + events
//     (seq gaps ask for a snapshot), reconnection within the grace window, the
//     endings (removed, ended, replaced, left). It outlives the room page.
//   - audio.js: WebRTC. Answers the server's offer (K sendonly slots, one recvonly
//     microphone m-line), plays each slot in its own playing <audio>, asks for
//     the microphone only on stage (once, however many clicks) and attaches it
//     with replaceTrack; says in words when the microphone is blocked or missing
//     and when the browser paused the sound. window.__townhall.audioStats()
//     (app.js) reads its getStats() for tests and debugging.
//   - acting.js: acting for an account that named the user its delegate: the
//     accounts (GET /me/delegations), the tab's choice, the header it sets
//     (api.js adds Townhall-Acting-As to the requests of the delegation's
//     scopes only; rooms and sockets are always the user's own).
//   - when.js: dates and IANA time zones for events, with Intl only.
//   - views/*.js: one module per page (hallway, room, join, login, profile,
//     notifications, invitation, events and event, clubs and club, settings,
//     search) and their parts (ui, invite, answer).
//
// The app talks to the HTTP API (docs/api.md) with the session cookie and to the
// room and user sockets of internal/live.
package web

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Options configure the web app. The zero value serves the app as built.
type Options struct {
	// Name is the product name shown in the page title. Default "townhall".
	Name string
}

// contentSecurityPolicy allows nothing but this origin: no inline scripts or
// styles, no third-party origins, media only from this origin or live streams.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; media-src 'self' blob: mediastream:; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self'"

// appRoutes are the paths the app renders itself; each gets the HTML shell.
var appRoutes = []string{
	"GET /{$}",
	"GET /join/{code}",
	"GET /login",
	"GET /rooms/{id}",
	"GET /u/{username}",
	"GET /notifications",
	"GET /invitations/{id}",
	"GET /events",
	"GET /events/{id}",
	"GET /clubs",
	"GET /clubs/{id}",
	"GET /settings",
	"GET /search",
}

// Handler returns the whole web app: the shell at every app route and the static
// files under /static/<hash>/. Anything else is 404.
func Handler(opts Options) http.Handler {
	if opts.Name == "" {
		opts.Name = "townhall"
	}
	a := mustLoadAssets(files)
	shell := renderShell(opts.Name, a)
	mux := http.NewServeMux()
	for _, p := range appRoutes {
		mux.Handle(p, shell)
	}
	mux.Handle("GET /static/{hash}/{file...}", a)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, a.url("icon.svg"), http.StatusMovedPermanently)
	})
	return securityHeaders(mux)
}

// securityHeaders sets the headers every response of the app carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
		}
		next.ServeHTTP(w, r)
	})
}
