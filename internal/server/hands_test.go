package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/townhall/townhall/client"
)

// untilLink reads s up to the link_pinned event of url, failing if an event of
// kind about user comes first: once url is pinned, an event sent before it
// would have been read.
func (s *sock) untilLink(t *testing.T, url, kind, user string) {
	t.Helper()
	s.waitFor(t, "the link "+url, func(m client.Message) bool {
		if ev(kind, user)(m) {
			t.Fatalf("%s was told %s", s.who, m.Raw)
		}
		return ev("link_pinned", "")(m) && strings.Contains(string(m.Raw), url)
	})
}

// handsIn lists the IDs of a snapshot's raised hands, and of the listeners it
// shows with a raised hand.
func handsIn(st client.RoomState) (raised, flagged []string) {
	for _, p := range st.RaisedHands {
		raised = append(raised, p.ID)
	}
	for _, l := range st.Listeners {
		if l.HandRaised {
			flagged = append(flagged, l.ID)
		}
	}
	return raised, flagged
}

// toldName names the subtest of whether who is told.
func toldName(who string, told bool) string {
	if told {
		return who + " is told"
	}
	return who + " is not told"
}

// TestHandQueueIsTheModerators checks issue 14's rule, as in Clubhouse: the
// hand queue is the moderators'. A hand goes to the moderators and to its
// listener, a snapshot shows a non-moderator their own hand alone, and whoever
// starts or stops moderating gets a fresh snapshot that says so.
func TestHandQueueIsTheModerators(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan", "eve")
	bob, cyd, dan, eve := us[0], us[1], us[2], us[3]
	rm := createRoom(t, ada, client.RoomSpec{Title: "Whose hands", Type: "open"})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	cs := join(t, cyd, rm.ID)
	ds := join(t, dan, rm.ID)
	es := join(t, eve, rm.ID)
	for _, sp := range []struct {
		s *sock
		u *user
	}{{ds, dan}, {es, eve}} {
		as.do(t, "invite_to_speak", map[string]any{"target": sp.u.ID})
		sp.s.event(t, "speak_invited", sp.u.ID)
		sp.s.do(t, "accept_speak", nil)
		as.event(t, "joined_stage", sp.u.ID)
	}
	links := 0
	pin := func() string {
		links++
		url := fmt.Sprintf("https://example.org/%d", links)
		as.do(t, "pin_link", map[string]any{"url": url})
		return url
	}

	// toldOnly pins a link after act and checks that the event kind about bob
	// reached the moderator and bob, and that the others read up to the link
	// without it.
	toldOnly := func(t *testing.T, kind string, act func()) {
		act()
		url := pin()
		for _, c := range []struct {
			s    *sock
			told bool
		}{{as, true}, {bs, true}, {cs, false}, {ds, false}, {es, false}} {
			t.Run(toldName(c.s.who, c.told), func(t *testing.T) {
				if c.told {
					c.s.event(t, kind, bob.ID)
					return
				}
				c.s.untilLink(t, url, kind, bob.ID)
			})
		}
	}

	t.Run("a raised hand is told to the moderator and to its listener, not to another listener or a speaker", func(t *testing.T) {
		toldOnly(t, "hand_raised", func() { bs.do(t, "raise_hand", nil) })
	})

	cs.do(t, "raise_hand", nil)
	as.event(t, "hand_raised", cyd.ID)
	t.Run("a snapshot shows the moderator every hand and anyone else their own alone", func(t *testing.T) {
		for _, c := range []struct {
			s               *sock
			raised, flagged []string
		}{
			{as, idsOf(bob, cyd), idsOf(bob, cyd)},
			{bs, idsOf(bob), idsOf(bob)},
			{cs, idsOf(cyd), idsOf(cyd)},
			{ds, nil, nil},
		} {
			t.Run(c.s.who+"'s snapshot shows the hands they may see", func(t *testing.T) {
				raised, flagged := handsIn(c.s.snapshot(t))
				if !slices.Equal(raised, c.raised) || !slices.Equal(flagged, c.flagged) {
					t.Fatalf("raised hands %v and listeners with a hand %v, want %v and %v", raised, flagged, c.raised, c.flagged)
				}
			})
		}
	})

	t.Run("whoever starts or stops moderating gets a snapshot with the hands they may see", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			s      *sock
			typ    string
			fields map[string]any
			raised []string
		}{
			{"a speaker made a moderator gets the hand queue", as, "make_moderator", map[string]any{"target": eve.ID}, idsOf(bob, cyd)},
			{"a moderator made a plain speaker again loses it", as, "revoke_moderator", map[string]any{"target": eve.ID}, nil},
			{"a speaker made a moderator once more gets it back", as, "make_moderator", map[string]any{"target": eve.ID}, idsOf(bob, cyd)},
			{"a moderator who steps down into the audience loses it", es, "step_down", nil, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				c.s.do(t, c.typ, c.fields)
				es.waitFor(t, "a snapshot", msgType("snapshot"))
				if raised, _ := handsIn(es.state); !slices.Equal(raised, c.raised) {
					t.Fatalf("eve's snapshot shows the hands %v, want %v", raised, c.raised)
				}
			})
		}
	})

	t.Run("a lowered hand is told to the moderator and to its listener alone", func(t *testing.T) {
		toldOnly(t, "hand_lowered", func() { bs.do(t, "lower_hand", nil) })
	})

	t.Run("a moderator's new connection finds the hand queue in its first snapshot", func(t *testing.T) {
		again := join(t, ts.login(ada), rm.ID)
		if raised, _ := handsIn(again.state); !slices.Equal(raised, idsOf(cyd)) {
			t.Fatalf("the moderator's snapshot shows the hands %v, want cyd's", raised)
		}
	})
}
