package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/townhall/townhall/client"
)

// subprotocol is version 1 of the room socket protocol (docs/protocol.md).
const subprotocol = "townhall.v1"

// roomSocket is a listener's room socket, read as cheaply as it can be: only the
// server's offer and errors are decoded, everything else is read into one reused
// buffer and dropped. (The read loop is a goroutine per socket: a WebSocket must
// be read, if only to answer the server's heartbeats.)
type roomSocket struct {
	ws     *websocket.Conn
	url    string // where it was opened: the node the join API named
	offer  chan string
	errs   chan string
	done   chan struct{}
	closed sync.Once
	// reactions counts the reactions messages read; the read loop only.
	reactions atomic.Int64
}

// socketURL asks the join API at base where the socket of room roomID is, as a
// client does (docs/api.md, "Joining a room"): any node of a cluster answers,
// naming the node that runs the room or an edge of it. A server without the
// join API has the socket itself.
func socketURL(ctx context.Context, base, roomID, token string) (string, error) {
	c := client.New(base)
	if token != "" {
		c = c.WithToken(token)
	}
	info, err := c.Join(ctx, roomID, token == "")
	switch {
	case errors.Is(err, client.ErrNoJoinAPI):
		u := "ws" + strings.TrimPrefix(strings.TrimRight(base, "/"), "http") + "/api/v1/rooms/" + url.PathEscape(roomID) + "/socket"
		if token == "" {
			u += "?guest=1"
		}
		return u, nil
	case err != nil:
		return "", fmt.Errorf("the join API: %w", err)
	}
	return info.SocketURL, nil
}

// dialRoom opens the socket of room roomID at base (http://host:port), as a guest
// when token is empty.
func dialRoom(ctx context.Context, hc *http.Client, base, roomID, token string) (*roomSocket, error) {
	u, err := socketURL(ctx, base, roomID, token)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: h, Subprotocols: []string{subprotocol}})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests && token == "" {
			return nil, fmt.Errorf("joining as a guest: %s: the server caps guests per address: "+
				"run it with --max-guests-per-ip 0 --max-guests-per-ip-room 0 for a load test: %w", resp.Status, err)
		}
		if resp != nil {
			return nil, fmt.Errorf("joining as a guest: %s: %w", resp.Status, err)
		}
		return nil, err
	}
	ws.SetReadLimit(8 << 20) // a snapshot lists up to 500 listeners
	s := &roomSocket{ws: ws, url: u, offer: make(chan string, 1), errs: make(chan string, 4), done: make(chan struct{})}
	go s.read()
	return s, nil
}

var (
	typeOffer     = []byte(`"type":"offer"`)
	typeError     = []byte(`"type":"error"`)
	typeReactions = []byte(`"type":"reactions"`)
)

func (s *roomSocket) read() {
	defer close(s.done)
	var buf bytes.Buffer
	for {
		_, r, err := s.ws.Reader(context.Background())
		if err != nil {
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return
		}
		b := buf.Bytes()
		head := b[:min(len(b), 32)]
		switch {
		case bytes.Contains(head, typeOffer):
			var m struct {
				SDP string `json:"sdp"`
			}
			if json.Unmarshal(b, &m) == nil {
				select {
				case s.offer <- m.SDP:
				default:
				}
			}
		case bytes.Contains(head, typeReactions):
			s.reactions.Add(1)
		case bytes.Contains(head, typeError):
			select {
			case s.errs <- string(b):
			default:
			}
		}
	}
}

// send writes one message.
func (s *roomSocket) send(ctx context.Context, msg map[string]any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return s.ws.Write(ctx, websocket.MessageText, b)
}

// close leaves the room.
func (s *roomSocket) close() {
	s.closed.Do(func() { _ = s.ws.Close(websocket.StatusNormalClosure, "") })
}
