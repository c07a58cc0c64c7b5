package store_test

import (
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/replay"
	"github.com/townhall/townhall/internal/store"
)

// replayedRoom stores a room titled title by creatorID (of the club clubID, if
// any) whose replay, started at at, is in state st.
func replayedRoom(t *testing.T, db *store.DB, creatorID, title, clubID string, at time.Time, st replay.State) string {
	t.Helper()
	r := live.RoomRecord{ID: ids.New(), Title: title, Type: "open", CreatorID: creatorID, CreatedAt: at}
	if clubID != "" {
		r.Setup = []byte(`{"ID":"` + r.ID + `","ClubID":"` + clubID + `"}`)
	}
	must(t, db.CreateRoom(t.Context(), r))
	must(t, db.SaveReplay(t.Context(), replay.Replay{RoomID: r.ID, State: st, StartedAt: at, Duration: time.Minute}))
	return r.ID
}

// listedRooms are the room IDs of a list.
func listedRooms(l []store.ReplayListing) []string {
	out := []string{}
	for _, x := range l {
		out = append(out, x.RoomID)
	}
	return out
}

func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func replayListCases() []storeCase {
	return []storeCase{
		{"a user's replays are the ready ones of rooms they created or spoke in, newest first, by pages", func(t *testing.T, db *store.DB) {
			ann, bob := newUser(t, db, "ann"), newUser(t, db, "bob")
			first := replayedRoom(t, db, ann.ID, "First", "", t0, replay.Ready)
			replayedRoom(t, db, ann.ID, "Still recording", "", t0.Add(time.Minute), replay.Recording)
			replayedRoom(t, db, ann.ID, "Failed", "", t0.Add(2*time.Minute), replay.Failed)
			spoke := replayedRoom(t, db, bob.ID, "Bob's", "", t0.Add(3*time.Minute), replay.Ready)
			must(t, db.AddSpeaker(t.Context(), spoke, ann.ID, t0.Add(3*time.Minute)))
			replayedRoom(t, db, bob.ID, "Bob alone", "", t0.Add(4*time.Minute), replay.Ready)
			last := replayedRoom(t, db, ann.ID, "Last", "", t0.Add(5*time.Minute), replay.Ready)

			page, next, err := db.ReplaysOfUser(t.Context(), ann.ID, account.Cursor{}, 2)
			must(t, err)
			if want := []string{last, spoke}; !sameIDs(listedRooms(page), want) || next.IsZero() {
				t.Fatalf("first page %v (next %v), want %v and more", listedRooms(page), next, want)
			}
			if page[0].Title != "Last" || page[0].CreatorID != ann.ID || !page[0].StartedAt.Equal(t0.Add(5*time.Minute)) || page[0].Duration != time.Minute {
				t.Errorf("the newest %+v", page[0])
			}
			page, next, err = db.ReplaysOfUser(t.Context(), ann.ID, next, 2)
			must(t, err)
			if want := []string{first}; !sameIDs(listedRooms(page), want) || !next.IsZero() {
				t.Errorf("second page %v (next %v), want %v and the end", listedRooms(page), next, want)
			}
			_, _, err = db.ReplaysOfUser(t.Context(), ann.ID, account.Cursor{}, 0)
			wantErr(t, err, account.ErrInvalid)
		}},
		{"a club's replays are those of rooms started in it", func(t *testing.T, db *store.DB) {
			ann := newUser(t, db, "ann")
			club, other := ids.New(), ids.New()
			a := replayedRoom(t, db, ann.ID, "In the club", club, t0, replay.Ready)
			b := replayedRoom(t, db, ann.ID, "In the club again", club, t0.Add(time.Minute), replay.Ready)
			replayedRoom(t, db, ann.ID, "In another club", other, t0.Add(2*time.Minute), replay.Ready)
			replayedRoom(t, db, ann.ID, "In no club", "", t0.Add(3*time.Minute), replay.Ready)
			page, next, err := db.ReplaysOfClub(t.Context(), club, account.Cursor{}, 10)
			must(t, err)
			if want := []string{b, a}; !sameIDs(listedRooms(page), want) || !next.IsZero() {
				t.Errorf("the club's replays %v (next %v), want %v", listedRooms(page), next, want)
			}
		}},
		{"replays are found by the words of their title, whatever the case", func(t *testing.T, db *store.DB) {
			ann := newUser(t, db, "ann")
			show := replayedRoom(t, db, ann.ID, "The Morning Show", "", t0, replay.Ready)
			replayedRoom(t, db, ann.ID, "Evening show", "", t0.Add(time.Minute), replay.Ready)
			replayedRoom(t, db, ann.ID, "Morning show rehearsal", "", t0.Add(2*time.Minute), replay.Recording)
			got, err := db.ReplaysTitled(t.Context(), []string{"morn", "show"}, 10)
			must(t, err)
			if want := []string{show}; !sameIDs(listedRooms(got), want) {
				t.Errorf("found %v, want %v", listedRooms(got), want)
			}
			if got, err := db.ReplaysTitled(t.Context(), nil, 10); err != nil || len(got) != 0 {
				t.Errorf("no terms found %v, %v; want nothing", listedRooms(got), err)
			}
		}},
	}
}
