package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/live"
)

// TestRoomSocketProtocol checks the rules of the room socket that do not need a
// special server: the opening, seq numbering, snapshots, answers and their codes,
// malformed input, sizes and rates, replaced and moved connections.
func TestRoomSocketProtocol(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan")
	bob, cyd, dan := us[0], us[1], us[2]

	t.Run("the socket opens with a welcome naming protocol 1, then a snapshot", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Opening", Type: "open"})
		as := join(t, ada, rm.ID)
		w := as.welcome
		if w.Protocol != 1 || w.You == nil || w.You.ID != ada.ID || w.RoomID != rm.ID || w.Resumed {
			t.Fatalf("welcome %s", w.Raw)
		}
		if got := as.Subprotocol(); got != client.Subprotocol {
			t.Fatalf("subprotocol %q, want %q", got, client.Subprotocol)
		}
		if as.state.ID != rm.ID || as.state.Title != "Opening" || as.seq != 0 {
			t.Fatalf("snapshot at seq %d: %+v", as.seq, as.state)
		}
	})

	t.Run("each connection numbers its own events from one, by one", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Numbers", Type: "open"})
		as := join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		if m := as.event(t, "listener_joined", bob.ID); m.Seq != 1 {
			t.Fatalf("ada's first event has seq %d", m.Seq)
		}
		join(t, cyd, rm.ID)
		if m := as.event(t, "listener_joined", cyd.ID); m.Seq != 2 {
			t.Fatalf("ada's second event has seq %d", m.Seq)
		}
		if m := bs.event(t, "listener_joined", cyd.ID); m.Seq != 1 {
			t.Fatalf("bob's first event has seq %d", m.Seq)
		}
	})

	t.Run("a snapshot request answers with the room at the connection's seq", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Snapshots", Type: "open"})
		as := join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		as.event(t, "listener_joined", bob.ID)
		bs.do(t, "raise_hand", nil)
		as.event(t, "hand_raised", bob.ID)
		if err := as.Send(ctx, map[string]any{"type": "snapshot", "id": "s1"}); err != nil {
			t.Fatal(err)
		}
		if m := as.waitFor(t, "the snapshot", msgType("snapshot")); m.ID != "s1" {
			t.Fatalf("the snapshot does not answer its request id: %s", m.Raw)
		}
		st := as.state
		if as.seq != 2 || len(st.RaisedHands) != 1 || st.RaisedHands[0].ID != bob.ID || st.ListenerCount != 1 {
			t.Fatalf("snapshot at seq %d: %+v", as.seq, st)
		}
		bs.do(t, "lower_hand", nil)
		if m := as.event(t, "hand_lowered", bob.ID); m.Seq != 3 {
			t.Fatalf("the event after the snapshot has seq %d, want 3", m.Seq)
		}
	})

	t.Run("refused commands get an error with a stable code and their request id", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Refusals", Type: "open"})
		as := join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		cs := join(t, cyd, rm.ID)
		bs.do(t, "raise_hand", nil)
		cases := []struct {
			name   string
			s      *sock
			typ    string
			fields map[string]any
			code   string
		}{
			{"a listener muting a moderator is forbidden", bs, "mute", map[string]any{"target": ada.ID}, "forbidden"},
			{"a listener ending the room is forbidden", bs, "end", nil, "forbidden"},
			{"a listener removing someone is forbidden", cs, "remove", map[string]any{"target": bob.ID}, "forbidden"},
			{"a listener setting the hand policy is forbidden", bs, "set_hand_policy", map[string]any{"policy": "nobody"}, "forbidden"},
			{"a moderator removing themselves is forbidden", as, "remove", map[string]any{"target": ada.ID}, "forbidden"},
			{"raising a raised hand is a conflict", bs, "raise_hand", nil, "conflict"},
			{"a listener unmuting is a conflict", cs, "set_muted", map[string]any{"muted": false}, "conflict"},
			{"accepting an invitation to speak that was never made is a conflict", cs, "accept_speak", nil, "conflict"},
			{"revoking the last moderator is a conflict", as, "revoke_moderator", map[string]any{"target": ada.ID}, "conflict"},
			{"making a listener a moderator is a conflict", as, "make_moderator", map[string]any{"target": bob.ID}, "conflict"},
			{"a moderator raising a hand is a conflict", as, "raise_hand", nil, "conflict"},
			{"a target who is not in the room is not found", as, "invite_to_speak", map[string]any{"target": dan.ID}, "not_found"},
			{"a target that is not an ID is a bad request", as, "mute", map[string]any{"target": "bob"}, "bad_request"},
			{"an unknown hand policy is a bad request", as, "set_hand_policy", map[string]any{"policy": "loudest"}, "bad_request"},
			{"set_muted without muted is a bad request", as, "set_muted", nil, "bad_request"},
			{"naming the actor is a bad request: identity comes from the session", cs, "raise_hand", map[string]any{"user_id": bob.ID}, "bad_request"},
			{"a malformed audio answer is a bad request", as, "answer", map[string]any{"sdp": "v=0"}, "bad_request"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.s.refused(t, c.typ, c.fields, c.code) })
		}
		// None of them changed the room: bob's hand is the only event since he
		// joined (the moderator sees it; cyd, a listener, does not).
		if st := as.snapshot(t); len(st.Stage) != 1 || len(st.RaisedHands) != 1 || st.State != "live" {
			t.Fatalf("the refusals changed the room: %+v", st)
		}
	})

	t.Run("a ping gets a pong with its id", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Ping", Type: "open"})
		as := join(t, ada, rm.ID)
		if err := as.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("malformed JSON and unknown types get bad_request; ten in a row close the socket with bye abuse", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Garbage", Type: "open"})
		join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		frames := [][]byte{
			[]byte(`{`),
			[]byte(`{"type":"fly","id":"u1"}`),
			[]byte(`{"type":"raise_hand","id":"d1","id":"d2"}`),
			[]byte(`[1,2,3]`),
			[]byte("{\"type\":\"raise_hand\",\"id\":\"\xff\"}"),
			[]byte(``),
		}
		for _, f := range frames {
			if err := bs.SendRaw(ctx, f); err != nil {
				t.Fatal(err)
			}
			m := bs.waitFor(t, "an error", msgType("error"))
			if m.Code != "bad_request" {
				t.Fatalf("%q: error %s", f, m.Raw)
			}
		}
		if err := bs.SendRaw(ctx, []byte(`{"type":"fly","id":"u2"}`)); err != nil {
			t.Fatal(err)
		}
		if m := bs.waitFor(t, "an error", msgType("error")); m.ID != "u2" {
			t.Fatalf("the error of an unknown type does not carry its request id: %s", m.Raw)
		}
		// A good message resets the count; ten bad ones in a row close the socket.
		if err := bs.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if err := bs.SendRaw(ctx, []byte(`not json`)); err != nil {
				break // the server may close before the tenth
			}
		}
		if bye, status := bs.ended(t); bye != "abuse" || status != websocket.StatusPolicyViolation {
			t.Fatalf("bye %q status %d, want abuse and 1008", bye, status)
		}
	})

	t.Run("a frame over 64 KiB closes the socket with message too big", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Big frames", Type: "open"})
		join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		big := append([]byte(`{"type":"ping","id":"`), bytes.Repeat([]byte("x"), live.MaxFrame)...)
		big = append(big, `"}`...)
		_ = bs.SendRaw(ctx, big)
		if _, status := bs.ended(t); status != websocket.StatusMessageTooBig {
			t.Fatalf("status %d, want 1009", status)
		}
	})

	t.Run("messages past the rate limit are refused with rate_limited, and a flood is closed", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Flood", Type: "open"})
		join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		for i := range 200 {
			if err := bs.Send(ctx, map[string]any{"type": "ping", "id": "p" + string(rune('a'+i%26))}); err != nil {
				break
			}
		}
		limited := false
		for {
			m, ok := <-bs.Messages()
			if !ok {
				break
			}
			if m.Type == "error" && m.Code == "rate_limited" {
				limited = true
				if m.ID == "" {
					t.Fatalf("a rate_limited error without the request id: %s", m.Raw)
				}
			}
			if m.Type == "bye" && m.Reason != "abuse" {
				t.Fatalf("bye %q", m.Reason)
			}
		}
		if !limited {
			t.Fatal("200 pings at once were never rate limited")
		}
		if s := bs.CloseStatus(); s != websocket.StatusPolicyViolation {
			t.Fatalf("close status %d, want 1008", s)
		}
	})

	t.Run("a socket from another origin is refused", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Origins", Type: "open"})
		h := http.Header{"Authorization": {"Bearer " + bob.Token()}, "Origin": {"http://evil.example"}}
		_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.url, "http")+"/api/v1/rooms/"+rm.ID+"/socket",
			&websocket.DialOptions{HTTPHeader: h})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin dial: %v %v", resp, err)
		}
	})

	t.Run("a socket without a session is refused unless it asks to be a guest", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Who", Type: "open", AllowGuests: true})
		_, err := ts.guest().JoinRoom(ctx, rm.ID)
		wantStatus(t, "a socket without a session", err, 401, "unauthenticated")
	})

	t.Run("a second connection of the same user replaces the first", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Two devices", Type: "open"})
		as := join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		as.event(t, "listener_joined", bob.ID)
		bs.do(t, "raise_hand", nil)
		as.event(t, "hand_raised", bob.ID)
		phone := join(t, ts.login(bob), rm.ID)
		if bye, status := bs.ended(t); bye != "replaced" || status != 4001 {
			t.Fatalf("the first connection ended with bye %q, status %d; want replaced, 4001", bye, status)
		}
		if !phone.welcome.Resumed || roleOf(phone.state, bob.ID) != "listener" || len(phone.state.RaisedHands) != 1 {
			t.Fatalf("the second connection: welcome %s, snapshot %+v", phone.welcome.Raw, phone.state)
		}
		// The room saw nobody leave or join: the next event ada hears is cyd's.
		join(t, cyd, rm.ID)
		if m := as.nextEvent(t, "cyd joining"); m.Kind != "listener_joined" || subject(m) != cyd.ID {
			t.Fatalf("ada heard %s", m.Raw)
		}
		phone.do(t, "lower_hand", nil)
		as.event(t, "hand_lowered", bob.ID)
	})

	t.Run("joining another room leaves the first", func(t *testing.T) {
		first := createRoom(t, ada, client.RoomSpec{Title: "First", Type: "open"})
		as := join(t, ada, first.ID)
		bs := join(t, bob, first.ID)
		as.event(t, "listener_joined", bob.ID)
		second := createRoom(t, cyd, client.RoomSpec{Title: "Second", Type: "open"})
		join(t, cyd, second.ID)
		join(t, bob, second.ID)
		if bye, _ := bs.ended(t); bye != "left" {
			t.Fatalf("bob's first socket ended with bye %q, want left", bye)
		}
		if d := dataOf(as.event(t, "listener_left", bob.ID)); d.Reason != "left" {
			t.Fatalf("reason %q", d.Reason)
		}
	})

	t.Run("a join refused by another room does not leave the first", func(t *testing.T) {
		first := createRoom(t, ada, client.RoomSpec{Title: "Stay here", Type: "open"})
		as := join(t, ada, first.ID)
		bs := join(t, bob, first.ID)
		as.event(t, "listener_joined", bob.ID)
		if err := dan.Block(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		other := createRoom(t, dan, client.RoomSpec{Title: "Not for bob", Type: "open"})
		join(t, dan, other.ID)
		_, err := tryRoom(t, bob.Client, "bob", other.ID)
		wantCode(t, "bob joining a room whose moderator blocks him", err, "blocked")
		if err := bs.Ping(ctx); err != nil {
			t.Fatalf("bob's first socket: %v", err)
		}
		if roleOf(as.snapshot(t), bob.ID) != "listener" {
			t.Fatal("bob left the first room")
		}
	})
}

// TestGraceWindow checks that a dropped participant keeps their place and role
// for the grace window, and leaves after it.
func TestGraceWindow(t *testing.T) {
	t.Run("a participant who comes back within the grace window resumes with the same role", func(t *testing.T) {
		ts := startServer(t, "sqlite", withGrace(time.Minute))
		ada := ts.admin
		us := ts.users("bob", "cyd")
		bob, cyd := us[0], us[1]
		rm := createRoom(t, ada, client.RoomSpec{Title: "Flaky networks", Type: "open"})
		as := join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		as.do(t, "invite_to_speak", map[string]any{"target": bob.ID})
		bs.event(t, "speak_invited", bob.ID)
		bs.do(t, "accept_speak", nil)
		as.event(t, "joined_stage", bob.ID)
		as.do(t, "mute", map[string]any{"target": bob.ID, "hold": true})
		as.event(t, "muted", bob.ID)

		bs.CloseNow() // the network drops
		back := join(t, bob, rm.ID)
		p, ok := back.state.OnStage(bob.ID)
		if !back.welcome.Resumed || !ok || p.Role != "speaker" || !p.Held {
			t.Fatalf("bob came back as %+v (resumed %v)", p, back.welcome.Resumed)
		}
		join(t, cyd, rm.ID)
		// Bob's tile may have said "reconnecting" meanwhile (if the server saw
		// the drop before he was back); nothing else of his drop is announced.
		m := as.nextEvent(t, "cyd joining")
		for m.Kind == "reconnecting" && subject(m) == bob.ID {
			m = as.nextEvent(t, "cyd joining")
		}
		if m.Kind != "listener_joined" || subject(m) != cyd.ID {
			t.Fatalf("ada heard %s before cyd joined: bob's drop was announced", m.Raw)
		}
	})

	t.Run("a participant who does not come back leaves after the grace window", func(t *testing.T) {
		const grace = 300 * time.Millisecond
		ts := startServer(t, "sqlite", withGrace(grace))
		ada, bob := ts.admin, ts.user("bob")
		rm := createRoom(t, ada, client.RoomSpec{Title: "Gone", Type: "open"})
		as := join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		as.event(t, "listener_joined", bob.ID)
		dropped := time.Now()
		bs.CloseNow()
		if d := dataOf(as.event(t, "listener_left", bob.ID)); d.Reason != "left" {
			t.Fatalf("reason %q", d.Reason)
		}
		if waited := time.Since(dropped); waited < grace {
			t.Fatalf("bob left %s after his drop, before the %s grace window", waited, grace)
		}
		again := join(t, bob, rm.ID)
		if again.welcome.Resumed {
			t.Fatal("a join after the grace window resumed")
		}
	})

	t.Run("a crowd that drops at once leaves after the grace window, and one who came back meanwhile after their own", func(t *testing.T) {
		const grace = time.Second
		ts := startServer(t, "sqlite", withGrace(grace))
		ada := ts.admin
		us := ts.users("bob", "cyd", "dan")
		rm := createRoom(t, ada, client.RoomSpec{Title: "Blip", Type: "open"})
		as := join(t, ada, rm.ID)
		var socks []*sock
		for _, u := range us {
			socks = append(socks, join(t, u, rm.ID))
			as.event(t, "listener_joined", u.ID)
		}
		dropped := time.Now()
		for _, s := range socks {
			s.CloseNow()
		}
		back := join(t, us[0], rm.ID) // bob, within his window
		if !back.welcome.Resumed {
			t.Fatal("bob's return within the grace window did not resume")
		}
		redropped := time.Now()
		back.CloseNow()
		var left []string
		for len(left) < 3 {
			m := as.nextEvent(t, "the listeners leaving")
			if m.Kind != "listener_left" {
				continue
			}
			who, at := subject(m), time.Now()
			left = append(left, who)
			if since := dropped; who == us[0].ID {
				since = redropped
				if at.Sub(since) < grace {
					t.Fatalf("bob left %s after his second drop, before his own window ended", at.Sub(since))
				}
			} else if at.Sub(since) < grace {
				t.Fatalf("%s left %s after the drop, before the grace window ended", who, at.Sub(since))
			}
		}
		if left[2] != us[0].ID || left[0] == left[1] {
			t.Fatalf("left in the order %v, want cyd and dan (once each), then bob", left)
		}
	})

	t.Run("a moderator whose connection drops for good hands the room to the longest-serving speaker", func(t *testing.T) {
		ts := startServer(t, "sqlite", withGrace(200*time.Millisecond))
		ada, bob := ts.admin, ts.user("bob")
		rm := createRoom(t, ada, client.RoomSpec{Title: "Hand over", Type: "open"})
		as := join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		as.do(t, "invite_to_speak", map[string]any{"target": bob.ID})
		bs.event(t, "speak_invited", bob.ID)
		bs.do(t, "accept_speak", nil)
		as.CloseNow()
		bs.event(t, "left_stage", ada.ID)
		if d := dataOf(bs.event(t, "moderator_added", bob.ID)); !d.Auto {
			t.Fatal("not an automatic promotion")
		}
	})
}

// TestHeartbeats checks that the server pings every socket and drops one that
// stops answering.
func TestHeartbeats(t *testing.T) {
	ts := startServer(t, "sqlite", withGrace(100*time.Millisecond),
		withLive(func(o *live.Options) { o.Heartbeat = 50 * time.Millisecond }))
	ctx := ctxT(t)
	ada, bob := ts.admin, ts.user("bob")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Heartbeats", Type: "open"})
	as := join(t, ada, rm.ID)

	// bob's client reads nothing, so it never answers the server's pings.
	h := http.Header{"Authorization": {"Bearer " + bob.Token()}}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.url, "http")+"/api/v1/rooms/"+rm.ID+"/socket",
		&websocket.DialOptions{HTTPHeader: h, Subprotocols: []string{client.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })

	t.Run("a client that stops answering heartbeats is dropped, then leaves after the grace window", func(t *testing.T) {
		as.event(t, "listener_joined", bob.ID)
		as.event(t, "listener_left", bob.ID)
	})
	t.Run("a client that answers heartbeats stays connected meanwhile", func(t *testing.T) {
		if err := as.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if roleOf(as.snapshot(t), ada.ID) != "moderator" {
			t.Fatal("ada is no longer on stage")
		}
	})
}

// TestLimits checks the limits of the issue: title length, participants per room,
// open sockets per user.
func TestLimits(t *testing.T) {
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) { c.MaxParticipants = 3; c.MaxSocketsPerUser = 2 }))
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan")
	bob, cyd, dan := us[0], us[1], us[2]

	t.Run("a title is at most 80 characters", func(t *testing.T) {
		_, err := ada.CreateRoom(ctx, client.RoomSpec{Title: strings.Repeat("é", 81), Type: "open"})
		wantStatus(t, "an 81-character title", err, 422, "invalid_field")
		if _, err := ada.CreateRoom(ctx, client.RoomSpec{Title: strings.Repeat("é", 80), Type: "open"}); err != nil {
			t.Fatalf("an 80-character title: %v", err)
		}
		_, err = ada.CreateRoom(ctx, client.RoomSpec{Title: "   ", Type: "open"})
		wantStatus(t, "a blank title", err, 422, "invalid_field")
		_, err = ada.CreateRoom(ctx, client.RoomSpec{Title: "Kind", Type: "secret"})
		wantStatus(t, "an unknown type", err, 422, "invalid_field")
		_, err = ada.CreateRoom(ctx, client.RoomSpec{Title: "Guests", Type: "social", AllowGuests: true})
		wantStatus(t, "guests in a social room", err, 422, "invalid_field")
	})

	t.Run("a room holds at most the configured number of participants", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Small", Type: "open"})
		join(t, ada, rm.ID)
		join(t, bob, rm.ID)
		join(t, cyd, rm.ID)
		_, err := tryRoom(t, dan.Client, "dan", rm.ID)
		wantCode(t, "a fourth participant", err, "room_full")
	})

	t.Run("a user holds at most the configured number of open sockets", func(t *testing.T) {
		rm := createRoom(t, dan, client.RoomSpec{Title: "Sockets", Type: "open"})
		join(t, dan, rm.ID)
		userSocket(t, dan)
		_, err := dan.UserSocket(ctx)
		wantStatus(t, "a third socket", err, 429, "rate_limited")
	})
}

// TestShutdown checks that stopping the server says bye to every socket.
func TestShutdown(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, bob := ts.admin, ts.user("bob")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Last orders", Type: "open"})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	us := userSocket(t, bob)
	ts.stop()
	for _, s := range []*sock{as, bs, us} {
		if bye, status := s.ended(t); bye != "shutdown" || status != websocket.StatusGoingAway {
			t.Errorf("%s ended with bye %q, status %d; want shutdown, 1001", s.who, bye, status)
		}
	}
}
