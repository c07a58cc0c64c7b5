package room_test

import (
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// comoderator puts u on stage at minute n and makes them a moderator.
func comoderator(u string, n int) []step {
	return append(speaker(u, n), by(creator, room.MakeModerator{Target: u}))
}

// moderatorCases: making and revoking moderators, and the automatic promotion.
func moderatorCases() []ruleCase {
	return []ruleCase{
		{
			name:  "a moderator can make a speaker a moderator",
			given: steps(opened, speaker(ann, 2)),
			when:  by(creator, room.MakeModerator{Target: ann}),
			kinds: []string{"moderator_added"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Moderator)
			},
		},
		{
			name:  "a speaker cannot make anyone a moderator",
			given: steps(opened, speaker(ann, 2), speaker(bob, 3)),
			when:  by(ann, room.MakeModerator{Target: bob}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a listener cannot be made a moderator",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.MakeModerator{Target: ann}),
			err:   room.ErrNotOnStage,
		},
		{
			name:  "a moderator cannot be made a moderator again",
			given: steps(opened, comoderator(ann, 2)),
			when:  by(creator, room.MakeModerator{Target: ann}),
			err:   room.ErrAlreadyModerator,
		},
		{
			name:  "a moderator can revoke another moderator, who stays on stage as a speaker",
			given: steps(opened, comoderator(ann, 2)),
			when:  by(creator, room.RevokeModerator{Target: ann}),
			kinds: []string{"moderator_removed"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Speaker)
			},
		},
		{
			name:  "a moderator can revoke themselves while another moderator remains",
			given: steps(opened, comoderator(ann, 2)),
			when:  by(creator, room.RevokeModerator{Target: creator}),
			kinds: []string{"moderator_removed"},
		},
		{
			name:  "the last moderator cannot revoke themselves",
			given: steps(opened, speaker(ann, 2)),
			when:  by(creator, room.RevokeModerator{Target: creator}),
			err:   room.ErrLastModerator,
		},
		{
			name:  "a speaker cannot revoke a moderator",
			given: steps(opened, speaker(ann, 2)),
			when:  by(ann, room.RevokeModerator{Target: creator}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a speaker who is not a moderator cannot be revoked",
			given: steps(opened, speaker(ann, 2)),
			when:  by(creator, room.RevokeModerator{Target: ann}),
			err:   room.ErrTargetNotModerator,
		},
		{
			// ann joined first but came on stage after bob: bob served longest.
			name: "when the last moderator leaves, the longest-serving speaker becomes moderator",
			given: steps(opened, listener(ann), speaker(bob, 2), []step{
				by(creator, room.InviteToSpeak{Target: ann}), by(ann, room.AcceptSpeak{Now: at(3)}),
			}),
			when:  by(creator, room.Leave{}),
			kinds: []string{"left_stage", "moderator_added"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantRole(t, r, bob, room.Moderator)
				wantRole(t, r, ann, room.Speaker)
				wantEqual(t, "automatic", event[room.ModeratorAdded](t, events).Auto, true)
			},
		},
		{
			name:  "when the last moderator steps down, the longest-serving speaker becomes moderator",
			given: steps(opened, speaker(ann, 2), speaker(bob, 3)),
			when:  by(creator, room.StepDown{}),
			kinds: []string{"left_stage", "listener_joined", "moderator_added"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Moderator)
				wantRole(t, r, creator, room.Listener)
			},
		},
		{
			name:  "when the last moderator moves themselves to the audience, the longest-serving speaker becomes moderator",
			given: steps(opened, speaker(ann, 2)),
			when:  by(creator, room.MoveToAudience{Target: creator}),
			kinds: []string{"left_stage", "listener_joined", "moderator_added"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Moderator)
			},
		},
		{
			name:  "a moderator leaving while another remains promotes nobody",
			given: steps(opened, speaker(bob, 2), comoderator(ann, 3)),
			when:  by(creator, room.Leave{}),
			kinds: []string{"left_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, bob, room.Speaker)
			},
		},
	}
}

// endCases: the room ends, and then refuses everything.
func endCases() []ruleCase {
	ended := steps(opened, speaker(ann, 2), listener(bob), []step{by(creator, room.End{})})
	return []ruleCase{
		{
			name:  "when the last one on stage leaves, the room ends",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.Leave{}),
			kinds: []string{"left_stage", "room_ended"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantEqual(t, "ended", r.Ended(), true)
				wantEqual(t, "reason", event[room.RoomEnded](t, events).Reason, room.ReasonStageEmpty)
			},
		},
		{
			name:  "when the last one on stage steps down, the room ends",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.StepDown{}),
			kinds: []string{"left_stage", "listener_joined", "room_ended"},
		},
		{
			name:  "a moderator can end the room, after which nobody is heard",
			given: steps(opened, speaker(ann, 2), []step{by(ann, room.SetMuted{Muted: false})}),
			when:  by(creator, room.End{}),
			kinds: []string{"room_ended"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantEqual(t, "ann audible", r.Audible(ann), false)
				wantEqual(t, "ended by", event[room.RoomEnded](t, events).By, creator)
			},
		},
		{
			name:  "a speaker cannot end the room",
			given: steps(opened, speaker(ann, 2)),
			when:  by(ann, room.End{}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a listener cannot end the room",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.End{}),
			err:   room.ErrNotModerator,
		},
		{name: "an ended room refuses a join", given: ended, when: by(cat, room.Join{}), err: room.ErrRoomEnded},
		{name: "an ended room refuses the creator's join", given: steps(opened, []step{by(creator, room.Leave{})}), when: by(creator, room.Join{}), err: room.ErrRoomEnded},
		{name: "an ended room refuses a leave", given: ended, when: by(bob, room.Leave{}), err: room.ErrRoomEnded},
		{name: "an ended room refuses a raised hand", given: ended, when: by(bob, room.RaiseHand{}), err: room.ErrRoomEnded},
		{name: "an ended room refuses an unmute", given: ended, when: by(ann, room.SetMuted{}), err: room.ErrRoomEnded},
		{name: "an ended room refuses to end again", given: ended, when: by(creator, room.End{}), err: room.ErrRoomEnded},
	}
}

// muteCases: muting oneself, soft and held mutes by moderators, releasing holds.
func muteCases() []ruleCase {
	unmuted := []step{by(ann, room.SetMuted{Muted: false})}
	held := []step{by(creator, room.Mute{Target: ann, Hold: true})}
	audible := func(want bool) func(*testing.T, *room.Room, []room.Event) {
		return func(t *testing.T, r *room.Room, _ []room.Event) {
			t.Helper()
			wantEqual(t, "ann audible", r.Audible(ann), want)
		}
	}
	return []ruleCase{
		{
			name:  "a speaker can unmute and be heard",
			given: steps(opened, speaker(ann, 2)),
			when:  unmuted[0],
			kinds: []string{"unmuted"},
			then:  audible(true),
		},
		{
			name:  "a speaker can mute themselves",
			given: steps(opened, speaker(ann, 2), unmuted),
			when:  by(ann, room.SetMuted{Muted: true}),
			kinds: []string{"muted"},
			then:  audible(false),
		},
		{
			name:  "unmuting when unmuted changes nothing",
			given: steps(opened, speaker(ann, 2), unmuted),
			when:  unmuted[0],
			then:  audible(true),
		},
		{
			name:  "a listener cannot unmute and is never heard",
			given: steps(opened, listener(ann)),
			when:  unmuted[0],
			err:   room.ErrNotOnStage,
			then:  audible(false),
		},
		{
			name:  "a moderator can mute a speaker softly, and the speaker can unmute",
			given: steps(opened, speaker(ann, 2), unmuted),
			when:  by(creator, room.Mute{Target: ann}),
			kinds: []string{"muted"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantEqual(t, "held", event[room.Muted](t, events).Held, false)
				mustApply(t, r, unmuted[0], "unmuted")
			},
		},
		{
			name:  "muting a muted speaker softly again changes nothing",
			given: steps(opened, speaker(ann, 2)),
			when:  by(creator, room.Mute{Target: ann}),
		},
		{
			name:  "a moderator can hold a speaker's mute",
			given: steps(opened, speaker(ann, 2), unmuted),
			when:  held[0],
			kinds: []string{"muted"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantEqual(t, "held", participant(t, r, ann).Held, true)
				wantEqual(t, "event held", event[room.Muted](t, events).Held, true)
			},
		},
		{
			name:  "a moderator can hold the mute of a speaker who is already muted",
			given: steps(opened, speaker(ann, 2)),
			when:  held[0],
			kinds: []string{"muted"},
		},
		{
			name:  "a speaker cannot unmute while a moderator holds the mute",
			given: steps(opened, speaker(ann, 2), held),
			when:  unmuted[0],
			err:   room.ErrMuteHeld,
			then:  audible(false),
		},
		{
			name:  "a moderator can release a held mute, which leaves the speaker muted until they unmute",
			given: steps(opened, speaker(ann, 2), held),
			when:  by(creator, room.ReleaseMute{Target: ann}),
			kinds: []string{"mute_released"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				p := participant(t, r, ann)
				wantEqual(t, "muted", p.Muted, true)
				wantEqual(t, "held", p.Held, false)
				mustApply(t, r, unmuted[0], "unmuted")
			},
		},
		{
			name:  "releasing a mute nobody holds changes nothing",
			given: steps(opened, speaker(ann, 2)),
			when:  by(creator, room.ReleaseMute{Target: ann}),
		},
		{
			name:  "a speaker cannot mute someone else",
			given: steps(opened, speaker(ann, 2), speaker(bob, 3)),
			when:  by(bob, room.Mute{Target: ann}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a speaker cannot release a held mute",
			given: steps(opened, speaker(ann, 2), speaker(bob, 3), held),
			when:  by(bob, room.ReleaseMute{Target: ann}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a moderator cannot mute a listener",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.Mute{Target: ann}),
			err:   room.ErrNotOnStage,
		},
		{
			name:  "a moderator cannot mute themselves through moderation",
			given: opened,
			when:  by(creator, room.Mute{Target: creator, Hold: true}),
			err:   room.ErrSelfTarget,
		},
		{
			name:  "a held moderator cannot release themselves",
			given: steps(opened, comoderator(ann, 2), held),
			when:  by(ann, room.ReleaseMute{Target: ann}),
			err:   room.ErrSelfTarget,
		},
		{
			name:  "another moderator can release a held moderator",
			given: steps(opened, comoderator(ann, 2), held),
			when:  by(creator, room.ReleaseMute{Target: ann}),
			kinds: []string{"mute_released"},
		},
	}
}

// removeCases: removal, for good.
func removeCases() []ruleCase {
	return []ruleCase{
		{
			name:  "a moderator can remove a listener, who alone is told so",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.Remove{Target: ann}),
			kinds: []string{"removed", "listener_left"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantRecipients(t, events[0], ann)
				wantAbsent(t, r, ann)
			},
		},
		{
			name:  "a moderator can remove a speaker",
			given: steps(opened, speaker(ann, 2)),
			when:  by(creator, room.Remove{Target: ann}),
			kinds: []string{"removed", "left_stage"},
		},
		{
			name:  "a moderator can remove another moderator",
			given: steps(opened, comoderator(ann, 2)),
			when:  by(ann, room.Remove{Target: creator}),
			kinds: []string{"removed", "left_stage"},
		},
		{
			name:  "a moderator cannot remove themselves",
			given: opened,
			when:  by(creator, room.Remove{Target: creator}),
			err:   room.ErrSelfTarget,
		},
		{
			name:  "a speaker cannot remove anyone",
			given: steps(opened, speaker(ann, 2), listener(bob)),
			when:  by(ann, room.Remove{Target: bob}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a listener cannot remove anyone",
			given: steps(opened, listener(ann), listener(bob)),
			when:  by(ann, room.Remove{Target: bob}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "someone not in the room cannot be removed",
			given: opened,
			when:  by(creator, room.Remove{Target: ann}),
			err:   room.ErrTargetNotFound,
		},
		{
			name:  "removal voids an invitation to a closed room",
			cfg:   closed,
			given: steps(opened, []step{by(creator, room.InviteMembers{Users: []string{ann}}), by(ann, room.Join{})}),
			when:  by(creator, room.Remove{Target: ann}),
			kinds: []string{"removed", "listener_left"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "ann is a member", r.IsMember(ann), false)
			},
		},
		{
			name:  "a removed user cannot be invited back",
			given: steps(opened, listener(ann), []step{by(creator, room.Remove{Target: ann})}),
			when:  by(creator, room.InviteMembers{Users: []string{ann}}),
		},
		{
			name:  "a removed user can never join again",
			given: steps(opened, listener(ann), []step{by(creator, room.Remove{Target: ann})}),
			when:  by(ann, room.Join{}),
			err:   room.ErrRemoved,
		},
	}
}
