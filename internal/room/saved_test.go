package room_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// roundTrip saves r, encodes and decodes it as JSON, and loads it.
func roundTrip(t *testing.T, r *room.Room) *room.Room {
	t.Helper()
	b, err := json.Marshal(r.Save())
	if err != nil {
		t.Fatal(err)
	}
	var s room.Saved
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	loaded, err := room.Load(s)
	if err != nil {
		t.Fatalf("loading what a room saved: %v\n%s", err, b)
	}
	return loaded
}

func TestSaveAndLoad(t *testing.T) {
	busy := steps(opened, speaker(ann, 2), []step{joinWith(bob, room.Relations{FollowedBy: []string{ann}})},
		listener(cat), listener(dan), []step{
			by(creator, room.MakeModerator{Target: ann}),
			by(ann, room.SetMuted{Muted: false}),
			by(creator, room.Mute{Target: ann, Hold: true}),
			by(bob, room.RaiseHand{}),
			by(creator, room.InviteToSpeak{Target: cat}),
			by(creator, room.Remove{Target: dan}),
			by(creator, room.InviteMembers{Users: []string{nobody}, ToStage: true}),
			by(creator, room.SetHandPolicy{Policy: room.HandsFollowedBySpeakers}),
			by(guest, room.Join{Guest: true, Browser: "b1", Addr: "10.0.0.1"}),
			by(creator, room.Remove{Target: guest}),
			by(creator, room.SetGuests{Allowed: false}),
		})
	t.Run("a room comes back with its stage, hands, invitations, removals and settings", func(t *testing.T) {
		r := newRoom(t, guests, busy)
		loaded := roundTrip(t, r)
		if got, want := loaded.Save(), r.Save(); !reflect.DeepEqual(got, want) {
			t.Fatalf("saved again:\n%+v\nwant\n%+v", got, want)
		}
		wantRole(t, loaded, creator, room.Moderator)
		wantRole(t, loaded, ann, room.Moderator)
		wantEqual(t, "ann's held mute", participant(t, loaded, ann).Held, true)
		wantEqual(t, "bob's hand", participant(t, loaded, bob).HandRaised, true)
		wantEqual(t, "cat's invitation", participant(t, loaded, cat).SpeakInvited, true)
		wantEqual(t, "guests allowed", loaded.GuestsAllowed(), false)
		wantEqual(t, "hand policy", loaded.Snapshot().HandPolicy, room.HandsFollowedBySpeakers)
	})
	t.Run("the plain audience is left out: they come back by joining", func(t *testing.T) {
		r := newRoom(t, guests, steps(busy, listener(id("eve"))))
		loaded := roundTrip(t, r)
		wantAbsent(t, loaded, id("eve"))
		mustApply(t, loaded, by(id("eve"), room.Join{}), "listener_joined")
	})
	t.Run("the rules hold after loading", func(t *testing.T) {
		loaded := roundTrip(t, newRoom(t, guests, busy))
		mustRefuse(t, loaded, by(dan, room.Join{}), room.ErrRemoved)
		mustRefuse(t, loaded, guestFrom(id("guest9"), "b9", "10.0.0.7"), room.ErrGuestsClosed)
		mustRefuse(t, loaded, by(ann, room.SetMuted{Muted: false}), room.ErrMuteHeld)
		mustApply(t, loaded, by(cat, room.AcceptSpeak{Now: at(9)}), "listener_left", "joined_stage")
		mustApply(t, loaded, by(nobody, room.Join{Now: at(9)}), "joined_stage")
		events := mustApply(t, loaded, by(creator, room.InviteToSpeak{Target: bob}), "speak_invited")
		if events[0].Sequence() <= r0Seq(t, busy) {
			t.Fatalf("seq went back to %d after loading", events[0].Sequence())
		}
	})
	t.Run("a room not yet opened comes back waiting for its creator", func(t *testing.T) {
		loaded := roundTrip(t, newRoom(t, nil, nil))
		wantEqual(t, "state", loaded.State(), room.StateWaiting)
		mustRefuse(t, loaded, by(ann, room.Join{}), room.ErrNotStarted)
		mustApply(t, loaded, by(creator, room.Join{Now: at(1)}), "joined_stage")
	})
}

// r0Seq is the seq of the last event of a room built from given.
func r0Seq(t *testing.T, given []step) uint64 {
	t.Helper()
	return newRoom(t, guests, given).Snapshot().Seq
}

func TestLoadRefusesInconsistentStates(t *testing.T) {
	good := func() room.Saved {
		return newRoom(t, nil, steps(opened, listener(bob), []step{by(bob, room.RaiseHand{})})).Save()
	}
	cases := []struct {
		name   string
		break_ func(s *room.Saved)
	}{
		{"an invalid config", func(s *room.Saved) { s.Config.Title = "" }},
		{"an ended room", func(s *room.Saved) { s.State = room.StateEnded }},
		{"an unknown hand policy", func(s *room.Saved) { s.Policy = "sometimes" }},
		{"someone kept twice", func(s *room.Saved) { s.Members = append(s.Members, s.Members[0]) }},
		{"a plain listener kept", func(s *room.Saved) {
			for i := range s.Members {
				s.Members[i].Hand = 0
			}
		}},
		{"a tick from the future", func(s *room.Saved) { s.Tick = 0 }},
		{"an unknown role", func(s *room.Saved) { s.Members[0].Role = "king" }},
		{"a live room without a moderator", func(s *room.Saved) {
			for i := range s.Members {
				if s.Members[i].Role == room.Moderator {
					s.Members[i].Role = room.Speaker
				}
			}
		}},
		{"someone removed and present", func(s *room.Saved) { s.Removed = []string{s.Members[0].ID} }},
		{"a relation with someone not kept", func(s *room.Saved) { s.Follows = [][2]string{{creator, nobody}} }},
	}
	for _, c := range cases {
		t.Run("refuses "+c.name, func(t *testing.T) {
			s := good()
			c.break_(&s)
			if _, err := room.Load(s); !errors.Is(err, room.ErrBadSaved) {
				t.Fatalf("Load: got %v, want ErrBadSaved", err)
			}
		})
	}
}

// FuzzLoad feeds Load what JSON decodes to: it never panics, and what it loads
// saves and loads again to the same state.
func FuzzLoad(f *testing.F) {
	for _, r := range []*room.Room{
		room.New(config(nil)),
		newRoomF(f, steps(opened, speaker(ann, 2), listener(bob), []step{by(bob, room.RaiseHand{}), by(creator, room.Remove{Target: ann})})),
	} {
		b, _ := json.Marshal(r.Save())
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s room.Saved
		if json.Unmarshal(data, &s) != nil {
			return
		}
		r, err := room.Load(s)
		if err != nil {
			return
		}
		again, err := room.Load(r.Save())
		if err != nil {
			t.Fatalf("a loaded room saves what Load refuses: %v", err)
		}
		if !reflect.DeepEqual(again.Save(), r.Save()) {
			t.Fatal("saving a loaded room twice gives two states")
		}
	})
}

// newRoomF is newRoom for a fuzz target's seeds.
func newRoomF(f *testing.F, given []step) *room.Room {
	r := room.New(config(guests))
	for _, s := range given {
		if _, err := r.Apply(s.actor, s.cmd); err != nil {
			f.Fatalf("seed step %v: %v", s, err)
		}
	}
	return r
}
