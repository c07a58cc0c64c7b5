package room_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/room"
)

// ruleCase is one rule of a live room, allowed or refused: on a room made with cfg
// after the given steps, the step when fails with err, or succeeds (err nil)
// emitting events of the kinds listed, after which then checks the room.
type ruleCase struct {
	name  string
	cfg   func(*room.Config)
	given []step
	when  step
	err   error
	kinds []string
	then  func(t *testing.T, r *room.Room, events []room.Event)
}

// TestRules checks every rule of a live room, each allowed and refused.
func TestRules(t *testing.T) {
	groups := []struct {
		name  string
		cases []ruleCase
	}{
		{"joining", joinCases()},
		{"hands", handCases()},
		{"invitations to speak", speakCases()},
		{"the stage", stageCases()},
		{"moderators", moderatorCases()},
		{"the end", endCases()},
		{"mutes", muteCases()},
		{"removal", removeCases()},
		{"members' invitations", inviteMembersCases()},
		{"relations and blocks", relationCases()},
		{"the stage's block rule, both ways", stageBlockCases()},
		{"co-hosts, stage guests and clubs", hostCases()},
		{"guests", guestCases()},
		{"server admins who join to moderate", adminCases()},
		{"reactions and chat", backchannelCases()},
		{"recording", recordingCases()},
		{"live captions", liveCaptionsCases()},
	}
	names := map[string]bool{}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				if names[c.name] {
					t.Errorf("two cases are named %q", c.name)
				}
				names[c.name] = true
				t.Run(c.name, func(t *testing.T) { runRule(t, c) })
			}
		})
	}
}

func runRule(t *testing.T, c ruleCase) {
	t.Helper()
	r := newRoom(t, c.cfg, c.given)
	var events []room.Event
	if c.err != nil {
		mustRefuse(t, r, c.when, c.err)
	} else {
		events = mustApply(t, r, c.when, c.kinds...)
	}
	if c.then != nil {
		c.then(t, r, events)
	}
}

// event returns the only event of kind k in events, as a T.
func event[T room.Event](t *testing.T, events []room.Event) T {
	t.Helper()
	var found []T
	for _, e := range events {
		if v, ok := e.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("got %d events of type %T in %v, want 1", len(found), zero, kinds(events))
	}
	return found[0]
}

// wantRecipients checks who an event goes to.
func wantRecipients(t *testing.T, e room.Event, want ...string) {
	t.Helper()
	got := e.Recipients()
	if got.Members || !slices.Equal(got.Users, want) {
		t.Errorf("%s goes to %+v, want only %v", e.Kind(), got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*room.Config)
		err   error
	}{
		{"a titled open room is valid", nil, nil},
		{"an 80-character title is valid", func(c *room.Config) { c.Title = strings.Repeat("é", 80) }, nil},
		{"an 81-character title is refused", func(c *room.Config) { c.Title = strings.Repeat("é", 81) }, room.ErrInvalidTitle},
		{"an empty title is refused", func(c *room.Config) { c.Title = "" }, room.ErrInvalidTitle},
		{"a blank title is refused", func(c *room.Config) { c.Title = " \u00a0\t " }, room.ErrInvalidTitle},
		{"a title with a new line is refused", func(c *room.Config) { c.Title = "jazz\nnight" }, room.ErrInvalidTitle},
		{"a title of invalid UTF-8 is refused", func(c *room.Config) { c.Title = "jazz \xff" }, room.ErrInvalidTitle},
		{"an empty description is valid", func(c *room.Config) { c.Description = "" }, nil},
		{"a 500-character description with new lines is valid", func(c *room.Config) { c.Description = strings.Repeat("ab\n", 166) + "ab" }, nil},
		{"a 501-character description is refused", func(c *room.Config) { c.Description = strings.Repeat("ü", 501) }, room.ErrInvalidDescription},
		{"a description with a control character is refused", func(c *room.Config) { c.Description = "a\x00b" }, room.ErrInvalidDescription},
		{"a social room is valid", social, nil},
		{"a closed room is valid", closed, nil},
		{"an unknown type is refused", func(c *room.Config) { c.Type = "secret" }, room.ErrInvalidType},
		{"an open room may allow guests", guests, nil},
		{"a social room may not allow guests", func(c *room.Config) { social(c); guests(c) }, room.ErrGuestsOnlyOpen},
		{"a closed room may not allow guests", func(c *room.Config) { closed(c); guests(c) }, room.ErrGuestsOnlyOpen},
		{"a participant limit is valid", capacity(5000), nil},
		{"a negative participant limit is refused", capacity(-1), room.ErrInvalidMaxParticipants},
		{"a malformed room ID is refused", func(c *room.Config) { c.ID = "room-1" }, room.ErrInvalidRoomID},
		{"a missing creator is refused", func(c *room.Config) { c.CreatorID = "" }, room.ErrInvalidCreatorID},
		{"co-hosts and stage guests are valid", func(c *room.Config) { c.CoHosts, c.Speakers = []string{ann}, []string{bob} }, nil},
		{"the creator as a co-host is refused", func(c *room.Config) { c.CoHosts = []string{creator} }, room.ErrInvalidHosts},
		{"a co-host named twice is refused", func(c *room.Config) { c.CoHosts = []string{ann, ann} }, room.ErrInvalidHosts},
		{"someone both co-host and stage guest is refused", func(c *room.Config) { c.CoHosts, c.Speakers = []string{ann}, []string{ann} }, room.ErrInvalidHosts},
		{"a malformed stage guest is refused", func(c *room.Config) { c.Speakers = []string{"bob"} }, room.ErrInvalidHosts},
		{"51 co-hosts are refused", func(c *room.Config) { c.CoHosts = manyIDs(51) }, room.ErrInvalidHosts},
		{"a club room is valid", clubRoom(false), nil},
		{"a members-only club room is valid", clubRoom(true), nil},
		{"a members-only room without a club is refused", func(c *room.Config) { c.MembersOnly = true }, room.ErrMembersOnlyClub},
		{"a members-only room that allows guests is refused", func(c *room.Config) { clubRoom(true)(c); guests(c) }, room.ErrMembersOnlyClub},
		{"a malformed club ID is refused", func(c *room.Config) { c.ClubID = "club" }, room.ErrInvalidClubID},
		{"a recorded room that allows clips is valid", func(c *room.Config) { c.Record, c.AllowClips = true, true }, nil},
		{"clips in a room not recorded are refused", func(c *room.Config) { c.AllowClips = true }, room.ErrClipsNeedRecord},
		{"captions in a room not recorded are refused", func(c *room.Config) { c.Captions = true }, room.ErrClipsNeedRecord},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := config(c.tweak).Validate()
			if !errors.Is(err, c.err) {
				t.Fatalf("got error %v, want %v", err, c.err)
			}
			if err != nil {
				wantEqual(t, "code", errcode.Of(err), errcode.InvalidField)
			}
		})
	}
}

func TestNewPanicsOnAnInvalidConfig(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("room.New with a blank title did not panic, want a panic")
		}
	}()
	room.New(config(func(c *room.Config) { c.Title = "" }))
}

// TestErrorCodes checks that every refusal carries a code of the table, with the
// room codes where a client needs to tell them apart.
func TestErrorCodes(t *testing.T) {
	cases := []struct {
		err  error
		code errcode.Code
	}{
		{room.ErrRoomEnded, errcode.RoomEnded},
		{room.ErrNotStarted, errcode.RoomNotStarted},
		{room.ErrRoomFull, errcode.RoomFull},
		{room.ErrAlreadyJoined, errcode.AlreadyInRoom},
		{room.ErrNotJoined, errcode.NotInRoom},
		{room.ErrRemoved, errcode.RemovedFromRoom},
		{room.ErrMuteHeld, errcode.MuteHeld},
		{room.ErrNotModerator, errcode.Forbidden},
		{room.ErrBlockedByModerator, errcode.Blocked},
		{room.ErrBlockedOnStage, errcode.Blocked},
		{room.ErrKeptOffStage, errcode.Blocked},
		{room.ErrBadCommand, errcode.BadRequest},
	}
	for _, c := range cases {
		t.Run(c.err.Error()+" has the code "+string(c.code), func(t *testing.T) {
			wantEqual(t, "code", errcode.Of(c.err), c.code)
			if c.code.Status() == 500 {
				t.Errorf("code %s has no HTTP status in errcode, want one", c.code)
			}
		})
	}
}
