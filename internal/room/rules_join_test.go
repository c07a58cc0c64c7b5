package room_test

import (
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// joinCases: room types, guests, who lands where, capacity, and leaving.
func joinCases() []ruleCase {
	followedByCreator := room.Relations{FollowedBy: []string{creator}}
	return []ruleCase{
		{
			name:  "the creator's first join opens the room with them on stage as a muted moderator",
			when:  by(creator, room.Join{Now: at(0)}),
			kinds: []string{"joined_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				p := participant(t, r, creator)
				wantEqual(t, "role", p.Role, room.Moderator)
				wantEqual(t, "muted", p.Muted, true)
				wantEqual(t, "on stage since", p.Since, at(0))
				wantEqual(t, "state", r.State(), room.StateLive)
			},
		},
		{
			name: "nobody but the creator can join before the room opens",
			when: by(ann, room.Join{}),
			err:  room.ErrNotStarted,
		},
		{
			name:  "any signed-in user can join an open room, as a listener",
			given: opened,
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Listener)
				wantEqual(t, "ann audible", r.Audible(ann), false)
			},
		},
		{
			name:  "a guest can join an open room that allows guests, as a listener",
			cfg:   guests,
			given: opened,
			when:  by(guest, room.Join{Guest: true}),
			kinds: []string{"listener_joined"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantEqual(t, "guest flag", participant(t, r, guest).Guest, true)
				wantEqual(t, "event guest flag", event[room.ListenerJoined](t, events).Guest, true)
			},
		},
		{
			name:  "a guest cannot join an open room that does not allow guests",
			given: opened,
			when:  by(guest, room.Join{Guest: true}),
			err:   room.ErrGuestsNotAllowed,
		},
		{
			name:  "a guest cannot join a social room",
			cfg:   social,
			given: opened,
			when:  by(guest, room.Join{Guest: true}),
			err:   room.ErrGuestsNotAllowed,
		},
		{
			name: "the creator cannot join as a guest",
			cfg:  guests,
			when: by(creator, room.Join{Guest: true}),
			err:  room.ErrBadCommand,
		},
		{
			name:  "someone a moderator follows can join a social room",
			cfg:   social,
			given: opened,
			when:  joinWith(ann, followedByCreator),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "someone only a speaker follows cannot join a social room",
			cfg:   social,
			given: steps(opened, []step{joinWith(ann, followedByCreator)}, speaker(ann, 2)[1:]),
			when:  joinWith(bob, room.Relations{FollowedBy: []string{ann}}),
			err:   room.ErrNotFollowed,
		},
		{
			name:  "someone nobody follows cannot join a social room",
			cfg:   social,
			given: opened,
			when:  by(ann, room.Join{}),
			err:   room.ErrNotFollowed,
		},
		{
			name:  "someone followed only by people outside the room cannot join a social room",
			cfg:   social,
			given: opened,
			when:  joinWith(ann, room.Relations{FollowedBy: []string{nobody}}),
			err:   room.ErrNotFollowed,
		},
		{
			name:  "someone invited can join a social room though no moderator follows them",
			cfg:   social,
			given: steps(opened, []step{by(creator, room.InviteMembers{Users: []string{ann}})}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "someone invited can join a closed room",
			cfg:   closed,
			given: steps(opened, []step{by(creator, room.InviteMembers{Users: []string{ann}})}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "someone not invited cannot join a closed room",
			cfg:   closed,
			given: opened,
			when:  by(ann, room.Join{}),
			err:   room.ErrNotInvited,
		},
		{
			name:  "someone a moderator follows still cannot join a closed room uninvited",
			cfg:   closed,
			given: opened,
			when:  joinWith(ann, followedByCreator),
			err:   room.ErrNotInvited,
		},
		{
			name:  "the creator can open a closed room",
			cfg:   closed,
			when:  by(creator, room.Join{}),
			kinds: []string{"joined_stage"},
		},
		{
			name:  "the creator comes back on stage as a moderator",
			given: steps(opened, speaker(ann, 2), []step{by(creator, room.Leave{})}),
			when:  by(creator, room.Join{Now: at(9)}),
			kinds: []string{"joined_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, creator, room.Moderator)
				wantEqual(t, "since", participant(t, r, creator).Since, at(9))
			},
		},
		{
			name:  "someone already in the room cannot join again",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.Join{}),
			err:   room.ErrAlreadyJoined,
		},
		{
			name:  "the creator cannot join twice",
			given: opened,
			when:  by(creator, room.Join{}),
			err:   room.ErrAlreadyJoined,
		},
		{
			name:  "a room with room left takes a join",
			cfg:   capacity(2),
			given: opened,
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a full room refuses a join",
			cfg:   capacity(2),
			given: steps(opened, listener(ann)),
			when:  by(bob, room.Join{}),
			err:   room.ErrRoomFull,
		},
		{
			name:  "a full room takes a join again once someone left",
			cfg:   capacity(2),
			given: steps(opened, listener(ann), []step{by(ann, room.Leave{})}),
			when:  by(bob, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a moderator's stage invitation puts the invitee on stage, muted, when they join",
			given: steps(opened, []step{by(creator, room.InviteMembers{Users: []string{ann}, ToStage: true})}),
			when:  by(ann, room.Join{Now: at(4)}),
			kinds: []string{"joined_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				p := participant(t, r, ann)
				wantEqual(t, "role", p.Role, room.Speaker)
				wantEqual(t, "muted", p.Muted, true)
				wantEqual(t, "since", p.Since, at(4))
			},
		},
		{
			name:  "a listener's stage invitation only lets the invitee listen",
			given: steps(opened, listener(bob), []step{by(bob, room.InviteMembers{Users: []string{ann}, ToStage: true})}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name: "a stage invitee whom someone on stage blocks joins as a listener",
			given: steps(opened, speaker(bob, 2),
				[]step{by(creator, room.InviteMembers{Users: []string{ann}, ToStage: true})}),
			when:  joinWith(ann, room.Relations{BlockedBy: []string{bob}}),
			kinds: []string{"listener_joined"},
		},
		{
			name: "a stage invitation is good for one join",
			given: steps(opened, []step{
				by(creator, room.InviteMembers{Users: []string{ann}, ToStage: true}),
				by(ann, room.Join{}),
				by(ann, room.Leave{}),
			}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name: "an empty actor is refused",
			when: by("", room.Join{}),
			err:  room.ErrBadCommand,
		},
		{
			name:  "a nil command is refused",
			given: opened,
			when:  by(creator, nil),
			err:   room.ErrBadCommand,
		},
		{
			name:  "a command by pointer is refused",
			given: opened,
			when:  by(creator, &room.End{}),
			err:   room.ErrBadCommand,
		},
		{
			name:  "someone not in the room can do nothing but join",
			given: opened,
			when:  by(ann, room.Leave{}),
			err:   room.ErrNotJoined,
		},
		{
			name:  "a listener can leave",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.Leave{}),
			kinds: []string{"listener_left"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantAbsent(t, r, ann)
				wantEqual(t, "listeners", r.ListenerCount(), 0)
			},
		},
		{
			name:  "a speaker can leave",
			given: steps(opened, speaker(ann, 2)),
			when:  by(ann, room.Leave{}),
			kinds: []string{"left_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantAbsent(t, r, ann)
				wantEqual(t, "ann audible", r.Audible(ann), false)
			},
		},
		{
			name:  "a guest can leave",
			cfg:   guests,
			given: steps(opened, []step{by(guest, room.Join{Guest: true})}),
			when:  by(guest, room.Leave{}),
			kinds: []string{"listener_left"},
		},
	}
}
