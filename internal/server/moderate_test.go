package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/townhall/townhall/client"
)

// moderate asks, as u, to join roomID as a moderator from the admin console.
func moderate(t *testing.T, u *user, roomID string) (joinAnswer, error) {
	t.Helper()
	var out joinAnswer
	err := u.Do(ctxT(t), "POST", "/api/v1/admin/rooms/"+roomID+"/moderate", nil, &out)
	return out, err
}

// joinAnswer is the answer of the join API, and of "join as moderator".
type joinAnswer struct {
	Node      string `json:"node"`
	SocketURL string `json:"socket_url"`
}

// auditLog lists the admin audit log as "action target", newest first.
func auditLog(t *testing.T, ts *testServer) []string {
	t.Helper()
	var log struct {
		Entries []struct{ Action, Target, Detail string }
	}
	if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/admin/audit", nil, &log); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range log.Entries {
		out = append(out, e.Action+" "+e.Target+" "+e.Detail)
	}
	return out
}

// TestJoinAsModeratorFromAdmin: a server admin who asks from /admin joins a live
// room on stage as a moderator, closed rooms included, and the audit log says
// so; anyone else who asks the same is refused and joins, where they may, as a
// plain listener.
func TestJoinAsModeratorFromAdmin(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, bob := ts.user("ada"), ts.user("bob")

	t.Run("an admin who asks to moderate a closed room lands on its stage as a moderator, and the audit log says so", func(t *testing.T) {
		r := createRoom(t, ada, client.RoomSpec{Title: "Private talk", Type: "closed"})
		host := join(t, ada, r.ID)
		if _, err := tryRoom(t, ts.admin.Client, "the admin, without asking", r.ID); client.Code(err) != "not_found" {
			t.Fatalf("the admin's plain join of a closed room: %v, want not_found", err)
		}
		ans, err := moderate(t, ts.admin, r.ID)
		if err != nil || !strings.HasSuffix(ans.SocketURL, "/api/v1/rooms/"+r.ID+"/socket") {
			t.Fatalf("asking to moderate: %+v, %v", ans, err)
		}
		adm := join(t, ts.admin, r.ID)
		if got := roleOf(adm.state, ts.admin.ID); got != "moderator" {
			t.Fatalf("the admin is %q in the room, want moderator", got)
		}
		host.waitFor(t, "the admin on stage", ev("joined_stage", ts.admin.ID))
		if got := auditLog(t, ts); len(got) == 0 || got[0] != "moderate_room "+r.ID+" Private talk" {
			t.Fatalf("audit log %v, want moderate_room %s first", got, r.ID)
		}
		adm.do(t, "mute", map[string]any{"target": ada.ID, "hold": true}) // a moderator's power
		host.waitFor(t, "the host held muted by the admin", ev("muted", ada.ID))
	})

	t.Run("someone who is not an admin is refused, and joins an open room as a plain listener", func(t *testing.T) {
		r := createRoom(t, ada, client.RoomSpec{Title: "Open talk", Type: "open"})
		join(t, ada, r.ID)
		_, err := moderate(t, bob, r.ID)
		wantStatus(t, "bob asking to moderate", err, 403, "forbidden")
		s := join(t, bob, r.ID)
		if got := roleOf(s.state, bob.ID); got != "listener" {
			t.Fatalf("bob is %q, want listener", got)
		}
		for _, e := range auditLog(t, ts) {
			if strings.HasPrefix(e, "moderate_room "+r.ID) {
				t.Fatalf("a refused request is in the audit log: %q", e)
			}
		}
	})

	t.Run("an admin who joins without asking is a plain listener", func(t *testing.T) {
		r := createRoom(t, ada, client.RoomSpec{Title: "Another", Type: "open"})
		join(t, ada, r.ID)
		s := join(t, ts.admin, r.ID)
		if got := roleOf(s.state, ts.admin.ID); got != "listener" {
			t.Fatalf("the admin is %q, want listener", got)
		}
	})

	t.Run("an admin's request is good for one join", func(t *testing.T) {
		r := createRoom(t, ada, client.RoomSpec{Title: "Once", Type: "open"})
		join(t, ada, r.ID)
		if _, err := moderate(t, ts.admin, r.ID); err != nil {
			t.Fatal(err)
		}
		first := join(t, ts.admin, r.ID)
		if got := roleOf(first.state, ts.admin.ID); got != "moderator" {
			t.Fatalf("the admin is %q, want moderator", got)
		}
		_, err := moderate(t, ts.admin, r.ID)
		wantStatus(t, "asking again while in the room", err, 409, "already_in_room")
		first.do(t, "leave", nil)
		first.ended(t)
		again := join(t, ts.admin, r.ID)
		if got := roleOf(again.state, ts.admin.ID); got != "listener" {
			t.Fatalf("the admin's second join without asking is %q, want listener", got)
		}
	})

	t.Run("a request about a room that is not live is refused", func(t *testing.T) {
		r := createRoom(t, ada, client.RoomSpec{Title: "Ended", Type: "open"})
		s := join(t, ada, r.ID)
		s.do(t, "end", nil)
		s.ended(t)
		for _, c := range []struct{ name, id string }{
			{"an ended room", r.ID},
			{"an ID that names nothing", strings.Repeat("z", 26)},
			{"a malformed ID", "not-an-id"},
		} {
			t.Run(c.name+" is not found", func(t *testing.T) {
				_, err := moderate(t, ts.admin, c.id)
				wantStatus(t, "asking to moderate "+c.name, err, 404, "not_found")
			})
		}
		if slices.ContainsFunc(auditLog(t, ts), func(e string) bool { return strings.HasPrefix(e, "moderate_room "+r.ID) }) {
			t.Fatal("a refused request is in the audit log")
		}
	})
}
