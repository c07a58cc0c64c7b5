package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/ids"
)

// TestClosedRoomInvisible checks that a closed room reveals nothing of itself to
// anyone outside its conversation, through any endpoint or event: every answer
// an outsider gets about it is the answer for a room that does not exist.
func TestClosedRoomInvisible(t *testing.T) {
	ts := startServer(t, "sqlite", quickHallway())
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd", "eve")
	bob, cyd, eve := us[0], us[1], us[2]
	follow(t, eve, ada) // eve follows ada, so she sees ada's open rooms ranked...
	follow(t, ada, eve) // ...and ada follows eve, so eve gets as far as the room in a ping
	follow(t, eve, bob)

	eves := userSocket(t, eve)
	bobs := userSocket(t, bob)

	secret := createRoom(t, ada, client.RoomSpec{Title: "Secret plans", Description: "hush", Type: "closed"})
	as := join(t, ada, secret.ID)
	inv, err := ada.InviteToRoom(ctx, secret.ID, []string{"bob"}, "between us", false)
	if err != nil {
		t.Fatal(err)
	}
	bobs.waitFor(t, "bob's invitation", msgType("notification"))
	bs := join(t, bob, secret.ID)
	as.event(t, "joined_stage", bob.ID) // invited by a moderator: straight on stage
	nowhere := ids.New()                // a room that does not exist

	// same runs an outsider's request on the closed room and on a room that does
	// not exist, and wants the same refusal for both.
	same := func(t *testing.T, what string, f func(roomID string) error) {
		t.Helper()
		errSecret, errNowhere := f(secret.ID), f(nowhere)
		var a, b *client.Error
		if !asErr(errSecret, &a) || !asErr(errNowhere, &b) || *a != *b || a.Status != 404 {
			t.Fatalf("%s: the closed room answers %v, a missing room %v", what, errSecret, errNowhere)
		}
	}

	t.Run("a member sees the room in the hallway, as invited", func(t *testing.T) {
		h, err := bob.Hallway(ctx)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(h, func(r client.HallwayRoom) bool { return r.ID == secret.ID })
		if i < 0 {
			t.Fatalf("bob's hallway %+v", h)
		}
		if h[i].Type != "closed" || h[i].SpeakerCount != 2 {
			t.Fatalf("card %+v", h[i])
		}
		if _, err := bob.Room(ctx, secret.ID); err != nil {
			t.Fatalf("bob reading the room: %v", err)
		}
	})

	t.Run("an outsider's hallway leaves it out", func(t *testing.T) {
		h, err := eve.Hallway(ctx)
		if err != nil || len(h) != 0 {
			t.Fatalf("eve's hallway %+v %v", h, err)
		}
	})

	t.Run("an outsider reading the room gets not found", func(t *testing.T) {
		same(t, "GET the room", func(id string) error { _, err := eve.Room(ctx, id); return err })
		same(t, "GET the room without a session", func(id string) error { _, err := ts.guest().Room(ctx, id); return err })
	})

	t.Run("an outsider's socket gets not found", func(t *testing.T) {
		same(t, "the room socket", func(id string) error { _, err := eve.JoinRoom(ctx, id); return err })
		same(t, "the room socket as a guest", func(id string) error { _, err := ts.guest().JoinAsGuest(ctx, id); return err })
	})

	t.Run("an outsider's invitations and links get not found", func(t *testing.T) {
		same(t, "an invitation", func(id string) error {
			_, err := eve.InviteToRoom(ctx, id, []string{"cyd"}, "come", false)
			return err
		})
		same(t, "an invitation link", func(id string) error {
			_, err := eve.InviteToRoom(ctx, id, nil, "", true)
			return err
		})
		_, err := eve.GetInvitation(ctx, inv.ID)
		wantStatus(t, "reading someone else's invitation", err, 404, "not_found")
	})

	t.Run("an outsider's pings get not found", func(t *testing.T) {
		same(t, "a ping", func(id string) error { return eve.PingIntoRoom(ctx, id, "ada") })
	})

	t.Run("an outsider's user socket hears nothing of it", func(t *testing.T) {
		// Things happen in the closed room...
		bs.do(t, "step_down", nil)
		as.event(t, "listener_joined", bob.ID)
		bs.do(t, "raise_hand", nil)
		as.event(t, "hand_raised", bob.ID)
		if _, err := ada.InviteToRoom(ctx, secret.ID, []string{"cyd"}, "you too", false); err != nil {
			t.Fatal(err)
		}
		join(t, cyd, secret.ID)
		as.do(t, "end", nil)
		as.ended(t)

		// ...then ada opens a room eve may see. Once eve's user socket shows it,
		// everything about the closed room would have reached her before.
		public := createRoom(t, ada, client.RoomSpec{Title: "Public square", Type: "open"})
		join(t, ada, public.ID)
		eves.waitFor(t, "the public room in eve's hallway", func(m client.Message) bool {
			rooms, _ := m.HallwayRooms()
			return m.Type == "hallway" && slices.ContainsFunc(rooms, func(r client.HallwayRoom) bool { return r.ID == public.ID })
		})
		if m, ok := eves.mentions(secret.ID, secret.Title, "hush", inv.ID); ok {
			t.Fatalf("eve's user socket heard of the closed room: %s", m.Raw)
		}
	})

	t.Run("an outsider's history and notifications leave it out", func(t *testing.T) {
		past, err := eve.History(ctx)
		if err != nil || len(past) != 0 {
			t.Fatalf("eve's history %+v %v", past, err)
		}
		ns, err := eve.Notifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if strings.Contains(string(n.Data), secret.ID) || strings.Contains(string(n.Data), secret.Title) {
				t.Fatalf("eve's notification %s %s", n.Kind, n.Data)
			}
		}
		received, sent, err := eve.Invitations(ctx)
		if err != nil || len(received)+len(sent) != 0 {
			t.Fatalf("eve's invitations %+v %+v %v", received, sent, err)
		}
	})
}

// TestRemovedFromClosedRoom checks that someone removed from a closed room, even
// its creator, is an outsider from then on.
func TestRemovedFromClosedRoom(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd")
	bob, cyd := us[0], us[1]
	rm := createRoom(t, ada, client.RoomSpec{Title: "Inner circle", Type: "closed"})
	as := join(t, ada, rm.ID)
	if _, err := ada.InviteToRoom(ctx, rm.ID, []string{"bob", "cyd"}, "", false); err != nil {
		t.Fatal(err)
	}
	bs := join(t, bob, rm.ID)
	join(t, cyd, rm.ID)
	outsider := func(t *testing.T, u *user, admin bool) {
		t.Helper()
		_, err := u.Room(ctx, rm.ID)
		if admin {
			// A server admin sees every live room, as in /admin (docs/security.md),
			// but joins it only on its stage, after asking, in sight of everyone.
			if err != nil {
				t.Fatalf("the admin reading the room: %v", err)
			}
		} else {
			wantStatus(t, u.Name+" reading the room", err, 404, "not_found")
		}
		_, err = u.JoinRoom(ctx, rm.ID)
		wantStatus(t, u.Name+" joining", err, 404, "not_found")
		h, err := u.Hallway(ctx)
		if err != nil || len(h) != 0 {
			t.Fatalf("%s's hallway %+v %v", u.Name, h, err)
		}
	}

	t.Run("a removed member", func(t *testing.T) {
		as.do(t, "remove", map[string]any{"target": cyd.ID})
		as.event(t, "left_stage", cyd.ID)
		outsider(t, cyd, false)
	})

	t.Run("a removed creator", func(t *testing.T) {
		as.do(t, "make_moderator", map[string]any{"target": bob.ID})
		bs.event(t, "moderator_added", bob.ID)
		bs.do(t, "remove", map[string]any{"target": ada.ID})
		bs.event(t, "left_stage", ada.ID)
		outsider(t, ada, true) // ada is the server's admin too
	})
}
