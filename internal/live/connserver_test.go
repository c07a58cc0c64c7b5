package live

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A server of conns under test, and a network that can stall.

// stall is a switch on the server's side of the network: while it is on, the
// server's writes block as they do to a client that stopped reading, and each
// write that blocks is reported on blocked.
type stall struct {
	mu      sync.Mutex
	gate    chan struct{} // closed when the stall is lifted; nil while off
	blocked chan struct{}
}

func newStall() *stall { return &stall{blocked: make(chan struct{}, 1)} }

func (s *stall) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate == nil {
		s.gate = make(chan struct{})
	}
}

func (s *stall) lift() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

// wait blocks a write while the stall is on, until it is lifted or the
// connection closed.
func (s *stall) wait(closed <-chan struct{}) {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate == nil {
		return
	}
	select {
	case s.blocked <- struct{}{}:
	default:
	}
	select {
	case <-gate:
	case <-closed:
	}
}

// waitBlocked waits until a write of the server is held by the stall.
func (s *stall) waitBlocked(t *testing.T) {
	t.Helper()
	select {
	case <-s.blocked:
	case <-time.After(waitFor):
		t.Fatal("no write of the server blocked on the stalled network")
	}
}

type stallListener struct {
	net.Listener
	s *stall
}

func (l stallListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stalledConn{Conn: nc, s: l.s, closed: make(chan struct{})}, nil
}

type stalledConn struct {
	net.Conn
	s      *stall
	once   sync.Once
	closed chan struct{}
}

func (c *stalledConn) Write(b []byte) (int, error) {
	c.s.wait(c.closed)
	return c.Conn.Write(b)
}

func (c *stalledConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// connServer serves conns over loopback as ServeRoom does: the handler reads
// until the socket ends, then closes its conn and waits until it is finished.
type connServer struct {
	srv   *httptest.Server
	stall *stall // nil: the network never stalls
	conns chan served
}

// served is the server's side of one socket and a channel closed when its
// handler has returned.
type served struct {
	c        *conn
	returned chan struct{}
}

func newConnServer(t *testing.T, heartbeat time.Duration, s *stall) *connServer {
	t.Helper()
	cs := &connServer{stall: s, conns: make(chan served, 64)}
	cs.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c := newConn(ws, Person{ID: "p", DisplayName: "P"}, Credentials{}, heartbeat)
		returned := make(chan struct{})
		defer close(returned)
		cs.conns <- served{c, returned}
		defer func() { <-c.done }()
		defer c.close("")
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				return
			}
		}
	}))
	if s != nil {
		cs.srv.Listener = stallListener{cs.srv.Listener, s}
	}
	cs.srv.Start()
	t.Cleanup(cs.srv.Close)
	return cs
}

// open opens a socket and returns the server's conn and the client's side. The
// socket is closed, and its handler awaited, when the test ends.
func (cs *connServer) open(t *testing.T, opts *websocket.DialOptions) (*conn, *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(cs.srv.URL, "http"), opts)
	if err != nil {
		t.Fatal(err)
	}
	var s served
	select {
	case s = <-cs.conns:
	case <-ctx.Done():
		t.Fatal("the server never served the socket")
	}
	t.Cleanup(func() {
		if cs.stall != nil {
			cs.stall.lift()
		}
		client.CloseNow()
		select {
		case <-s.returned:
		case <-time.After(waitFor):
			t.Error("the handler did not return after the client went")
		}
	})
	return s.c, client
}

// read reads the next message the client gets.
func read(t *testing.T, client *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, data, err := client.Read(ctx)
	if err != nil {
		t.Fatalf("reading a message: %v", err)
	}
	return string(data)
}

// readClose reads until the server's close frame and returns it.
func readClose(t *testing.T, client *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, data, err := client.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("got %q, %v; want the close frame", data, err)
	}
	return ce
}

// waitDone waits until c is finished.
func waitDone(t *testing.T, c *conn) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitFor):
		t.Fatal("the conn never finished")
	}
}

func isDone(c *conn) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
