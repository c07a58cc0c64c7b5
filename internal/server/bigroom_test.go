package server_test

import (
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
