package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Subprotocol is the WebSocket subprotocol of version 1 of the socket protocol
// (docs/protocol.md).
const Subprotocol = "townhall.v1"

// Message is any message the server sends on a socket. Type says which fields
// are set; Raw keeps the whole message.
type Message struct {
	Type         string          `json:"type"`
	ID           string          `json:"id,omitempty"`
	Seq          uint64          `json:"seq,omitempty"`
	Kind         string          `json:"kind,omitempty"`
	Data         json.RawMessage `json:"data,omitempty"`
	Code         string          `json:"code,omitempty"`
	Message      string          `json:"message,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	Room         json.RawMessage `json:"room,omitempty"`           // snapshot
	Protocol     int             `json:"protocol,omitempty"`       // welcome
	You          *Person         `json:"you,omitempty"`            // welcome
	RoomID       string          `json:"room_id,omitempty"`        // welcome on a room socket
	Resumed      bool            `json:"resumed,omitempty"`        // welcome on a room socket
	Rooms        json.RawMessage `json:"rooms,omitempty"`          // hallway
	Notification json.RawMessage `json:"notification,omitempty"`   // notification
	Messages     []ChatMessage   `json:"messages,omitempty"`       // chat_history
	More         bool            `json:"more,omitempty"`           // chat_history, audience
	Listeners    []Listener      `json:"listeners,omitempty"`      // audience
	Count        int             `json:"listener_count,omitempty"` // audience
	From         []Reaction      `json:"from,omitempty"`           // reactions
	Others       map[string]int  `json:"others,omitempty"`         // reactions
	Raw          []byte          `json:"-"`

	sock *Socket // the socket it came on
}

// Socket returns the socket the message came on (nil for a message made by
// hand). A RoomConn's messages come on its successive sockets: a welcome from a
// new socket starts the messages of that socket, and commands about them (an
// audio answer) go back on it.
func (m Message) Socket() *Socket { return m.sock }

// DecodeData decodes the data of an event message into v.
func (m Message) DecodeData(v any) error { return json.Unmarshal(m.Data, v) }

// Subject returns the ID of the person an event is about: its data's user_id,
// or the id of its user ("" for an event about no one).
func (m Message) Subject() string {
	var d struct {
		UserID string  `json:"user_id"`
		User   *Person `json:"user"`
	}
	_ = m.DecodeData(&d)
	if d.User != nil {
		return d.User.ID
	}
	return d.UserID
}

// RoomState is the room of a snapshot message: everything a client needs before
// it applies the events that follow.
type RoomState struct {
	ID               string     `json:"id"`
	Title            string     `json:"title"`
	Description      string     `json:"description"`
	Type             string     `json:"type"`
	AllowGuests      bool       `json:"allow_guests"`
	CreatorID        string     `json:"creator_id"`
	CreatedAt        time.Time  `json:"created_at"`
	State            string     `json:"state"` // waiting, live or ended
	HandPolicy       string     `json:"hand_policy"`
	Stage            []OnStage  `json:"stage"`
	RaisedHands      []Person   `json:"raised_hands"`      // all of them for a moderator; your own for others
	SpeakInvitations []string   `json:"speak_invitations"` // all of them for a moderator; your own for others
	ListenerCount    int        `json:"listener_count"`
	Listeners        []Listener `json:"listeners"`
	ListenersCut     bool       `json:"listeners_cut"`
	// The backchannel: who may write in the chat (off, speakers, everyone) and
	// the slow mode, who is muted in it (as you may know), the pinned link,
	// whether reactions are on and which there are, whether the chat outlives
	// the room, and its latest messages, oldest first.
	ChatMode         string        `json:"chat_mode"`
	SlowSeconds      int           `json:"slow_seconds"`
	ChatMuted        []string      `json:"chat_muted"`
	PinnedLink       string        `json:"pinned_link"`
	ReactionsAllowed bool          `json:"reactions_allowed"`
	Reactions        []string      `json:"reactions"`
	KeepChat         bool          `json:"keep_chat"`
	Chat             []ChatMessage `json:"chat"`
	// Recorded: the room is recorded (say so before accepting to speak);
	// ClipsAllowed: listeners may keep its last moments.
	Recorded     bool `json:"recorded"`
	ClipsAllowed bool `json:"clips_allowed"`
	// LiveCaptions: a moderator turned the live captions on; CaptionsShown:
	// this socket asked for them (show_captions) and gets caption messages.
	LiveCaptions  bool `json:"live_captions"`
	CaptionsShown bool `json:"captions_shown"`
}

// ChatMessage is a message of a room's chat.
type ChatMessage struct {
	ID     string    `json:"id"`
	UserID string    `json:"user_id"`
	Name   string    `json:"name"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Reaction is one reaction a reactions message names by its sender.
type Reaction struct {
	UserID string `json:"user_id"`
	Emoji  string `json:"emoji"`
}

// OnStage is someone on the stage of a snapshot.
type OnStage struct {
	Person
	Role  string    `json:"role"` // speaker or moderator
	Muted bool      `json:"muted"`
	Held  bool      `json:"held"` // a moderator holds the mute
	Since time.Time `json:"since"`
	// Reconnecting: their socket dropped; the room keeps their place a while.
	Reconnecting bool `json:"reconnecting"`
}

// Listener is someone in the audience of a snapshot.
type Listener struct {
	Person
	HandRaised bool `json:"hand_raised"` // told to moderators, and to the listener of their own
}

// State decodes the room of a snapshot message.
func (m Message) State() (RoomState, error) {
	var r RoomState
	if m.Type != "snapshot" {
		return r, fmt.Errorf("townhall: a %q message holds no snapshot", m.Type)
	}
	return r, json.Unmarshal(m.Room, &r)
}

// OnStage returns the participant id if they are on stage.
func (r RoomState) OnStage(id string) (OnStage, bool) {
	for _, p := range r.Stage {
		if p.ID == id {
			return p, true
		}
	}
	return OnStage{}, false
}

// HallwayRooms decodes the rooms of a hallway message of the user socket.
func (m Message) HallwayRooms() ([]HallwayRoom, error) {
	var out []HallwayRoom
	return out, json.Unmarshal(m.Rooms, &out)
}

// DecodeNotification decodes the notification of a notification message of the
// user socket.
func (m Message) DecodeNotification() (Notification, error) {
	var n Notification
	return n, json.Unmarshal(m.Notification, &n)
}

// SocketError is an error message answering a command.
type SocketError struct {
	Code    string
	Message string
}

func (e *SocketError) Error() string { return "townhall: " + e.Code + ": " + e.Message }

// Socket is an open WebSocket to a room or to the user stream.
//
// Messages delivers what the server sends, in order. On a room socket, Socket
// watches the seq of the events: when one is missing (the server dropped
// messages for a slow reader), it asks for a snapshot, holds back the events
// the snapshot will cover, and delivers the snapshot, so a reader that applies
// events to the last snapshot always sees the room exactly.
type Socket struct {
	ws      *websocket.Conn
	msgs    chan Message
	nextID  atomic.Uint64
	mu      sync.Mutex
	waiters map[string]chan Message
	done    chan struct{} // closed when the read loop ends
	closing chan struct{} // closed by Close
	closeMu sync.Once
	err     error // why the read loop ended; read after done

	// Read loop only.
	lastSeq   uint64
	resyncing bool
	resyncs   atomic.Int64
}

// UserSocket opens the user socket: hallway updates and notifications.
func (c *Client) UserSocket(ctx context.Context) (*Socket, error) {
	return c.dial(ctx, "/api/v1/socket")
}

// dial opens the socket at path under the base URL, skipping a server that
// cannot be reached for the next.
func (c *Client) dial(ctx context.Context, path string) (*Socket, error) {
	var s *Socket
	err := c.servers.try(ctx, func(base string) error {
		var err error
		s, err = c.dialURL(ctx, wsURL(base)+path)
		return err
	})
	return s, err
}

// wsURL turns an http:// or https:// base URL into its ws:// or wss:// one.
func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") }

// dialURL opens the socket at u (ws:// or wss://) with the client's headers,
// token and identity.
func (c *Client) dialURL(ctx context.Context, u string) (*Socket, error) {
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	if ck := c.identity.get(); ck != nil {
		h.Set("Cookie", ck.String())
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h, HTTPClient: c.http, Subprotocols: []string{Subprotocol}})
	if resp != nil {
		c.identity.keep(resp.Cookies())
	}
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			}
			return nil, errorOf(resp.StatusCode, body)
		}
		return nil, err
	}
	ws.SetReadLimit(16 << 20)
	s := &Socket{ws: ws, msgs: make(chan Message, 4096), waiters: map[string]chan Message{},
		done: make(chan struct{}), closing: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *Socket) read() {
	// Done closes before Messages does, so that a reader who sees Messages end
	// finds Err set.
	defer close(s.msgs)
	defer close(s.done)
	for {
		_, data, err := s.ws.Read(context.Background())
		if err != nil {
			s.err = err
			return
		}
		var m Message
		if err := json.Unmarshal(data, &m); err != nil {
			s.err = err
			s.ws.CloseNow()
			return
		}
		m.Raw, m.sock = data, s
		if (m.Type == "ok" || m.Type == "error" || m.Type == "pong" || m.Type == "chat_history" || m.Type == "audience") && m.ID != "" {
			s.mu.Lock()
			w, ok := s.waiters[m.ID]
			delete(s.waiters, m.ID)
			s.mu.Unlock()
			if ok {
				w <- m
				continue
			}
		}
		if !s.inOrder(m) {
			continue
		}
		// Delivery blocks: a reader that falls behind makes the server drop
		// messages, which shows as a gap in seq and brings a fresh snapshot.
		select {
		case s.msgs <- m:
		case <-s.closing:
			s.ws.CloseNow()
			s.err = fmt.Errorf("townhall: socket closed")
			return
		}
	}
}

// inOrder tracks the event seq of a room socket and reports whether m may be
// delivered. After a gap it asks for a snapshot and holds back events until the
// snapshot comes: they are in it.
func (s *Socket) inOrder(m Message) bool {
	switch m.Type {
	case "snapshot":
		s.lastSeq, s.resyncing = m.Seq, false
	case "event":
		if s.resyncing {
			return false
		}
		if m.Seq != s.lastSeq+1 {
			s.resyncing = true
			s.resyncs.Add(1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.Send(ctx, map[string]any{"type": "snapshot"})
			cancel()
			return false
		}
		s.lastSeq = m.Seq
	}
	return true
}

// Resyncs reports how many times the socket saw a gap in the event seq and asked
// for a snapshot.
func (s *Socket) Resyncs() int64 { return s.resyncs.Load() }

// Messages delivers the server's messages (welcome, snapshots, events, hallway,
// notifications, bye...) in order; it is closed when the socket ends. Answers to
// Command, Ping and Snapshot go to their callers instead.
func (s *Socket) Messages() <-chan Message { return s.msgs }

// Subprotocol is the subprotocol the server selected (Subprotocol when it
// speaks version 1).
func (s *Socket) Subprotocol() string { return s.ws.Subprotocol() }

// Done is closed when the socket has ended.
func (s *Socket) Done() <-chan struct{} { return s.done }

// Err reports why the socket ended, once Done is closed: a websocket.CloseError
// carries the server's close code.
func (s *Socket) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// CloseStatus returns the close code the server ended the socket with, or -1.
func (s *Socket) CloseStatus() websocket.StatusCode { return websocket.CloseStatus(s.Err()) }

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
	_, err := s.request(ctx, typ, fields)
	return err
}

// Ping sends a ping message and waits for its pong.
func (s *Socket) Ping(ctx context.Context) error {
	_, err := s.request(ctx, "ping", nil)
	return err
}

// React sends a reaction (one of the snapshot's reactions) without waiting: a
// reaction is answered only when refused.
func (s *Socket) React(ctx context.Context, emoji string) error {
	return s.Send(ctx, map[string]any{"type": "react", "emoji": emoji})
}

// Chat writes a message in the room's chat and waits for its ok.
func (s *Socket) Chat(ctx context.Context, text string) error {
	return s.Command(ctx, "chat", map[string]any{"text": text})
}

// ChatHistory returns up to limit (0: the server's page) of the chat's messages
// older than the message before ("" for the newest), newest first, and whether
// there are more.
func (s *Socket) ChatHistory(ctx context.Context, before string, limit int) ([]ChatMessage, bool, error) {
	f := map[string]any{}
	if limit > 0 {
		f["limit"] = limit
	}
	if before != "" {
		f["before"] = before
	}
	m, err := s.request(ctx, "chat_history", f)
	return m.Messages, m.More, err
}

// Audience asks for a page of the room's audience in the order it came: at most
// limit listeners (0: the server's page, 100) after the listener after ("" for
// the first page). It returns them, the audience's size, and whether more
// follow (ask again after the last one).
func (s *Socket) Audience(ctx context.Context, after string, limit int) ([]Listener, int, bool, error) {
	f := map[string]any{}
	if limit > 0 {
		f["limit"] = limit
	}
	if after != "" {
		f["after"] = after
	}
	m, err := s.request(ctx, "audience", f)
	return m.Listeners, m.Count, m.More, err
}

// RequestSnapshot asks for a snapshot; it arrives on Messages.
func (s *Socket) RequestSnapshot(ctx context.Context) error {
	return s.Send(ctx, map[string]any{"type": "snapshot"})
}

// request sends a message with a fresh request id and waits for its answer.
func (s *Socket) request(ctx context.Context, typ string, fields map[string]any) (Message, error) {
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	msg := map[string]any{"type": typ, "id": id}
	for k, v := range fields {
		msg[k] = v
	}
	w := make(chan Message, 1)
	s.mu.Lock()
	s.waiters[id] = w
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiters, id)
		s.mu.Unlock()
	}()
	if err := s.Send(ctx, msg); err != nil {
		return Message{}, err
	}
	answer := func(m Message) (Message, error) {
		if m.Type == "error" {
			return m, &SocketError{Code: m.Code, Message: m.Message}
		}
		return m, nil
	}
	select {
	case m := <-w:
		return answer(m)
	case <-s.done:
		// The answer may have come just before the socket closed (a leave's
		// ok comes right before its bye).
		select {
		case m := <-w:
			return answer(m)
		default:
		}
		return Message{}, fmt.Errorf("townhall: socket closed before the answer: %v", s.err)
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Close closes the socket and waits for its read loop to end.
func (s *Socket) Close() error {
	s.closeMu.Do(func() { close(s.closing) })
	err := s.ws.Close(websocket.StatusNormalClosure, "")
	<-s.done
	return err
}

// CloseNow drops the connection without a closing handshake, as a network
// failure would.
func (s *Socket) CloseNow() error {
	s.closeMu.Do(func() { close(s.closing) })
	err := s.ws.CloseNow()
	<-s.done
	return err
}
