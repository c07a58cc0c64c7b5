package server_test

import (
	"strings"
	"testing"

	"github.com/townhall/townhall/client"
)

// TestGuests checks that guests listen in open rooms that allow them, can do
// nothing else, and are refused everywhere else.
func TestGuests(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := ctxT(t)
	ada, bob := ts.admin, ts.user("bob")
	open := createRoom(t, ada, client.RoomSpec{Title: "Everyone welcome", Type: "open", AllowGuests: true})
	as := join(t, ada, open.ID)

	guest := openRoom(t, ts.guest(), "a guest", open.ID)
	gid := guest.welcome.You.ID
	t.Run("a guest listens in an open room that allows guests", func(t *testing.T) {
		if !guest.welcome.You.Guest || !strings.HasPrefix(gid, "guest_") {
			t.Fatalf("welcome %s", guest.welcome.Raw)
		}
		d := dataOf(as.event(t, "listener_joined", gid))
		if d.User == nil || !d.User.Guest {
			t.Fatalf("the guest is not shown as a guest: %+v", d.User)
		}
		if r, err := ts.guest().Room(ctx, open.ID); err != nil || r.ID != open.ID {
			t.Fatalf("a guest reading the room page: %v", err)
		}
	})

	t.Run("a guest can do nothing but listen", func(t *testing.T) {
		guest.refused(t, "raise_hand", nil, "forbidden")
		guest.refused(t, "end", nil, "forbidden")
		guest.refused(t, "remove", map[string]any{"target": ada.ID}, "forbidden")
		as.refused(t, "invite_to_speak", map[string]any{"target": gid}, "forbidden")
		_, err := ts.guest().Hallway(ctx)
		wantStatus(t, "a guest's hallway", err, 401, "unauthenticated")
		_, err = ts.guest().InviteToRoom(ctx, open.ID, []string{"bob"}, "hi", false)
		wantStatus(t, "a guest's invitation", err, 401, "unauthenticated")
		if err := guest.Ping(ctx); err != nil {
			t.Fatalf("a guest's ping: %v", err)
		}
	})

	t.Run("a guest is refused where guests are not allowed", func(t *testing.T) {
		noGuests := createRoom(t, ada, client.RoomSpec{Title: "Members only", Type: "open"})
		join(t, ada, noGuests.ID)
		_, err := ts.guest().JoinAsGuest(ctx, noGuests.ID)
		wantStatus(t, "a guest in an open room without guests", err, 403, "forbidden")
		_, err = ts.guest().Room(ctx, noGuests.ID)
		wantStatus(t, "a guest reading a room without guests", err, 404, "not_found")

		social := createRoom(t, bob, client.RoomSpec{Title: "Friends", Type: "social"})
		join(t, bob, social.ID)
		_, err = ts.guest().JoinAsGuest(ctx, social.ID)
		wantStatus(t, "a guest in a social room", err, 403, "forbidden")

		closed := createRoom(t, bob, client.RoomSpec{Title: "Secret", Type: "closed"})
		join(t, bob, closed.ID)
		_, err = ts.guest().JoinAsGuest(ctx, closed.ID)
		wantStatus(t, "a guest in a closed room", err, 404, "not_found")
	})
}

// TestRoomTypes checks who may join open, social and closed rooms.
func TestRoomTypes(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan")
	bob, cyd, dan := us[0], us[1], us[2]
	follow(t, ada, bob)

	t.Run("anyone signed in joins an open room", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Open", Type: "open"})
		join(t, ada, rm.ID)
		join(t, cyd, rm.ID)
	})

	t.Run("a room does not start before its creator joins", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Not yet", Type: "open"})
		_, err := tryRoom(t, bob.Client, "bob", rm.ID)
		wantCode(t, "joining before the creator", err, "room_not_started")
	})

	t.Run("a social room takes people a moderator follows, and invited people", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Social", Type: "social"})
		join(t, ada, rm.ID)
		join(t, bob, rm.ID)
		_, err := tryRoom(t, cyd.Client, "cyd", rm.ID)
		wantCode(t, "someone no moderator follows", err, "forbidden")
		if _, err := ada.InviteToRoom(ctx, rm.ID, []string{"cyd"}, "join us", false); err != nil {
			t.Fatal(err)
		}
		join(t, cyd, rm.ID)
	})

	t.Run("a closed room takes only invited people", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Closed", Type: "closed"})
		join(t, ada, rm.ID)
		_, err := tryRoom(t, bob.Client, "bob", rm.ID)
		wantStatus(t, "someone not invited, even followed", err, 404, "not_found")
		if _, err := ada.InviteToRoom(ctx, rm.ID, []string{"bob"}, "", false); err != nil {
			t.Fatal(err)
		}
		join(t, bob, rm.ID)
	})

	t.Run("in a closed room only moderators invite", func(t *testing.T) {
		rm := createRoom(t, ada, client.RoomSpec{Title: "Closed to listeners", Type: "closed"})
		join(t, ada, rm.ID)
		if _, err := ada.InviteToRoom(ctx, rm.ID, []string{"dan"}, "", false); err != nil {
			t.Fatal(err)
		}
		ds := join(t, dan, rm.ID)
		ds.do(t, "step_down", nil) // an invitation from a moderator put dan on stage
		_, err := dan.InviteToRoom(ctx, rm.ID, []string{"cyd"}, "", false)
		wantStatus(t, "a listener inviting into a closed room", err, 403, "forbidden")
		_, err = dan.InviteToRoom(ctx, rm.ID, nil, "", true)
		wantStatus(t, "a listener asking for a link into a closed room", err, 403, "forbidden")
	})
}

// TestBlocks checks the two block rules: a moderator's block keeps someone out of
// the room, and a block either way keeps two people from being brought on stage
// together (every way onto the stage: TestStageBlocksBothWays).
func TestBlocks(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd", "eve")
	bob, cyd, eve := us[0], us[1], us[2]

	t.Run("someone a moderator blocks cannot join, see or find the room", func(t *testing.T) {
		if err := ada.Block(ctx, "eve"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ada.Unblock(ctx, "eve") })
		rm := createRoom(t, ada, client.RoomSpec{Title: "No eve", Type: "open"})
		join(t, ada, rm.ID)
		_, err := tryRoom(t, eve.Client, "eve", rm.ID)
		wantCode(t, "eve joining", err, "blocked")
		_, err = eve.Room(ctx, rm.ID)
		wantStatus(t, "eve reading the room", err, 404, "not_found")
		h, err := eve.Hallway(ctx)
		if err != nil || len(h) != 0 {
			t.Fatalf("eve's hallway %+v %v", h, err)
		}
	})

	t.Run("a listener's block does not keep anyone out", func(t *testing.T) {
		if err := bob.Block(ctx, "cyd"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bob.Unblock(ctx, "cyd") })
		rm := createRoom(t, ada, client.RoomSpec{Title: "Listeners block", Type: "open"})
		join(t, ada, rm.ID)
		join(t, bob, rm.ID)
		join(t, cyd, rm.ID)
	})

	t.Run("nobody a speaker blocks can be brought on stage while that speaker is on it", func(t *testing.T) {
		if err := bob.Block(ctx, "cyd"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bob.Unblock(ctx, "cyd") })
		rm := createRoom(t, ada, client.RoomSpec{Title: "Stage blocks", Type: "open"})
		as := join(t, ada, rm.ID)
		bs := join(t, bob, rm.ID)
		cs := join(t, cyd, rm.ID)

		// cyd is invited before bob is on stage; bob comes on stage; cyd's
		// acceptance is refused.
		as.do(t, "invite_to_speak", map[string]any{"target": cyd.ID})
		as.do(t, "invite_to_speak", map[string]any{"target": bob.ID})
		bs.event(t, "speak_invited", bob.ID)
		bs.do(t, "accept_speak", nil)
		cs.event(t, "joined_stage", bob.ID)
		cs.refused(t, "accept_speak", nil, "blocked")
		cs.do(t, "decline_speak", nil)

		// While bob is on stage, cyd cannot be invited.
		as.refused(t, "invite_to_speak", map[string]any{"target": cyd.ID}, "blocked")

		// Once bob steps down, cyd can come up.
		bs.do(t, "step_down", nil)
		cs.event(t, "listener_joined", bob.ID)
		as.do(t, "invite_to_speak", map[string]any{"target": cyd.ID})
		cs.event(t, "speak_invited", cyd.ID)
		cs.do(t, "accept_speak", nil)
		as.event(t, "joined_stage", cyd.ID)

		// And now bob, who blocks someone on stage, cannot come back up: the rule
		// holds both ways.
		as.refused(t, "invite_to_speak", map[string]any{"target": bob.ID}, "blocked")
	})

	t.Run("an invitation to the stage from a moderator lands a blocked invitee in the audience", func(t *testing.T) {
		if err := bob.Block(ctx, "cyd"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bob.Unblock(ctx, "cyd") })
		rm := createRoom(t, ada, client.RoomSpec{Title: "Invited but blocked", Type: "open"})
		join(t, ada, rm.ID)
		if _, err := ada.InviteToRoom(ctx, rm.ID, []string{"bob", "cyd"}, "come up", false); err != nil {
			t.Fatal(err)
		}
		bs := join(t, bob, rm.ID)
		if roleOf(bs.state, bob.ID) != "speaker" {
			t.Fatalf("bob, invited by a moderator, is a %s", roleOf(bs.state, bob.ID))
		}
		cs := join(t, cyd, rm.ID)
		if roleOf(cs.state, cyd.ID) != "listener" {
			t.Fatalf("cyd, blocked by bob on stage, is a %s", roleOf(cs.state, cyd.ID))
		}
	})
}

// TestHandPolicy checks the three hand policies a moderator sets.
func TestHandPolicy(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada := ts.admin
	us := ts.users("bob", "cyd")
	bob, cyd := us[0], us[1]
	follow(t, ada, bob)
	rm := createRoom(t, ada, client.RoomSpec{Title: "Hands", Type: "open"})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	cs := join(t, cyd, rm.ID)

	t.Run("a new room takes everyone's hand", func(t *testing.T) {
		if as.state.HandPolicy != "everyone" {
			t.Fatalf("policy %q", as.state.HandPolicy)
		}
		cs.do(t, "raise_hand", nil)
		as.event(t, "hand_raised", cyd.ID)
	})

	t.Run("followed by speakers takes only hands of people someone on stage follows", func(t *testing.T) {
		as.do(t, "set_hand_policy", map[string]any{"policy": "followed_by_speakers"})
		if d := dataOf(bs.event(t, "hand_policy_changed", "")); d.Policy != "followed_by_speakers" || d.By != ada.ID {
			t.Fatalf("policy change %+v", d)
		}
		for _, s := range []*sock{as, cs} { // the moderator and the hand's listener; bob is not told
			if d := dataOf(s.event(t, "hand_lowered", cyd.ID)); d.Reason != "policy" {
				t.Fatalf("%s: cyd's hand lowered for %q", s.who, d.Reason)
			}
		}
		cs.refused(t, "raise_hand", nil, "forbidden")
		bs.do(t, "raise_hand", nil)
		as.event(t, "hand_raised", bob.ID)
	})

	t.Run("nobody takes no hands at all", func(t *testing.T) {
		as.do(t, "set_hand_policy", map[string]any{"policy": "nobody"})
		if d := dataOf(cs.event(t, "hand_policy_changed", "")); d.Policy != "nobody" {
			t.Fatalf("cyd told of the policy %q", d.Policy)
		}
		for _, s := range []*sock{as, bs} {
			s.event(t, "hand_lowered", bob.ID)
		}
		bs.refused(t, "raise_hand", nil, "forbidden")
		if st := cs.snapshot(t); st.HandPolicy != "nobody" || len(st.RaisedHands) != 0 {
			t.Fatalf("snapshot %+v", st)
		}
	})

	t.Run("a moderator can invite a listener to speak whatever the policy", func(t *testing.T) {
		as.do(t, "invite_to_speak", map[string]any{"target": cyd.ID})
		cs.event(t, "speak_invited", cyd.ID)
	})
}

// TestModeration checks the moderators' commands and the speakers' own.
func TestModeration(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada := ts.admin
	us := ts.users("bob", "cyd")
	bob, cyd := us[0], us[1]
	rm := createRoom(t, ada, client.RoomSpec{Title: "Moderation", Type: "open"})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	cs := join(t, cyd, rm.ID)
	onStage := func(t *testing.T, s *sock, u *user) {
		t.Helper()
		as.do(t, "invite_to_speak", map[string]any{"target": u.ID})
		s.event(t, "speak_invited", u.ID)
		s.do(t, "accept_speak", nil)
		as.event(t, "joined_stage", u.ID)
	}

	t.Run("a listener declines an invitation to speak; the moderators hear of it", func(t *testing.T) {
		as.do(t, "invite_to_speak", map[string]any{"target": bob.ID})
		bs.event(t, "speak_invited", bob.ID)
		as.refused(t, "invite_to_speak", map[string]any{"target": bob.ID}, "conflict")
		bs.do(t, "decline_speak", nil)
		as.event(t, "speak_declined", bob.ID)
		bs.event(t, "speak_declined", bob.ID)
	})

	t.Run("a speaker mutes and unmutes themselves", func(t *testing.T) {
		onStage(t, bs, bob)
		bs.do(t, "set_muted", map[string]any{"muted": false})
		cs.event(t, "unmuted", bob.ID)
		bs.do(t, "set_muted", map[string]any{"muted": true})
		if d := dataOf(cs.event(t, "muted", bob.ID)); d.By != bob.ID || d.Held {
			t.Fatalf("self mute %+v", d)
		}
	})

	t.Run("a moderator makes a speaker a moderator, who gets a snapshot with the pending invitations to speak", func(t *testing.T) {
		as.do(t, "invite_to_speak", map[string]any{"target": cyd.ID})
		cs.event(t, "speak_invited", cyd.ID)
		if len(bs.snapshot(t).SpeakInvitations) != 0 {
			t.Fatal("a speaker's snapshot shows the invitations to speak")
		}
		as.do(t, "make_moderator", map[string]any{"target": bob.ID})
		if d := dataOf(cs.event(t, "moderator_added", bob.ID)); d.By != ada.ID || d.Auto {
			t.Fatalf("moderator_added %+v", d)
		}
		bs.event(t, "moderator_added", bob.ID)
		if m := bs.next(t, "a fresh snapshot"); m.Type != "snapshot" || len(bs.state.SpeakInvitations) != 1 || bs.state.SpeakInvitations[0] != cyd.ID {
			t.Fatalf("after the promotion: %s", m.Raw)
		}
		cs.do(t, "decline_speak", nil)
		bs.event(t, "speak_declined", cyd.ID)
	})

	t.Run("a moderator revokes a moderator", func(t *testing.T) {
		as.refused(t, "make_moderator", map[string]any{"target": bob.ID}, "conflict")
		bs.do(t, "revoke_moderator", map[string]any{"target": ada.ID})
		cs.event(t, "moderator_removed", ada.ID)
		as.refused(t, "mute", map[string]any{"target": bob.ID}, "forbidden")
		bs.do(t, "make_moderator", map[string]any{"target": ada.ID})
		cs.event(t, "moderator_added", ada.ID)
		as.do(t, "revoke_moderator", map[string]any{"target": bob.ID})
		cs.event(t, "moderator_removed", bob.ID)
	})

	t.Run("a moderator moves a speaker to the audience", func(t *testing.T) {
		as.do(t, "move_to_audience", map[string]any{"target": bob.ID})
		if d := dataOf(cs.event(t, "left_stage", bob.ID)); d.Reason != "moved" {
			t.Fatalf("reason %q", d.Reason)
		}
		cs.event(t, "listener_joined", bob.ID)
		as.refused(t, "move_to_audience", map[string]any{"target": bob.ID}, "conflict")
	})

	t.Run("a speaker steps down to the audience", func(t *testing.T) {
		onStage(t, cs, cyd)
		cs.do(t, "step_down", nil)
		if d := dataOf(bs.event(t, "left_stage", cyd.ID)); d.Reason != "stepped_down" {
			t.Fatalf("reason %q", d.Reason)
		}
		bs.event(t, "listener_joined", cyd.ID)
	})

	t.Run("only a moderator ends the room; everyone is told and closed", func(t *testing.T) {
		onStage(t, bs, bob)
		bs.refused(t, "end", nil, "forbidden")
		as.do(t, "end", nil)
		for _, s := range []*sock{bs, cs} {
			if d := dataOf(s.event(t, "room_ended", "")); d.Reason != "ended" || d.By != ada.ID {
				t.Fatalf("%s: room_ended %+v", s.who, d)
			}
			if bye, status := s.ended(t); bye != "room_ended" || status != 4004 {
				t.Fatalf("%s: bye %q status %d", s.who, bye, status)
			}
		}
		_, err := tryRoom(t, cyd.Client, "cyd", rm.ID)
		wantStatus(t, "joining an ended room", err, 404, "not_found")
	})
}

// TestLastModeratorLeaves checks that the longest-serving speaker, not the latest,
// takes over when the last moderator leaves, and that other moderators are not
// replaced.
func TestLastModeratorLeaves(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan")
	bob, cyd, dan := us[0], us[1], us[2]
	rm := createRoom(t, ada, client.RoomSpec{Title: "Succession", Type: "open"})
	as := join(t, ada, rm.ID)
	bs, cs, ds := join(t, bob, rm.ID), join(t, cyd, rm.ID), join(t, dan, rm.ID)
	for _, p := range []struct {
		s *sock
		u *user
	}{{cs, cyd}, {bs, bob}, {ds, dan}} { // cyd first, then bob, then dan
		as.do(t, "invite_to_speak", map[string]any{"target": p.u.ID})
		p.s.event(t, "speak_invited", p.u.ID)
		p.s.do(t, "accept_speak", nil)
		as.event(t, "joined_stage", p.u.ID)
	}

	t.Run("while another moderator is on stage, nobody is promoted", func(t *testing.T) {
		as.do(t, "make_moderator", map[string]any{"target": dan.ID})
		bs.event(t, "moderator_added", dan.ID)
		ds.do(t, "step_down", nil)
		bs.event(t, "left_stage", dan.ID)
		if m := bs.nextEvent(t, "dan in the audience"); m.Kind != "listener_joined" {
			t.Fatalf("got %s", m.Raw)
		}
	})

	t.Run("when the last moderator leaves, the longest-serving speaker takes over", func(t *testing.T) {
		as.do(t, "leave", nil)
		bs.event(t, "left_stage", ada.ID)
		if m := bs.nextEvent(t, "the new moderator"); m.Kind != "moderator_added" || subject(m) != cyd.ID || !dataOf(m).Auto {
			t.Fatalf("got %s, want cyd promoted", m.Raw)
		}
		if st := bs.snapshot(t); roleOf(st, cyd.ID) != "moderator" || roleOf(st, bob.ID) != "speaker" {
			t.Fatalf("stage %+v", st.Stage)
		}
	})
}
