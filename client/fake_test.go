package client_test

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// withJoinAPI puts a single server's join API in front of a fake room socket h: it
// names the socket of the server it was asked on, as a node that runs the room.
func withJoinAPI(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/rooms/{id}/join", func(w http.ResponseWriter, r *http.Request) {
		u := "ws://" + r.Host + "/api/v1/rooms/" + url.PathEscape(r.PathValue("id")) + "/socket"
		if r.URL.Query().Get("guest") == "1" {
			u += "?guest=1"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"node": "fake", "socket_url": u, "media": map[string]string{}})
	})
	mux.Handle("/", h)
	return mux
}
