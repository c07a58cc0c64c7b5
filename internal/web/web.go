// Package web serves townhall's browser app: one HTML shell for every app route
// and the plain ES modules and CSS it loads, embedded in the binary. There is no
// build step: the files under static/ are what the browser runs.
//
// The app talks to the HTTP API (docs/api.md) with the session cookie and to the
// room and user sockets (internal/live). Static files live at a content-hashed URL
// (/static/<hash>/...), so they are cached forever and a new binary busts the cache.
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
