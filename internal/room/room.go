// Package room is townhall's live room as a pure state machine: who is on the stage
// and in the audience, who may join, raise a hand, come on stage, be heard, moderate
// or stay. Every authorization rule of a live room lives here, once.
//
// The package does no I/O, starts no goroutines and reads no clock: time comes in
// with the commands that need it, so the same commands always give the same state
// and the same events. A Room is not safe for concurrent use: the layer above runs
// one goroutine per live room that applies commands in order with Room.Apply and
// delivers the events it returns to their recipients.
package room

import (
	"cmp"
	"slices"
	"time"
)

// State is where a room is in its life.
type State string

// The states of a room.
const (
	// StateWaiting: created, but the creator has not joined yet; only the creator's
	// Join is taken.
	StateWaiting State = "waiting"
	// StateLive: the creator opened the room; someone is on stage and at least one
	// of them is a moderator.
	StateLive State = "live"
	// StateEnded: over for good; every command is refused with ErrRoomEnded.
	StateEnded State = "ended"
)

// Role is where a participant stands.
type Role string

// The roles.
const (
	Listener  Role = "listener"  // in the audience; never heard
	Speaker   Role = "speaker"   // on stage
	Moderator Role = "moderator" // on stage, and runs the room
)

// Participant is one person present in the room, as queries report them.
type Participant struct {
	UserID string
	Guest  bool
	Role   Role
	// Muted and Held (a moderator holds the mute) only apply on stage; both are
	// false for listeners, who are never heard.
	Muted bool
	Held  bool
	// Since is when they came on stage; zero for listeners.
	Since time.Time
	// HandRaised and SpeakInvited (an invitation to speak is pending) only apply to
	// listeners.
	HandRaised   bool
	SpeakInvited bool
}

// member is a present participant. The ticks order stage seniority, the audience,
// raised hands and invitations to speak deterministically; 0 means "not so".
type member struct {
	id      string
	guest   bool
	browser string // Join.Browser
	addr    string // Join.Addr
	role    Role
	muted   bool
	held    bool
	since   time.Time
	onStage uint64 // tick of coming on stage
	inAud   uint64 // tick of entering the audience
	hand    uint64 // tick of raising the hand
	invited uint64 // tick of the pending invitation to speak
	// keptOff: their join would have put them on stage, but the stage's block
	// rule kept them in the audience (KeptOffStage); cleared on stage.
	keptOff bool
	// prev and next thread the audience's list (audience.go); nil off it.
	prev, next *member
}

func (m *member) participant() Participant {
	return Participant{
		UserID: m.id, Guest: m.guest, Role: m.role, Muted: m.muted, Held: m.held,
		Since: m.since, HandRaised: m.hand != 0, SpeakInvited: m.invited != 0,
	}
}

// memberInvite is an InviteMembers invitation: it lets the user join a social or
// closed room, and, with toStage, puts them on stage at their next join.
type memberInvite struct {
	toStage bool
}

// Room is one live room. Make it with New; change it only with Apply.
type Room struct {
	cfg    Config
	state  State
	policy HandPolicy
	seq    uint64 // the Seq of the last event
	tick   uint64 // orders arrivals, stage entries, hands and invitations
	people map[string]*member
	stage  map[string]*member // the people on stage, a subset of people
	// audience, hands and speakInvites index the listeners, their raised hands
	// and their pending invitations to speak (audience.go).
	audience     audienceList
	hands        map[string]*member
	speakInvites map[string]*member
	removed      map[string]struct{}
	// barred holds the browsers ("b:" + identity) and addresses ("a:" + address)
	// of everyone removed: no guest joins from them again.
	barred       map[string]struct{}
	guestsClosed bool           // SetGuests closed the room to guests
	recording    bool           // being recorded (recording.go)
	liveCaptions bool           // live captions on (captions.go)
	guests       int            // guests present
	guestAddrs   map[string]int // guests present per address
	invites      map[string]memberInvite
	follows      edges
	blocks       edges
	bc           backchannel
	out          []Event // the events of the command being applied
}

// New returns a room in StateWaiting for cfg, which must pass Config.Validate (New
// panics otherwise: validating is the caller's job, where it can answer the user).
// The creator is its first moderator and opens it by joining (or a co-host does).
func New(cfg Config) *Room {
	if err := cfg.Validate(); err != nil {
		panic("room.New: invalid config: " + err.Error())
	}
	r := &Room{
		cfg:    cfg,
		state:  StateWaiting,
		policy: HandsEveryone,
		people: map[string]*member{},
		stage:  map[string]*member{},
		hands:  map[string]*member{}, speakInvites: map[string]*member{},
		removed: map[string]struct{}{},
		barred:  map[string]struct{}{},
		invites: map[string]memberInvite{},

		guestAddrs: map[string]int{},
		follows:    newEdges(),
		blocks:     newEdges(),
	}
	for _, u := range cfg.Speakers {
		r.invites[u] = memberInvite{toStage: true}
	}
	r.recording = cfg.Record
	r.bc = backchannel{chat: cfg.Chat, chatMuted: map[string]struct{}{}, lastChat: map[string]time.Time{}}
	if r.bc.chat == "" {
		r.bc.chat = DefaultChat(cfg.Type)
	}
	return r
}

// Apply applies cmd on behalf of actor, the user ID of the caller's session, and
// returns the events it caused, in Seq order. On error the room is unchanged and
// there are no events; errors are the Err* values of this package.
func (r *Room) Apply(actor string, cmd Command) ([]Event, error) {
	if r.state == StateEnded {
		return nil, ErrRoomEnded
	}
	if actor == "" || cmd == nil {
		return nil, ErrBadCommand
	}
	var err error
	if j, ok := cmd.(Join); ok {
		err = r.join(actor, j)
	} else if m, ok := r.people[actor]; !ok {
		err = ErrNotJoined
	} else {
		err = r.dispatch(m, cmd)
	}
	out := r.out
	r.out = nil
	if err != nil {
		return nil, err
	}
	return out, nil
}

// dispatch applies a command other than Join from m, who is present. Each handler
// checks everything before it changes anything.
func (r *Room) dispatch(m *member, cmd Command) error {
	if ok, err := r.dispatchBackchannel(m, cmd); ok {
		return err
	}
	switch c := cmd.(type) {
	case Leave:
		return r.leave(m)
	case RaiseHand:
		return r.raiseHand(m)
	case LowerHand:
		return r.lowerHand(m)
	case SetHandPolicy:
		return r.setHandPolicy(m, c)
	case InviteToSpeak:
		return r.inviteToSpeak(m, c)
	case AcceptSpeak:
		return r.acceptSpeak(m, c)
	case DeclineSpeak:
		return r.declineSpeak(m)
	case MoveToAudience:
		return r.moveToAudience(m, c)
	case StepDown:
		return r.stepDown(m)
	case MakeModerator:
		return r.makeModerator(m, c)
	case RevokeModerator:
		return r.revokeModerator(m, c)
	case SetMuted:
		return r.setMuted(m, c)
	case Mute:
		return r.mute(m, c)
	case ReleaseMute:
		return r.releaseMute(m, c)
	case Remove:
		return r.remove(m, c)
	case End:
		return r.end(m)
	case InviteMembers:
		return r.inviteMembers(m, c)
	case SetRelation:
		return r.setRelation(m, c)
	case SetGuests:
		return r.setGuests(m, c)
	case SetRecording:
		return r.setRecording(m, c)
	case SetLiveCaptions:
		return r.setLiveCaptions(m, c)
	}
	return ErrBadCommand
}

// next returns a new tick.
func (r *Room) next() uint64 {
	r.tick++
	return r.tick
}

// header numbers the next event. Call it only to build an event that is emitted.
func (r *Room) header(to Audience) Header {
	r.seq++
	return Header{Seq: r.seq, To: to}
}

func (r *Room) emit(e Event) { r.out = append(r.out, e) }

// members addresses an event to everyone present.
func members() Audience { return Audience{Members: true} }

// userAndModerators addresses an event to u and the moderators, in stage order.
func (r *Room) userAndModerators(u string) Audience {
	to := []string{u}
	for _, m := range r.stageOrder() {
		if m.role == Moderator && m.id != u {
			to = append(to, m.id)
		}
	}
	return Audience{Users: to}
}

// stageOrder returns the people on stage, longest-serving first.
func (r *Room) stageOrder() []*member {
	out := make([]*member, 0, len(r.stage))
	for _, m := range r.stage {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *member) int { return cmp.Compare(a.onStage, b.onStage) })
	return out
}

// moderators counts the moderators, who are all on stage.
func (r *Room) moderators() int {
	n := 0
	for _, m := range r.stage {
		if m.role == Moderator {
			n++
		}
	}
	return n
}

// target finds the present participant a command aims at.
func (r *Room) target(id string) (*member, error) {
	if id == "" {
		return nil, ErrBadCommand
	}
	t, ok := r.people[id]
	if !ok {
		return nil, ErrTargetNotFound
	}
	return t, nil
}

// moderatorTarget checks that m is a moderator and finds the target.
func (r *Room) moderatorTarget(m *member, id string) (*member, error) {
	if m.role != Moderator {
		return nil, ErrNotModerator
	}
	return r.target(id)
}
