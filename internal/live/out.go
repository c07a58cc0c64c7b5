package live

import (
	"time"

	"github.com/townhall/townhall/internal/room"
)

// Person is how a participant is shown: their public ID and names. Guests have a
// guest ID and the display name "Guest".
type Person struct {
	ID          string `json:"id"`
	Username    string `json:"username,omitempty"`
	DisplayName string `json:"display_name"`
	Guest       bool   `json:"guest,omitempty"`
	// Photo names the person's profile photo (its content hash), if they have
	// one: GET /api/v1/photos/{photo}/{size} serves it.
	Photo string `json:"photo,omitempty"`
}

// The messages the server sends on a room socket. Every message has a "type".

type welcomeMsg struct {
	Type     string `json:"type"` // "welcome"
	Protocol int    `json:"protocol"`
	You      Person `json:"you"`
	RoomID   string `json:"room_id"`
	Resumed  bool   `json:"resumed"` // the participant was already in the room (reconnect)
}

type snapshotMsg struct {
	Type string       `json:"type"`         // "snapshot"
	ID   string       `json:"id,omitempty"` // the request id of the snapshot message it answers
	Seq  uint64       `json:"seq"`          // the connection's sequence number at this snapshot
	Room snapshotView `json:"room"`
}

type roomView struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Type        room.Type `json:"type"`
	AllowGuests bool      `json:"allow_guests"`
	CreatorID   string    `json:"creator_id"`
	CreatedAt   time.Time `json:"created_at"`
	// Recorded: the room is recorded for a replay (room.Config.Record), which
	// every client says before joining and before accepting to speak; clips
	// allowed: listeners may keep its last moments.
	Recorded     bool `json:"recorded,omitempty"`
	ClipsAllowed bool `json:"clips_allowed,omitempty"`
	Captioned    bool `json:"captioned,omitempty"` // the replay will have captions
}

type snapshotView struct {
	roomView
	State            room.State      `json:"state"`
	HandPolicy       room.HandPolicy `json:"hand_policy"`
	Stage            []stageView     `json:"stage"`
	RaisedHands      []Person        `json:"raised_hands"`      // all for a moderator; only yours for others
	SpeakInvitations []string        `json:"speak_invitations"` // only those you may know of
	ListenerCount    int             `json:"listener_count"`
	Listeners        []listenerView  `json:"listeners"` // at most Options.ListedListeners
	ListenersCut     bool            `json:"listeners_cut,omitempty"`
	// GuestsClosed: the room was made for guests too, and its moderators closed it
	// to them (allow_guests is false meanwhile).
	GuestsClosed bool `json:"guests_closed,omitempty"`
	// The backchannel: who may write in the chat and the slow mode, who is
	// muted in it (all of them for a moderator; you alone, if you are, for
	// others), the pinned link, whether reactions are on and which there are,
	// whether the chat outlives the room, and its latest messages (oldest
	// first; older ones come with chat_history).
	ChatMode         room.ChatMode `json:"chat_mode"`
	SlowSeconds      int           `json:"slow_seconds"`
	ChatMuted        []string      `json:"chat_muted"`
	PinnedLink       string        `json:"pinned_link"`
	ReactionsAllowed bool          `json:"reactions_allowed"`
	Reactions        []string      `json:"reactions"`
	KeepChat         bool          `json:"keep_chat"`
	Chat             []ChatMessage `json:"chat"`
	// LiveCaptions: a moderator turned the live captions on; a socket gets
	// them once it sent show_captions (CaptionsShown says it did).
	LiveCaptions  bool `json:"live_captions"`
	CaptionsShown bool `json:"captions_shown"`
}

type stageView struct {
	Person
	Role  room.Role `json:"role"`
	Muted bool      `json:"muted"`
	Held  bool      `json:"held"`
	Since time.Time `json:"since"`
	// Reconnecting: their socket dropped and the room keeps their place for a
	// while (a "reconnecting" event tells when they are back).
	Reconnecting bool `json:"reconnecting,omitempty"`
}

type listenerView struct {
	Person
	HandRaised bool `json:"hand_raised"` // shown to the moderators and to the listener alone
}

// The event message ({"type":"event","seq","kind","data"}, seq growing by
// exactly one per event message a connection is sent) and the bye message
// ({"type":"bye","reason"}) are written by hand: conn.sendEvent and conn.close.

type okMsg struct {
	Type string `json:"type"` // "ok"
	ID   string `json:"id"`
}

type errorMsg struct {
	Type    string `json:"type"` // "error"
	ID      string `json:"id,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type offerMsg struct {
	Type string `json:"type"` // "offer"
	SDP  string `json:"sdp"`
}

type candidateMsg struct {
	Type      string       `json:"type"` // "candidate"
	Candidate ICECandidate `json:"candidate"`
}

type activeSpeakersMsg struct {
	Type  string       `json:"type"` // "active_speakers"
	Slots []ActiveSlot `json:"slots"`
}

type pongMsg struct {
	Type string `json:"type"` // "pong"
	ID   string `json:"id,omitempty"`
}

// Reasons of a bye message.
const (
	ByeReplaced = "replaced"   // the same user connected again; this socket is old
	ByeRemoved  = "removed"    // a moderator removed the user
	ByeEnded    = "room_ended" // the room is over
	ByeLeft     = "left"       // the user left (or joined another room)
	ByeShutdown = "shutdown"   // the server is stopping
	ByeAbuse    = "abuse"      // too many malformed or refused messages
	// ByeSessionEnded: the session the socket was opened with ended (signed out,
	// revoked, expired, or the password changed).
	ByeSessionEnded = "session_ended"
	ByeDisabled     = "account_disabled" // an admin disabled the account
	// ByeMoved: the room moved to another node of the cluster (this one drains,
	// or lost it): connect again through the join API, and you are back with
	// your role.
	ByeMoved = "moved"
)

// The data of each event kind on the wire.

type (
	joinedStageData struct {
		User  Person    `json:"user"`
		Role  room.Role `json:"role"`
		Muted bool      `json:"muted"`
		Since time.Time `json:"since"`
	}
	userReasonData struct {
		UserID string      `json:"user_id"`
		Reason room.Reason `json:"reason,omitempty"`
	}
	listenerJoinedData struct {
		User Person `json:"user"`
	}
	handRaisedData struct {
		User Person `json:"user"`
	}
	byData struct {
		UserID string `json:"user_id"`
		By     string `json:"by,omitempty"`
		Held   bool   `json:"held,omitempty"`
		Auto   bool   `json:"auto,omitempty"`
	}
	policyData struct {
		Policy room.HandPolicy `json:"policy"`
		By     string          `json:"by"`
	}
	endedData struct {
		Reason room.Reason `json:"reason"`
		By     string      `json:"by,omitempty"`
	}
	invitedData struct {
		By      string   `json:"by"`
		Users   []string `json:"users"`
		ToStage bool     `json:"to_stage"`
	}
	guestsData struct {
		Allowed bool   `json:"allowed"`
		By      string `json:"by"`
	}
	recordingData struct {
		On bool   `json:"on"`
		By string `json:"by"`
	}
	chatSettingsData struct {
		Mode        room.ChatMode `json:"mode"`
		SlowSeconds int           `json:"slow_seconds"`
		By          string        `json:"by"`
	}
	chatMutedData struct {
		UserID string `json:"user_id"`
		Muted  bool   `json:"muted"`
		By     string `json:"by"`
	}
	linkData struct {
		URL string `json:"url"`
		By  string `json:"by"`
	}
	reactionsAllowedData struct {
		Allowed bool   `json:"allowed"`
		By      string `json:"by"`
	}
	audienceData struct {
		ListenerCount int `json:"listener_count"`
	}
)

// KindAudience is the event a busy room sends instead of single listener events:
// the new listener count.
const KindAudience = "audience"

// eventData converts a room event to its wire data; person names the users.
func eventData(ev room.Event, person func(id string) Person) any {
	switch e := ev.(type) {
	case room.JoinedStage:
		return joinedStageData{User: person(e.UserID), Role: e.Role, Muted: e.Muted, Since: e.Since}
	case room.LeftStage:
		return userReasonData{UserID: e.UserID, Reason: e.Reason}
	case room.ListenerJoined:
		return listenerJoinedData{User: person(e.UserID)}
	case room.ListenerLeft:
		return userReasonData{UserID: e.UserID, Reason: e.Reason}
	case room.HandRaised:
		return handRaisedData{User: person(e.UserID)}
	case room.HandLowered:
		return userReasonData{UserID: e.UserID, Reason: e.Reason}
	case room.HandPolicyChanged:
		return policyData{Policy: e.Policy, By: e.By}
	case room.SpeakInvited:
		return byData{UserID: e.UserID, By: e.By}
	case room.SpeakDeclined:
		return byData{UserID: e.UserID}
	case room.ModeratorAdded:
		return byData{UserID: e.UserID, By: e.By, Auto: e.Auto}
	case room.ModeratorRemoved:
		return byData{UserID: e.UserID, By: e.By}
	case room.Muted:
		return byData{UserID: e.UserID, By: e.By, Held: e.Held}
	case room.Unmuted:
		return byData{UserID: e.UserID}
	case room.MuteReleased:
		return byData{UserID: e.UserID, By: e.By}
	case room.Removed:
		return byData{UserID: e.UserID}
	case room.RoomEnded:
		return endedData{Reason: e.Reason, By: e.By}
	case room.MembersInvited:
		return invitedData{By: e.By, Users: e.Users, ToStage: e.ToStage}
	case room.GuestsChanged:
		return guestsData{Allowed: e.Allowed, By: e.By}
	case room.RecordingChanged:
		return recordingData{On: e.On, By: e.By}
	case room.LiveCaptionsChanged:
		return liveCaptionsData{On: e.On, By: e.By}
	case room.ChatSettingsChanged:
		return chatSettingsData{Mode: e.Mode, SlowSeconds: e.SlowSeconds, By: e.By}
	case room.ChatMuted:
		return chatMutedData{UserID: e.UserID, Muted: e.Muted, By: e.By}
	case room.LinkPinned:
		return linkData{URL: e.URL, By: e.By}
	case room.ReactionsChanged:
		return reactionsAllowedData{Allowed: e.Allowed, By: e.By}
	}
	return struct{}{}
}
