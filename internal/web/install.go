package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/townhall/townhall/internal/preview"
)

// serveAtRoot serves the embedded file name at a path of its own (the service
// worker must be served from / to control the whole app), revalidated at each
// load so that a new binary's worker replaces the old one.
func (a *assets) serveAtRoot(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := a.files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		if r.Header.Get("If-None-Match") == f.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(f.body)
	}
}

// manifest serves the web app manifest, which lets browsers install the app
// (with the service worker, sw.js).
func manifest(name string, a *assets) http.HandlerFunc {
	body, _ := json.Marshal(map[string]any{
		"name": name, "short_name": name, "start_url": "/", "scope": "/", "display": "standalone",
		"background_color": "#f7f1e8", "theme_color": "#fbf6ef",
		"description": "Live audio conversations: drop in, listen, raise your hand.",
		"icons": []map[string]string{
			{"src": "/icons/192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
			{"src": "/icons/512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
			{"src": a.url("icon.svg"), "sizes": "any", "type": "image/svg+xml"},
		},
	})
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/manifest+json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(body)
	}
}

// icons serves the app's icons as PNG (192 and 512 pixels), drawn once.
func icons() http.HandlerFunc {
	draw := map[int]func() ([]byte, error){}
	for _, size := range []int{192, 512} {
		draw[size] = sync.OnceValues(func() ([]byte, error) { return preview.Icon(size) })
	}
	return func(w http.ResponseWriter, r *http.Request) {
		size, err := strconv.Atoi(strings.TrimSuffix(r.PathValue("file"), ".png"))
		f, ok := draw[size]
		if err != nil || !ok || !strings.HasSuffix(r.PathValue("file"), ".png") {
			http.NotFound(w, r)
			return
		}
		b, err := f()
		if err != nil {
			http.Error(w, "drawing the icon", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Write(b)
	}
}
