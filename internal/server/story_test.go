package server_test

import (
	"context"
	"slices"
	"testing"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/store/storetest"
)

// TestLiveRoomStory plays the whole story of the issue over real HTTP and
// WebSockets, on every store driver: a room is created, three people join, one
// raises a hand, is invited to speak and accepts, is muted softly and then held,
// one is removed and cannot come back by any path, the last moderator leaves and
// a speaker takes over, the room ends and stays in history.
func TestLiveRoomStory(t *testing.T) {
	for _, driver := range storetest.Drivers() {
		t.Run("on "+driver, func(t *testing.T) { playStory(t, driver) })
	}
}

func playStory(t *testing.T, driver string) {
	ts := startServer(t, driver)
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan")
	bob, cyd, dan := us[0], us[1], us[2]
	rm := createRoom(t, ada, client.RoomSpec{Title: "The story of a room", Description: "Every rule, once", Type: "open"})

	// The sockets live for the whole story, so they are opened at its top level.
	as := join(t, ada, rm.ID)
	t.Run("the creator opens the room as its first moderator", func(t *testing.T) {
		if as.state.State != "live" || roleOf(as.state, ada.ID) != "moderator" {
			t.Fatalf("snapshot %+v", as.state)
		}
		if p, _ := as.state.OnStage(ada.ID); !p.Muted {
			t.Fatal("the creator comes on stage unmuted; everyone comes on stage muted")
		}
	})

	bs := join(t, bob, rm.ID)
	cs := join(t, cyd, rm.ID)
	ds := join(t, dan, rm.ID)
	t.Run("three people join as listeners and everyone is told", func(t *testing.T) {
		as.event(t, "listener_joined", bob.ID)
		as.event(t, "listener_joined", cyd.ID)
		bs.event(t, "listener_joined", cyd.ID)
		for _, s := range []*sock{as, bs, cs} {
			s.event(t, "listener_joined", dan.ID)
		}
		if got := ds.state.ListenerCount; got != 3 {
			t.Fatalf("dan's snapshot counts %d listeners, want 3", got)
		}
		if !slices.Equal(listenerIDs(ds.state), idsOf(bob, cyd, dan)) {
			t.Fatalf("listeners %v, want bob, cyd, dan in order", listenerIDs(ds.state))
		}
	})

	t.Run("a listener raises a hand; only the moderator and they see it", func(t *testing.T) {
		bs.do(t, "raise_hand", nil)
		for _, s := range []*sock{as, bs} {
			s.event(t, "hand_raised", bob.ID)
		}
		for _, s := range []*sock{cs, ds} {
			if raised, flagged := handsIn(s.snapshot(t)); len(raised) != 0 || len(flagged) != 0 {
				t.Fatalf("%s sees the hands %v (listeners flagged %v), want none", s.who, raised, flagged)
			}
			if m, told := s.mentions(`"hand_raised","data"`); told {
				t.Fatalf("%s was told %s", s.who, m.Raw)
			}
		}
	})

	t.Run("the moderator invites the hand to speak; only the invitee and moderators hear of it", func(t *testing.T) {
		as.do(t, "invite_to_speak", map[string]any{"target": bob.ID})
		if d := dataOf(bs.event(t, "speak_invited", bob.ID)); d.By != ada.ID {
			t.Fatalf("speak_invited by %q, want ada", d.By)
		}
		as.event(t, "speak_invited", bob.ID)
	})

	t.Run("the invitee accepts and comes on stage muted, as a speaker", func(t *testing.T) {
		bs.do(t, "accept_speak", nil)
		for _, s := range []*sock{as, bs, cs, ds} {
			if d := dataOf(s.event(t, "listener_left", bob.ID)); d.Reason != "to_stage" {
				t.Fatalf("%s: listener_left reason %q", s.who, d.Reason)
			}
			d := dataOf(s.nextEvent(t, "bob on stage"))
			if d.User == nil || d.User.ID != bob.ID || d.Role != "speaker" || !d.Muted {
				t.Fatalf("%s: want joined_stage of bob as a muted speaker, got %+v", s.who, d)
			}
		}
		if _, ok := cs.mentions(`"speak_invited"`); ok {
			t.Fatal("a listener heard of someone else's invitation to speak")
		}
	})

	t.Run("the speaker unmutes", func(t *testing.T) {
		bs.do(t, "set_muted", map[string]any{"muted": false})
		as.event(t, "unmuted", bob.ID)
	})

	t.Run("a soft mute by a moderator can be lifted by the speaker", func(t *testing.T) {
		as.do(t, "mute", map[string]any{"target": bob.ID})
		if d := dataOf(bs.event(t, "muted", bob.ID)); d.Held || d.By != ada.ID {
			t.Fatalf("soft mute %+v", d)
		}
		bs.do(t, "set_muted", map[string]any{"muted": false})
		cs.event(t, "unmuted", bob.ID)
	})

	t.Run("a held mute can only be released by a moderator", func(t *testing.T) {
		as.do(t, "mute", map[string]any{"target": bob.ID, "hold": true})
		if d := dataOf(bs.event(t, "muted", bob.ID)); !d.Held {
			t.Fatalf("held mute %+v", d)
		}
		bs.refused(t, "set_muted", map[string]any{"muted": false}, "mute_held")
		if p, _ := bs.snapshot(t).OnStage(bob.ID); !p.Muted || !p.Held {
			t.Fatalf("bob on stage %+v, want muted and held", p)
		}
		as.do(t, "release_mute", map[string]any{"target": bob.ID})
		bs.event(t, "mute_released", bob.ID)
		bs.do(t, "set_muted", map[string]any{"muted": false})
		ds.event(t, "unmuted", bob.ID)
	})

	t.Run("a listener cannot mute a speaker", func(t *testing.T) {
		cs.refused(t, "mute", map[string]any{"target": bob.ID}, "forbidden")
	})

	t.Run("a removed listener is told, closed and announced to the room", func(t *testing.T) {
		as.do(t, "remove", map[string]any{"target": dan.ID})
		ds.event(t, "removed", dan.ID)
		if bye, status := ds.ended(t); bye != "removed" || status != 4003 {
			t.Fatalf("dan's socket ended with bye %q, status %d; want removed, 4003", bye, status)
		}
		for _, s := range []*sock{as, bs, cs} {
			if d := dataOf(s.event(t, "listener_left", dan.ID)); d.Reason != "removed" {
				t.Fatalf("%s: listener_left reason %q", s.who, d.Reason)
			}
		}
	})

	t.Run("the removed user cannot come back by any path", func(t *testing.T) {
		paths := []struct {
			name string
			c    *client.Client
		}{
			{"with the same session", dan.Client},
			{"with a new session", ts.login(dan).Client},
			{"from a second device", ts.login(dan).Client},
		}
		for _, p := range paths {
			_, err := tryRoom(t, p.c, "dan "+p.name, rm.ID)
			wantCode(t, "dan rejoining "+p.name, err, "removed_from_room")
		}
		// An invitation from someone in the room does not let them in either.
		if _, err := cyd.InviteToRoom(ctx, rm.ID, []string{"dan"}, "come back", false); err != nil {
			t.Fatal(err)
		}
		_, err := tryRoom(t, dan.Client, "dan invited again", rm.ID)
		wantCode(t, "dan rejoining after an invitation", err, "removed_from_room")
		if ns := kinds(t, dan, "invitation"); len(ns) != 0 {
			t.Fatalf("the removed user was sent an invitation back: %s", ns[0].Data)
		}
	})

	t.Run("when the last moderator leaves, the longest-serving speaker takes over", func(t *testing.T) {
		as.do(t, "leave", nil)
		if bye, _ := as.ended(t); bye != "left" {
			t.Fatalf("ada's bye %q, want left", bye)
		}
		for _, s := range []*sock{bs, cs} {
			if d := dataOf(s.event(t, "left_stage", ada.ID)); d.Reason != "left" {
				t.Fatalf("%s: left_stage reason %q", s.who, d.Reason)
			}
			m := s.nextEvent(t, "a new moderator")
			if d := dataOf(m); m.Kind != "moderator_added" || d.UserID != bob.ID || !d.Auto {
				t.Fatalf("%s: want moderator_added bob auto, got %s", s.who, m.Raw)
			}
		}
		if roleOf(cs.snapshot(t), bob.ID) != "moderator" {
			t.Fatal("bob is not a moderator")
		}
	})

	t.Run("when nobody is left on stage the room ends", func(t *testing.T) {
		bs.do(t, "leave", nil)
		cs.event(t, "left_stage", bob.ID)
		if d := dataOf(cs.event(t, "room_ended", "")); d.Reason != "stage_empty" {
			t.Fatalf("room_ended reason %q", d.Reason)
		}
		if bye, status := cs.ended(t); bye != "room_ended" || status != 4004 {
			t.Fatalf("cyd's socket ended with bye %q, status %d; want room_ended, 4004", bye, status)
		}
		_, err := cyd.Room(ctx, rm.ID)
		wantStatus(t, "the ended room", err, 404, "not_found")
	})

	t.Run("the ended room stays in the history of who spoke, with its speakers", func(t *testing.T) {
		for _, u := range []*user{ada, bob} {
			var past []client.PastRoom
			eventually(t, u.Name+"'s history", func() bool {
				var err error
				past, err = u.History(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return len(past) == 1 && !past[0].EndedAt.IsZero() && len(past[0].Speakers) == 2
			})
			p := past[0]
			if p.ID != rm.ID || p.Title != rm.Title || p.Type != "open" || p.EndedAt.Before(p.CreatedAt) {
				t.Fatalf("%s's history %+v", u.Name, p)
			}
			if !slices.Equal(p.Speakers, idsOf(ada, bob)) {
				t.Fatalf("speakers %v, want ada then bob", p.Speakers)
			}
		}
		past, err := cyd.History(context.Background())
		if err != nil || len(past) != 0 {
			t.Fatalf("a listener's history %v %v, want empty", past, err)
		}
	})
}
