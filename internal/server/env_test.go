package server_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/server"
	"github.com/townhall/townhall/internal/servertest"
	"github.com/townhall/townhall/internal/store/storetest"
)

// patience bounds every wait of these tests: a message, a condition, a shutdown.
const patience = 10 * time.Second

// password is every test user's password.
const password = "correct horse battery"

// testServer is a whole townhall server on loopback, as `townhall serve` runs it.
type testServer struct {
	t     *testing.T
	url   string
	admin *user
	stop  func() // stops the server (idempotent) and waits for Run to return
}

type serverOption = servertest.Option

// withGrace sets how long a dropped participant keeps their place.
func withGrace(d time.Duration) serverOption {
	return servertest.WithConfig(func(c *config.Config) { c.Grace = d })
}

// withConfig adjusts the configuration.
func withConfig(f func(*config.Config)) serverOption { return servertest.WithConfig(f) }

// withLive adjusts the live hub's options that are not flags.
func withLive(f func(*live.Options)) serverOption {
	return servertest.WithServerOptions(server.WithLiveOptions(f))
}

// quickHallway pushes hallway changes without the default 2 s pause, so tests
// that wait for a push do not wait long.
func quickHallway() serverOption {
	return withLive(func(o *live.Options) { o.HallwayEvery = 20 * time.Millisecond })
}

// startServer runs a server with a fresh store of the given driver and signs up an
// admin through the first-run code.
func startServer(t *testing.T, driver string, opts ...serverOption) *testServer {
	t.Helper()
	if driver == "postgres" {
		dsn := storetest.PostgresSchema(t)
		opts = append([]serverOption{servertest.WithConfig(func(c *config.Config) { c.DB = dsn })}, opts...)
	}
	srv := servertest.Start(t, opts...)
	ts := &testServer{t: t, url: srv.URL, stop: srv.Stop}
	c, sess, err := client.New(ts.url).SignUp(context.Background(), "admin", password, srv.Code)
	if err != nil {
		t.Fatal(err)
	}
	ts.admin = &user{Client: c, ID: sess.User.ID, Name: "admin"}
	return ts
}

// user is a signed-in test user.
type user struct {
	*client.Client
	ID   string
	Name string
}

// user signs up a new user invited by the admin.
func (ts *testServer) user(name string) *user {
	ts.t.Helper()
	ctx := context.Background()
	inv, err := ts.admin.CreateInvite(ctx)
	if err != nil {
		ts.t.Fatal(err)
	}
	c, sess, err := client.New(ts.url).SignUp(ctx, name, password, inv.Code)
	if err != nil {
		ts.t.Fatal(err)
	}
	return &user{Client: c, ID: sess.User.ID, Name: name}
}

// users signs up one user per name.
func (ts *testServer) users(names ...string) []*user {
	ts.t.Helper()
	out := make([]*user, len(names))
	for i, n := range names {
		out[i] = ts.user(n)
	}
	return out
}

// login opens a new session of u: another device.
func (ts *testServer) login(u *user) *user {
	ts.t.Helper()
	c, _, err := client.New(ts.url).Login(context.Background(), u.Name, password)
	if err != nil {
		ts.t.Fatal(err)
	}
	return &user{Client: c, ID: u.ID, Name: u.Name}
}

// guest is a client without an account.
func (ts *testServer) guest() *client.Client { return client.New(ts.url) }

// follow makes each pair follow: follow(a, b) makes a follow b.
func follow(t *testing.T, a, b *user) {
	t.Helper()
	if err := a.Follow(context.Background(), b.Name); err != nil {
		t.Fatal(err)
	}
}

// createRoom creates a room, failing the test on error.
func createRoom(t *testing.T, u *user, spec client.RoomSpec) client.Room {
	t.Helper()
	r, err := u.CreateRoom(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sock is a room or user socket under test. Every event read through it must
// carry the seq after the previous one (from the last snapshot on).
type sock struct {
	*client.Socket
	who     string
	seq     uint64
	welcome client.Message
	state   client.RoomState    // the last snapshot read
	seen    []client.Message    // everything read, for absence checks
	media   chan client.Message // audio signaling met while reading, in order
	pending []client.Message    // room messages read while looking for audio signaling
}

// openRoom opens a room socket for c and waits for the welcome and the snapshot.
func openRoom(t *testing.T, c *client.Client, who, roomID string) *sock {
	t.Helper()
	s, err := tryRoom(t, c, who, roomID)
	if err != nil {
		t.Fatalf("%s joining %s: %v", who, roomID, err)
	}
	return s
}

// join opens u's room socket.
func join(t *testing.T, u *user, roomID string) *sock {
	t.Helper()
	return openRoom(t, u.Client, u.Name, roomID)
}

// tryRoom dials a room socket; a dial refused over HTTP is returned as an error,
// and so is an error message instead of the welcome.
func tryRoom(t *testing.T, c *client.Client, who, roomID string) (*sock, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var (
		cs  *client.Socket
		err error
	)
	if c.Token() == "" {
		cs, err = c.JoinAsGuest(ctx, roomID)
	} else {
		cs, err = c.JoinRoom(ctx, roomID)
	}
	if err != nil {
		return nil, err
	}
	s := &sock{Socket: cs, who: who, media: make(chan client.Message, 10000)}
	t.Cleanup(func() { cs.Close() })
	first := s.next(t, "the welcome")
	if first.Type == "error" {
		return s, &client.SocketError{Code: first.Code, Message: first.Message}
	}
	if first.Type != "welcome" {
		t.Fatalf("%s: first message %s, want welcome", who, first.Raw)
	}
	s.welcome = first
	s.waitFor(t, "the snapshot", msgType("snapshot"))
	return s, nil
}

// userSocket opens u's user socket and waits for its welcome.
func userSocket(t *testing.T, u *user) *sock {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	cs, err := u.UserSocket(ctx)
	if err != nil {
		t.Fatalf("%s opening the user socket: %v", u.Name, err)
	}
	t.Cleanup(func() { cs.Close() })
	s := &sock{Socket: cs, who: u.Name + "'s user socket", media: make(chan client.Message, 16)}
	s.welcome = s.waitFor(t, "the welcome", msgType("welcome"))
	return s
}

// next returns the next message, failing after patience. It checks the seq of
// events and keeps the last snapshot.
func (s *sock) next(t *testing.T, what string) client.Message {
	t.Helper()
	if len(s.pending) > 0 {
		m := s.pending[0]
		s.pending = s.pending[1:]
		return s.account(t, m)
	}
	deadline := time.After(patience)
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatalf("%s: socket closed (%v) while waiting for %s", s.who, s.Err(), what)
			}
			if isMedia(m) {
				// Audio signaling runs beside the room's messages: tests
				// of the room skip it, tests of audio read it with mediaMsg.
				select {
				case s.media <- m:
				default: // active speakers nobody reads: drop
				}
				continue
			}
			return s.account(t, m)
		case <-deadline:
			t.Fatalf("%s: timed out waiting for %s", s.who, what)
		}
	}
}

// account checks the seq of an event and keeps the last snapshot.
func (s *sock) account(t *testing.T, m client.Message) client.Message {
	t.Helper()
	s.seen = append(s.seen, m)
	switch m.Type {
	case "snapshot":
		st, err := m.State()
		if err != nil {
			t.Fatalf("%s: bad snapshot %s: %v", s.who, m.Raw, err)
		}
		s.seq, s.state = m.Seq, st
	case "event":
		if m.Seq != s.seq+1 {
			t.Fatalf("%s: event seq %d after %d: %s", s.who, m.Seq, s.seq, m.Raw)
		}
		s.seq = m.Seq
	}
	return m
}

// mediaMsg returns the next audio signaling message of type typ, keeping the room
// messages it reads on the way for next.
func (s *sock) mediaMsg(t *testing.T, typ string) client.Message {
	t.Helper()
	deadline := time.After(patience)
	for {
		select {
		case m := <-s.media:
			if m.Type == typ {
				return m
			}
			continue
		default:
		}
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatalf("%s: socket closed (%v) while waiting for %s", s.who, s.Err(), typ)
			}
			if !isMedia(m) {
				s.pending = append(s.pending, m)
				continue
			}
			if m.Type == typ {
				return m
			}
		case <-deadline:
			t.Fatalf("%s: timed out waiting for %s", s.who, typ)
		}
	}
}

// drainMedia reads what has arrived without waiting, keeps the room messages for
// next, and counts the audio signaling messages by type.
func (s *sock) drainMedia() map[string]int {
	n := map[string]int{}
	for {
		select {
		case m := <-s.media:
			n[m.Type]++
			continue
		default:
		}
		select {
		case m, ok := <-s.Messages():
			if !ok {
				return n
			}
			if isMedia(m) {
				n[m.Type]++
			} else {
				s.pending = append(s.pending, m)
			}
		default:
			return n
		}
	}
}

// isMedia reports whether m is audio signaling rather than a room message.
func isMedia(m client.Message) bool {
	return m.Type == "offer" || m.Type == "candidate" || m.Type == "active_speakers"
}

// waitFor reads messages until match returns true.
func (s *sock) waitFor(t *testing.T, what string, match func(client.Message) bool) client.Message {
	t.Helper()
	for {
		if m := s.next(t, what); match(m) {
			return m
		}
	}
}

// event waits for an event of kind about user (any user if "").
func (s *sock) event(t *testing.T, kind, user string) client.Message {
	t.Helper()
	return s.waitFor(t, kind+" "+user, ev(kind, user))
}

// nextEvent returns the next event message, skipping nothing else.
func (s *sock) nextEvent(t *testing.T, what string) client.Message {
	t.Helper()
	m := s.next(t, what)
	if m.Type != "event" {
		t.Fatalf("%s: got %s while waiting for %s", s.who, m.Raw, what)
	}
	return m
}

// do sends a command that must succeed.
func (s *sock) do(t *testing.T, typ string, fields map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := s.Command(ctx, typ, fields); err != nil {
		t.Fatalf("%s: %s %v: %v", s.who, typ, fields, err)
	}
}

// refused sends a command that must be refused with code.
func (s *sock) refused(t *testing.T, typ string, fields map[string]any, code string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	err := s.Command(ctx, typ, fields)
	if got := client.Code(err); got != code {
		t.Fatalf("%s: %s %v: got %v (code %q), want code %q", s.who, typ, fields, err, got, code)
	}
}

// snapshot asks for a snapshot and returns it.
func (s *sock) snapshot(t *testing.T) client.RoomState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := s.RequestSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "a snapshot", msgType("snapshot"))
	return s.state
}

// ended reads until the server closes the socket and returns the reason of its
// bye ("" without one) and the close status.
func (s *sock) ended(t *testing.T) (string, websocket.StatusCode) {
	t.Helper()
	bye := ""
	deadline := time.After(patience)
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				return bye, s.CloseStatus()
			}
			s.seen = append(s.seen, m)
			if m.Type == "bye" {
				bye = m.Reason
			}
		case <-deadline:
			t.Fatalf("%s: the server did not close the socket", s.who)
		}
	}
}

// mentions reports whether anything read on s so far contains one of needles.
func (s *sock) mentions(needles ...string) (client.Message, bool) {
	for _, m := range s.seen {
		for _, n := range needles {
			if strings.Contains(string(m.Raw), n) {
				return m, true
			}
		}
	}
	return client.Message{}, false
}

// msgType matches messages of a type.
func msgType(typ string) func(client.Message) bool {
	return func(m client.Message) bool { return m.Type == typ }
}

// ev matches an event of kind about user (any user if "").
func ev(kind, user string) func(client.Message) bool {
	return func(m client.Message) bool {
		return m.Type == "event" && m.Kind == kind && (user == "" || subject(m) == user)
	}
}

// eventData is the union of the event data shapes of docs/protocol.md.
type eventData struct {
	User          *client.Person `json:"user"`
	UserID        string         `json:"user_id"`
	Role          string         `json:"role"`
	Muted         bool           `json:"muted"`
	Reason        string         `json:"reason"`
	By            string         `json:"by"`
	Held          bool           `json:"held"`
	Auto          bool           `json:"auto"`
	Policy        string         `json:"policy"`
	Users         []string       `json:"users"`
	ToStage       bool           `json:"to_stage"`
	ListenerCount int            `json:"listener_count"`
}

func dataOf(m client.Message) eventData {
	var d eventData
	_ = m.DecodeData(&d)
	return d
}

// subject is the user an event is about.
func subject(m client.Message) string { return m.Subject() }

// eventually polls cond until it holds, failing after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(patience)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := client.Code(err); got != code {
		t.Fatalf("%s: got %v (code %q), want code %q", what, err, got, code)
	}
}

// asErr is errors.As for the client's HTTP errors.
func asErr(err error, target **client.Error) bool { return errors.As(err, target) }

// wantStatus fails unless err is an HTTP error with that status and code.
func wantStatus(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("%s: got %v, want %d %s", what, err, status, code)
	}
}

// stageIDs lists the IDs on a snapshot's stage.
func stageIDs(st client.RoomState) []string {
	out := make([]string, len(st.Stage))
	for i, p := range st.Stage {
		out[i] = p.ID
	}
	return out
}

// listenerIDs lists the IDs in a snapshot's audience.
func listenerIDs(st client.RoomState) []string {
	out := make([]string, len(st.Listeners))
	for i, p := range st.Listeners {
		out[i] = p.ID
	}
	return out
}

func roleOf(st client.RoomState, id string) string {
	if p, ok := st.OnStage(id); ok {
		return p.Role
	}
	if slices.Contains(listenerIDs(st), id) {
		return "listener"
	}
	return ""
}

func idsOf(us ...*user) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// ctxT is a context for the requests of a test, cancelled when it ends.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var _ = fmt.Sprint
