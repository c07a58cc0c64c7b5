package room

import "time"

// Event is something that happened in the room, as Room.Apply returns it. Events are
// the struct types of this file, passed by value. Applied in Seq order on top of a
// Snapshot, they keep a client's view of the room exact.
type Event interface {
	// Kind names the event in snake_case, for the wire: one of the Kind* constants.
	Kind() string
	// Sequence is the event's place in the room: 1 for the first event, one more for
	// each event after it.
	Sequence() uint64
	// Recipients says who may receive the event.
	Recipients() Audience
	// Coalescible reports whether a busy room may fold runs of this event into a
	// count instead of sending each one (listener_joined, listener_left).
	Coalescible() bool
}

// Audience says who may receive an event.
type Audience struct {
	// Members: everyone present in the room once the command is applied.
	Members bool
	// Users: when Members is false, exactly these users. They are present, except
	// the removed user of a Removed notice and the invitees of a MembersInvited.
	Users []string
}

// Header is what every event carries: its sequence number and recipients.
type Header struct {
	Seq uint64
	To  Audience
}

// Sequence returns h.Seq.
func (h Header) Sequence() uint64 { return h.Seq }

// Recipients returns h.To.
func (h Header) Recipients() Audience { return h.To }

// Coalescible reports false; the listener events override it.
func (h Header) Coalescible() bool { return false }

// Reason says why a stage, audience, hand or room change happened.
type Reason string

// The reasons.
const (
	ReasonLeft        Reason = "left"         // the user left the room
	ReasonRemoved     Reason = "removed"      // a moderator removed the user
	ReasonSteppedDown Reason = "stepped_down" // the speaker stepped down
	ReasonMoved       Reason = "moved"        // a moderator moved the speaker to the audience
	ReasonToStage     Reason = "to_stage"     // the listener went on stage
	ReasonLowered     Reason = "lowered"      // the listener lowered their hand
	ReasonPolicy      Reason = "policy"       // the new hand policy does not take this hand
	ReasonEndedBy     Reason = "ended"        // a moderator ended the room
	ReasonStageEmpty  Reason = "stage_empty"  // the last person on stage left it
)

// The event kinds.
const (
	KindJoinedStage       = "joined_stage"
	KindLeftStage         = "left_stage"
	KindListenerJoined    = "listener_joined"
	KindListenerLeft      = "listener_left"
	KindHandRaised        = "hand_raised"
	KindHandLowered       = "hand_lowered"
	KindHandPolicyChanged = "hand_policy_changed"
	KindSpeakInvited      = "speak_invited"
	KindSpeakDeclined     = "speak_declined"
	KindModeratorAdded    = "moderator_added"
	KindModeratorRemoved  = "moderator_removed"
	KindMuted             = "muted"
	KindUnmuted           = "unmuted"
	KindMuteReleased      = "mute_released"
	KindRemoved           = "removed"
	KindGuestsChanged     = "guests_changed"
	KindRoomEnded         = "room_ended"
	KindMembersInvited    = "members_invited"
)

// JoinedStage: UserID is now on stage, with no raised hand and no pending invitation
// to speak. The first one makes the room live. To members.
type JoinedStage struct {
	Header
	UserID string
	Role   Role // Speaker or Moderator
	Muted  bool // always true: everyone comes on stage muted
	Since  time.Time
}

// LeftStage: UserID is no longer on stage; if Reason is ReasonSteppedDown or
// ReasonMoved, a ListenerJoined for them follows. To members.
type LeftStage struct {
	Header
	UserID string
	Reason Reason // ReasonLeft, ReasonRemoved, ReasonSteppedDown or ReasonMoved
}

// ListenerJoined: UserID is now in the audience. To members; coalescible.
type ListenerJoined struct {
	Header
	UserID string
	Guest  bool
}

// ListenerLeft: UserID is no longer in the audience, and their hand and pending
// invitation to speak are gone. To members; coalescible.
type ListenerLeft struct {
	Header
	UserID string
	Reason Reason // ReasonLeft, ReasonRemoved or ReasonToStage
}

// HandRaised: the listener UserID raised their hand. The hand queue is the
// moderators' (as in Clubhouse): to UserID and the moderators.
type HandRaised struct {
	Header
	UserID string
}

// HandLowered: the hand of UserID is down. To UserID and the moderators, as
// HandRaised.
type HandLowered struct {
	Header
	UserID string
	Reason Reason // ReasonLowered or ReasonPolicy
}

// HandPolicyChanged: the moderator By set the hand policy. HandLowered events for
// the hands it does not take follow (to their listener and the moderators). To
// members: the policy says who may raise a hand.
type HandPolicyChanged struct {
	Header
	Policy HandPolicy
	By     string
}

// SpeakInvited: the moderator By invited the listener UserID to speak. To UserID
// and the moderators.
type SpeakInvited struct {
	Header
	UserID string
	By     string
}

// SpeakDeclined: UserID declined their invitation to speak. To UserID and the
// moderators.
type SpeakDeclined struct {
	Header
	UserID string
}

// ModeratorAdded: UserID, on stage, is now a moderator; By made them one, or Auto
// is true and By empty when the room promoted its longest-serving speaker because
// no moderator was left. A new moderator may want a fresh Snapshot, for the pending
// invitations to speak and the raised hands. To members.
type ModeratorAdded struct {
	Header
	UserID string
	By     string
	Auto   bool
}

// ModeratorRemoved: the moderator By made UserID a plain speaker. They may want
// a fresh Snapshot too, without what only moderators see. To members.
type ModeratorRemoved struct {
	Header
	UserID string
	By     string
}

// Muted: UserID is muted, by themselves (By == UserID) or by the moderator By.
// Held is whether a moderator holds the mute. To members.
type Muted struct {
	Header
	UserID string
	By     string
	Held   bool
}

// Unmuted: UserID unmuted and may be heard. To members.
type Unmuted struct {
	Header
	UserID string
}

// MuteReleased: the moderator By released the held mute of UserID, who is still
// muted but may now unmute. To members.
type MuteReleased struct {
	Header
	UserID string
	By     string
}

// Removed: the notice to UserID that a moderator removed them for good. Only to
// UserID, who is no longer present; members get a LeftStage or ListenerLeft.
type Removed struct {
	Header
	UserID string
}

// RoomEnded: the room is over. By is the moderator who ended it (Reason
// ReasonEndedBy), or empty when the stage emptied (ReasonStageEmpty). To members.
type RoomEnded struct {
	Header
	Reason Reason
	By     string
}

// GuestsChanged: the moderator By closed the room to guests (Allowed false) or
// opened it to them again. To members.
type GuestsChanged struct {
	Header
	Allowed bool
	By      string
}

// MembersInvited: By invited Users into the conversation; if ToStage, their next
// join puts them on stage. To the invitees and By, never to the rest of the room.
type MembersInvited struct {
	Header
	By      string
	Users   []string
	ToStage bool
}

// Kind returns KindJoinedStage.
func (JoinedStage) Kind() string { return KindJoinedStage }

// Kind returns KindLeftStage.
func (LeftStage) Kind() string { return KindLeftStage }

// Kind returns KindListenerJoined.
func (ListenerJoined) Kind() string { return KindListenerJoined }

// Coalescible reports true: a busy room may send a count instead.
func (ListenerJoined) Coalescible() bool { return true }

// Kind returns KindListenerLeft.
func (ListenerLeft) Kind() string { return KindListenerLeft }

// Coalescible reports true: a busy room may send a count instead.
func (ListenerLeft) Coalescible() bool { return true }

// Kind returns KindHandRaised.
func (HandRaised) Kind() string { return KindHandRaised }

// Kind returns KindHandLowered.
func (HandLowered) Kind() string { return KindHandLowered }

// Kind returns KindHandPolicyChanged.
func (HandPolicyChanged) Kind() string { return KindHandPolicyChanged }

// Kind returns KindSpeakInvited.
func (SpeakInvited) Kind() string { return KindSpeakInvited }

// Kind returns KindSpeakDeclined.
func (SpeakDeclined) Kind() string { return KindSpeakDeclined }

// Kind returns KindModeratorAdded.
func (ModeratorAdded) Kind() string { return KindModeratorAdded }

// Kind returns KindModeratorRemoved.
func (ModeratorRemoved) Kind() string { return KindModeratorRemoved }

// Kind returns KindMuted.
func (Muted) Kind() string { return KindMuted }

// Kind returns KindUnmuted.
func (Unmuted) Kind() string { return KindUnmuted }

// Kind returns KindMuteReleased.
func (MuteReleased) Kind() string { return KindMuteReleased }

// Kind returns KindRemoved.
func (Removed) Kind() string { return KindRemoved }

// Kind returns KindRoomEnded.
func (RoomEnded) Kind() string { return KindRoomEnded }

// Kind returns KindGuestsChanged.
func (GuestsChanged) Kind() string { return KindGuestsChanged }

// Kind returns KindMembersInvited.
func (MembersInvited) Kind() string { return KindMembersInvited }
