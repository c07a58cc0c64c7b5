package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/replay"
	"github.com/townhall/townhall/internal/store"
)

func replayCases() []storeCase {
	return []storeCase{
		{"a replay reads back the same, and is replaced when saved again", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			in := replay.Replay{RoomID: r.ID, State: replay.Recording, StartedAt: t0}
			must(t, db.SaveReplay(t.Context(), in))
			got, err := db.Replay(t.Context(), r.ID)
			must(t, err)
			in.Turns = []replay.Turn{}
			if !reflect.DeepEqual(got, in) {
				t.Errorf("Replay = %+v, want %+v", got, in)
			}
			rec, err := db.RecordingReplays(t.Context())
			must(t, err)
			if len(rec) != 1 || rec[0] != r.ID {
				t.Errorf("RecordingReplays = %v, want [%s]", rec, r.ID)
			}
			done := replay.Replay{RoomID: r.ID, State: replay.Ready, StartedAt: t0, EndedAt: t0.Add(time.Hour),
				Duration: time.Hour, Size: 12345, Captions: true, Turns: []replay.Turn{{UserID: u.ID, Start: time.Second, End: 3 * time.Second}}}
			must(t, db.SaveReplay(t.Context(), done))
			got, err = db.Replay(t.Context(), r.ID)
			must(t, err)
			if !reflect.DeepEqual(got, done) {
				t.Errorf("Replay = %+v, want %+v", got, done)
			}
			rec, err = db.RecordingReplays(t.Context())
			must(t, err)
			if len(rec) != 0 {
				t.Errorf("RecordingReplays = %v after the replay is ready, want none", rec)
			}
		}},
		{"a room's setup reads back as stored", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := live.RoomRecord{ID: ids.New(), Title: "t", Type: "open", CreatorID: u.ID, CreatedAt: t0, Setup: []byte(`{"Record":true}`)}
			must(t, db.CreateRoom(t.Context(), r))
			got, err := db.RoomSetup(t.Context(), r.ID)
			must(t, err)
			if string(got) != `{"Record":true}` {
				t.Errorf("RoomSetup = %s, want the stored setup", got)
			}
			bare := newRoom(t, db, u.ID, t0)
			if got, err := db.RoomSetup(t.Context(), bare.ID); err != nil || got != nil {
				t.Errorf("RoomSetup of a room without one = %s, %v; want nil", got, err)
			}
			_, err = db.RoomSetup(t.Context(), "nope")
			wantErr(t, err, account.ErrNotFound)
		}},
		{"a replay of an unknown room is not found", func(t *testing.T, db *store.DB) {
			wantErr(t, db.SaveReplay(t.Context(), replay.Replay{RoomID: "nope", State: replay.Ready, StartedAt: t0}), account.ErrNotFound)
			_, err := db.Replay(t.Context(), "nope")
			wantErr(t, err, account.ErrNotFound)
		}},
		{"a replay is deleted once: the second delete is not found", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			must(t, db.SaveReplay(t.Context(), replay.Replay{RoomID: r.ID, State: replay.Ready, StartedAt: t0}))
			must(t, db.DeleteReplay(t.Context(), r.ID))
			wantErr(t, db.DeleteReplay(t.Context(), r.ID), account.ErrNotFound)
			_, err := db.Replay(t.Context(), r.ID)
			wantErr(t, err, account.ErrNotFound)
		}},
		{"the retention job finds the replays started before a time, oldest first", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			var rooms []string
			for i := range 3 {
				r := newRoom(t, db, u.ID, t0.Add(time.Duration(i)*time.Hour))
				rooms = append(rooms, r.ID)
				must(t, db.SaveReplay(t.Context(), replay.Replay{RoomID: r.ID, State: replay.Ready,
					StartedAt: t0.Add(time.Duration(i) * time.Hour)}))
			}
			got, err := db.ReplaysBefore(t.Context(), t0.Add(90*time.Minute), 10)
			must(t, err)
			if !reflect.DeepEqual(got, rooms[:2]) {
				t.Errorf("ReplaysBefore = %v, want %v", got, rooms[:2])
			}
		}},
		{"clips read back, and go with their room's DeleteClipsOf", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "ann")
			r := newRoom(t, db, u.ID, t0)
			other := newRoom(t, db, u.ID, t0)
			c := replay.Clip{ID: "c1", RoomID: r.ID, UserID: u.ID, CreatedAt: t0, Duration: 30 * time.Second, Size: 999}
			must(t, db.AddClip(t.Context(), c))
			must(t, db.AddClip(t.Context(), replay.Clip{ID: "c2", RoomID: other.ID, UserID: u.ID, CreatedAt: t0, Duration: time.Second}))
			got, err := db.Clip(t.Context(), "c1")
			must(t, err)
			if got != c {
				t.Errorf("Clip = %+v, want %+v", got, c)
			}
			wantErr(t, db.AddClip(t.Context(), replay.Clip{ID: "c3", RoomID: "nope", CreatedAt: t0}), account.ErrNotFound)
			gone, err := db.DeleteClipsOf(t.Context(), r.ID)
			must(t, err)
			if !reflect.DeepEqual(gone, []string{"c1"}) {
				t.Errorf("DeleteClipsOf = %v, want [c1]", gone)
			}
			_, err = db.Clip(t.Context(), "c1")
			wantErr(t, err, account.ErrNotFound)
			if _, err := db.Clip(t.Context(), "c2"); err != nil {
				t.Errorf("the other room's clip: %v", err)
			}
		}},
	}
}
