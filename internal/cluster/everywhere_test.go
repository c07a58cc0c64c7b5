package cluster_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/testwait"
)

// within is how soon what happens on one node shows on another.
const within = time.Second

// userSock opens cl's user socket on the node called name and waits for its
// welcome.
func (c *testCluster) userSock(name string, cl *client.Client) *client.Socket {
	c.t.Helper()
	s, err := c.on(name, cl).UserSocket(ctxFor(c.t))
	if err != nil {
		c.t.Fatalf("user socket on %s: %v", name, err)
	}
	c.t.Cleanup(func() { s.Close() })
	select {
	case m := <-s.Messages():
		if m.Type != "welcome" {
			c.t.Fatalf("first message: %s", m.Raw)
		}
	case <-time.After(patience):
		c.t.Fatal("no welcome")
	}
	return s
}

// hallwayShows waits, up to d, for a hallway push on s that does (or does not,
// with present false) list roomID.
func hallwayShows(t *testing.T, s *client.Socket, roomID string, present bool, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatalf("the user socket ended: %v", s.Err())
			}
			if m.Type != "hallway" {
				continue
			}
			var h struct {
				Rooms []struct {
					ID string `json:"id"`
				} `json:"rooms"`
			}
			_ = json.Unmarshal(m.Raw, &h)
			if slices.ContainsFunc(h.Rooms, func(r struct {
				ID string `json:"id"`
			}) bool {
				return r.ID == roomID
			}) == present {
				return
			}
		case <-deadline:
			t.Fatalf("the hallway did not show the room (present %v) within %s", present, d)
		}
	}
}

// notification waits, up to d, for a notification of kind on s.
func notification(t *testing.T, s *client.Socket, kind string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatalf("the user socket ended: %v", s.Err())
			}
			var n struct {
				Notification struct {
					Kind string `json:"kind"`
				} `json:"notification"`
			}
			if m.Type == "notification" && json.Unmarshal(m.Raw, &n) == nil && n.Notification.Kind == kind {
				return
			}
		case <-deadline:
			t.Fatalf("no %s notification within %s", kind, d)
		}
	}
}

// TestEverythingWorksFromAnyNode checks that three nodes are one service: an
// account made on one is signed in on another, the hallway and notifications
// cross nodes within a second, and every limit holds across nodes.
func TestEverythingWorksFromAnyNode(t *testing.T) {
	c := startCluster(t, []string{"a", "b", "c"}, "--login-rate", "3", "--max-sockets-per-user", "3")
	ada := c.firstAdmin("ada")

	t.Run("an account made on one node signs in on another and acts on a third", func(t *testing.T) {
		c.signUp(t, "a", "bob")
		bob, _, err := c.client("b").Login(ctxFor(t), "bob", password)
		if err != nil {
			t.Fatalf("bob logging in on b: %v", err)
		}
		adaSock := c.userSock("a", ada)
		if err := c.on("c", bob).Follow(ctxFor(t), "ada"); err != nil {
			t.Fatalf("bob following ada on c: %v", err)
		}
		notification(t, adaSock, "new_follower", within)
		if me, err := c.on("a", bob).Me(ctxFor(t)); err != nil || me.Username != "bob" {
			t.Fatalf("bob on a: %+v %v", me, err)
		}
	})

	t.Run("a room started on one node is in another node's hallway within a second, and gone within a second of its end", func(t *testing.T) {
		cyd, _ := c.signUp(t, "c", "cyd")
		adaSock := c.userSock("a", ada)
		rm, err := c.on("c", cyd).CreateRoom(ctxFor(t), client.RoomSpec{Title: "On c", Type: "open"})
		if err != nil {
			t.Fatal(err)
		}
		host := c.join("c", cyd, rm.ID)
		if host.node != "c" {
			t.Fatalf("the room runs on %s, want c where it was started", host.node)
		}
		hallwayShows(t, adaSock, rm.ID, true, within)
		host.do("end", nil)
		hallwayShows(t, adaSock, rm.ID, false, within)
	})

	t.Run("a notification from a user on one node reaches a user on another within a second", func(t *testing.T) {
		dan, _ := c.signUp(t, "a", "dan")
		eve, _ := c.signUp(t, "b", "eve")
		eveSock := c.userSock("b", eve)
		rm, err := dan.CreateRoom(ctxFor(t), client.RoomSpec{Title: "Ask eve", Type: "open"})
		if err != nil {
			t.Fatal(err)
		}
		c.join("a", dan, rm.ID)
		if _, err := c.on("c", dan).InviteToRoom(ctxFor(t), rm.ID, []string{"eve"}, "come", false); err != nil {
			t.Fatalf("inviting through c a room on a: %v", err)
		}
		notification(t, eveSock, "invitation", within)
	})

	t.Run("an invitation's page made on one node is read, answered and replied to on the others", func(t *testing.T) {
		lea, _ := c.signUp(t, "a", "lea")
		rm, err := lea.CreateRoom(ctxFor(t), client.RoomSpec{Title: "Pages", Type: "open"})
		if err != nil {
			t.Fatal(err)
		}
		c.join("a", lea, rm.ID)
		leaSock := c.userSock("a", lea)
		var inv struct {
			Invitation struct {
				Code       string `json:"code"`
				InviteeURL string `json:"invitee_url"`
			} `json:"invitation"`
		}
		// c learns of the room on a through the directory, within a fraction of a second.
		testwait.Until(t, within, "inviting through c", func() bool {
			err = c.on("c", lea).Do(ctxFor(t), "POST", "/api/v1/rooms/"+rm.ID+"/invitations",
				map[string]any{"usernames": []string{}, "link": true, "name": "Jane", "message": "Talk?", "public": true}, &inv)
			return err == nil
		}, func() string { return err.Error() })
		_, key, _ := strings.Cut(inv.Invitation.InviteeURL, "#k=")
		page := "/api/v1/i/" + inv.Invitation.Code
		var v struct {
			Room struct {
				Stage []struct {
					Username string `json:"username"`
				} `json:"stage"`
			} `json:"room"`
			Thread []struct {
				Text string `json:"text"`
			} `json:"thread"`
		}
		if err := c.client("b").WithHeader("Townhall-Invitation-Key", key).Do(ctxFor(t), "GET", page, nil, &v); err != nil {
			t.Fatalf("the page on b: %v", err)
		}
		if len(v.Room.Stage) != 1 || v.Room.Stage[0].Username != "lea" {
			t.Fatalf("the room's stage seen from b: %+v", v.Room)
		}
		err = c.client("c").WithHeader("Townhall-Invitation-Key", key).Do(ctxFor(t), "POST", page+"/answer",
			map[string]string{"answer": "question", "name": "Jane's office", "text": "What about?"}, nil)
		if err != nil {
			t.Fatalf("asking on c: %v", err)
		}
		notification(t, leaSock, "invitation_answer", within)
		if err := c.on("b", lea).Do(ctxFor(t), "POST", page+"/reply", map[string]string{"text": "Libraries."}, nil); err != nil {
			t.Fatalf("replying on b: %v", err)
		}
		if err := c.client("a").Do(ctxFor(t), "GET", page, nil, &v); err != nil || len(v.Thread) != 2 {
			t.Fatalf("the public page on a: %+v %v", v.Thread, err)
		}
	})

	t.Run("the login limit holds across nodes", func(t *testing.T) {
		c.signUp(t, "a", "fay")
		refused := 0
		for i, node := range []string{"a", "b", "c", "a", "b"} {
			_, _, err := c.client(node).WithHeader("X-Forwarded-For", "10.9.9.9").Login(ctxFor(t), "fay", "wrong password")
			var e *client.Error
			if errorsAs(err, &e) && e.Status == http.StatusTooManyRequests {
				refused++
				if i < 3 {
					t.Fatalf("attempt %d refused, within the limit of 3", i+1)
				}
			}
		}
		if refused != 2 {
			t.Fatalf("%d of 2 attempts over the limit were refused", refused)
		}
	})

	t.Run("the open sockets of a user are counted across nodes", func(t *testing.T) {
		gus, _ := c.signUp(t, "a", "gus")
		for _, node := range []string{"a", "b", "c"} {
			c.userSock(node, gus)
		}
		_, err := c.on("b", gus).UserSocket(ctxFor(t))
		var e *client.Error
		if !errorsAs(err, &e) || e.Status != http.StatusTooManyRequests {
			t.Fatalf("a fourth socket over a limit of 3: %v", err)
		}
	})

	t.Run("joining a room on one node ends your place in a room on another", func(t *testing.T) {
		hal, _ := c.signUp(t, "a", "hal")
		ivy, _ := c.signUp(t, "b", "ivy")
		joe, _ := c.signUp(t, "c", "joe")
		r1, _ := c.on("a", hal).CreateRoom(ctxFor(t), client.RoomSpec{Title: "One", Type: "open"})
		r2, _ := c.on("b", ivy).CreateRoom(ctxFor(t), client.RoomSpec{Title: "Two", Type: "open"})
		h1 := c.join("a", hal, r1.ID)
		c.join("b", ivy, r2.ID)
		j1 := c.join("c", joe, r1.ID)
		h1.waitFor("joe in room one", func(m client.Message) bool { return m.Type == "event" && m.Kind == "listener_joined" })
		c.join("c", joe, r2.ID)
		if bye := j1.ended(within * 3); bye != "left" {
			t.Fatalf("joe's socket in room one: bye %q, want left", bye)
		}
		h1.waitFor("joe leaving room one", func(m client.Message) bool { return m.Type == "event" && m.Kind == "listener_left" })
	})

	t.Run("a session ended on one node closes its sockets on the others within a second", func(t *testing.T) {
		kim, _ := c.signUp(t, "a", "kim")
		onB, _, err := c.client("b").WithHeader("X-Forwarded-For", "10.8.0.1").Login(ctxFor(t), "kim", password)
		if err != nil {
			t.Fatal(err)
		}
		rm, _ := c.on("c", kim).CreateRoom(ctxFor(t), client.RoomSpec{Title: "Kim's", Type: "open"})
		c.join("c", kim, rm.ID)
		listener, _ := c.signUp(t, "a", "lou")
		watch := c.join("a", listener, rm.ID)
		sock := c.join("a", onB, rm.ID) // the same user from their second session: it takes over
		userSock := c.userSock("a", onB)
		if err := onB.Logout(ctxFor(t)); err != nil {
			t.Fatal(err)
		}
		if bye := sock.ended(within); bye != "session_ended" {
			t.Fatalf("the room socket on c: bye %q", bye)
		}
		for {
			select {
			case m, ok := <-userSock.Messages():
				if !ok {
					goto closed
				}
				_ = m
			case <-time.After(within):
				t.Fatal("the user socket on a is still open a second after the session ended")
			}
		}
	closed:
		watch.waitFor("kim leaving the stage", func(m client.Message) bool { return m.Type == "event" && m.Kind == "room_ended" })
	})

	t.Run("an admin who asks on one node to moderate a closed room run on another lands on its stage as a moderator", func(t *testing.T) {
		me, err := ada.Me(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		max, _ := c.signUp(t, "b", "max")
		rm, err := c.on("b", max).CreateRoom(ctxFor(t), client.RoomSpec{Title: "Closed on b", Type: "closed"})
		if err != nil {
			t.Fatal(err)
		}
		host := c.join("b", max, rm.ID)
		var ans joinInfo
		testwait.Until(t, within, "asking c to moderate the room on b", func() bool {
			err = c.on("c", ada).Do(ctxFor(t), "POST", "/api/v1/admin/rooms/"+rm.ID+"/moderate", nil, &ans)
			return err == nil
		}, func() string { return err.Error() })
		if ans.Node != "b" {
			t.Fatalf("asked on c, the answer names node %q, want b", ans.Node)
		}
		adm := c.join("a", ada, rm.ID)
		if got := roleIn(adm.state(), me.ID); got != "moderator" || adm.node != "b" {
			t.Fatalf("the admin is %q on node %s, want moderator on b", got, adm.node)
		}
		host.waitFor("the admin on stage", func(m client.Message) bool { return m.Type == "event" && m.Kind == "joined_stage" })
		var log struct {
			Entries []struct{ Action, Target string }
		}
		if err := c.on("a", ada).Do(ctxFor(t), "GET", "/api/v1/admin/audit", nil, &log); err != nil ||
			len(log.Entries) == 0 || log.Entries[0].Action != "moderate_room" || log.Entries[0].Target != rm.ID {
			t.Fatalf("the audit log seen on a: %+v, %v", log.Entries, err)
		}
	})

	t.Run("the admin sees every node", func(t *testing.T) {
		nodes := c.nodesOf("b")
		for _, n := range []string{"a", "b", "c"} {
			if nodes[n] == nil || nodes[n]["live"] != true {
				t.Fatalf("node %s: %v", n, nodes[n])
			}
		}
	})
}
