package room_test

import (
	"slices"
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// inviteMembersCases: invitations into the conversation.
func inviteMembersCases() []ruleCase {
	invite := func(from string, toStage bool, users ...string) step {
		return by(from, room.InviteMembers{Users: users, ToStage: toStage})
	}
	closedWithSpeaker := steps(opened, []step{invite(creator, true, ann), by(ann, room.Join{})})
	many := make([]string, room.MaxInvitees+1)
	for i := range many {
		many[i] = id(string(rune('a'+i%26)) + string(rune('a'+i/26)))
	}
	return []ruleCase{
		{
			name:  "a listener can invite people into an open room, telling only them and the inviter",
			given: steps(opened, listener(ann)),
			when:  invite(ann, false, dan),
			kinds: []string{"members_invited"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantRecipients(t, events[0], dan, ann)
				wantEqual(t, "dan is a member", r.IsMember(dan), true)
			},
		},
		{
			name:  "a listener can invite people into a social room, who may then join",
			cfg:   social,
			given: steps(opened, []step{joinWith(ann, room.Relations{FollowedBy: []string{creator}})}),
			when:  invite(ann, false, bob),
			kinds: []string{"members_invited"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				mustApply(t, r, by(bob, room.Join{}), "listener_joined")
			},
		},
		{
			name:  "a listener cannot invite people into a closed room",
			cfg:   closed,
			given: steps(opened, []step{invite(creator, false, ann), by(ann, room.Join{})}),
			when:  invite(ann, false, bob),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a speaker cannot invite people into a closed room",
			cfg:   closed,
			given: closedWithSpeaker,
			when:  invite(ann, false, bob),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a moderator can invite people into a closed room",
			cfg:   closed,
			given: closedWithSpeaker,
			when:  invite(creator, false, bob),
			kinds: []string{"members_invited"},
		},
		{
			name:  "a guest cannot invite anyone",
			cfg:   guests,
			given: steps(opened, []step{by(guest, room.Join{Guest: true})}),
			when:  invite(guest, false, dan),
			err:   room.ErrGuestListenOnly,
		},
		{
			name:  "an invitation must name someone",
			given: opened,
			when:  invite(creator, false),
			err:   room.ErrBadCommand,
		},
		{
			name:  "an invitation cannot name a malformed user ID",
			given: opened,
			when:  invite(creator, false, dan, "Robert'); DROP TABLE users;--"),
			err:   room.ErrBadCommand,
		},
		{
			name:  "an invitation cannot name more than MaxInvitees people",
			given: opened,
			when:  invite(creator, false, many...),
			err:   room.ErrTooManyInvitees,
		},
		{
			name:  "an invitation can name MaxInvitees people",
			given: opened,
			when:  invite(creator, false, many[1:]...),
			kinds: []string{"members_invited"},
		},
		{
			name:  "people already present or named twice are invited once",
			given: steps(opened, listener(ann)),
			when:  invite(creator, false, ann, bob, bob),
			kinds: []string{"members_invited"},
			then: func(t *testing.T, _ *room.Room, events []room.Event) {
				if got := event[room.MembersInvited](t, events).Users; !slices.Equal(got, []string{bob}) {
					t.Errorf("invited: got %v, want [%s]", got, bob)
				}
			},
		},
		{
			name:  "inviting only people already present changes nothing",
			given: steps(opened, listener(ann)),
			when:  invite(creator, true, ann),
		},
		{
			name:  "a listener's invitation to the stage is only an invitation to listen",
			given: steps(opened, listener(ann)),
			when:  invite(ann, true, dan),
			kinds: []string{"members_invited"},
			then: func(t *testing.T, _ *room.Room, events []room.Event) {
				wantEqual(t, "to stage", event[room.MembersInvited](t, events).ToStage, false)
			},
		},
	}
}

// relationCases: blocks and follows as the room learns them.
func relationCases() []ruleCase {
	blockedByBob := room.Relations{BlockedBy: []string{bob}}
	return []ruleCase{
		{
			name:  "a user a moderator blocks cannot join",
			given: opened,
			when:  joinWith(ann, room.Relations{BlockedBy: []string{creator}}),
			err:   room.ErrBlockedByModerator,
		},
		{
			name:  "a user only a speaker blocks can join, as a listener",
			given: steps(opened, speaker(bob, 2)),
			when:  joinWith(ann, blockedByBob),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a user who blocks a moderator can still join",
			given: opened,
			when:  joinWith(ann, room.Relations{Blocks: []string{creator}}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a listener someone on stage blocks cannot be invited to speak",
			given: steps(opened, speaker(bob, 2), []step{joinWith(ann, blockedByBob)}),
			when:  by(creator, room.InviteToSpeak{Target: ann}),
			err:   room.ErrBlockedOnStage,
		},
		{
			name:  "a listener only another listener blocks can be invited to speak",
			given: steps(opened, listener(bob), []step{joinWith(ann, blockedByBob)}),
			when:  by(creator, room.InviteToSpeak{Target: ann}),
			kinds: []string{"speak_invited"},
		},
		{
			name: "a block made in the room keeps the blocked listener off the stage",
			given: steps(opened, speaker(bob, 2), listener(ann),
				[]step{by(bob, room.SetRelation{Target: ann, Blocks: true})}),
			when: by(creator, room.InviteToSpeak{Target: ann}),
			err:  room.ErrBlockedOnStage,
		},
		{
			name: "an unblock made in the room lets the listener on stage again",
			given: steps(opened, speaker(bob, 2), []step{
				joinWith(ann, blockedByBob), by(bob, room.SetRelation{Target: ann}),
			}),
			when:  by(creator, room.InviteToSpeak{Target: ann}),
			kinds: []string{"speak_invited"},
		},
		{
			name: "the room forgets the relations of someone who left and learns them again at their next join",
			given: steps(opened, speaker(bob, 2), []step{
				joinWith(ann, blockedByBob), by(bob, room.Leave{}),
			}, speaker(bob, 3)),
			when:  by(creator, room.InviteToSpeak{Target: ann}),
			kinds: []string{"speak_invited"},
		},
		{
			name: "a follow made in the room lets a listener raise a hand when only people followed from the stage may",
			given: steps(opened, listener(ann), []step{
				policy(room.HandsFollowedBySpeakers), by(creator, room.SetRelation{Target: ann, Follows: true}),
			}),
			when:  by(ann, room.RaiseHand{}),
			kinds: []string{"hand_raised"},
		},
		{
			name: "a block drops the follows both ways",
			given: steps(opened, []step{
				joinWith(ann, room.Relations{FollowedBy: []string{creator}}),
				policy(room.HandsFollowedBySpeakers),
				by(ann, room.SetRelation{Target: creator, Blocks: true}),
			}),
			when: by(ann, room.RaiseHand{}),
			err:  room.ErrHandNotAllowed,
		},
		{
			name:  "a relation with someone not in the room is refused",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.SetRelation{Target: bob, Follows: true}),
			err:   room.ErrTargetNotFound,
		},
		{
			name:  "following and blocking at once is refused",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.SetRelation{Target: creator, Follows: true, Blocks: true}),
			err:   room.ErrBadCommand,
		},
		{
			name:  "a guest has no relations to set",
			cfg:   guests,
			given: steps(opened, []step{by(guest, room.Join{Guest: true})}),
			when:  by(guest, room.SetRelation{Target: creator, Follows: true}),
			err:   room.ErrBadCommand,
		},
	}
}
