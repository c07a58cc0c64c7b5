package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// Message is any message the server sends on a socket. Type says which fields
// are set; Raw keeps the whole message.
type Message struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Seq     uint64          `json:"seq,omitempty"`
	Kind    string          `json:"kind,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Reason  string          `json:"reason,omitempty"`
	Room    json.RawMessage `json:"room,omitempty"`
	Raw     []byte          `json:"-"`
}

// SocketError is an error message answering a command.
type SocketError struct {
	Code    string
	Message string
}

func (e *SocketError) Error() string { return "townhall: " + e.Code + ": " + e.Message }

func asSocketError(err error, target **SocketError) bool { return errors.As(err, target) }

// Socket is an open WebSocket to a room or to the user stream.
type Socket struct {
	ws      *websocket.Conn
	msgs    chan Message
	nextID  atomic.Uint64
	mu      sync.Mutex
	waiters map[string]chan Message
	done    chan struct{}
	err     error
}

// JoinRoom opens the room socket of roomID (joining the room).
func (c *Client) JoinRoom(ctx context.Context, roomID string) (*Socket, error) {
	return c.dial(ctx, "/api/v1/rooms/"+roomID+"/socket")
}

// JoinAsGuest opens the room socket without an account, as a listener.
func (c *Client) JoinAsGuest(ctx context.Context, roomID string) (*Socket, error) {
	return c.dial(ctx, "/api/v1/rooms/"+roomID+"/socket?guest=1")
}

// UserSocket opens the user socket: hallway updates and notifications.
func (c *Client) UserSocket(ctx context.Context) (*Socket, error) {
	return c.dial(ctx, "/api/v1/socket")
}

func (c *Client) dial(ctx context.Context, path string) (*Socket, error) {
	h := http.Header{}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	u := "ws" + strings.TrimPrefix(c.base, "http") + path
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h, HTTPClient: c.http, Subprotocols: []string{"townhall.v1"}})
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			var eb struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if resp.Body != nil {
				_ = json.NewDecoder(resp.Body).Decode(&eb)
			}
			return nil, &Error{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
		}
		return nil, err
	}
	ws.SetReadLimit(16 << 20)
	s := &Socket{ws: ws, msgs: make(chan Message, 4096), waiters: map[string]chan Message{}, done: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *Socket) read() {
	defer close(s.done)
	defer close(s.msgs)
	for {
		_, data, err := s.ws.Read(context.Background())
		if err != nil {
			s.err = err
			return
		}
		var m Message
		if err := json.Unmarshal(data, &m); err != nil {
			s.err = err
			return
		}
		m.Raw = data
		if (m.Type == "ok" || m.Type == "error" || m.Type == "pong") && m.ID != "" {
			s.mu.Lock()
			w, ok := s.waiters[m.ID]
			delete(s.waiters, m.ID)
			s.mu.Unlock()
			if ok {
				w <- m
				continue
			}
		}
		select {
		case s.msgs <- m:
		default:
			// The reader of Messages is too slow: drop, as the server would.
		}
	}
}

// Messages delivers the server's messages (events, snapshots, bye...) in order;
// it is closed when the socket ends.
func (s *Socket) Messages() <-chan Message { return s.msgs }

// Done is closed when the socket has ended.
func (s *Socket) Done() <-chan struct{} { return s.done }

// Send sends a raw message without waiting for an answer.
func (s *Socket) Send(ctx context.Context, msg map[string]any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return s.ws.Write(ctx, websocket.MessageText, b)
}

// SendRaw sends bytes as one text frame (for tests of malformed input).
func (s *Socket) SendRaw(ctx context.Context, b []byte) error {
	return s.ws.Write(ctx, websocket.MessageText, b)
}

// Command sends a room command of type typ with fields and waits for its ok
// (nil) or error (*SocketError).
func (s *Socket) Command(ctx context.Context, typ string, fields map[string]any) error {
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	msg := map[string]any{"type": typ, "id": id}
	for k, v := range fields {
		msg[k] = v
	}
	w := make(chan Message, 1)
	s.mu.Lock()
	s.waiters[id] = w
	s.mu.Unlock()
	if err := s.Send(ctx, msg); err != nil {
		return err
	}
	select {
	case m := <-w:
		if m.Type == "error" {
			return &SocketError{Code: m.Code, Message: m.Message}
		}
		return nil
	case <-s.done:
		return fmt.Errorf("townhall: socket closed before the answer: %v", s.err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close closes the socket.
func (s *Socket) Close() error {
	err := s.ws.Close(websocket.StatusNormalClosure, "")
	<-s.done
	return err
}
