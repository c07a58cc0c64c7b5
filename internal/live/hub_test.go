package live_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/room"
)

// fakeStore is a live.Store that keeps nothing: the tests of this package are
// about sockets and goroutines, not storage. A nil function field answers
// "nothing" (no error, no rows).
type fakeStore struct {
	mu    sync.Mutex
	ended map[string]bool

	edges func(userID string, others []string) map[string]live.Edge
}

var _ live.Store = (*fakeStore)(nil)

func (f *fakeStore) CreateRoom(context.Context, live.RoomRecord) error { return nil }
func (f *fakeStore) RoomByID(context.Context, string) (live.RoomRecord, error) {
	return live.RoomRecord{}, nil
}

func (f *fakeStore) ClaimRoom(context.Context, string, uint64) error { return nil }

func (f *fakeStore) EndRoom(_ context.Context, id string, _ time.Time, _ uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended == nil {
		f.ended = map[string]bool{}
	}
	f.ended[id] = true
	return nil
}

func (f *fakeStore) isEnded(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ended[id]
}

func (f *fakeStore) AddSpeaker(context.Context, string, string, time.Time) error       { return nil }
func (f *fakeStore) RoomSpeakers(context.Context, string) ([]string, error)            { return nil, nil }
func (f *fakeStore) EndLiveRooms(context.Context, time.Time, time.Time) (int, error)   { return 0, nil }
func (f *fakeStore) OpenRoom(context.Context, string, time.Time) error                 { return nil }
func (f *fakeStore) WaitingRooms(context.Context) ([]live.RoomRecord, error)           { return nil, nil }
func (f *fakeStore) CreateInvitation(context.Context, live.Invitation, []string) error { return nil }
func (f *fakeStore) Invitation(context.Context, string) (live.Invitation, []live.Recipient, error) {
	return live.Invitation{}, nil, nil
}
func (f *fakeStore) AnswerInvitation(context.Context, string, string, string, string, time.Time) error {
	return nil
}
func (f *fakeStore) InvitationsTo(context.Context, string, int) ([]live.Invitation, error) {
	return nil, nil
}
func (f *fakeStore) InvitationsFrom(context.Context, string, int) ([]live.Invitation, error) {
	return nil, nil
}
func (f *fakeStore) AddNotification(context.Context, live.Notification) error { return nil }
func (f *fakeStore) AddChat(context.Context, live.ChatMessage) error          { return nil }
func (f *fakeStore) ChatPage(context.Context, string, string, int) ([]live.ChatMessage, error) {
	return nil, nil
}
func (f *fakeStore) ChatMessage(context.Context, string) (live.ChatMessage, error) {
	return live.ChatMessage{}, live.ErrChatNotFound
}
func (f *fakeStore) DeleteChat(context.Context, string, string, time.Time) error { return nil }
func (f *fakeStore) DropChat(context.Context, string) error                      { return nil }
func (f *fakeStore) AddNotificationOnce(context.Context, live.Notification) (bool, error) {
	return true, nil
}
func (f *fakeStore) Notifications(context.Context, string, string, int) ([]live.Notification, error) {
	return nil, nil
}
func (f *fakeStore) MarkNotificationsRead(context.Context, string, []string, time.Time) error {
	return nil
}
func (f *fakeStore) EndedRoomsOf(context.Context, string, int) ([]live.RoomRecord, error) {
	return nil, nil
}
func (f *fakeStore) FollowingIDs(context.Context, string, int) ([]string, error) { return nil, nil }

func (f *fakeStore) Edges(_ context.Context, userID string, others []string) (map[string]live.Edge, error) {
	if f.edges == nil {
		return map[string]live.Edge{}, nil
	}
	return f.edges(userID, others), nil
}

// hubServer serves a hub's sockets over loopback: /rooms/{id}?user=ID opens a
// room socket as that user, /user?user=ID the user socket. Identity comes from
// the query here because this test has no sessions.
func hubServer(t *testing.T, h *live.Hub) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rooms/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("user")
		h.ServeRoom(w, r, r.PathValue("id"), live.Person{ID: id, DisplayName: id}, live.Credentials{})
	})
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("user")
		h.ServeUser(w, r, live.Person{ID: id, DisplayName: id}, live.Credentials{})
	})
	return httptest.NewServer(mux)
}

// dial opens a socket of srv and reads until the server sends a message of type
// want.
func dial(t *testing.T, srv *httptest.Server, path, want string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("%s: %v before a %s", path, err, want)
		}
		var m struct{ Type string }
		_ = json.Unmarshal(data, &m)
		if m.Type == want {
			return ws
		}
		if m.Type == "error" {
			t.Fatalf("%s: %s", path, data)
		}
	}
}

// drain reads ws until it ends, in the background, as a client does.
func drain(ws *websocket.Conn) {
	go func() {
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				return
			}
		}
	}()
}

// TestHubShutdownLeavesNoGoroutines starts live rooms with sockets, a user socket
// and a pending grace timer, shuts the hub down, and checks that the goroutines
// return to what they were before, polling with a deadline.
func TestHubShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	st := &fakeStore{}
	hub := live.NewHub(live.Options{Store: st, Grace: time.Minute, Heartbeat: 20 * time.Millisecond,
		HallwayEvery: 10 * time.Millisecond, AudienceEvery: 10 * time.Millisecond})
	srv := hubServer(t, hub)
	ctx := context.Background()

	ada, bob, cyd := ids.New(), ids.New(), ids.New()
	var rooms []string
	for range 3 {
		rec, err := hub.CreateRoom(ctx, ada, live.RoomSpec{Title: "Leaks", Type: room.Open})
		if err != nil {
			t.Fatal(err)
		}
		rooms = append(rooms, rec.ID)
	}
	// A room its creator never opens stays waiting until the shutdown.
	if _, err := hub.CreateRoom(ctx, bob, live.RoomSpec{Title: "Waiting", Type: room.Open}); err != nil {
		t.Fatal(err)
	}
	var conns []*websocket.Conn
	for _, path := range []string{
		"/rooms/" + rooms[0] + "?user=" + ada,
		"/rooms/" + rooms[0] + "?user=" + bob,
		"/rooms/" + rooms[0] + "?user=" + cyd,
		"/user?user=" + bob,
	} {
		want := "snapshot"
		if strings.HasPrefix(path, "/user") {
			want = "hallway"
		}
		ws := dial(t, srv, path, want)
		drain(ws)
		conns = append(conns, ws)
	}
	// cyd drops: a grace timer is pending at shutdown.
	conns[2].CloseNow()
	// ada moves to another room: the first one keeps bob alone in the audience.
	drain(dial(t, srv, "/rooms/"+rooms[1]+"?user="+ada, "snapshot"))

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := hub.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range rooms[:2] {
		if !st.isEnded(id) {
			t.Errorf("room %s is not ended in the store", id)
		}
	}
	srv.Close()
	for _, ws := range conns {
		ws.CloseNow()
	}

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for runtime.NumGoroutine() > before {
		select {
		case <-tick.C:
		case <-deadline:
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after shutdown, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}

	t.Run("a shut-down hub refuses new rooms", func(t *testing.T) {
		if _, err := hub.CreateRoom(ctx, ada, live.RoomSpec{Title: "Too late", Type: room.Open}); err == nil {
			t.Fatal("created a room after shutdown")
		}
	})
}

// command sends a command on ws and reads until its answer, returning the error
// code ("" for ok).
func command(t *testing.T, ws *websocket.Conn, typ string, fields map[string]any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id := ids.New()
	msg := map[string]any{"type": typ, "id": id}
	for k, v := range fields {
		msg[k] = v
	}
	b, _ := json.Marshal(msg)
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var m struct{ Type, ID, Code string }
		_ = json.Unmarshal(data, &m)
		if m.ID == id && (m.Type == "ok" || m.Type == "error") {
			return m.Code
		}
	}
}

// TestRelationChanged checks that a block made while both people are in a room
// reaches the room: the blocked person can no longer be brought on stage while
// the blocker is on it.
func TestRelationChanged(t *testing.T) {
	var mu sync.Mutex
	blocks := map[[2]string]bool{} // blocker, blocked
	st := &fakeStore{edges: func(u string, others []string) map[string]live.Edge {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]live.Edge{}
		for _, o := range others {
			out[o] = live.Edge{Blocks: blocks[[2]string{u, o}], BlockedBy: blocks[[2]string{o, u}]}
		}
		return out
	}}
	hub := live.NewHub(live.Options{Store: st})
	srv := hubServer(t, hub)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		srv.Close()
	})
	ctx := context.Background()
	ada, bob, cyd := ids.New(), ids.New(), ids.New()
	rec, err := hub.CreateRoom(ctx, ada, live.RoomSpec{Title: "Blocks", Type: room.Open})
	if err != nil {
		t.Fatal(err)
	}
	as := dial(t, srv, "/rooms/"+rec.ID+"?user="+ada, "snapshot")
	bs := dial(t, srv, "/rooms/"+rec.ID+"?user="+bob, "snapshot")
	cs := dial(t, srv, "/rooms/"+rec.ID+"?user="+cyd, "snapshot")
	drain(cs)
	for _, c := range []struct {
		ws   *websocket.Conn
		typ  string
		args map[string]any
		want string
	}{
		{as, "invite_to_speak", map[string]any{"target": bob}, ""},
		{bs, "accept_speak", nil, ""},
	} {
		if got := command(t, c.ws, c.typ, c.args); got != c.want {
			t.Fatalf("%s: %q, want %q", c.typ, got, c.want)
		}
	}

	mu.Lock()
	blocks[[2]string{bob, cyd}] = true
	mu.Unlock()
	if err := hub.RelationChanged(ctx, bob, cyd); err != nil {
		t.Fatal(err)
	}
	if got := command(t, as, "invite_to_speak", map[string]any{"target": cyd}); got != "blocked" {
		t.Fatalf("inviting someone the speaker on stage just blocked: %q, want blocked", got)
	}

	mu.Lock()
	delete(blocks, [2]string{bob, cyd})
	mu.Unlock()
	if err := hub.RelationChanged(ctx, cyd, bob); err != nil {
		t.Fatal(err)
	}
	if got := command(t, as, "invite_to_speak", map[string]any{"target": cyd}); got != "" {
		t.Fatalf("inviting someone after the block was lifted: %q", got)
	}
}

// TestJoinLooksUpNewcomers checks that a join whose look-up of edges raced with
// another join learns the newcomer's edges too: here the newcomer blocks the
// joiner, so the joiner cannot be brought on stage while the newcomer is on it.
func TestJoinLooksUpNewcomers(t *testing.T) {
	ada, bob, cyd := ids.New(), ids.New(), ids.New() // cyd blocks bob
	lookingUp, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var bobAsked [][]string
	st := &fakeStore{edges: func(u string, others []string) map[string]live.Edge {
		out := map[string]live.Edge{}
		switch u {
		case bob:
			mu.Lock()
			bobAsked = append(bobAsked, others)
			mu.Unlock()
			once.Do(func() { close(lookingUp); <-release })
			for _, o := range others {
				if o == cyd {
					out[o] = live.Edge{BlockedBy: true}
				}
			}
		case cyd:
			for _, o := range others {
				if o == bob {
					out[o] = live.Edge{Blocks: true}
				}
			}
		}
		return out
	}}
	hub := live.NewHub(live.Options{Store: st})
	srv := hubServer(t, hub)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		srv.Close()
	})
	rec, err := hub.CreateRoom(context.Background(), ada, live.RoomSpec{Title: "Races", Type: room.Open})
	if err != nil {
		t.Fatal(err)
	}
	as := dial(t, srv, "/rooms/"+rec.ID+"?user="+ada, "snapshot")
	bobJoined := make(chan *websocket.Conn)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/rooms/"+rec.ID+"?user="+bob, nil)
		if err != nil {
			close(bobJoined)
			return
		}
		for { // until the snapshot: bob is in
			_, data, err := ws.Read(ctx)
			if err != nil {
				close(bobJoined)
				return
			}
			if strings.Contains(string(data), `"type":"snapshot"`) {
				break
			}
		}
		bobJoined <- ws
	}()
	select { // bob's join is reading the store...
	case <-lookingUp:
	case <-time.After(10 * time.Second):
		t.Fatal("bob's join never read the store")
	}
	cs := dial(t, srv, "/rooms/"+rec.ID+"?user="+cyd, "snapshot") // ...when cyd joins
	close(release)
	var bs *websocket.Conn
	select {
	case ws, ok := <-bobJoined:
		if !ok {
			t.Fatal("bob could not join")
		}
		bs = ws
	case <-time.After(10 * time.Second):
		t.Fatal("bob's join did not end")
	}
	t.Cleanup(func() { bs.CloseNow() })
	drain(bs)

	mu.Lock()
	asked := bobAsked
	mu.Unlock()
	if len(asked) != 2 || len(asked[1]) != 1 || asked[1][0] != cyd {
		t.Fatalf("bob's join looked up %v, want the people present, then cyd", asked)
	}
	for _, c := range []struct {
		ws   *websocket.Conn
		typ  string
		args map[string]any
		want string
	}{
		{as, "invite_to_speak", map[string]any{"target": cyd}, ""},
		{cs, "accept_speak", nil, ""},
		{as, "invite_to_speak", map[string]any{"target": bob}, "blocked"},
	} {
		if got := command(t, c.ws, c.typ, c.args); got != c.want {
			t.Fatalf("%s: %q, want %q", c.typ, got, c.want)
		}
	}
}
