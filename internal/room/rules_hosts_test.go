package room_test

import (
	"fmt"
	"testing"

	"github.com/townhall/townhall/internal/room"
)

// Config tweaks of the host rules: ann co-hosts, bob is invited on stage, and club
// rooms (members only or not) belong to the club "club".
var (
	cohostAnn  = func(c *room.Config) { c.CoHosts = []string{ann} }
	speakerBob = func(c *room.Config) { c.Speakers = []string{bob} }
	clubRoom   = func(membersOnly bool) func(*room.Config) {
		return func(c *room.Config) { c.ClubID, c.MembersOnly = id("club"), membersOnly }
	}
)

// with combines config tweaks.
func with(tweaks ...func(*room.Config)) func(*room.Config) {
	return func(c *room.Config) {
		for _, f := range tweaks {
			f(c)
		}
	}
}

// manyIDs returns n distinct valid user IDs.
func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = id(fmt.Sprintf("u%d", i))
	}
	return out
}

// hostCases: co-hosts, guests invited on stage from the start, club rooms.
func hostCases() []ruleCase {
	return []ruleCase{
		{
			name:  "a co-host can open the room before the creator, on stage as a moderator",
			cfg:   cohostAnn,
			when:  by(ann, room.Join{Now: at(0)}),
			kinds: []string{"joined_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, ann, room.Moderator)
				wantEqual(t, "state", r.State(), room.StateLive)
			},
		},
		{
			name:  "a co-host joins a live room on stage as a moderator",
			cfg:   cohostAnn,
			given: opened,
			when:  by(ann, room.Join{Now: at(1)}),
			kinds: []string{"joined_stage"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				wantRole(t, r, ann, room.Moderator)
				wantEqual(t, "event role", event[room.JoinedStage](t, events).Role, room.Moderator)
			},
		},
		{
			name:  "a co-host who left comes back on stage as a moderator",
			cfg:   cohostAnn,
			given: steps(opened, []step{by(ann, room.Join{}), by(ann, room.Leave{})}),
			when:  by(ann, room.Join{}),
			kinds: []string{"joined_stage"},
			then:  func(t *testing.T, r *room.Room, _ []room.Event) { wantRole(t, r, ann, room.Moderator) },
		},
		{
			name:  "a co-host may join a closed room uninvited",
			cfg:   with(closed, cohostAnn),
			given: opened,
			when:  by(ann, room.Join{}),
			kinds: []string{"joined_stage"},
		},
		{
			name:  "a co-host is a member of a closed room before joining",
			cfg:   with(closed, cohostAnn),
			when:  by(creator, room.Join{Now: at(0)}),
			kinds: []string{"joined_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "ann is a member", r.IsMember(ann), true)
				wantEqual(t, "cat is a member", r.IsMember(cat), false)
			},
		},
		{
			name:  "a co-host removed by a moderator cannot come back",
			cfg:   cohostAnn,
			given: steps(opened, []step{by(ann, room.Join{}), by(creator, room.Remove{Target: ann})}),
			when:  by(ann, room.Join{}),
			err:   room.ErrRemoved,
		},
		{
			name:  "a co-host whom a moderator blocks cannot join",
			cfg:   cohostAnn,
			given: opened,
			when:  joinWith(ann, room.Relations{BlockedBy: []string{creator}}),
			err:   room.ErrBlockedByModerator,
		},
		{
			name:  "a co-host cannot join as a guest",
			cfg:   with(guests, cohostAnn),
			given: opened,
			when:  by(ann, room.Join{Guest: true}),
			err:   room.ErrBadCommand,
		},
		{
			name: "a stage guest cannot open the room",
			cfg:  speakerBob,
			when: by(bob, room.Join{}),
			err:  room.ErrNotStarted,
		},
		{
			name:  "a stage guest's first join puts them on stage as a speaker",
			cfg:   with(closed, speakerBob),
			given: opened,
			when:  by(bob, room.Join{Now: at(2)}),
			kinds: []string{"joined_stage"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantRole(t, r, bob, room.Speaker)
				wantEqual(t, "bob muted", participant(t, r, bob).Muted, true)
			},
		},
		{
			name:  "a stage guest's second join lands in the audience",
			cfg:   speakerBob,
			given: steps(opened, []step{by(bob, room.Join{}), by(bob, room.Leave{})}),
			when:  by(bob, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a club member can join a members-only room",
			cfg:   clubRoom(true),
			given: opened,
			when:  by(ann, room.Join{ClubMember: true}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "someone outside the club cannot join a members-only room",
			cfg:   clubRoom(true),
			given: opened,
			when:  by(ann, room.Join{}),
			err:   room.ErrMembersOnly,
		},
		{
			name:  "someone invited can join a members-only room without being a member",
			cfg:   clubRoom(true),
			given: steps(opened, []step{by(creator, room.InviteMembers{Users: []string{ann}})}),
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a co-host can join a members-only room without being a member",
			cfg:   with(clubRoom(true), cohostAnn),
			given: opened,
			when:  by(ann, room.Join{}),
			kinds: []string{"joined_stage"},
		},
		{
			name:  "anyone can join a club room that is not members-only",
			cfg:   clubRoom(false),
			given: opened,
			when:  by(ann, room.Join{}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "a club member joins their club's social room without a moderator's follow",
			cfg:   with(clubRoom(true), social),
			given: opened,
			when:  by(ann, room.Join{ClubMember: true}),
			kinds: []string{"listener_joined"},
		},
		{
			name:  "someone outside the club still needs a moderator's follow to join the club's social room",
			cfg:   with(clubRoom(false), social),
			given: opened,
			when:  by(ann, room.Join{}),
			err:   room.ErrNotFollowed,
		},
	}
}
