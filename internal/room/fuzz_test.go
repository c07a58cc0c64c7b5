package room_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/room"
)

// The fuzz input is a header then 3-byte steps.
//
// Header (8 bytes, zeros if missing):
//
//	[0]    config: type = b&3%3 (open, social, closed); bit 2 allows guests (open
//	       rooms only); bits 3-5 n: MaxParticipants n+1, or no limit if n is 0
//	[1..5] 40 bits of follows: bit i*6+j set means user i follows user j
//	[6..7] blocks: if bit 7 is set, v = b&0x7f, user v%6 blocks user v/6%6
//
// Step: actor = pool[b0%7], command = b1%opCount, argument b2 (the target is
// pool[b2&7%7]; the flags of each command are by the op constants).
const headerLen = 8

// pool is the fuzz cast: pool[0] is the creator, pool[guestAt] a guest.
var pool = []string{creator, ann, bob, cat, dan, id("eve"), guest}

const (
	users   = 6 // signed-in users: pool[:users]
	guestAt = 6
)

// The commands of a step.
const (
	opJoin = iota // AdminModerator: arg&0x40 (signed-in users)
	opLeave
	opRaiseHand
	opLowerHand
	opSetHandPolicy // arg%4: nobody, everyone, followed by speakers, invalid
	opInviteToSpeak
	opAcceptSpeak
	opDeclineSpeak
	opMoveToAudience
	opStepDown
	opMakeModerator
	opRevokeModerator
	opSetMuted // Muted: arg&1
	opMute     // Hold: arg&8
	opReleaseMute
	opRemove
	opEnd
	opInviteMembers   // Users: pool members of bits 0-6 of arg; ToStage: arg&0x80
	opSetRelation     // Follows: arg&8; Blocks: arg&16
	opSetGuests       // Allowed: arg&1
	opReact           // Emoji: Reactions[arg%7] (the 7th is invalid)
	opChat            // Text: one of a few, by arg%4
	opSetChat         // Mode: arg%4 (the 4th invalid); SlowSeconds: arg>>2 % 40
	opChatMute        // Muted: arg&8
	opPinLink         // URL: by arg%3
	opSetReactions    // Allowed: arg&1
	opSetRecording    // On: arg&1
	opSetLiveCaptions // On: arg&1
	opCount
)

// fstep is one encoded step.
type fstep struct{ actor, op, arg byte }

// encode makes a fuzz input.
func encode(cfg byte, follows uint64, blocks [2]byte, steps ...fstep) []byte {
	b := []byte{cfg}
	for i := range 5 {
		b = append(b, byte(follows>>(8*i)))
	}
	b = append(b, blocks[0], blocks[1])
	for _, s := range steps {
		b = append(b, s.actor, s.op, s.arg)
	}
	return b
}

// follow is the follows bit of "i follows j"; block the header byte of "i blocks j".
func follow(i, j int) uint64 { return 1 << (i*6 + j) }
func block(i, j int) byte    { return byte(0x80 | (i + 6*j)) }

// world is the social graph of the fuzz cast, which the caller of the room knows.
type world struct {
	follows, blocks [users][users]bool
}

func decodeWorld(h []byte) world {
	var w world
	var bits uint64
	for i := range 5 {
		bits |= uint64(h[1+i]) << (8 * i)
	}
	for i := range users {
		for j := range users {
			w.follows[i][j] = i != j && bits&follow(i, j) != 0
		}
	}
	for _, b := range h[6:8] {
		if v := int(b & 0x7f); b&0x80 != 0 && v%6 != v/6%6 {
			w.blocks[v%6][v/6%6] = true
			w.follows[v%6][v/6%6], w.follows[v/6%6][v%6] = false, false
		}
	}
	return w
}

func decodeConfig(b byte) room.Config {
	return config(func(c *room.Config) {
		c.Type = []room.Type{room.Open, room.Social, room.Closed}[b&3%3]
		c.AllowGuests = c.Type == room.Open && b&4 != 0
		if n := int(b>>3) & 7; n > 0 {
			c.MaxParticipants = n + 1
		}
		if b&64 != 0 {
			c.CoHosts = []string{ann}
		}
		if b&128 != 0 {
			c.Speakers = []string{bob}
		}
	})
}

// blockedEitherWay reports whether a block stands between the users a and b, one
// way or the other; guests have none.
func (w *world) blockedEitherWay(a, b string) bool {
	i, j := slices.Index(pool[:users], a), slices.Index(pool[:users], b)
	return i >= 0 && j >= 0 && (w.blocks[i][j] || w.blocks[j][i])
}

// relations is what the caller passes with u's join: u's edges to the signed-in
// people present.
func (w *world) relations(r *room.Room, u int) room.Relations {
	var rel room.Relations
	for v := range users {
		if _, ok := r.Participant(pool[v]); !ok || v == u {
			continue
		}
		add := func(list *[]string, yes bool) {
			if yes {
				*list = append(*list, pool[v])
			}
		}
		add(&rel.Follows, w.follows[u][v])
		add(&rel.FollowedBy, w.follows[v][u])
		add(&rel.Blocks, w.blocks[u][v])
		add(&rel.BlockedBy, w.blocks[v][u])
	}
	return rel
}

// command decodes one step's command; a SetRelation also changes the world, as
// the account service would before telling the room.
func (w *world) command(r *room.Room, actor int, op, arg byte, now time.Time) room.Command {
	target := pool[int(arg&7)%len(pool)]
	switch op % opCount {
	case opJoin:
		if actor == guestAt {
			return room.Join{Guest: true, Now: now}
		}
		return room.Join{Rel: w.relations(r, actor), Now: now, AdminModerator: arg&0x40 != 0}
	case opLeave:
		return room.Leave{}
	case opRaiseHand:
		return room.RaiseHand{}
	case opLowerHand:
		return room.LowerHand{}
	case opSetHandPolicy:
		p := []room.HandPolicy{room.HandsNobody, room.HandsEveryone, room.HandsFollowedBySpeakers, "invalid"}
		return room.SetHandPolicy{Policy: p[arg%4]}
	case opInviteToSpeak:
		return room.InviteToSpeak{Target: target}
	case opAcceptSpeak:
		return room.AcceptSpeak{Now: now}
	case opDeclineSpeak:
		return room.DeclineSpeak{}
	case opMoveToAudience:
		return room.MoveToAudience{Target: target}
	case opStepDown:
		return room.StepDown{}
	case opMakeModerator:
		return room.MakeModerator{Target: target}
	case opRevokeModerator:
		return room.RevokeModerator{Target: target}
	case opSetMuted:
		return room.SetMuted{Muted: arg&1 != 0}
	case opMute:
		return room.Mute{Target: target, Hold: arg&8 != 0}
	case opReleaseMute:
		return room.ReleaseMute{Target: target}
	case opRemove:
		return room.Remove{Target: target}
	case opEnd:
		return room.End{}
	case opSetGuests:
		return room.SetGuests{Allowed: arg&1 != 0}
	case opReact:
		return room.React{Emoji: append(slices.Clone(room.Reactions), "🍕")[int(arg)%7]}
	case opChat:
		return room.Chat{Text: []string{"hello", "", "a\nb", strings.Repeat("x", 501)}[arg%4], Now: now}
	case opSetChat:
		mode := []room.ChatMode{room.ChatOff, room.ChatSpeakers, room.ChatEveryone, "sometimes"}[arg%4]
		return room.SetChat{Mode: mode, SlowSeconds: int(arg>>2) % 40}
	case opChatMute:
		return room.ChatMute{Target: target, Muted: arg&8 != 0}
	case opPinLink:
		return room.PinLink{URL: []string{"", "https://example.org/a", "ftp://x"}[arg%3]}
	case opSetReactions:
		return room.SetReactions{Allowed: arg&1 != 0}
	case opSetRecording:
		return room.SetRecording{On: arg&1 != 0}
	case opSetLiveCaptions:
		return room.SetLiveCaptions{On: arg&1 != 0}
	case opInviteMembers:
		var invitees []string
		for i := range pool {
			if arg&(1<<i) != 0 {
				invitees = append(invitees, pool[i])
			}
		}
		return room.InviteMembers{Users: invitees, ToStage: arg&0x80 != 0}
	}
	// opSetRelation
	c := room.SetRelation{Target: target, Follows: arg&8 != 0, Blocks: arg&16 != 0}
	if t := int(arg&7) % len(pool); actor < users && t < users && t != actor && !(c.Follows && c.Blocks) {
		w.follows[actor][t], w.blocks[actor][t] = c.Follows, c.Blocks
		if c.Blocks {
			w.follows[t][actor] = false
		}
	}
	return c
}

// fuzzSeeds are meaningful inputs for FuzzRoom.
func fuzzSeeds() [][]byte {
	const (
		c0, a1, b2, c3, d4, e5, g6       = 0, 1, 2, 3, 4, 5, 6
		openRoom, socialRoom, closedRoom = 0, 1, 2
	)
	var seeds [][]byte
	// A conversation: hands, an invitation to speak, a held mute, a new moderator,
	// the creator leaving, a declined invitation, the end.
	seeds = append(seeds, encode(openRoom, 0, [2]byte{},
		fstep{c0, opJoin, 0}, fstep{a1, opJoin, 0}, fstep{b2, opJoin, 0},
		fstep{a1, opRaiseHand, 0}, fstep{c0, opInviteToSpeak, a1}, fstep{a1, opAcceptSpeak, 0},
		fstep{a1, opSetMuted, 0}, fstep{c0, opMute, a1 | 8}, fstep{a1, opSetMuted, 0},
		fstep{c0, opReleaseMute, a1}, fstep{a1, opSetMuted, 0}, fstep{c0, opMakeModerator, a1},
		fstep{a1, opRevokeModerator, c0}, fstep{a1, opMoveToAudience, c0}, fstep{c0, opLeave, 0},
		fstep{b2, opRaiseHand, 0}, fstep{b2, opLowerHand, 0}, fstep{b2, opRaiseHand, 0},
		fstep{a1, opInviteToSpeak, b2}, fstep{b2, opDeclineSpeak, 0}, fstep{a1, opEnd, 0},
		fstep{b2, opLeave, 0}))
	// A closed room: invitations to the stage, a removal for good, the automatic
	// moderator, the stage emptying.
	seeds = append(seeds, encode(closedRoom, 0, [2]byte{},
		fstep{c0, opJoin, 0}, fstep{c0, opInviteMembers, 0x80 | 1<<a1 | 1<<b2}, fstep{a1, opJoin, 0},
		fstep{c3, opJoin, 0}, fstep{c0, opRemove, a1}, fstep{a1, opJoin, 0},
		fstep{b2, opJoin, 0}, fstep{b2, opInviteMembers, 1 << c3}, fstep{c0, opLeave, 0},
		fstep{b2, opLeave, 0}, fstep{c3, opJoin, 0}))
	// A social room with follows and blocks.
	seeds = append(seeds, encode(socialRoom, follow(c0, a1)|follow(a1, c3)|follow(c0, d4), [2]byte{block(c0, b2), block(a1, d4)},
		fstep{c0, opJoin, 0}, fstep{a1, opJoin, 0}, fstep{b2, opJoin, 0}, fstep{c3, opJoin, 0},
		fstep{a1, opInviteMembers, 1<<b2 | 1<<c3}, fstep{b2, opJoin, 0}, fstep{c3, opJoin, 0},
		fstep{d4, opJoin, 0}, fstep{c0, opInviteToSpeak, d4}, fstep{c0, opInviteToSpeak, a1},
		fstep{a1, opAcceptSpeak, 0}, fstep{d4, opAcceptSpeak, 0}, fstep{c0, opSetHandPolicy, 2},
		fstep{c3, opRaiseHand, 0}, fstep{c0, opSetRelation, c3 | 8}, fstep{a1, opSetRelation, c3 | 16},
		fstep{c0, opInviteToSpeak, c3}))
	// The stage's block rule, both ways: a co-host who blocks a speaker and a
	// listener who blocks a stage guest are kept off the stage, a block made on
	// stage moves nobody, and the stage opens to them once the other has gone.
	seeds = append(seeds, encode(openRoom|64|128, 0, [2]byte{block(c3, b2), block(a1, d4)},
		fstep{c0, opJoin, 0}, fstep{d4, opJoin, 0}, fstep{c0, opInviteToSpeak, d4}, fstep{d4, opAcceptSpeak, 0},
		fstep{a1, opJoin, 0}, fstep{c3, opJoin, 0}, fstep{c0, opInviteToSpeak, c3}, fstep{b2, opJoin, 0},
		fstep{c3, opAcceptSpeak, 0}, fstep{c0, opSetRelation, d4 | 16}, fstep{d4, opStepDown, 0},
		fstep{c0, opInviteToSpeak, d4}, fstep{b2, opLeave, 0}, fstep{c3, opAcceptSpeak, 0},
		fstep{c0, opInviteToSpeak, a1}, fstep{a1, opAcceptSpeak, 0}))
	// Guests and a capacity of three.
	seeds = append(seeds, encode(openRoom|4|2<<3, 0, [2]byte{},
		fstep{c0, opJoin, 0}, fstep{g6, opJoin, 0}, fstep{g6, opRaiseHand, 0},
		fstep{c0, opInviteToSpeak, g6}, fstep{g6, opInviteMembers, 1 << e5}, fstep{a1, opJoin, 0},
		fstep{b2, opJoin, 0}, fstep{g6, opLeave, 0}, fstep{b2, opJoin, 0},
		fstep{c0, opSetHandPolicy, 0}, fstep{a1, opRaiseHand, 0}, fstep{c0, opRemove, b2},
		fstep{c0, opSetGuests, 0}, fstep{g6, opJoin, 0}, fstep{c0, opSetGuests, 1}))
	// The backchannel: reactions, the chat's settings, a mute in chat, a link.
	seeds = append(seeds, encode(openRoom|4, 0, [2]byte{},
		fstep{c0, opJoin, 0}, fstep{a1, opJoin, 0}, fstep{a1, opReact, 0}, fstep{c0, opSetReactions, 0},
		fstep{a1, opReact, 1}, fstep{c0, opSetChat, 2 | 5<<2}, fstep{a1, opChat, 0}, fstep{a1, opChat, 0},
		fstep{c0, opChatMute, a1 | 8}, fstep{c0, opPinLink, 1}, fstep{c0, opChat, 2}, fstep{c0, opSetReactions, 1}))
	// Server admins who join to moderate: one into a closed room, who invites
	// someone to speak; one a moderator removed, who stays out; one kept off the
	// stage by a block.
	seeds = append(seeds, encode(closedRoom, 0, [2]byte{block(e5, b2)},
		fstep{c0, opJoin, 0}, fstep{a1, opJoin, 0x40}, fstep{b2, opJoin, 0}, fstep{c0, opInviteMembers, 1 << b2},
		fstep{b2, opJoin, 0}, fstep{a1, opInviteToSpeak, b2}, fstep{b2, opAcceptSpeak, 0}, fstep{c0, opRemove, a1},
		fstep{a1, opJoin, 0x40}, fstep{e5, opJoin, 0x40}, fstep{d4, opJoin, 0}))
	// A moderator switches the recording on and off; a listener may not.
	seeds = append(seeds, encode(openRoom, 0, [2]byte{},
		fstep{c0, opJoin, 0}, fstep{a1, opJoin, 0}, fstep{c0, opSetRecording, 1}, fstep{a1, opSetRecording, 0},
		fstep{c0, opSetRecording, 0}, fstep{c0, opSetLiveCaptions, 1}, fstep{a1, opSetLiveCaptions, 0},
		fstep{c0, opSetLiveCaptions, 0}))
	// The last one on stage steps down; then nothing more happens.
	seeds = append(seeds, encode(openRoom, 0, [2]byte{},
		fstep{c0, opJoin, 0}, fstep{a1, opJoin, 0}, fstep{c0, opStepDown, 0},
		fstep{a1, opRaiseHand, 0}, fstep{c0, opJoin, 0}))
	return seeds
}

// FuzzRoom applies decoded commands to a room and checks its invariants after
// every step. Its seeds run with plain go test.
func FuzzRoom(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < headerLen {
			data = append(data, make([]byte, headerLen-len(data))...)
		}
		runFuzz(t, data)
	})
}

// runFuzz applies the steps of data to a room, checking after each one, then
// replays them to a second room, which must end the same. It returns the types of
// the commands that succeeded.
func runFuzz(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	cfg := decodeConfig(data[0])
	w := decodeWorld(data[:headerLen])
	r := room.New(cfg)
	c := newChecker(cfg)
	c.blocked = w.blockedEitherWay
	var applied []step
	succeeded := map[string]bool{}
	var all [][]room.Event
	for i := 0; i+3 <= len(data)-headerLen; i += 3 {
		b := data[headerLen+i : headerLen+i+3]
		actor := int(b[0]) % len(pool)
		s := by(pool[actor], w.command(r, actor, b[1], b[2], t0.Add(time.Duration(i)*time.Second)))
		before := r.Snapshot()
		events, err := r.Apply(s.actor, s.cmd)
		c.check(t, r, s, before, events, err)
		if err == nil {
			succeeded[fmt.Sprintf("%T", s.cmd)] = true
		}
		applied = append(applied, s)
		all = append(all, events)
	}
	replay := room.New(cfg)
	for i, s := range applied {
		events, _ := replay.Apply(s.actor, s.cmd)
		if !reflect.DeepEqual(events, all[i]) {
			t.Fatalf("replay of step %d (%v): got events %v, want %v", i, s, kinds(events), kinds(all[i]))
		}
	}
	if got, want := replay.Snapshot(), r.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("replay: got %+v, want %+v", got, want)
	}
	return succeeded
}

// TestFuzzSeedsSucceedAtEveryCommand guards the seeds: between them, every command
// is applied successfully at least once.
func TestFuzzSeedsSucceedAtEveryCommand(t *testing.T) {
	done := map[string]bool{}
	for _, seed := range fuzzSeeds() {
		for k := range runFuzz(t, seed) {
			done[k] = true
		}
	}
	w := world{}
	r := room.New(config(nil))
	for op := range byte(opCount) {
		name := fmt.Sprintf("%T", w.command(r, 0, op, 0, t0))
		if !done[name] {
			t.Errorf("no seed applies a %s successfully, want one", name)
		}
	}
}
