package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/store"
)

// newRoom stores a live room by creatorID, created at at.
func newRoom(t *testing.T, db *store.DB, creatorID string, at time.Time) live.RoomRecord {
	t.Helper()
	r := live.RoomRecord{ID: ids.New(), Title: "Room " + at.Format(time.TimeOnly), Description: "about things",
		Type: "open", CreatorID: creatorID, CreatedAt: at}
	if err := db.CreateRoom(t.Context(), r); err != nil {
		t.Fatalf("create room: %v", err)
	}
	return r
}

// endedRoom stores a room by creatorID, created at at and ended an hour later.
func endedRoom(t *testing.T, db *store.DB, creatorID string, at time.Time) live.RoomRecord {
	t.Helper()
	r := newRoom(t, db, creatorID, at)
	r.EndedAt = at.Add(time.Hour)
	must(t, db.EndRoom(t.Context(), r.ID, r.EndedAt, 0))
	return r
}

func wantSpeakers(t *testing.T, db *store.DB, roomID string, want ...string) {
	t.Helper()
	got, err := db.RoomSpeakers(t.Context(), roomID)
	must(t, err)
	if !slices.Equal(got, want) {
		t.Fatalf("RoomSpeakers = %v, want %v", got, want)
	}
}

// roomIDs returns the IDs of rooms, in order.
func roomIDs(rooms []live.RoomRecord) []string {
	out := make([]string, len(rooms))
	for i, r := range rooms {
		out[i] = r.ID
	}
	return out
}

func roomCases() []storeCase {
	return []storeCase{
		{"a room reads back the same by its ID, live until it ends", func(t *testing.T, db *store.DB) {
			c := newUser(t, db, "creator")
			in := live.RoomRecord{ID: ids.New(), Title: "Birds", Description: "and their songs", Type: "social",
				AllowGuests: true, CreatorID: c.ID, CreatedAt: t0.Add(123 * time.Millisecond)}
			must(t, db.CreateRoom(t.Context(), in))
			got, err := db.RoomByID(t.Context(), in.ID)
			must(t, err)
			if !sameRoom(got, in) || !got.EndedAt.IsZero() {
				t.Fatalf("read back %+v, want %+v", got, in)
			}
			ended := in
			ended.ID, ended.EndedAt = ids.New(), t0.Add(time.Hour)
			must(t, db.CreateRoom(t.Context(), ended))
			got, err = db.RoomByID(t.Context(), ended.ID)
			must(t, err)
			if !sameRoom(got, ended) {
				t.Fatalf("a room created ended read back %+v, want %+v", got, ended)
			}
		}},
		{"an unknown room is not found by any room method", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			for _, tc := range []struct {
				name string
				call func(id string) error
			}{
				{"RoomByID", func(id string) error { _, err := db.RoomByID(t.Context(), id); return err }},
				{"EndRoom", func(id string) error { return db.EndRoom(t.Context(), id, t0, 0) }},
				{"AddSpeaker", func(id string) error { return db.AddSpeaker(t.Context(), id, u.ID, t0) }},
				{"RoomSpeakers", func(id string) error { _, err := db.RoomSpeakers(t.Context(), id); return err }},
			} {
				if err := tc.call(ids.New()); !errors.Is(err, account.ErrNotFound) {
					t.Errorf("%s: error = %v, want not found", tc.name, err)
				}
			}
		}},
		{"a room by an unknown creator is not found, and one without an ID is invalid", func(t *testing.T, db *store.DB) {
			err := db.CreateRoom(t.Context(), live.RoomRecord{ID: ids.New(), Type: "open", CreatorID: ids.New(), CreatedAt: t0})
			wantErr(t, err, account.ErrNotFound)
			c := newUser(t, db, "c")
			err = db.CreateRoom(t.Context(), live.RoomRecord{Type: "open", CreatorID: c.ID, CreatedAt: t0})
			wantErr(t, err, account.ErrInvalid)
		}},
		{"ending a room twice keeps the first time", func(t *testing.T, db *store.DB) {
			r := newRoom(t, db, newUser(t, db, "c").ID, t0)
			first := t0.Add(time.Hour)
			must(t, db.EndRoom(t.Context(), r.ID, first, 0))
			must(t, db.EndRoom(t.Context(), r.ID, first.Add(time.Hour), 0))
			got, err := db.RoomByID(t.Context(), r.ID)
			must(t, err)
			if !got.EndedAt.Equal(first) {
				t.Fatalf("EndedAt = %v, want %v", got.EndedAt, first)
			}
		}},
		{"ending a room at the zero time is invalid and leaves it live", func(t *testing.T, db *store.DB) {
			r := newRoom(t, db, newUser(t, db, "c").ID, t0)
			wantErr(t, db.EndRoom(t.Context(), r.ID, time.Time{}, 0), account.ErrInvalid)
			_, err := db.EndLiveRooms(t.Context(), time.Time{}, time.Time{})
			wantErr(t, err, account.ErrInvalid)
			got, err := db.RoomByID(t.Context(), r.ID)
			must(t, err)
			if !got.EndedAt.IsZero() {
				t.Fatalf("EndedAt = %v, want live", got.EndedAt)
			}
		}},
		{"adding a speaker twice keeps the first time and the order", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			a, b, c := newUser(t, db, "a"), newUser(t, db, "b"), newUser(t, db, "c")
			r := newRoom(t, db, a.ID, t0)
			must(t, db.AddSpeaker(ctx, r.ID, b.ID, t0.Add(time.Minute)))
			must(t, db.AddSpeaker(ctx, r.ID, a.ID, t0.Add(2*time.Minute)))
			must(t, db.AddSpeaker(ctx, r.ID, b.ID, t0.Add(3*time.Minute))) // again: no change
			must(t, db.AddSpeaker(ctx, r.ID, c.ID, t0.Add(4*time.Minute)))
			must(t, db.AddSpeaker(ctx, r.ID, a.ID, t0)) // an earlier time does not replace the first either
			wantSpeakers(t, db, r.ID, b.ID, a.ID, c.ID)
		}},
		{"speakers who first spoke in the same millisecond keep the order they were added", func(t *testing.T, db *store.DB) {
			r := newRoom(t, db, newUser(t, db, "host").ID, t0)
			var want []string
			for i := range 6 {
				u := newUser(t, db, fmt.Sprintf("s%d", i))
				must(t, db.AddSpeaker(t.Context(), r.ID, u.ID, t0))
				want = append(want, u.ID)
			}
			wantSpeakers(t, db, r.ID, want...)
		}},
		{"a room nobody spoke in has no speakers", func(t *testing.T, db *store.DB) {
			r := newRoom(t, db, newUser(t, db, "c").ID, t0)
			wantSpeakers(t, db, r.ID)
		}},
		{"a speaker who is not a user is not found and not recorded", func(t *testing.T, db *store.DB) {
			r := newRoom(t, db, newUser(t, db, "c").ID, t0)
			wantErr(t, db.AddSpeaker(t.Context(), r.ID, ids.New(), t0), account.ErrNotFound)
			wantSpeakers(t, db, r.ID)
		}},
		{"ended rooms of a user include those they created or spoke in, newest first, and exclude live ones", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			u, other := newUser(t, db, "u"), newUser(t, db, "other")
			created := endedRoom(t, db, u.ID, t0)
			spokeIn := newRoom(t, db, other.ID, t0.Add(time.Minute))
			must(t, db.AddSpeaker(ctx, spokeIn.ID, u.ID, t0.Add(2*time.Minute)))
			must(t, db.EndRoom(ctx, spokeIn.ID, t0.Add(3*time.Minute), 0))
			both := endedRoom(t, db, u.ID, t0.Add(2*time.Minute))
			must(t, db.AddSpeaker(ctx, both.ID, u.ID, t0.Add(2*time.Minute)))
			newRoom(t, db, u.ID, t0.Add(time.Hour)) // live, created
			liveSpoken := newRoom(t, db, other.ID, t0.Add(time.Hour))
			must(t, db.AddSpeaker(ctx, liveSpoken.ID, u.ID, t0.Add(time.Hour))) // live, spoke in
			endedRoom(t, db, other.ID, t0.Add(time.Minute))                     // someone else's

			got, err := db.EndedRoomsOf(ctx, u.ID, 10)
			must(t, err)
			want := []live.RoomRecord{both, spokeIn, created}
			want[1].EndedAt = t0.Add(3 * time.Minute)
			if !slices.Equal(roomIDs(got), roomIDs(want)) {
				t.Fatalf("EndedRoomsOf = %v, want %v", roomIDs(got), roomIDs(want))
			}
			for i := range want {
				if !sameRoom(got[i], want[i]) {
					t.Fatalf("room %d is %+v, want %+v", i, got[i], want[i])
				}
			}
			page, err := db.EndedRoomsOf(ctx, u.ID, 2)
			must(t, err)
			if !slices.Equal(roomIDs(page), roomIDs(want[:2])) {
				t.Fatalf("EndedRoomsOf with limit 2 = %v, want %v", roomIDs(page), roomIDs(want[:2]))
			}
			none, err := db.EndedRoomsOf(ctx, ids.New(), 10)
			must(t, err)
			if len(none) != 0 {
				t.Fatalf("an unknown user has %d ended rooms", len(none))
			}
		}},
		{"ended rooms with a limit below one are invalid", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			for _, limit := range []int{0, -1} {
				_, err := db.EndedRoomsOf(t.Context(), u.ID, limit)
				wantErr(t, err, account.ErrInvalid)
			}
		}},
		{"ending the live rooms ends only those still live, and counts them", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			c := newUser(t, db, "c")
			ended := endedRoom(t, db, c.ID, t0)
			live1, live2 := newRoom(t, db, c.ID, t0), newRoom(t, db, c.ID, t0.Add(time.Minute))
			restart := t0.Add(24 * time.Hour)
			n, err := db.EndLiveRooms(ctx, restart, restart)
			must(t, err)
			if n != 2 {
				t.Fatalf("EndLiveRooms ended %d rooms, want 2", n)
			}
			for id, want := range map[string]time.Time{ended.ID: ended.EndedAt, live1.ID: restart, live2.ID: restart} {
				got, err := db.RoomByID(ctx, id)
				must(t, err)
				if !got.EndedAt.Equal(want) {
					t.Fatalf("room %s ended at %v, want %v", id, got.EndedAt, want)
				}
			}
			n, err = db.EndLiveRooms(ctx, restart.Add(time.Hour), restart.Add(time.Hour))
			must(t, err)
			if n != 0 {
				t.Fatalf("a second EndLiveRooms ended %d rooms, want 0", n)
			}
		}},
		{"rooms waiting to be opened with a setup outlive the end of the live rooms, until they are too old", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			c := newUser(t, db, "c")
			waiting := func(at time.Time) live.RoomRecord {
				r := live.RoomRecord{ID: ids.New(), Title: "Waiting", Type: "open", CreatorID: c.ID, CreatedAt: at,
					Setup: []byte(`{"ID":"x"}`)}
				must(t, db.CreateRoom(ctx, r))
				return r
			}
			old, young := waiting(t0), waiting(t0.Add(9*time.Minute))
			opened := waiting(t0.Add(9 * time.Minute))
			must(t, db.OpenRoom(ctx, opened.ID, t0.Add(10*time.Minute)))
			must(t, db.OpenRoom(ctx, opened.ID, t0.Add(11*time.Minute))) // the first time stays
			noSetup := newRoom(t, db, c.ID, t0.Add(9*time.Minute))
			wantErr(t, db.OpenRoom(ctx, ids.New(), t0), account.ErrNotFound)

			got, err := db.WaitingRooms(ctx)
			must(t, err)
			if !slices.Equal(roomIDs(got), []string{old.ID, young.ID}) {
				t.Fatalf("WaitingRooms = %v, want the two never opened with a setup", roomIDs(got))
			}
			if string(got[1].Setup) != `{"ID":"x"}` {
				t.Fatalf("the setup read back as %q", got[1].Setup)
			}
			restart := t0.Add(12 * time.Minute)
			n, err := db.EndLiveRooms(ctx, restart, restart.Add(-5*time.Minute))
			must(t, err)
			if n != 3 {
				t.Fatalf("EndLiveRooms ended %d rooms, want 3 (the old waiting one, the opened one, the one without setup)", n)
			}
			for id, live := range map[string]bool{old.ID: false, young.ID: true, opened.ID: false, noSetup.ID: false} {
				r, err := db.RoomByID(ctx, id)
				must(t, err)
				if r.EndedAt.IsZero() != live {
					t.Fatalf("room %s ended at %v, want live %v", id, r.EndedAt, live)
				}
			}
			got, err = db.WaitingRooms(ctx)
			must(t, err)
			if !slices.Equal(roomIDs(got), []string{young.ID}) {
				t.Fatalf("WaitingRooms after the restart = %v, want only the young one", roomIDs(got))
			}
		}},
		{"a node whose lease is older than the last claim cannot end the room", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			r := newRoom(t, db, newUser(t, db, "c").ID, t0)
			must(t, db.ClaimRoom(ctx, r.ID, 5))
			must(t, db.ClaimRoom(ctx, r.ID, 3)) // an older claim changes nothing
			must(t, db.EndRoom(ctx, r.ID, t0.Add(time.Minute), 4))
			if got, err := db.RoomByID(ctx, r.ID); err != nil || !got.EndedAt.IsZero() {
				t.Fatalf("ended by an old owner: %+v, %v", got, err)
			}
			must(t, db.EndRoom(ctx, r.ID, t0.Add(2*time.Minute), 5))
			if got, err := db.RoomByID(ctx, r.ID); err != nil || !got.EndedAt.Equal(t0.Add(2*time.Minute)) {
				t.Fatalf("not ended by its owner: %+v, %v", got, err)
			}
			wantErr(t, db.ClaimRoom(ctx, ids.New(), 1), account.ErrNotFound)
		}},
		{"a secret is made once and then always read back the same", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			errs := race(8, func(int) error { _, err := db.Secret(ctx, "cookies"); return err })
			for _, err := range errs {
				must(t, err)
			}
			a, err := db.Secret(ctx, "cookies")
			must(t, err)
			b, err := db.Secret(ctx, "cookies")
			must(t, err)
			other, err := db.Secret(ctx, "other")
			must(t, err)
			if len(a) != 32 || string(a) != string(b) {
				t.Fatalf("the secret read back as %x then %x, want the same 32 bytes", a, b)
			}
			if string(a) == string(other) {
				t.Fatal("two secrets of different names are the same")
			}
		}},
		{"concurrent speakers of one room are each recorded once, in a place of their own", func(t *testing.T, db *store.DB) {
			r := newRoom(t, db, newUser(t, db, "host").ID, t0)
			users := make([]string, 20)
			for i := range users {
				users[i] = newUser(t, db, fmt.Sprintf("s%d", i)).ID
			}
			errs := race(2*len(users), func(i int) error {
				return db.AddSpeaker(t.Context(), r.ID, users[i%len(users)], t0)
			})
			if ok, _, other := tally(errs, nil); ok != len(errs) {
				t.Fatalf("%d of %d AddSpeaker calls succeeded, errors %v", ok, len(errs), other)
			}
			got, err := db.RoomSpeakers(t.Context(), r.ID)
			must(t, err)
			slices.Sort(got)
			slices.Sort(users)
			if !slices.Equal(got, users) {
				t.Fatalf("speakers %v, want each of %v once", got, users)
			}
		}},
		{"concurrent ends of one room all succeed and keep one of their times", func(t *testing.T, db *store.DB) {
			r := newRoom(t, db, newUser(t, db, "c").ID, t0)
			errs := race(10, func(i int) error {
				return db.EndRoom(t.Context(), r.ID, t0.Add(time.Duration(i+1)*time.Minute), 0)
			})
			if ok, _, other := tally(errs, nil); ok != len(errs) {
				t.Fatalf("%d of %d EndRoom calls succeeded, errors %v", ok, len(errs), other)
			}
			got, err := db.RoomByID(t.Context(), r.ID)
			must(t, err)
			if got.EndedAt.Before(t0.Add(time.Minute)) || got.EndedAt.After(t0.Add(10*time.Minute)) {
				t.Fatalf("EndedAt = %v, not one of the times it was ended at", got.EndedAt)
			}
		}},
	}
}

// sameRoom compares rooms field by field, times with Equal.
func sameRoom(a, b live.RoomRecord) bool {
	ca, cb, ea, eb := a.CreatedAt, b.CreatedAt, a.EndedAt, b.EndedAt
	a.CreatedAt, b.CreatedAt, a.EndedAt, b.EndedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	a.Setup, b.Setup = nil, nil // stored, but read back only by WaitingRooms
	return reflect.DeepEqual(a, b) && ca.Equal(cb) && ea.Equal(eb)
}
