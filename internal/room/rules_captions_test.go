package room_test

import (
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// liveCaptionsCases: who turns a room's live captions on and off, and who is told.
func liveCaptionsCases() []ruleCase {
	return []ruleCase{
		{
			name:  "live captions are off in a new room",
			given: opened,
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "live captions", r.LiveCaptions(), false)
				wantEqual(t, "in the snapshot", r.Snapshot().LiveCaptions, false)
			},
		},
		{
			name:  "the host turns live captions on, and every member is told",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.SetLiveCaptions{On: true}),
			kinds: []string{"live_captions_changed"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantEqual(t, "live captions", r.LiveCaptions(), true)
				wantEqual(t, "in the snapshot", r.Snapshot().LiveCaptions, true)
				e := event[room.LiveCaptionsChanged](t, events)
				wantEqual(t, "on", e.On, true)
				wantEqual(t, "by", e.By, creator)
				wantEqual(t, "to members", e.To.Members, true)
			},
		},
		{
			name:  "a moderator turns them off",
			given: steps(opened, []step{by(creator, room.SetLiveCaptions{On: true})}),
			when:  by(creator, room.SetLiveCaptions{On: false}),
			kinds: []string{"live_captions_changed"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "live captions", r.LiveCaptions(), false)
			},
		},
		{
			name:  "a speaker may not switch them",
			given: steps(opened, speaker(ann, 2)),
			when:  by(ann, room.SetLiveCaptions{On: true}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a listener may not switch them",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.SetLiveCaptions{On: true}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "turning on captions already on changes nothing",
			given: steps(opened, []step{by(creator, room.SetLiveCaptions{On: true})}),
			when:  by(creator, room.SetLiveCaptions{On: true}),
			kinds: []string{},
		},
		{
			name:  "a room saved and loaded keeps its live captions on",
			given: steps(opened, []step{by(creator, room.SetLiveCaptions{On: true})}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				loaded, err := room.Load(r.Save())
				if err != nil {
					t.Fatal(err)
				}
				wantEqual(t, "live captions after Load", loaded.LiveCaptions(), true)
			},
		},
	}
}
