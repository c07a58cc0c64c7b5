package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// joinView says where to connect to a room: the node that runs it.
type joinView struct {
	Node      string    `json:"node"`
	SocketURL string    `json:"socket_url"`
	Media     mediaView `json:"media"`
}

type mediaView struct {
	UDP string `json:"udp,omitempty"`
	TCP string `json:"tcp,omitempty"`
}

// joinRoom answers where to open a room's socket: on one node, this node; in a
// cluster, the node that runs the room, whichever node is asked. The same rules
// as the room page decide who may know (a guest: ?guest=1 and an open room that
// allows guests).
func (a *API) joinRoom(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	viewer := ""
	guest := r.URL.Query().Get("guest") == "1"
	_, u, err := a.Authenticate(r)
	switch {
	case err == nil:
		viewer, guest = u.ID, false
	case errors.Is(err, account.ErrUnauthenticated) && guest:
	default:
		a.writeError(w, r, err)
		return
	}
	var info live.JoinInfo
	if viewer != "" && u.IsAdmin {
		info, err = a.hub.RouteAdmin(r.Context(), id) // the room decides at the join
	} else {
		info, err = a.hub.Route(r.Context(), viewer, id)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.joinAnswer(r, id, info, guest))
}

// joinAnswer says where to open the socket of room id, which runs where info
// says.
func (a *API) joinAnswer(r *http.Request, id string, info live.JoinInfo, guest bool) joinView {
	base := info.URL
	if base == "" { // this node: as the client reached it
		scheme := "http://"
		if r.TLS != nil {
			scheme = "https://"
		}
		base = scheme + r.Host
	}
	socket := "ws" + strings.TrimPrefix(strings.TrimRight(base, "/"), "http") + "/api/v1/rooms/" + url.PathEscape(id) + "/socket"
	if guest {
		socket += "?guest=1"
	}
	return joinView{Node: info.Node, SocketURL: socket, Media: mediaView{UDP: info.UDP, TCP: info.TCP}}
}

// nodeView is a node of the cluster, for admins.
type nodeView struct {
	Name     string    `json:"name"`
	Region   string    `json:"region"`
	Version  string    `json:"version"`
	URL      string    `json:"url"`
	Load     float64   `json:"load"` // CPU cores used
	Rooms    int       `json:"rooms"`
	Sockets  int       `json:"sockets"`
	Draining bool      `json:"draining"`
	Live     bool      `json:"live"` // its news is fresh
	SeenAt   time.Time `json:"seen_at"`
}

// clusterNodes lists the nodes of the cluster (this one alone on one node), for
// admins.
func (a *API) clusterNodes(w http.ResponseWriter, r *http.Request, u account.User) {
	if !u.IsAdmin {
		a.writeError(w, r, account.ErrForbidden)
		return
	}
	var list []live.NodeInfo
	if a.nodes != nil {
		list = a.nodes()
	} else {
		st := a.hub.Stats()
		list = []live.NodeInfo{{Name: "local", URL: a.publicURL, Rooms: st.Rooms, Sockets: st.Sockets, At: a.now()}}
	}
	out := make([]nodeView, len(list))
	for i, n := range list {
		out[i] = nodeView{Name: n.Name, Region: n.Region, Version: n.Version, URL: n.URL, Load: n.Load, Rooms: n.Rooms,
			Sockets: n.Sockets, Draining: n.Draining, Live: a.now().Sub(n.At) < 3*time.Second, SeenAt: n.At}
	}
	writeJSON(w, http.StatusOK, map[string]any{"nodes": out})
}
