package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The errors of a RoomConn.
var (
	// ErrGaveUp is the Err of a RoomConn that could not connect again within
	// RoomConnOptions.GiveUp; it wraps the last attempt's error too.
	ErrGaveUp = errors.New("townhall: gave up connecting to the room again")
	// ErrNoSocket is returned by RoomConn.Command when it has no socket: between
	// two, or once it stopped.
	ErrNoSocket = errors.New("townhall: the room connection has no socket")
)

// ByeError is the Err of a RoomConn that the server sent away for good: the
// reason of its last bye (or of its close code, when the bye was lost).
type ByeError struct{ Reason string }

func (e *ByeError) Error() string { return "townhall: the server said goodbye: " + e.Reason }

// FinalBye reports whether a bye with reason ends a stay in the room for good
// (left, removed, room_ended, replaced, session_ended, account_disabled, abuse,
// and any reason this client does not know): a RoomConn stops on it. After moved
// (the room went to another node) and shutdown (the node stops), it connects
// again.
func FinalBye(reason string) bool {
	switch reason {
	case "moved", "shutdown":
		return false
	}
	return true
}

// byeOfClose is the bye reason a close code stands for (protocol.md, Closing), for
// a socket that closed without its bye; "" for a drop.
func byeOfClose(code websocket.StatusCode) string {
	switch code {
	case 4001:
		return "replaced"
	case 4003:
		return "removed"
	case 4004:
		return "room_ended"
	case 4005:
		return "session_ended"
	case 4006:
		return "moved"
	case websocket.StatusPolicyViolation:
		return "abuse"
	case websocket.StatusGoingAway:
		return "shutdown"
	}
	return ""
}

// retryable reports whether a failed attempt to open a room's socket may
// succeed later: the network failed, the node asked is stopping or lost the room
// a moment ago (503, 421), or is busy (429, 5xx). A refusal for cause (the room
// is not found or over, the user was removed, the session ended...) is final.
func retryable(err error) bool {
	if errors.Is(err, ErrBadSocketURL) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusMisdirectedRequest || e.Status == http.StatusTooManyRequests ||
			e.Status == http.StatusRequestTimeout
	}
	var se *SocketError
	if errors.As(err, &se) {
		return retryableCode(se.Code)
	}
	return true // no answer: the network, a node that went away
}

// retryableCode reports whether the code of a refused join (the error message of
// a room socket, before its welcome) may change by trying again.
func retryableCode(code string) bool {
	switch code {
	case "unavailable", "wrong_node", "rate_limited", "internal":
		return true
	}
	return false
}

// RoomConnOptions configure a RoomConn.
type RoomConnOptions struct {
	// Guest joins as a guest (JoinAsGuest's sockets).
	Guest bool
	// Backoff spaces the attempts to reconnect (zero fields: DefaultBackoffFirst,
	// DefaultBackoffMax).
	Backoff Backoff
	// GiveUp is how long the RoomConn tries to connect again before it stops with
	// ErrGaveUp (0: a minute). The server keeps a participant's place for its
	// grace window (15 s by default); after it, a reconnection is a new join.
	GiveUp time.Duration
	// Liveness is how often the RoomConn pings the server and how long it waits
	// for the pong: a socket that does not answer (a node that vanished without
	// closing its connections) is dropped and replaced (0: 15 s; negative: no
	// pings).
	Liveness time.Duration
}

// Defaults of RoomConnOptions.
const (
	DefaultGiveUp   = time.Minute
	DefaultLiveness = 15 * time.Second
)

// RoomConn is a stay in a room that outlives its sockets: when a socket ends with
// bye moved or shutdown, or drops without a bye (a node killed, the network), it
// asks the join API again (the next server of the Client when one cannot be
// reached or cannot help), waiting a Backoff between attempts, opens the socket
// it names and goes on. The server keeps a participant's place (role, hand, mute)
// for its grace window, so the new socket's welcome says "resumed" and its
// snapshot shows the stay as it was.
//
// Messages delivers the messages of the successive sockets on one channel, in
// order: each socket's begin with its welcome, and Message.Socket says which
// socket a message came on (a Media is bound to one). A socket's last message may
// be a bye that the RoomConn recovers from (see FinalBye); the error of a join it
// tries again is not delivered. It stops for good on a final bye, on a join the
// server refuses for cause (removed_from_room, room_ended, not_found...), after
// GiveUp, or on Close; Messages then closes and Err says why.
type RoomConn struct {
	c      *Client
	roomID string
	opts   RoomConnOptions
	msgs   chan Message
	done   chan struct{} // closed when the RoomConn has stopped
	cancel context.CancelFunc

	reconnects atomic.Int64

	mu   sync.Mutex // guards sock and err
	sock *Socket    // the current socket; nil between two
	err  error      // why it stopped; read after done
}

// ConnectRoom opens a RoomConn to roomID: it asks the join API and opens the
// socket it names, trying again (as after a drop) while the failures may pass,
// until ctx ends or GiveUp has passed. A refusal for cause is returned at once. A
// join refused once the socket is open comes as the error message on Messages.
func (c *Client) ConnectRoom(ctx context.Context, roomID string, opts RoomConnOptions) (*RoomConn, error) {
	if opts.GiveUp <= 0 {
		opts.GiveUp = DefaultGiveUp
	}
	if opts.Liveness == 0 {
		opts.Liveness = DefaultLiveness
	}
	opts.Backoff = opts.Backoff.orDefault()
	rc := &RoomConn{c: c, roomID: roomID, opts: opts, msgs: make(chan Message), done: make(chan struct{})}
	var tries retries
	sock, err := rc.connect(ctx, &tries, false)
	if err != nil {
		return nil, err
	}
	// The RoomConn outlives ctx, which only bounds the first connection.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rc.cancel = cancel
	rc.sock = sock
	go rc.run(runCtx, sock)
	return rc, nil
}

// retries are the failed attempts since the last socket that was welcomed.
type retries struct {
	n     int       // attempts that failed
	since time.Time // when the first of them began
}

// connect asks the join API and opens the socket it names, until an attempt
// succeeds, fails for cause, or GiveUp passes. wait waits a Backoff before the
// first attempt too (a reconnection: spread out).
func (rc *RoomConn) connect(ctx context.Context, tries *retries, wait bool) (*Socket, error) {
	if tries.since.IsZero() {
		tries.since = time.Now()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if wait || tries.n > 0 {
			timer.Reset(rc.opts.Backoff.Delay(tries.n))
			select {
			case <-timer.C:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		sock, err := rc.c.joinRoom(ctx, rc.roomID, rc.opts.Guest)
		if err == nil {
			return sock, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !retryable(err) {
			return nil, err
		}
		tries.n++
		if time.Since(tries.since) >= rc.opts.GiveUp {
			return nil, fmt.Errorf("%w after %s: %w", ErrGaveUp, rc.opts.GiveUp, err)
		}
		// The server asked first answered but could not help (it drains, or it
		// named a node that is gone): ask the next one next time.
		rc.c.servers.rotate()
	}
}

// socketEnd is how a socket ended.
type socketEnd struct {
	welcomed bool         // its welcome came
	bye      string       // the reason of its bye, or of its close code
	refused  *SocketError // the error of a refused join, before the welcome
}

// run forwards each socket's messages and replaces the socket when it ends, until
// the RoomConn stops for good.
func (rc *RoomConn) run(ctx context.Context, sock *Socket) {
	// Done closes before Messages does, so that a reader who sees Messages end
	// finds Err set.
	defer close(rc.msgs)
	defer close(rc.done)
	var tries retries
	for replacing := false; ; replacing = true {
		end := rc.forward(ctx, sock, replacing)
		var err error
		switch {
		case ctx.Err() != nil: // Close
		case end.refused != nil && !retryableCode(end.refused.Code):
			err = end.refused
		case end.bye != "" && FinalBye(end.bye):
			err = &ByeError{Reason: end.bye}
		default:
			if end.welcomed {
				tries = retries{}
			}
			rc.setSocket(nil, nil)
			if sock, err = rc.connect(ctx, &tries, true); err == nil {
				rc.setSocket(sock, nil)
				continue
			}
			if ctx.Err() != nil {
				err = nil
			}
		}
		rc.setSocket(nil, err)
		return
	}
}

// forward delivers sock's messages until it ends (or ctx does, which closes it),
// and says how it ended. The welcome of a replacement is a reconnection.
func (rc *RoomConn) forward(ctx context.Context, sock *Socket, replacement bool) socketEnd {
	var end socketEnd
	if rc.opts.Liveness > 0 {
		go sock.keepAlive(rc.opts.Liveness)
	}
	for {
		select {
		case <-ctx.Done():
			_ = sock.Close()
			return end
		case m, ok := <-sock.Messages():
			if !ok {
				if end.bye == "" && end.refused == nil {
					end.bye = byeOfClose(sock.CloseStatus())
				}
				return end
			}
			switch {
			case m.Type == "welcome":
				end.welcomed = true
				if replacement {
					rc.reconnects.Add(1)
				}
			case m.Type == "bye":
				end.bye = m.Reason
			case m.Type == "error" && m.ID == "" && !end.welcomed:
				end.refused = &SocketError{Code: m.Code, Message: m.Message}
				if retryableCode(m.Code) {
					continue // the RoomConn tries again: nothing to tell
				}
			}
			select {
			case rc.msgs <- m:
			case <-ctx.Done():
				_ = sock.Close()
				return end
			}
		}
	}
}

// setSocket sets the current socket, and the error the RoomConn stops with.
func (rc *RoomConn) setSocket(s *Socket, err error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.sock, rc.err = s, err
}

// Messages delivers the messages of the RoomConn's sockets, in order, each
// socket's from its welcome; it closes when the RoomConn stops.
func (rc *RoomConn) Messages() <-chan Message { return rc.msgs }

// Done is closed when the RoomConn has stopped for good.
func (rc *RoomConn) Done() <-chan struct{} { return rc.done }

// Err says why the RoomConn stopped, once Done is closed: a *ByeError for a final
// bye, a *SocketError for a join refused on the socket, the join API's *Error,
// ErrGaveUp; nil after Close.
func (rc *RoomConn) Err() error {
	select {
	case <-rc.done:
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return rc.err
	default:
		return nil
	}
}

// Socket returns the current socket, or nil while the RoomConn reconnects.
func (rc *RoomConn) Socket() *Socket {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.sock
}

// Reconnects reports how many times the RoomConn came back into the room (a
// replacement socket's welcome) after a socket ended.
func (rc *RoomConn) Reconnects() int64 { return rc.reconnects.Load() }

// Command sends a room command on the current socket and waits for its answer,
// as Socket.Command. Without one it returns ErrNoSocket; a command is
// not sent again on the next socket (it may not be safe to repeat): the next
// socket's snapshot tells the state it left.
func (rc *RoomConn) Command(ctx context.Context, typ string, fields map[string]any) error {
	s := rc.Socket()
	if s == nil {
		return ErrNoSocket
	}
	return s.Command(ctx, typ, fields)
}

// Close closes the current socket and stops the RoomConn. A close is not a leave:
// the server keeps the participant's place for its grace window (send leave first
// to go).
func (rc *RoomConn) Close() error {
	rc.cancel()
	<-rc.done
	return nil
}

// keepAlive pings the server every `every` until the socket ends, and drops the
// socket when a pong does not come within `every` (RFC 6455 §5.5.2): its peer is
// gone without closing the connection.
//
// https://www.rfc-editor.org/rfc/rfc6455#section-5.5.2
func (s *Socket) keepAlive(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := s.ws.Ping(ctx)
		cancel()
		if err != nil {
			select {
			case <-s.done:
			default:
				_ = s.CloseNow()
			}
			return
		}
	}
}
