package room

import "time"

// Command is something a participant asks of the room. The commands are the
// struct types of this file, passed by value to Room.Apply; who asks is Apply's
// actor argument, never a field of the command.
type Command interface {
	command()
}

// MaxInvitees is the most users one InviteMembers may name.
const MaxInvitees = 50

// Relations is how a joining user stands to the people already in the room. The
// room cannot read the social graph, so the caller looks it up and passes it with
// Join; IDs of people not in the room are ignored. The room keeps these edges while
// both ends are present, and SetRelation keeps them current.
type Relations struct {
	Follows    []string // participants the joiner follows
	FollowedBy []string // participants who follow the joiner
	Blocks     []string // participants the joiner blocks
	BlockedBy  []string // participants who block the joiner
}

// HandPolicy says which listeners may raise their hand.
type HandPolicy string

// The hand policies.
const (
	// HandsNobody takes no raised hands.
	HandsNobody HandPolicy = "nobody"
	// HandsEveryone lets every signed-in listener raise a hand. New rooms start so.
	HandsEveryone HandPolicy = "everyone"
	// HandsFollowedBySpeakers lets a listener raise a hand only if someone on stage
	// follows them.
	HandsFollowedBySpeakers HandPolicy = "followed_by_speakers"
)

func (p HandPolicy) valid() bool {
	return p == HandsNobody || p == HandsEveryone || p == HandsFollowedBySpeakers
}

// Join enters the room: the creator and the co-hosts onto the stage as moderators,
// the invitees of a moderator's InviteMembers{ToStage: true} and the Config's
// Speakers onto the stage as speakers (once), everyone else into the audience. The
// stage's block rule holds for every one of them: someone who blocks a person on
// stage, or whom a person on stage blocks, joins the audience instead, with their
// stage invitation used up (Room.KeptOffStage).
type Join struct {
	Guest bool      // the actor is a signed-out guest: open rooms that allow guests only
	Rel   Relations // ignored for guests
	Now   time.Time // becomes the speaker-since time if the joiner goes on stage
	// ClubMember says the joiner is a member of the room's club; the caller asks the
	// club. A MembersOnly room takes only them (and hosts, invitees); a social club
	// room takes them besides the people a moderator follows.
	ClubMember bool
	// Browser and Addr say where the joiner comes from: their browser's identity
	// (the caller's signed guest cookie) and their network address, each "" when
	// unknown. A moderator's Remove bars later guest joins from both, whoever the
	// removed person was, for the room's life.
	Browser string
	Addr    string
	// AdminModerator says the joiner is a server admin who asked to moderate the
	// room (from the admin console). The caller sets it only after checking, from
	// the joiner's session, that their account is an admin: the room takes its
	// word. Such a joiner comes in whatever the room's type (closed, social,
	// members-only) and lands on stage as a moderator, as a host does; the other
	// refusals stand (removed, blocked by a moderator, full, not started), and so
	// does the stage's block rule (KeptOffStage). A guest cannot be one
	// (ErrBadCommand).
	AdminModerator bool
}

// SetGuests closes the room to guests or opens it to them again (moderators, in a
// room created to allow guests). Guests present stay; no new guest joins while it
// is closed.
type SetGuests struct {
	Allowed bool
}

// Leave leaves the room.
type Leave struct{}

// RaiseHand asks to speak. Listeners only, as the hand policy allows.
type RaiseHand struct{}

// LowerHand takes back a raised hand.
type LowerHand struct{}

// SetHandPolicy sets who may raise a hand (moderators). Hands raised that the new
// policy would not take are lowered.
type SetHandPolicy struct {
	Policy HandPolicy
}

// InviteToSpeak invites a listener onto the stage, hand raised or not (moderators).
// It is refused with ErrBlockedOnStage while the listener blocks someone on stage
// or someone on stage blocks them.
type InviteToSpeak struct {
	Target string
}

// AcceptSpeak accepts a pending invitation to speak: the actor goes on stage as a
// speaker, muted, hand lowered. It is refused with ErrBlockedOnStage, the
// invitation staying pending, while the actor blocks someone on stage or someone
// on stage blocks them, however old the invitation.
type AcceptSpeak struct {
	Now time.Time // becomes the speaker-since time
}

// DeclineSpeak declines a pending invitation to speak.
type DeclineSpeak struct{}

// MoveToAudience moves someone on stage into the audience (moderators).
type MoveToAudience struct {
	Target string
}

// StepDown moves the actor from the stage into the audience.
type StepDown struct{}

// MakeModerator makes a speaker a moderator (moderators).
type MakeModerator struct {
	Target string
}

// RevokeModerator makes a moderator a plain speaker again (moderators); the last
// moderator of the room cannot be revoked.
type RevokeModerator struct {
	Target string
}

// SetMuted mutes or unmutes the actor, who must be on stage. Unmuting is refused
// while a moderator holds the mute.
type SetMuted struct {
	Muted bool
}

// Mute mutes someone else on stage (moderators). A soft mute (Hold false) lets the
// speaker unmute; a held mute stays until a moderator releases it.
type Mute struct {
	Target string
	Hold   bool
}

// ReleaseMute releases a held mute (moderators, not on themselves). The speaker
// stays muted until they unmute.
type ReleaseMute struct {
	Target string
}

// Remove removes a participant from the room for good (moderators, not
// themselves): the user can never join this room again.
type Remove struct {
	Target string
}

// End ends the room (moderators).
type End struct{}

// InviteMembers invites users into the conversation, which lets them join a social
// or closed room. In open and social rooms any signed-in participant may invite; in
// closed rooms only moderators. ToStage, honoured only from a moderator, lets the
// invitees' next join put them straight on stage. Users already present or removed
// are skipped.
type InviteMembers struct {
	Users   []string // IDs made by ids.New; 1 to MaxInvitees of them
	ToStage bool
}

// SetRelation tells the room how the actor now stands to Target, another signed-in
// participant, after a follow, unfollow, block or unblock made while both are in
// the room. Like the account service, a block drops the follows both ways. It emits
// nothing: relations are private. A block moves nobody, even if both are on stage:
// it bars either from coming on stage while the other is there.
type SetRelation struct {
	Target  string
	Follows bool // the actor follows Target
	Blocks  bool // the actor blocks Target; excludes Follows
}

func (Join) command()            {}
func (Leave) command()           {}
func (RaiseHand) command()       {}
func (LowerHand) command()       {}
func (SetHandPolicy) command()   {}
func (InviteToSpeak) command()   {}
func (AcceptSpeak) command()     {}
func (DeclineSpeak) command()    {}
func (MoveToAudience) command()  {}
func (StepDown) command()        {}
func (MakeModerator) command()   {}
func (RevokeModerator) command() {}
func (SetMuted) command()        {}
func (Mute) command()            {}
func (ReleaseMute) command()     {}
func (Remove) command()          {}
func (End) command()             {}
func (InviteMembers) command()   {}
func (SetRelation) command()     {}
func (SetGuests) command()       {}
