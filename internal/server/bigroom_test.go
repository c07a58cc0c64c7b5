package server_test

import (
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/live"
)

// TestBigRoom checks that a room with more listeners than the coalescing
// threshold counts listeners coming and going instead of announcing each, while
// the stage and the hands are still announced in full.
func TestBigRoom(t *testing.T) {
	ts := startServer(t, "sqlite", withLive(func(o *live.Options) {
		o.CoalesceAbove, o.AudienceEvery = 2, 20*time.Millisecond
	}))
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan", "eve", "fay")
	bob, cyd, dan, eve, fay := us[0], us[1], us[2], us[3], us[4]
	rm := createRoom(t, ada, client.RoomSpec{Title: "Big", Type: "open"})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	join(t, cyd, rm.ID)
	as.event(t, "listener_joined", bob.ID)
	as.event(t, "listener_joined", cyd.ID)

	coalesced := func(t *testing.T, want int) {
		t.Helper()
		as.waitFor(t, "an audience count", func(m client.Message) bool {
			if m.Type == "event" && (m.Kind == "listener_joined" || m.Kind == "listener_left") {
				t.Fatalf("a busy room announced %s", m.Raw)
			}
			return ev("audience", "")(m) && dataOf(m).ListenerCount == want
		})
	}

	ds := join(t, dan, rm.ID)
	t.Run("past the threshold, joins are counted, not announced", func(t *testing.T) {
		coalesced(t, 3)
		es := join(t, eve, rm.ID)
		fs := join(t, fay, rm.ID)
		coalesced(t, 5)
		if es.state.ListenerCount != 4 || len(fs.state.Listeners) != 5 {
			t.Fatalf("snapshots still list everyone: %d, %d", es.state.ListenerCount, len(fs.state.Listeners))
		}
		fs.do(t, "leave", nil)
		coalesced(t, 4)
	})

	t.Run("hands are announced in full to the moderators, even when their listener leaves; the others count the leave", func(t *testing.T) {
		ds.do(t, "raise_hand", nil)
		as.event(t, "hand_raised", dan.ID)
		ds.do(t, "leave", nil)
		if d := dataOf(as.event(t, "listener_left", dan.ID)); d.Reason != "left" {
			t.Fatalf("reason %q", d.Reason)
		}
		bs.waitFor(t, "an audience count without dan", func(m client.Message) bool {
			if m.Type == "event" && (m.Kind == "hand_raised" || m.Kind == "listener_left") {
				t.Fatalf("bob, a listener, was told %s", m.Raw)
			}
			return ev("audience", "")(m) && dataOf(m).ListenerCount == 3
		})
	})

	t.Run("the stage is announced in full", func(t *testing.T) {
		as.do(t, "invite_to_speak", map[string]any{"target": bob.ID})
		bs.event(t, "speak_invited", bob.ID)
		bs.do(t, "accept_speak", nil)
		if d := dataOf(as.event(t, "listener_left", bob.ID)); d.Reason != "to_stage" {
			t.Fatalf("reason %q", d.Reason)
		}
		as.event(t, "joined_stage", bob.ID)
		bs.do(t, "step_down", nil)
		as.event(t, "left_stage", bob.ID)
		coalesced(t, 3)
	})
}

// TestAudiencePages checks the audience request: pages of the audience in the
// order it came, beyond the snapshot's first 500, with hands shown as in the
// snapshot.
func TestAudiencePages(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan", "eve")
	bob, cyd, dan, eve := us[0], us[1], us[2], us[3]
	rm := createRoom(t, ada, client.RoomSpec{Title: "Who is here", Type: "open"})
	as := join(t, ada, rm.ID)
	socks := map[string]*sock{}
	for _, u := range us {
		socks[u.ID] = join(t, u, rm.ID)
		as.event(t, "listener_joined", u.ID)
	}
	socks[cyd.ID].do(t, "raise_hand", nil)
	as.event(t, "hand_raised", cyd.ID)
	ids := func(ls []client.Listener) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.ID)
		}
		return out
	}
	hand := func(ls []client.Listener, id string) bool {
		for _, l := range ls {
			if l.ID == id {
				return l.HandRaised
			}
		}
		return false
	}
	for _, tt := range []struct {
		name     string
		asker    *sock
		after    string
		limit    int
		want     []string
		more     bool
		cydsHand bool
	}{
		{"the first page lists the first to come, and says more follow", socks[bob.ID], "", 2, []string{bob.ID, cyd.ID}, true, false},
		{"the next page follows the last one listed", socks[bob.ID], cyd.ID, 2, []string{dan.ID, eve.ID}, false, false},
		{"without a limit, the server's page holds everyone here", socks[eve.ID], "", 0, []string{bob.ID, cyd.ID, dan.ID, eve.ID}, false, false},
		{"a listener sees their own hand", socks[cyd.ID], "", 0, []string{bob.ID, cyd.ID, dan.ID, eve.ID}, false, true},
		{"a moderator sees every hand", as, bob.ID, 1, []string{cyd.ID}, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, count, more, err := tt.asker.Audience(ctxT(t), tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) || more != tt.more || count != 4 || hand(got, cyd.ID) != tt.cydsHand {
				t.Fatalf("got %v of %d (more %v, cyd's hand %v); want %v of 4 (more %v, cyd's hand %v)",
					ids(got), count, more, hand(got, cyd.ID), tt.want, tt.more, tt.cydsHand)
			}
		})
	}
	t.Run("a page after someone no longer in the audience is refused", func(t *testing.T) {
		socks[dan.ID].do(t, "leave", nil)
		as.event(t, "listener_left", dan.ID)
		_, _, _, err := socks[bob.ID].Audience(ctxT(t), dan.ID, 2)
		wantCode(t, "a page after dan, who left", err, "conflict")
	})
	t.Run("a limit past the server's page is refused", func(t *testing.T) {
		_, _, _, err := socks[bob.ID].Audience(ctxT(t), "", 101)
		wantCode(t, "101 listeners", err, "bad_request")
	})
}
