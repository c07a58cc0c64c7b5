package room_test

import (
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// asAdmin is u's join as a server admin asked to moderate, with relations rel.
func asAdmin(u string, rel room.Relations) step {
	return by(u, room.Join{Rel: rel, Now: at(5), AdminModerator: true})
}

// adminCases: a server admin who joins to moderate (Join.AdminModerator, which
// the layer above sets only for an admin's account).
func adminCases() []ruleCase {
	onStageAsModerator := func(t *testing.T, r *room.Room, _ []room.Event) {
		t.Helper()
		p := participant(t, r, ann)
		wantEqual(t, "role", p.Role, room.Moderator)
		wantEqual(t, "muted", p.Muted, true)
		wantEqual(t, "on stage since", p.Since, at(5))
		wantEqual(t, "a member of the conversation", r.IsMember(ann), true)
	}
	return []ruleCase{
		{
			name:  "an admin who joins an open room to moderate lands on stage as a muted moderator",
			given: opened,
			when:  asAdmin(ann, room.Relations{}),
			kinds: []string{"joined_stage"},
			then:  onStageAsModerator,
		},
		{
			name:  "an admin who joins a closed room to moderate comes in without an invitation",
			cfg:   closed,
			given: opened,
			when:  asAdmin(ann, room.Relations{}),
			kinds: []string{"joined_stage"},
			then:  onStageAsModerator,
		},
		{
			name:  "an admin who joins a social room to moderate comes in though no moderator follows them",
			cfg:   social,
			given: opened,
			when:  asAdmin(ann, room.Relations{}),
			kinds: []string{"joined_stage"},
			then:  onStageAsModerator,
		},
		{
			name:  "an admin who joins a members-only club room to moderate comes in though not a member",
			cfg:   clubRoom(true),
			given: opened,
			when:  asAdmin(ann, room.Relations{}),
			kinds: []string{"joined_stage"},
			then:  onStageAsModerator,
		},
		{
			name:  "an admin who joins a room to moderate may use a moderator's powers at once",
			given: steps(opened, listener(bob), []step{asAdmin(ann, room.Relations{})}),
			when:  by(ann, room.InviteToSpeak{Target: bob}),
			kinds: []string{"speak_invited"},
		},
		{
			name: "an admin cannot join to moderate a room that has not opened",
			when: asAdmin(ann, room.Relations{}),
			err:  room.ErrNotStarted,
		},
		{
			name:  "an admin whom a moderator removed cannot come back to moderate",
			given: steps(opened, listener(ann), []step{by(creator, room.Remove{Target: ann})}),
			when:  asAdmin(ann, room.Relations{}),
			err:   room.ErrRemoved,
		},
		{
			name:  "an admin whom a moderator blocks cannot join to moderate",
			given: opened,
			when:  asAdmin(ann, room.Relations{BlockedBy: []string{creator}}),
			err:   room.ErrBlockedByModerator,
		},
		{
			name:  "an admin cannot join to moderate a full room",
			cfg:   capacity(2),
			given: steps(opened, listener(bob)),
			when:  asAdmin(ann, room.Relations{}),
			err:   room.ErrRoomFull,
		},
		{
			name:  "an admin who blocks someone on stage joins to moderate in the audience, kept off the stage",
			given: steps(opened, speaker(bob, 2)),
			when:  asAdmin(ann, room.Relations{Blocks: []string{bob}}),
			kinds: []string{"listener_joined"},
			then:  keptOff(ann, true, room.Listener),
		},
		{
			name:  "a guest cannot join as an admin moderator",
			cfg:   guests,
			given: opened,
			when:  by(guest, room.Join{Guest: true, AdminModerator: true}),
			err:   room.ErrBadCommand,
		},
		{
			name:  "a plain join of the same person lands in the audience",
			given: opened,
			when:  by(ann, room.Join{Now: at(5)}),
			kinds: []string{"listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Listener)
			},
		},
	}
}
