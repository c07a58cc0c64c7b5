package room_test

import (
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// blocks is a step: a blocks b while both are in the room.
func blocks(a, b string) step { return by(a, room.SetRelation{Target: b, Blocks: true}) }

// unblocks is a step: a lifts their block of b while both are in the room.
func unblocks(a, b string) step { return by(a, room.SetRelation{Target: b}) }

// inviteToSpeak is the creator's invitation to speak to u.
func inviteToSpeak(u string) step { return by(creator, room.InviteToSpeak{Target: u}) }

// toStage is the creator's invitation of u to the conversation, onto the stage.
func toStage(u string) step {
	return by(creator, room.InviteMembers{Users: []string{u}, ToStage: true})
}

// keptOff checks whether the stage's block rule kept u in the audience at their
// join, and u's role.
func keptOff(u string, want bool, role room.Role) func(*testing.T, *room.Room, []room.Event) {
	return func(t *testing.T, r *room.Room, _ []room.Event) {
		t.Helper()
		wantRole(t, r, u, role)
		wantEqual(t, "kept off the stage", r.KeptOffStage(u), want)
	}
}

// stageBlockCases: the stage's block rule, both ways, on every way onto the stage.
// Nobody comes on stage while they block someone on it or someone on it blocks
// them.
func stageBlockCases() []ruleCase {
	blocksBob := room.Relations{Blocks: []string{bob}}
	blockedByBob := room.Relations{BlockedBy: []string{bob}}
	return []ruleCase{
		// Invitations to speak.
		{
			name:  "a listener who blocks a speaker cannot be invited to speak while the speaker is on stage",
			given: steps(opened, speaker(bob, 2), []step{joinWith(ann, blocksBob)}),
			when:  inviteToSpeak(ann),
			err:   room.ErrBlockedOnStage,
		},
		{
			name:  "a listener who blocks the inviting moderator cannot be invited to speak",
			given: steps(opened, []step{joinWith(ann, room.Relations{Blocks: []string{creator}})}),
			when:  inviteToSpeak(ann),
			err:   room.ErrBlockedOnStage,
		},
		{
			name:  "a listener who blocks only another listener can be invited to speak",
			given: steps(opened, listener(bob), []step{joinWith(ann, blocksBob)}),
			when:  inviteToSpeak(ann),
			kinds: []string{"speak_invited"},
		},
		{
			name:  "a listener who blocks someone on stage may still raise a hand",
			given: steps(opened, speaker(bob, 2), []step{joinWith(ann, blocksBob)}),
			when:  by(ann, room.RaiseHand{}),
			kinds: []string{"hand_raised"},
		},
		{
			name:  "a raised hand does not let a listener who blocks someone on stage be invited to speak",
			given: steps(opened, speaker(bob, 2), []step{joinWith(ann, blocksBob), by(ann, room.RaiseHand{})}),
			when:  inviteToSpeak(ann),
			err:   room.ErrBlockedOnStage,
		},

		// Accepting an invitation to speak made before the block.
		{
			name:  "an invitee who blocks someone on stage after the invitation cannot accept it, which stays pending",
			given: steps(opened, speaker(bob, 2), listener(ann), []step{inviteToSpeak(ann), blocks(ann, bob)}),
			when:  by(ann, room.AcceptSpeak{Now: at(5)}),
			err:   room.ErrBlockedOnStage,
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "ann invited", participant(t, r, ann).SpeakInvited, true)
			},
		},
		{
			name:  "an invitee whom someone on stage blocks after the invitation cannot accept it",
			given: steps(opened, speaker(bob, 2), listener(ann), []step{inviteToSpeak(ann), blocks(bob, ann)}),
			when:  by(ann, room.AcceptSpeak{Now: at(5)}),
			err:   room.ErrBlockedOnStage,
		},
		{
			name: "an invitee cannot accept once someone they block came on stage",
			given: steps(opened, listener(bob), []step{
				joinWith(ann, blocksBob), inviteToSpeak(ann), inviteToSpeak(bob), by(bob, room.AcceptSpeak{}),
			}),
			when: by(ann, room.AcceptSpeak{}),
			err:  room.ErrBlockedOnStage,
		},
		{
			name:  "an invitee can accept once their block is lifted",
			given: steps(opened, speaker(bob, 2), listener(ann), []step{inviteToSpeak(ann), blocks(ann, bob), unblocks(ann, bob)}),
			when:  by(ann, room.AcceptSpeak{Now: at(5)}),
			kinds: []string{"listener_left", "joined_stage"},
		},
		{
			name:  "an invitee can accept once the person they block has left the stage",
			given: steps(opened, speaker(bob, 2), listener(ann), []step{inviteToSpeak(ann), blocks(ann, bob), by(bob, room.StepDown{})}),
			when:  by(ann, room.AcceptSpeak{Now: at(5)}),
			kinds: []string{"listener_left", "joined_stage"},
		},

		// A moderator's invitation to the conversation, onto the stage.
		{
			name:  "a stage invitee who blocks someone on stage joins as a listener, kept off the stage",
			given: steps(opened, speaker(bob, 2), []step{toStage(ann)}),
			when:  joinWith(ann, blocksBob),
			kinds: []string{"listener_joined"},
			then:  keptOff(ann, true, room.Listener),
		},
		{
			name:  "a stage invitee whom someone on stage blocks is kept off the stage",
			given: steps(opened, speaker(bob, 2), []step{toStage(ann)}),
			when:  joinWith(ann, blockedByBob),
			kinds: []string{"listener_joined"},
			then:  keptOff(ann, true, room.Listener),
		},
		{
			name:  "a stage invitee who blocks only a listener joins on stage",
			given: steps(opened, listener(bob), []step{toStage(ann)}),
			when:  joinWith(ann, blocksBob),
			kinds: []string{"joined_stage"},
			then:  keptOff(ann, false, room.Speaker),
		},
		{
			name: "a stage invitee kept off the stage has used up the invitation",
			given: steps(opened, speaker(bob, 2), []step{
				toStage(ann), joinWith(ann, blocksBob), by(ann, room.Leave{}), by(bob, room.Leave{}),
			}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
			then:  keptOff(ann, false, room.Listener),
		},
		{
			name: "a listener kept off the stage comes on stage when invited once the person they block has left",
			given: steps(opened, speaker(bob, 2), []step{
				toStage(ann), joinWith(ann, blocksBob), by(bob, room.Leave{}), inviteToSpeak(ann),
			}),
			when:  by(ann, room.AcceptSpeak{Now: at(5)}),
			kinds: []string{"listener_left", "joined_stage"},
			then:  keptOff(ann, false, room.Speaker),
		},
		{
			name:  "a listener who blocks someone on stage but had no place on stage is not kept off it",
			given: steps(opened, speaker(bob, 2)),
			when:  joinWith(ann, blocksBob),
			kinds: []string{"listener_joined"},
			then:  keptOff(ann, false, room.Listener),
		},

		// The stage guests of an event (Config.Speakers).
		{
			name:  "a stage guest who blocks someone on stage joins as a listener, kept off the stage",
			cfg:   speakerBob,
			given: steps(opened, speaker(ann, 2)),
			when:  joinWith(bob, room.Relations{Blocks: []string{ann}}),
			kinds: []string{"listener_joined"},
			then:  keptOff(bob, true, room.Listener),
		},
		{
			name:  "a stage guest whom someone on stage blocks is kept off the stage",
			cfg:   speakerBob,
			given: steps(opened, speaker(ann, 2)),
			when:  joinWith(bob, room.Relations{BlockedBy: []string{ann}}),
			kinds: []string{"listener_joined"},
			then:  keptOff(bob, true, room.Listener),
		},
		{
			name:  "of two stage guests who block one another, the first to join takes the stage and the second listens",
			cfg:   func(c *room.Config) { c.Speakers = []string{bob, cat} },
			given: steps(opened, []step{by(bob, room.Join{Now: at(2)})}),
			when:  joinWith(cat, room.Relations{BlockedBy: []string{bob}}),
			kinds: []string{"listener_joined"},
			then:  keptOff(cat, true, room.Listener),
		},

		// Co-hosts and the creator, who join on stage as moderators.
		{
			name:  "a co-host who blocks a speaker joins as a listener, kept off the stage",
			cfg:   cohostAnn,
			given: steps(opened, speaker(bob, 2)),
			when:  joinWith(ann, blocksBob),
			kinds: []string{"listener_joined"},
			then:  keptOff(ann, true, room.Listener),
		},
		{
			name:  "a co-host whom a speaker blocks is kept off the stage",
			cfg:   cohostAnn,
			given: steps(opened, speaker(bob, 2)),
			when:  joinWith(ann, blockedByBob),
			kinds: []string{"listener_joined"},
			then:  keptOff(ann, true, room.Listener),
		},
		{
			name:  "a co-host who blocks the creator on stage is kept off the stage",
			cfg:   cohostAnn,
			given: opened,
			when:  joinWith(ann, room.Relations{Blocks: []string{creator}}),
			kinds: []string{"listener_joined"},
			then:  keptOff(ann, true, room.Listener),
		},
		{
			name:  "a creator who rejoins while someone they block is on stage is kept off the stage",
			given: steps(opened, speaker(bob, 2), []step{by(creator, room.Leave{})}),
			when:  joinWith(creator, blocksBob),
			kinds: []string{"listener_joined"},
			then:  keptOff(creator, true, room.Listener),
		},

		// What brings nobody new on stage.
		{
			name:  "a speaker who blocks a listener can be made a moderator",
			given: steps(opened, speaker(bob, 2), listener(ann), []step{blocks(bob, ann)}),
			when:  by(creator, room.MakeModerator{Target: bob}),
			kinds: []string{"moderator_added"},
		},
		{
			name:  "a block made while both are on stage moves nobody",
			given: steps(opened, speaker(bob, 2), speaker(ann, 3)),
			when:  blocks(bob, ann),
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, bob, room.Speaker)
				wantRole(t, r, ann, room.Speaker)
			},
		},
		{
			name:  "after a block made on stage, the blocked person who steps down cannot come back while the blocker is there",
			given: steps(opened, speaker(bob, 2), speaker(ann, 3), []step{blocks(bob, ann), by(ann, room.StepDown{})}),
			when:  inviteToSpeak(ann),
			err:   room.ErrBlockedOnStage,
		},
		{
			name:  "after a block made on stage, the blocker who steps down cannot come back while the blocked person is there",
			given: steps(opened, speaker(bob, 2), speaker(ann, 3), []step{blocks(bob, ann), by(bob, room.StepDown{})}),
			when:  inviteToSpeak(bob),
			err:   room.ErrBlockedOnStage,
		},
	}
}
