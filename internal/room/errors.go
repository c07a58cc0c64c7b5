package room

import "github.com/townhall/townhall/internal/errcode"

// Errors of Config.Validate. Each carries the invalid_field code.
var (
	// ErrInvalidRoomID refuses a room ID that ids.New did not make.
	ErrInvalidRoomID = errcode.New(errcode.InvalidField, "the room ID is not a valid ID")
	// ErrInvalidCreatorID refuses a creator ID that ids.New did not make.
	ErrInvalidCreatorID = errcode.New(errcode.InvalidField, "the creator ID is not a valid ID")
	// ErrInvalidTitle refuses a blank title, one over MaxTitleRunes characters, or one
	// holding control characters or invalid UTF-8.
	ErrInvalidTitle = errcode.New(errcode.InvalidField, "the title must be 1 to 80 characters of text")
	// ErrInvalidDescription refuses a description over MaxDescriptionRunes characters,
	// or one holding control characters (other than new lines and tabs) or invalid UTF-8.
	ErrInvalidDescription = errcode.New(errcode.InvalidField, "the description must be at most 500 characters of text")
	// ErrInvalidType refuses a room type other than open, social and closed.
	ErrInvalidType = errcode.New(errcode.InvalidField, "the room type must be open, social or closed")
	// ErrGuestsOnlyOpen refuses AllowGuests on a social or closed room: guests follow
	// nobody and cannot be invited, so only open rooms can take them.
	ErrGuestsOnlyOpen = errcode.New(errcode.InvalidField, "only open rooms can allow guests")
	// ErrInvalidMaxParticipants refuses a negative participant limit.
	ErrInvalidMaxParticipants = errcode.New(errcode.InvalidField, "the participant limit cannot be negative")
	// ErrInvalidHosts refuses co-hosts or stage guests that are not valid user IDs,
	// that name the creator or someone twice, or that number over MaxInvitees.
	ErrInvalidHosts = errcode.New(errcode.InvalidField, "co-hosts and speakers must be distinct users other than the creator, at most 50 each")
	// ErrMembersOnlyClub refuses MembersOnly without a ClubID, or with AllowGuests.
	ErrMembersOnlyClub = errcode.New(errcode.InvalidField, "a members-only room belongs to a club and takes no guests")
	// ErrInvalidChat refuses a chat mode other than off, speakers and everyone.
	ErrInvalidChat = errcode.New(errcode.InvalidField, "the chat must be off, speakers or everyone")
	// ErrClipsNeedRecord refuses clips or captions in a room that is not recorded.
	ErrClipsNeedRecord = errcode.New(errcode.InvalidField, "clips and captions need a recorded room")
	// ErrInvalidClubID refuses a club ID that ids.New did not make.
	ErrInvalidClubID = errcode.New(errcode.InvalidField, "the club ID is not a valid ID")
)

// Errors of Room.Apply. On any of them the room is unchanged and no event is emitted.
var (
	// ErrBadCommand refuses a malformed command: nil, unknown, an empty actor or
	// target, an unknown hand policy, an empty or malformed list of invitees.
	ErrBadCommand = errcode.New(errcode.BadRequest, "malformed room command")
	// ErrTooManyInvitees refuses an InviteMembers over MaxInvitees users.
	ErrTooManyInvitees = errcode.New(errcode.InvalidField, "too many people in one invitation")

	// ErrRoomEnded refuses every command once the room has ended.
	ErrRoomEnded = errcode.New(errcode.RoomEnded, "this room has ended")
	// ErrNotStarted refuses a join before the creator or a co-host has opened the
	// room by joining.
	ErrNotStarted = errcode.New(errcode.RoomNotStarted, "this room has not started yet")
	// ErrRoomFull refuses a join when the room holds MaxParticipants people.
	ErrRoomFull = errcode.New(errcode.RoomFull, "this room is full")
	// ErrAlreadyJoined refuses a join by someone already in the room; the caller
	// recognises it to handle a reconnection.
	ErrAlreadyJoined = errcode.New(errcode.AlreadyInRoom, "you are already in this room")
	// ErrNotJoined refuses any command but Join from someone not in the room.
	ErrNotJoined = errcode.New(errcode.NotInRoom, "join the room first")
	// ErrRemoved refuses a join by a user a moderator removed from this room.
	ErrRemoved = errcode.New(errcode.RemovedFromRoom, "you were removed from this room")
	// ErrTargetNotFound refuses a command whose target is not in the room.
	ErrTargetNotFound = errcode.New(errcode.NotFound, "that person is not in this room")

	// ErrNotModerator refuses a moderator's command from someone who is not one.
	ErrNotModerator = errcode.New(errcode.Forbidden, "only a moderator can do that")
	// ErrSelfTarget refuses a moderator's command aimed at its own author: removing
	// yourself, muting or releasing your own held mute through moderation.
	ErrSelfTarget = errcode.New(errcode.Forbidden, "you cannot do that to yourself")
	// ErrGuestsNotAllowed refuses a guest's join in a room that does not allow guests.
	ErrGuestsNotAllowed = errcode.New(errcode.Forbidden, "sign in to join this room")
	// ErrReactionsOff refuses a reaction while the moderators switched them off.
	ErrReactionsOff = errcode.New(errcode.Forbidden, "the moderators switched reactions off")
	// ErrBadReaction refuses a reaction outside the fixed set.
	ErrBadReaction = errcode.New(errcode.InvalidField, "a reaction must be one of 👏 ❤️ 😂 💯 ✋ 🙏")
	// ErrChatOff refuses a chat message while the chat is off.
	ErrChatOff = errcode.New(errcode.Forbidden, "the chat is off in this room")
	// ErrChatSpeakers refuses a listener's chat message while only the stage writes.
	ErrChatSpeakers = errcode.New(errcode.Forbidden, "only the people on stage can write in this room's chat")
	// ErrChatMuted refuses the chat messages of someone a moderator muted in chat.
	ErrChatMuted = errcode.New(errcode.Forbidden, "a moderator muted you in the chat")
	// ErrBadChat refuses a blank chat message, one over MaxChatRunes characters, or
	// one holding control characters (but new lines) or invalid UTF-8.
	ErrBadChat = errcode.New(errcode.InvalidField, "a chat message is 1 to 500 characters of text")
	// ErrSlowMode refuses a chat message sooner than the slow mode allows.
	ErrSlowMode = errcode.New(errcode.RateLimited, "slow mode: wait a little before your next message")
	// ErrBadLink refuses a pinned link that is not an http or https URL of at most
	// MaxLinkBytes.
	ErrBadLink = errcode.New(errcode.InvalidField, "a pinned link is an http:// or https:// URL of at most 500 bytes")
	// ErrGuestsClosed refuses a guest's join while the moderators have closed the
	// room to guests (SetGuests).
	ErrGuestsClosed = errcode.New(errcode.Forbidden, "the moderators closed this room to guests: sign in to join")
	// ErrGuestsFull refuses a guest's join over Config.MaxGuests or MaxGuestsPerAddr.
	ErrGuestsFull = errcode.New(errcode.RoomFull, "this room takes no more guests from here: sign in to join")
	// ErrGuestListenOnly refuses guests anything but listening and leaving, and
	// refuses to bring a guest on stage.
	ErrGuestListenOnly = errcode.New(errcode.Forbidden, "guests can only listen")
	// ErrNotInvited refuses a join to a closed room by someone not invited.
	ErrNotInvited = errcode.New(errcode.Forbidden, "this room is closed: only invited people can join")
	// ErrMembersOnly refuses a join to a members-only club room by someone who is
	// not a member of the club, not a host and not invited.
	ErrMembersOnly = errcode.New(errcode.Forbidden, "this room is for members of its club")
	// ErrNotFollowed refuses a join to a social room by someone that no moderator
	// in the room follows, and who was not invited.
	ErrNotFollowed = errcode.New(errcode.Forbidden, "this room is social: only people the moderators follow can join")
	// ErrHandNotAllowed refuses a raised hand that the room's hand policy forbids.
	ErrHandNotAllowed = errcode.New(errcode.Forbidden, "the moderators do not take raised hands from you now")
	// ErrMuteHeld refuses to unmute a speaker whose mute a moderator holds.
	ErrMuteHeld = errcode.New(errcode.MuteHeld, "a moderator muted you; only a moderator can release it")

	// ErrBlockedByModerator refuses a join by a user a moderator in the room blocks.
	ErrBlockedByModerator = errcode.New(errcode.Blocked, "you cannot join this room")
	// ErrBlockedOnStage refuses to bring on stage (InviteToSpeak, AcceptSpeak) a user
	// who blocks someone on stage or whom someone on stage blocks. The message names
	// neither the other person nor the direction of the block.
	ErrBlockedOnStage = errcode.New(errcode.Blocked, "nobody can come on stage next to someone who blocks them or whom they block")

	// ErrOnStage refuses to raise a hand or to invite to speak someone on stage.
	ErrOnStage = errcode.New(errcode.Conflict, "already on stage")
	// ErrNotOnStage refuses a stage command (step down, mute, move, make
	// moderator) aimed at a listener.
	ErrNotOnStage = errcode.New(errcode.Conflict, "not on stage")
	// ErrHandAlreadyRaised refuses to raise a raised hand.
	ErrHandAlreadyRaised = errcode.New(errcode.Conflict, "your hand is already raised")
	// ErrHandNotRaised refuses to lower a hand that is not raised.
	ErrHandNotRaised = errcode.New(errcode.Conflict, "your hand is not raised")
	// ErrAlreadyInvited refuses a second invitation to speak while one is pending.
	ErrAlreadyInvited = errcode.New(errcode.Conflict, "already invited to speak")
	// ErrNoSpeakInvitation refuses to accept or decline an invitation to speak that
	// is not pending.
	ErrNoSpeakInvitation = errcode.New(errcode.Conflict, "no pending invitation to speak")
	// ErrAlreadyModerator refuses to make a moderator of a moderator.
	ErrAlreadyModerator = errcode.New(errcode.Conflict, "already a moderator")
	// ErrTargetNotModerator refuses to revoke the role of someone who is not a
	// moderator.
	ErrTargetNotModerator = errcode.New(errcode.Conflict, "that person is not a moderator")
	// ErrLastModerator refuses to revoke the last moderator of a live room.
	ErrLastModerator = errcode.New(errcode.Conflict, "a live room needs at least one moderator")
)

// Notices: not refusals of Room.Apply, but what the layer above tells a participant
// about a command that succeeded.
var (
	// ErrKeptOffStage tells a joiner that they joined the audience, although their
	// join would have put them on stage, because of the stage's block rule
	// (Room.KeptOffStage). Like ErrBlockedOnStage, it names neither the other
	// person nor the direction of the block.
	ErrKeptOffStage = errcode.New(errcode.Blocked, "you joined as a listener: nobody can come on stage next to someone who blocks them or whom they block")
)
