package room_test

import (
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// recordingCases: who turns a room's recording on and off, and who is told.
func recordingCases() []ruleCase {
	recorded := func(c *room.Config) { c.Record = true }
	return []ruleCase{
		{
			name:  "a room created to be recorded is recorded from the start",
			cfg:   recorded,
			given: opened,
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "recording", r.Recording(), true)
			},
		},
		{
			name:  "a moderator turns recording on mid-room, and every member is told",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.SetRecording{On: true}),
			kinds: []string{"recording_changed"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantEqual(t, "recording", r.Recording(), true)
				e := event[room.RecordingChanged](t, events)
				wantEqual(t, "on", e.On, true)
				wantEqual(t, "by", e.By, creator)
				wantEqual(t, "to members", e.To.Members, true)
			},
		},
		{
			name:  "a moderator turns recording off at once",
			cfg:   recorded,
			given: opened,
			when:  by(creator, room.SetRecording{On: false}),
			kinds: []string{"recording_changed"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "recording", r.Recording(), false)
			},
		},
		{
			name:  "a speaker may not switch the recording",
			given: steps(opened, speaker(ann, 2)),
			when:  by(ann, room.SetRecording{On: true}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a listener may not switch the recording",
			cfg:   recorded,
			given: steps(opened, listener(ann)),
			when:  by(ann, room.SetRecording{On: false}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "turning on a recording already on changes nothing",
			cfg:   recorded,
			given: opened,
			when:  by(creator, room.SetRecording{On: true}),
			kinds: []string{},
		},
		{
			name:  "a room saved and loaded keeps its recording switched on",
			given: steps(opened, []step{by(creator, room.SetRecording{On: true})}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				loaded, err := room.Load(r.Save())
				if err != nil {
					t.Fatal(err)
				}
				wantEqual(t, "recording after Load", loaded.Recording(), true)
			},
		},
	}
}
