package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
)

// call sends a request that must succeed and decodes its answer into a map.
func call(t *testing.T, c *client.Client, method, path string, body any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := c.Do(context.Background(), method, path, body, &out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return out
}

// notified reports whether u has a notification of kind.
func notified(t *testing.T, u *user, kind string) bool {
	t.Helper()
	var out struct {
		Notifications []struct {
			Kind string          `json:"kind"`
			Data json.RawMessage `json:"data"`
		} `json:"notifications"`
	}
	if err := u.Do(context.Background(), "GET", "/api/v1/notifications", nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, n := range out.Notifications {
		if n.Kind == kind {
			return true
		}
	}
	return false
}

// TestTeamRooms plays the rooms of issue 7 through the live hub: an event's room
// with its co-host and invited guest, members-only club rooms, delegates who
// moderate the owner's rooms, the notification gate, and relations that change
// while people are in a room.
func TestTeamRooms(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada := ts.admin
	bob, cyd, gus, dan, eve := ts.user("bob"), ts.user("cyd"), ts.user("gus"), ts.user("dan"), ts.user("eve")

	t.Run("an event's room opens with its co-host as moderator and its invited guest on stage", func(t *testing.T) {
		follow(t, bob, ada)
		ev := call(t, ada.Client, "POST", "/api/v1/events", map[string]any{"name": "Jazz night", "description": "Records and talk",
			"starts_at": time.Now().Add(time.Hour).Format(time.RFC3339), "time_zone": "Europe/Paris", "cohosts": []string{"cyd"}, "room_type": "open"})
		id := ev["id"].(string)
		call(t, bob.Client, "PUT", "/api/v1/events/"+id+"/subscription", nil)
		call(t, ada.Client, "POST", "/api/v1/events/"+id+"/invitations", map[string]any{"usernames": []string{"gus"}, "message": "Play us a record?"})
		call(t, gus.Client, "POST", "/api/v1/events/"+id+"/answer", map[string]any{"answer": "accept"})
		started := call(t, ada.Client, "POST", "/api/v1/events/"+id+"/start", nil)
		roomID := started["room_id"].(string)
		as := join(t, ada, roomID)
		cs := join(t, cyd, roomID)
		gs := join(t, gus, roomID)
		bs := join(t, bob, roomID)
		st := bs.snapshot(t)
		for who, want := range map[*user]string{ada: "moderator", cyd: "moderator", gus: "speaker", bob: "listener"} {
			if got := roleOf(st, who.ID); got != want {
				t.Errorf("%s is %q, want %q", who.Name, got, want)
			}
		}
		eventually(t, "bob told the event is live", func() bool { return notified(t, bob, "event_live") })
		for _, s := range []*sock{as, cs, gs, bs} {
			s.Close()
		}
	})

	t.Run("a members-only club room takes members and is hidden from everyone else", func(t *testing.T) {
		club := call(t, ada.Client, "POST", "/api/v1/clubs", map[string]any{"name": "Late Night Jazz", "description": "Records", "approval": true})
		id := club["id"].(string)
		call(t, dan.Client, "POST", "/api/v1/clubs/"+id+"/join", nil)
		if err := ada.Do(context.Background(), "POST", "/api/v1/clubs/"+id+"/requests/dan", map[string]any{"approve": true}, nil); err != nil {
			t.Fatal(err)
		}
		eventually(t, "dan told his request was decided", func() bool { return notified(t, dan, "club_request_decided") })
		rm := call(t, ada.Client, "POST", "/api/v1/clubs/"+id+"/rooms", map[string]any{"title": "Members talk", "type": "open", "members_only": true})
		roomID := rm["id"].(string)
		as := join(t, ada, roomID)
		defer as.Close()
		ds := join(t, dan, roomID)
		defer ds.Close()
		if roleOf(ds.snapshot(t), dan.ID) != "listener" {
			t.Fatal("dan, a member, is not in the room")
		}
		if _, err := tryRoom(t, eve.Client, "eve", roomID); err == nil {
			t.Fatal("eve, not a member, joined a members-only room")
		}
		h, err := eve.Hallway(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range h {
			if r.ID == roomID {
				t.Fatal("eve sees the members-only room in her hallway")
			}
		}
		var dh struct {
			Rooms []struct {
				ID         string `json:"id"`
				ClubMember bool   `json:"club_member"`
			} `json:"rooms"`
		}
		if err := dan.Do(context.Background(), "GET", "/api/v1/hallway", nil, &dh); err != nil {
			t.Fatal(err)
		}
		if len(dh.Rooms) == 0 || dh.Rooms[0].ID != roomID || !dh.Rooms[0].ClubMember {
			t.Fatalf("dan's hallway does not lead with his club's room: %+v", dh.Rooms)
		}
	})

	t.Run("a delegate with the rooms scope moderates the owner's rooms as themself, until revoked", func(t *testing.T) {
		call(t, ada.Client, "PUT", "/api/v1/me/delegates/eve", map[string]any{"scopes": []string{"rooms"}})
		rm := createRoom(t, ada, client.RoomSpec{Title: "Office hours", Type: "open"})
		as := join(t, ada, rm.ID)
		es := join(t, eve, rm.ID)
		if got := roleOf(es.snapshot(t), eve.ID); got != "moderator" {
			t.Fatalf("eve, ada's delegate, is %q", got)
		}
		es.Close()
		as.Close()
		if err := ada.Do(context.Background(), "DELETE", "/api/v1/me/delegates/eve", nil, nil); err != nil {
			t.Fatal(err)
		}
		rm2 := createRoom(t, ada, client.RoomSpec{Title: "Office hours again", Type: "open"})
		as2 := join(t, ada, rm2.ID)
		defer as2.Close()
		es2 := join(t, eve, rm2.ID)
		defer es2.Close()
		if got := roleOf(es2.snapshot(t), eve.ID); got != "listener" {
			t.Fatalf("eve, no longer a delegate, is %q", got)
		}
	})

	t.Run("a muted kind of notification is not delivered; being made moderator is", func(t *testing.T) {
		call(t, gus.Client, "PUT", "/api/v1/notifications/settings", map[string]any{"muted": []string{"invitation"}})
		rm := createRoom(t, cyd, client.RoomSpec{Title: "Quiet invites", Type: "open"})
		cs := join(t, cyd, rm.ID)
		defer cs.Close()
		if _, err := cyd.InviteToRoom(context.Background(), rm.ID, []string{"gus", "bob"}, "Come", false); err != nil {
			t.Fatal(err)
		}
		eventually(t, "bob's invitation", func() bool { return notified(t, bob, "invitation") })
		if notified(t, gus, "invitation") {
			t.Fatal("gus muted invitations but got one")
		}
		bs := join(t, bob, rm.ID) // invited by a moderator: straight onto the stage
		defer bs.Close()
		cs.do(t, "make_moderator", map[string]any{"target": bob.ID})
		eventually(t, "bob told he is a moderator", func() bool { return notified(t, bob, "made_moderator") })
	})

	t.Run("a block made while both are in the room keeps the blocked one off the stage", func(t *testing.T) {
		rm := createRoom(t, cyd, client.RoomSpec{Title: "Mid-room block", Type: "open"})
		cs := join(t, cyd, rm.ID)
		defer cs.Close()
		ds := join(t, dan, rm.ID)
		defer ds.Close()
		if err := cyd.Block(context.Background(), "dan"); err != nil {
			t.Fatal(err)
		}
		cs.refused(t, "invite_to_speak", map[string]any{"target": dan.ID}, "blocked")
	})
}
