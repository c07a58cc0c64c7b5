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
//   - usersocket.js: the user socket (hallway, notifications), reconnecting (at
//     once when its node drains); an ended session signs the app out.
//   - roomsession.js: the room socket, opened where the join API says (POST
//     /api/v1/rooms/{id}/join: in a cluster, the node that runs the room), again
//     at each reconnection; the room model kept from snapshot + events (seq gaps
//     ask for a snapshot); reconnection within the grace window, with a backoff
//     randomized by ±50 %, and at once when the room moved to another node; the
//     endings (removed, ended, replaced, left, signed out). It outlives the
//     room page. roomevents.js applies the room's events to that model.
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
//   - share.js: Share (the phone's share sheet, or the clipboard).
//   - sw.js: the service worker, served at /sw.js: it shows Web Push
//     notifications and opens the app where they point; with the manifest
//     (/manifest.webmanifest, PNG icons at /icons/) the app installs.
//   - views/*.js: one module per page (hallway, room, join, login, profile,
//     notifications, invitation, invitationpage (/i/{code}), invitations,
//     events and event, clubs and club, settings, search, admin, reset) and
//     their parts (ui, invite, answer, thread, publicinvitations, report, and
//     account: photo, password, devices, deleting the account).
//   - dom.js's avatar draws a person's photo (GET /api/v1/photos/...) or their
//     initials on one of 16 colours, kept distinct within the room on screen.
//
// Unknown paths get the shell with the status 404: the app draws its own page.
//
// The shareable pages (a room, an event, a club, a profile, an invitation) carry
// Open Graph and Twitter card tags from Options.Preview, so that a link pasted
// elsewhere unfolds into a card.
//
// The app talks to the HTTP API (docs/api.md) with the session cookie and to the
// room and user sockets of internal/live.
package web

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

//go:embed static
var files embed.FS

// Options configure the web app. The zero value serves the app as built.
type Options struct {
	// Name is the product name shown in the page title. Default "townhall".
	Name string
	// Nodes, in a cluster, returns the base URLs (http:// or https://) of its
	// nodes: the join API may send the room socket to any of them, so the
	// Content-Security-Policy lets the page connect there too. Nil: one node.
	Nodes func() []string
	// Preview, when set, tells what a shareable page (kind room, event, club,
	// user or invitation, and its ID, username or code) says about itself in
	// the tags a link unfurler reads. Nil: the pages carry none.
	Preview func(ctx context.Context, kind, id string) Preview
}

// Preview is what a shareable page says to a link unfurler (Open Graph,
// Twitter cards): a title, a description, its card's image and its own URL,
// both absolute.
type Preview struct {
	Title       string
	Description string
	Image       string
	URL         string
}

// contentSecurityPolicy allows nothing but this origin: no inline scripts or
// styles, no third-party origins, media only from this origin or live streams.
// %s is where the page may connect besides itself: the cluster's nodes.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'%s; " +
	"img-src 'self' data:; media-src 'self' blob: mediastream:; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self'"

// connectSources are the WebSocket origins of the cluster's nodes, as CSP
// sources (ws://host:port, wss://host:port), each once. An URL that is not
// plain http(s)://host[:port] is left out: a CSP source must not carry a path,
// a space or a semicolon.
func connectSources(nodes []string) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, n := range nodes {
		u, err := url.Parse(n)
		if err != nil || u.Host == "" || u.User != nil || strings.ContainsAny(u.Host, " ;,'\"") {
			continue
		}
		var src string
		switch u.Scheme {
		case "http":
			src = "ws://" + u.Host
		case "https":
			src = "wss://" + u.Host
		default:
			continue
		}
		if !seen[src] {
			seen[src] = true
			b.WriteString(" " + src)
		}
	}
	return b.String()
}

// appRoutes are the paths the app renders itself; each gets the HTML shell.
var appRoutes = []string{
	"GET /{$}",
	"GET /join/{code}",
	"GET /login",
	"GET /rooms/{id}",
	"GET /clips/{id}",
	"GET /u/{username}",
	"GET /notifications",
	"GET /invitations",
	"GET /invitations/{id}",
	"GET /events",
	"GET /events/{id}",
	"GET /clubs",
	"GET /clubs/{id}",
	"GET /settings",
	"GET /search",
	"GET /admin",
	"GET /reset/{token}",
	"GET /i/{code}",
}

// shareable are the app routes a link to which unfolds into a card elsewhere:
// the kind of thing each shows and the path value that names it.
var shareable = map[string][2]string{
	"GET /rooms/{id}":   {"room", "id"},
	"GET /events/{id}":  {"event", "id"},
	"GET /clubs/{id}":   {"club", "id"},
	"GET /u/{username}": {"user", "username"},
	"GET /i/{code}":     {"invitation", "code"},
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
		var h http.Handler = shell
		if sh, ok := shareable[p]; ok && opts.Preview != nil {
			h = &shareShell{name: opts.Name, assets: a, kind: sh[0], param: sh[1], preview: opts.Preview}
		}
		mux.Handle(p, h)
	}
	mux.HandleFunc("GET /sw.js", a.serveAtRoot("sw.js"))
	mux.HandleFunc("GET /manifest.webmanifest", manifest(opts.Name, a))
	mux.HandleFunc("GET /icons/{file}", icons())
	mux.Handle("GET /static/{hash}/{file...}", a)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, a.url("icon.svg"), http.StatusMovedPermanently)
	})
	// Anything else is the app's own "Nothing here" page, with the status 404:
	// a person who follows a broken link sees the app, not Go's plain text.
	mux.Handle("/", notFoundShell{shell})
	return securityHeaders(mux, opts.Nodes)
}

// securityHeaders sets the headers every response of the app carries; nodes,
// if not nil, names the cluster's nodes (the policy follows them as they come
// and go).
func securityHeaders(next http.Handler, nodes func() []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			var more string
			if nodes != nil {
				more = connectSources(nodes())
			}
			h.Set("Content-Security-Policy", fmt.Sprintf(contentSecurityPolicy, more))
			h.Set("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
		}
		next.ServeHTTP(w, r)
	})
}
