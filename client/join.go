package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The errors of Join.
var (
	// ErrNoJoinAPI is returned by Join when the server has no join API (a server
	// from before clusters): its rooms' sockets are its own, and JoinRoom opens
	// them there.
	ErrNoJoinAPI = errors.New("townhall: the server has no join API")
	// ErrBadSocketURL is returned when the join API names a socket the client
	// will not open: not ws:// or wss://, or ws:// from a server reached over
	// https:// (the session token would travel in clear).
	ErrBadSocketURL = errors.New("townhall: the join API named a socket the client will not open")
)

// JoinInfo says where to open a room's socket: the node of the cluster that runs
// the room (on a single server, that server).
type JoinInfo struct {
	Node      string `json:"node"`
	SocketURL string `json:"socket_url"` // ws:// or wss://
	Media     struct {
		UDP string `json:"udp,omitempty"` // the node's audio addresses, when it says
		TCP string `json:"tcp,omitempty"`
	} `json:"media"`
}

// Join asks where to open the socket of roomID (POST /api/v1/rooms/{id}/join):
// any node of a cluster answers with the node that runs the room. guest asks as a
// guest, without a session. While a room moves between nodes, the answer may be
// a moment of 503 unavailable: ask again.
func (c *Client) Join(ctx context.Context, roomID string, guest bool) (JoinInfo, error) {
	info, _, err := c.join(ctx, roomID, guest)
	return info, err
}

// join is Join, and also returns the base URL of the server that answered.
func (c *Client) join(ctx context.Context, roomID string, guest bool) (JoinInfo, string, error) {
	path := "/api/v1/rooms/" + url.PathEscape(roomID) + "/join"
	if guest {
		path += "?guest=1"
	}
	var info JoinInfo
	base, err := c.do(ctx, "POST", path, nil, &info)
	if noEndpoint(err) {
		return JoinInfo{}, base, fmt.Errorf("%w: %v", ErrNoJoinAPI, err)
	}
	if err != nil {
		return JoinInfo{}, base, err
	}
	secure := strings.HasPrefix(info.SocketURL, "wss://")
	if !secure && (!strings.HasPrefix(info.SocketURL, "ws://") || strings.HasPrefix(base, "https://")) {
		return JoinInfo{}, base, fmt.Errorf("%w: %q from %s", ErrBadSocketURL, info.SocketURL, base)
	}
	return info, base, nil
}

// noEndpoint reports whether err is a server's answer that it has no such
// endpoint, rather than no such room: its API's catch-all ("no such endpoint"),
// a bare 404 without the API's error body, or a method it does not take there.
// A room the server does not know is a 404 not_found too, with its own message.
func noEndpoint(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusNotFound:
		return e.Code == "" || (e.Code == "not_found" && strings.HasPrefix(e.Message, "no such endpoint"))
	case http.StatusMethodNotAllowed:
		return true
	}
	return false
}

// JoinRoom opens the room socket of roomID (joining the room) on the node that
// runs it, as the join API says.
func (c *Client) JoinRoom(ctx context.Context, roomID string) (*Socket, error) {
	return c.joinRoom(ctx, roomID, false)
}

// JoinAsGuest opens the room socket without an account, as a listener, on the
// node that runs the room, as the join API says.
func (c *Client) JoinAsGuest(ctx context.Context, roomID string) (*Socket, error) {
	return c.joinRoom(ctx, roomID, true)
}

// joinRoom asks the join API where the room's socket is and opens it; a server
// without the join API is asked for its own.
func (c *Client) joinRoom(ctx context.Context, roomID string, guest bool) (*Socket, error) {
	info, base, err := c.join(ctx, roomID, guest)
	if errors.Is(err, ErrNoJoinAPI) {
		return c.dialURL(ctx, wsURL(base)+roomSocketPath(roomID, guest))
	}
	if err != nil {
		return nil, err
	}
	return c.dialURL(ctx, info.SocketURL)
}

// OpenRoomSocket opens the room socket a Join named (info.SocketURL), there and
// nowhere else: JoinRoom asks the join API again, which may name another node.
func (c *Client) OpenRoomSocket(ctx context.Context, info JoinInfo) (*Socket, error) {
	if !strings.HasPrefix(info.SocketURL, "ws://") && !strings.HasPrefix(info.SocketURL, "wss://") {
		return nil, fmt.Errorf("%w: %q", ErrBadSocketURL, info.SocketURL)
	}
	return c.dialURL(ctx, info.SocketURL)
}

// roomSocketPath is the path of a room's socket on the server that runs it.
func roomSocketPath(roomID string, guest bool) string {
	p := "/api/v1/rooms/" + url.PathEscape(roomID) + "/socket"
	if guest {
		p += "?guest=1"
	}
	return p
}
