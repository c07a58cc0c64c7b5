package room_test

import (
	"slices"
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// policy is a moderator's step setting the hand policy.
func policy(p room.HandPolicy) step { return by(creator, room.SetHandPolicy{Policy: p}) }

// handCases: raising and lowering hands, and the hand policy.
func handCases() []ruleCase {
	raised := func(want ...string) func(*testing.T, *room.Room, []room.Event) {
		return func(t *testing.T, r *room.Room, _ []room.Event) {
			t.Helper()
			if got := r.Snapshot().RaisedHands; !slices.Equal(got, want) {
				t.Errorf("raised hands: got %v, want %v", got, want)
			}
		}
	}
	return []ruleCase{
		{
			name:  "a listener can raise a hand when everyone may",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.RaiseHand{}),
			kinds: []string{"hand_raised"},
			then:  raised(ann),
		},
		{
			name: "a raised hand is told to its listener and the moderators, not to speakers or other listeners",
			given: steps(opened, speaker(bob, 2), speaker(cat, 3), listener(dan), listener(ann),
				[]step{by(creator, room.MakeModerator{Target: cat})}),
			when:  by(ann, room.RaiseHand{}),
			kinds: []string{"hand_raised"},
			then: func(t *testing.T, _ *room.Room, events []room.Event) {
				wantRecipients(t, events[0], ann, creator, cat)
			},
		},
		{
			name:  "a speaker cannot raise a hand",
			given: steps(opened, speaker(ann, 2)),
			when:  by(ann, room.RaiseHand{}),
			err:   room.ErrOnStage,
		},
		{
			name:  "a moderator cannot raise a hand",
			given: opened,
			when:  by(creator, room.RaiseHand{}),
			err:   room.ErrOnStage,
		},
		{
			name:  "a listener cannot raise a hand twice",
			given: steps(opened, listener(ann), []step{by(ann, room.RaiseHand{})}),
			when:  by(ann, room.RaiseHand{}),
			err:   room.ErrHandAlreadyRaised,
		},
		{
			name:  "a guest cannot raise a hand",
			cfg:   guests,
			given: steps(opened, []step{by(guest, room.Join{Guest: true})}),
			when:  by(guest, room.RaiseHand{}),
			err:   room.ErrGuestListenOnly,
		},
		{
			name:  "nobody can raise a hand when the moderators take none",
			given: steps(opened, listener(ann), []step{policy(room.HandsNobody)}),
			when:  by(ann, room.RaiseHand{}),
			err:   room.ErrHandNotAllowed,
		},
		{
			name: "a listener a speaker follows can raise a hand when only such people may",
			given: steps(opened, speaker(bob, 2), []step{
				joinWith(ann, room.Relations{FollowedBy: []string{bob}}),
				policy(room.HandsFollowedBySpeakers),
			}),
			when:  by(ann, room.RaiseHand{}),
			kinds: []string{"hand_raised"},
		},
		{
			name: "a listener only another listener follows cannot raise a hand when only people followed from the stage may",
			given: steps(opened, listener(bob), []step{
				joinWith(ann, room.Relations{FollowedBy: []string{bob}}),
				policy(room.HandsFollowedBySpeakers),
			}),
			when: by(ann, room.RaiseHand{}),
			err:  room.ErrHandNotAllowed,
		},
		{
			name:  "a listener can lower their raised hand",
			given: steps(opened, listener(ann), []step{by(ann, room.RaiseHand{})}),
			when:  by(ann, room.LowerHand{}),
			kinds: []string{"hand_lowered"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				raised()(t, r, events)
				wantRecipients(t, events[0], ann, creator)
			},
		},
		{
			name:  "a listener cannot lower a hand that is not raised",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.LowerHand{}),
			err:   room.ErrHandNotRaised,
		},
		{
			name:  "a moderator can set the hand policy",
			given: opened,
			when:  policy(room.HandsNobody),
			kinds: []string{"hand_policy_changed"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "policy", r.Snapshot().HandPolicy, room.HandsNobody)
			},
		},
		{
			name:  "a speaker cannot set the hand policy",
			given: steps(opened, speaker(ann, 2)),
			when:  by(ann, room.SetHandPolicy{Policy: room.HandsNobody}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a listener cannot set the hand policy",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.SetHandPolicy{Policy: room.HandsNobody}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "an unknown hand policy is refused",
			given: opened,
			when:  policy("friends"),
			err:   room.ErrBadCommand,
		},
		{
			name:  "setting the hand policy in force changes nothing",
			given: opened,
			when:  policy(room.HandsEveryone),
		},
		{
			name: "taking no more hands lowers the raised ones",
			given: steps(opened, listener(ann), listener(bob),
				[]step{by(ann, room.RaiseHand{}), by(bob, room.RaiseHand{})}),
			when:  policy(room.HandsNobody),
			kinds: []string{"hand_policy_changed", "hand_lowered", "hand_lowered"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				raised()(t, r, events)
				wantEqual(t, "the policy change to members", events[0].Recipients().Members, true)
				wantRecipients(t, events[1], ann, creator)
				wantRecipients(t, events[2], bob, creator)
			},
		},
		{
			name: "taking only hands of people followed from the stage lowers the others",
			given: steps(opened, listener(bob), []step{
				joinWith(ann, room.Relations{FollowedBy: []string{creator}}),
				by(bob, room.RaiseHand{}), by(ann, room.RaiseHand{}),
			}),
			when:  policy(room.HandsFollowedBySpeakers),
			kinds: []string{"hand_policy_changed", "hand_lowered"},
			then:  raised(ann),
		},
	}
}

// speakCases: invitations to speak, accepting and declining them.
func speakCases() []ruleCase {
	invite := func(u string) step { return by(creator, room.InviteToSpeak{Target: u}) }
	noInvitations := func(t *testing.T, r *room.Room, _ []room.Event) {
		t.Helper()
		if got := r.Snapshot().SpeakInvitations; len(got) != 0 {
			t.Errorf("pending invitations to speak: got %v, want none", got)
		}
	}
	return []ruleCase{
		{
			name:  "a moderator can invite a listener with a raised hand to speak, telling only them and the moderators",
			given: steps(opened, listener(ann), listener(bob), []step{by(ann, room.RaiseHand{})}),
			when:  invite(ann),
			kinds: []string{"speak_invited"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantRecipients(t, events[0], ann, creator)
				wantEqual(t, "invited", participant(t, r, ann).SpeakInvited, true)
			},
		},
		{
			name:  "a moderator can invite a listener who did not raise a hand to speak",
			given: steps(opened, listener(ann)),
			when:  invite(ann),
			kinds: []string{"speak_invited"},
		},
		{
			name:  "a speaker cannot invite anyone to speak",
			given: steps(opened, speaker(bob, 2), listener(ann)),
			when:  by(bob, room.InviteToSpeak{Target: ann}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a listener cannot invite anyone to speak",
			given: steps(opened, listener(bob), listener(ann)),
			when:  by(bob, room.InviteToSpeak{Target: ann}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "someone on stage cannot be invited to speak",
			given: steps(opened, speaker(ann, 2)),
			when:  invite(ann),
			err:   room.ErrOnStage,
		},
		{
			name:  "a guest cannot be invited to speak",
			cfg:   guests,
			given: steps(opened, []step{by(guest, room.Join{Guest: true})}),
			when:  invite(guest),
			err:   room.ErrGuestListenOnly,
		},
		{
			name:  "a listener cannot be invited to speak twice",
			given: steps(opened, listener(ann), []step{invite(ann)}),
			when:  invite(ann),
			err:   room.ErrAlreadyInvited,
		},
		{
			name:  "someone not in the room cannot be invited to speak",
			given: opened,
			when:  invite(ann),
			err:   room.ErrTargetNotFound,
		},
		{
			name:  "an invitation to speak without a target is refused",
			given: opened,
			when:  invite(""),
			err:   room.ErrBadCommand,
		},
		{
			name:  "an invited listener can accept, and comes on stage as a muted speaker with the hand lowered",
			given: steps(opened, listener(ann), []step{by(ann, room.RaiseHand{}), invite(ann)}),
			when:  by(ann, room.AcceptSpeak{Now: at(5)}),
			kinds: []string{"listener_left", "joined_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				p := participant(t, r, ann)
				want := room.Participant{UserID: ann, Role: room.Speaker, Muted: true, Since: at(5)}
				wantEqual(t, "ann", p, want)
				wantEqual(t, "ann audible", r.Audible(ann), false)
				if got := r.Snapshot().RaisedHands; len(got) != 0 {
					t.Errorf("raised hands: got %v, want none", got)
				}
			},
		},
		{
			name:  "a listener cannot accept an invitation to speak they do not have",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.AcceptSpeak{}),
			err:   room.ErrNoSpeakInvitation,
		},
		{
			name: "an invitee cannot accept once someone who blocks them came on stage",
			given: steps(opened, listener(bob), []step{
				joinWith(ann, room.Relations{BlockedBy: []string{bob}}),
				invite(ann),
				invite(bob),
				by(bob, room.AcceptSpeak{}),
			}),
			when: by(ann, room.AcceptSpeak{}),
			err:  room.ErrBlockedOnStage,
		},
		{
			name:  "an invited listener can decline, telling only them and the moderators",
			given: steps(opened, listener(ann), []step{invite(ann)}),
			when:  by(ann, room.DeclineSpeak{}),
			kinds: []string{"speak_declined"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantRecipients(t, events[0], ann, creator)
				noInvitations(t, r, events)
			},
		},
		{
			name:  "a listener cannot decline an invitation to speak they do not have",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.DeclineSpeak{}),
			err:   room.ErrNoSpeakInvitation,
		},
		{
			name: "leaving the room voids an invitation to speak",
			given: steps(opened, listener(ann), []step{
				invite(ann), by(ann, room.Leave{}), by(ann, room.Join{}),
			}),
			when: by(ann, room.AcceptSpeak{}),
			err:  room.ErrNoSpeakInvitation,
		},
		{
			name:  "removal voids an invitation to speak",
			given: steps(opened, listener(ann), []step{invite(ann)}),
			when:  by(creator, room.Remove{Target: ann}),
			kinds: []string{"removed", "listener_left"},
			then:  noInvitations,
		},
	}
}

// stageCases: moving to the audience and stepping down.
func stageCases() []ruleCase {
	return []ruleCase{
		{
			name:  "a moderator can move a speaker to the audience, which drops a held mute",
			given: steps(opened, speaker(ann, 2), []step{by(creator, room.Mute{Target: ann, Hold: true})}),
			when:  by(creator, room.MoveToAudience{Target: ann}),
			kinds: []string{"left_stage", "listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "ann", participant(t, r, ann), room.Participant{UserID: ann, Role: room.Listener})
			},
		},
		{
			name: "a moderator can move another moderator to the audience",
			given: steps(opened, speaker(ann, 2),
				[]step{by(creator, room.MakeModerator{Target: ann})}),
			when:  by(creator, room.MoveToAudience{Target: ann}),
			kinds: []string{"left_stage", "listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Listener)
			},
		},
		{
			name:  "a speaker cannot move anyone to the audience",
			given: steps(opened, speaker(ann, 2), speaker(bob, 3)),
			when:  by(ann, room.MoveToAudience{Target: bob}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a listener cannot be moved to the audience",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.MoveToAudience{Target: ann}),
			err:   room.ErrNotOnStage,
		},
		{
			name:  "a speaker can step down",
			given: steps(opened, speaker(ann, 2)),
			when:  by(ann, room.StepDown{}),
			kinds: []string{"left_stage", "listener_joined"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Listener)
			},
		},
		{
			name:  "a listener cannot step down",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.StepDown{}),
			err:   room.ErrNotOnStage,
		},
	}
}
