package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/townhall/townhall/client"
)

// fast is a Backoff for tests: the same doubling, in milliseconds.
var fast = client.RoomConnOptions{Backoff: client.Backoff{First: time.Millisecond, Max: 4 * time.Millisecond}}

// joinAnswer is how a fakeNode's join API answers once: a status and error code,
// or (status 0) the node's own socket.
type joinAnswer struct {
	status int
	code   string
}

// script is what a fakeNode's room socket does on one connection.
type script func(ctx context.Context, ws *websocket.Conn, n int)

// fakeNode is a node of a cluster as a RoomConn sees it, at its boundary: a join
// API that answers joins[i] to the ith join (past the end, its own socket), and a
// room socket whose ith connection plays sockets[i] (past the end, the last).
type fakeNode struct {
	URL     string
	joins   []joinAnswer
	sockets []script

	mu            sync.Mutex
	nJoin, nSocks int
}

func startNode(t *testing.T, joins []joinAnswer, sockets ...script) *fakeNode {
	t.Helper()
	n := &fakeNode{joins: joins, sockets: sockets}
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/rooms/{id}/join", func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		i := n.nJoin
		n.nJoin++
		n.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if i < len(n.joins) && n.joins[i].status != 0 {
			w.WriteHeader(n.joins[i].status)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": n.joins[i].code, "message": "refused"}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"node": "n1", "socket_url": "ws://" + r.Host + "/api/v1/rooms/" + r.PathValue("id") + "/socket"})
	})
	mux.HandleFunc("GET /api/v1/rooms/{id}/socket", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{client.Subprotocol}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		n.mu.Lock()
		i := n.nSocks
		n.nSocks++
		n.mu.Unlock()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		n.sockets[min(i, len(n.sockets)-1)](ctx, ws, i)
	})
	srv := httptest.NewServer(mux)
	n.URL = srv.URL
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // before srv.Close: the sockets still open end
	return n
}

// counts returns how many joins and sockets the node has served.
func (n *fakeNode) counts() (joins, sockets int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nJoin, n.nSocks
}

func write(ctx context.Context, ws *websocket.Conn, frames ...string) error {
	for _, f := range frames {
		if err := ws.Write(ctx, websocket.MessageText, []byte(f)); err != nil {
			return err
		}
	}
	return nil
}

// greet sends the welcome (resumed after the first connection) and a snapshot.
func greet(ctx context.Context, ws *websocket.Conn, n int) error {
	return write(ctx, ws,
		`{"type":"welcome","protocol":1,"you":{"id":"u","display_name":"U"},"room_id":"r","resumed":`+strconv.FormatBool(n > 0)+`}`,
		`{"type":"snapshot","seq":0,"room":{"id":"r","state":"live"}}`)
}

// goodbye greets, then says bye with reason (none if "") and closes with code (a
// drop if 0).
func goodbye(reason string, code websocket.StatusCode) script {
	return func(ctx context.Context, ws *websocket.Conn, n int) {
		if greet(ctx, ws, n) != nil {
			return
		}
		if reason != "" && write(ctx, ws, `{"type":"bye","reason":"`+reason+`"}`) != nil {
			return
		}
		if code == 0 {
			_ = ws.CloseNow()
			return
		}
		_ = ws.Close(code, "")
	}
}

// stays greets and answers commands with ok; a leave also gets bye left.
func stays(ctx context.Context, ws *websocket.Conn, n int) {
	if greet(ctx, ws, n) != nil {
		return
	}
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var msg struct{ Type, ID string }
		_ = json.Unmarshal(data, &msg)
		if write(ctx, ws, `{"type":"ok","id":"`+msg.ID+`"}`) != nil {
			return
		}
		if msg.Type == "leave" {
			_ = write(ctx, ws, `{"type":"bye","reason":"left"}`)
			_ = ws.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

// refuses refuses the join with code, as the server does once upgraded.
func refuses(code string) script {
	return func(ctx context.Context, ws *websocket.Conn, n int) {
		_ = write(ctx, ws, `{"type":"error","code":"`+code+`","message":"refused"}`)
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}
}

// silent greets, then neither reads nor writes: pings go unanswered.
func silent(ctx context.Context, ws *websocket.Conn, n int) {
	if greet(ctx, ws, n) == nil {
		<-ctx.Done()
	}
}

// connect opens a RoomConn to the room "r" and closes it when the test ends.
func connect(t *testing.T, c *client.Client, opts client.RoomConnOptions) *client.RoomConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	rc, err := c.ConnectRoom(ctx, "r", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

// take returns the next message of rc, or fails t if there is none.
func take(t *testing.T, rc *client.RoomConn) client.Message {
	t.Helper()
	select {
	case m, ok := <-rc.Messages():
		if !ok {
			t.Fatalf("the RoomConn stopped: %v", rc.Err())
		}
		return m
	case <-time.After(patience):
		t.Fatal("no message")
	}
	return client.Message{}
}

// expectEnd reads rc's messages until it stops, and returns them.
func expectEnd(t *testing.T, rc *client.RoomConn) []client.Message {
	t.Helper()
	var got []client.Message
	deadline := time.After(patience)
	for {
		select {
		case m, ok := <-rc.Messages():
			if !ok {
				return got
			}
			got = append(got, m)
		case <-deadline:
			t.Fatalf("the RoomConn did not stop; it delivered %d messages", len(got))
		}
	}
}

// expectWelcome takes messages up to the next welcome and returns it.
func expectWelcome(t *testing.T, rc *client.RoomConn) client.Message {
	t.Helper()
	for {
		if m := take(t, rc); m.Type == "welcome" {
			return m
		}
	}
}

func TestRoomConnReconnectsOrStopsByHowTheSocketEnds(t *testing.T) {
	tests := []struct {
		name      string
		first     script
		reconnect bool
		reason    string // why it stops, when it does
	}{
		{"after bye moved it reconnects", goodbye("moved", 4006), true, ""},
		{"after bye shutdown it reconnects", goodbye("shutdown", websocket.StatusGoingAway), true, ""},
		{"after a drop without a bye it reconnects", goodbye("", 0), true, ""},
		{"after close 4006 whose bye was lost it reconnects", goodbye("", 4006), true, ""},
		{"after bye left it stops", goodbye("left", websocket.StatusNormalClosure), false, "left"},
		{"after bye removed it stops", goodbye("removed", 4003), false, "removed"},
		{"after bye room_ended it stops", goodbye("room_ended", 4004), false, "room_ended"},
		{"after bye replaced it stops", goodbye("replaced", 4001), false, "replaced"},
		{"after bye session_ended it stops", goodbye("session_ended", 4005), false, "session_ended"},
		{"after bye account_disabled it stops", goodbye("account_disabled", 4005), false, "account_disabled"},
		{"after bye abuse it stops", goodbye("abuse", websocket.StatusPolicyViolation), false, "abuse"},
		{"after close 4004 whose bye was lost it stops", goodbye("", 4004), false, "room_ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := startNode(t, nil, tt.first, stays)
			rc := connect(t, client.New(node.URL).WithToken("t"), fast)
			first := expectWelcome(t, rc)
			if first.Socket() == nil || first.Resumed {
				t.Fatalf("first welcome %s from %p", first.Raw, first.Socket())
			}
			if !tt.reconnect {
				got := expectEnd(t, rc)
				if client.Code(rc.Err()) != tt.reason || rc.Reconnects() != 0 {
					t.Fatalf("stopped with %v after %d reconnects, want %q", rc.Err(), rc.Reconnects(), tt.reason)
				}
				if _, socks := node.counts(); socks != 1 || len(got) == 0 {
					t.Fatalf("%d sockets, %d messages after the welcome", socks, len(got))
				}
				return
			}
			again := expectWelcome(t, rc)
			if !again.Resumed || again.Socket() == first.Socket() || rc.Socket() != again.Socket() {
				t.Fatalf("second welcome %s, on a new socket: %v", again.Raw, again.Socket() != first.Socket())
			}
			if rc.Reconnects() != 1 {
				t.Fatalf("%d reconnects, want 1", rc.Reconnects())
			}
			if joins, _ := node.counts(); joins != 2 {
				t.Fatalf("the join API was asked %d times, want once per socket", joins)
			}
			if m := take(t, rc); m.Type != "snapshot" || m.Socket() != again.Socket() {
				t.Fatalf("got %s, want the new socket's snapshot", m.Raw)
			}
			if err := rc.Command(context.Background(), "leave", nil); err != nil {
				t.Fatal(err)
			}
			got := expectEnd(t, rc)
			if len(got) != 1 || got[0].Reason != "left" || client.Code(rc.Err()) != "left" {
				t.Fatalf("after leave: %d messages, err %v", len(got), rc.Err())
			}
		})
	}
}

func TestRoomConnJoinFailures(t *testing.T) {
	unavailable := joinAnswer{503, "unavailable"}
	t.Run("a join API that is unavailable for a moment is asked again", func(t *testing.T) {
		node := startNode(t, []joinAnswer{unavailable, unavailable}, stays)
		rc := connect(t, client.New(node.URL), fast)
		expectWelcome(t, rc)
		if joins, socks := node.counts(); joins != 3 || socks != 1 {
			t.Fatalf("%d joins, %d sockets", joins, socks)
		}
	})
	t.Run("a node that cannot help is left for the next server", func(t *testing.T) {
		draining := startNode(t, []joinAnswer{unavailable, unavailable, unavailable}, stays)
		other := startNode(t, nil, stays)
		c := client.New(deadURL(t), draining.URL, other.URL)
		rc := connect(t, c, fast)
		expectWelcome(t, rc)
		if joins, _ := draining.counts(); joins != 1 {
			t.Fatalf("the draining node was asked %d times", joins)
		}
		if _, socks := other.counts(); socks != 1 {
			t.Fatalf("the other node served %d sockets", socks)
		}
	})
	t.Run("a first join refused for cause is returned", func(t *testing.T) {
		node := startNode(t, []joinAnswer{{403, "removed_from_room"}}, stays)
		_, err := client.New(node.URL).ConnectRoom(context.Background(), "r", fast)
		if client.Code(err) != "removed_from_room" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a join API that stays unavailable is given up on", func(t *testing.T) {
		always := make([]joinAnswer, 10_000) // far more than can be asked in GiveUp
		for i := range always {
			always[i] = unavailable
		}
		node := startNode(t, always, stays)
		opts := fast
		opts.GiveUp = 3 * time.Millisecond
		_, err := client.New(node.URL).ConnectRoom(context.Background(), "r", opts)
		if !errors.Is(err, client.ErrGaveUp) || client.Code(err) != "unavailable" {
			t.Fatalf("got %v", err)
		}
	})

	tests := []struct {
		name      string
		joins     []joinAnswer
		sockets   []script
		code      string // why it stops ("": it does not)
		delivered bool   // the refusal comes on Messages
	}{
		{name: "a room gone while reconnecting stops it", joins: []joinAnswer{{}, {404, "not_found"}},
			sockets: []script{goodbye("moved", 4006)}, code: "not_found"},
		{name: "a room ended while reconnecting stops it", joins: []joinAnswer{{}, {410, "room_ended"}},
			sockets: []script{goodbye("", 0)}, code: "room_ended"},
		{name: "a join refused on the new socket for cause stops it, and says so",
			sockets: []script{goodbye("moved", 4006), refuses("removed_from_room")}, code: "removed_from_room", delivered: true},
		{name: "a join refused on the new socket for a moment is tried again",
			sockets: []script{goodbye("moved", 4006), refuses("unavailable"), stays}},
		{name: "a join API unavailable during a takeover is tried again",
			joins: []joinAnswer{{}, unavailable, {421, "wrong_node"}}, sockets: []script{goodbye("", 0), stays}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := startNode(t, tt.joins, tt.sockets...)
			rc := connect(t, client.New(node.URL), fast)
			expectWelcome(t, rc)
			if tt.code == "" {
				if m := expectWelcome(t, rc); !m.Resumed || rc.Reconnects() != 1 {
					t.Fatalf("welcome %s after %d reconnects", m.Raw, rc.Reconnects())
				}
				return
			}
			got := expectEnd(t, rc)
			if client.Code(rc.Err()) != tt.code || rc.Reconnects() != 0 {
				t.Fatalf("stopped with %v after %d reconnects, want %s", rc.Err(), rc.Reconnects(), tt.code)
			}
			last := got[len(got)-1]
			if refused := last.Type == "error" && last.Code == tt.code; refused != tt.delivered {
				t.Fatalf("the last message %s", last.Raw)
			}
		})
	}
}

func TestRoomConnDropsASocketThatStopsAnswering(t *testing.T) {
	node := startNode(t, nil, silent, stays)
	opts := fast
	opts.Liveness = 50 * time.Millisecond
	rc := connect(t, client.New(node.URL), opts)
	first := expectWelcome(t, rc)
	if m := expectWelcome(t, rc); m.Socket() == first.Socket() || rc.Reconnects() != 1 {
		t.Fatalf("welcome %s after %d reconnects", m.Raw, rc.Reconnects())
	}
}

func TestRoomConnCloseStopsIt(t *testing.T) {
	node := startNode(t, nil, stays)
	rc := connect(t, client.New(node.URL), fast)
	expectWelcome(t, rc)
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	expectEnd(t, rc)
	if rc.Err() != nil || rc.Socket() != nil {
		t.Fatalf("err %v, socket %p", rc.Err(), rc.Socket())
	}
	if err := rc.Command(context.Background(), "raise_hand", nil); !errors.Is(err, client.ErrNoSocket) {
		t.Fatalf("a command after Close: %v", err)
	}
}
