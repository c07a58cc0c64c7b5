package live

import (
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/room"
)

// ProtocolVersion is the version of the room socket protocol (docs/protocol.md).
const ProtocolVersion = 1

// MaxFrame is the largest message a client may send on a socket.
const MaxFrame = 64 << 10

// maxRequestID is the longest request id, in bytes.
const maxRequestID = 64

// Errors of the socket protocol.
var (
	ErrBadMessage     = errcode.New(errcode.BadRequest, "malformed message")
	ErrUnknownMessage = errcode.New(errcode.BadRequest, "unknown message type")
	ErrRateLimited    = errcode.New(errcode.RateLimited, "too many messages; slow down")
)

// ClientMessage is any message a client sends on the room socket. Which fields
// matter depends on Type; unknown fields are refused.
type ClientMessage struct {
	Type      string        `json:"type"`
	ID        string        `json:"id,omitempty"` // request ID, echoed in ok/error
	Target    string        `json:"target,omitempty"`
	Hold      bool          `json:"hold,omitempty"`
	Muted     *bool         `json:"muted,omitempty"`
	Allowed   *bool         `json:"allowed,omitempty"` // set_guests
	On        *bool         `json:"on,omitempty"`      // set_recording, set_live_captions, show_captions
	Policy    string        `json:"policy,omitempty"`
	Emoji     string        `json:"emoji,omitempty"`        // react
	Text      string        `json:"text,omitempty"`         // chat
	Mode      string        `json:"mode,omitempty"`         // set_chat
	Slow      *int          `json:"slow_seconds,omitempty"` // set_chat
	URL       *string       `json:"url,omitempty"`          // pin_link ("" unpins)
	MessageID string        `json:"message_id,omitempty"`   // delete_chat
	Before    string        `json:"before,omitempty"`       // chat_history
	After     string        `json:"after,omitempty"`        // audience
	Limit     int           `json:"limit,omitempty"`        // chat_history, audience
	SDP       string        `json:"sdp,omitempty"`
	Candidate *ICECandidate `json:"candidate,omitempty"`
}

// ICECandidate is a trickled ICE candidate (RFC 8839), as browsers give it.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"` // as RTCIceCandidate.toJSON() gives it
}

// Message types a client sends that are not room commands.
const (
	MsgPing      = "ping"
	MsgSnapshot  = "snapshot"
	MsgLeave     = "leave"
	MsgAnswer    = "answer"    // SDP answer to the server's offer
	MsgCandidate = "candidate" // trickle ICE
	// MsgChatHistory asks for a page of the chat's older messages.
	MsgChatHistory = "chat_history"
	// MsgAudience asks for a page of the audience (snapshot.go).
	MsgAudience = "audience"
)

// commandOf maps the room commands of the protocol to room.Command values.
var commandOf = map[string]func(m ClientMessage) (room.Command, error){
	"raise_hand":       func(ClientMessage) (room.Command, error) { return room.RaiseHand{}, nil },
	"lower_hand":       func(ClientMessage) (room.Command, error) { return room.LowerHand{}, nil },
	"accept_speak":     func(ClientMessage) (room.Command, error) { return room.AcceptSpeak{}, nil },
	"decline_speak":    func(ClientMessage) (room.Command, error) { return room.DeclineSpeak{}, nil },
	"step_down":        func(ClientMessage) (room.Command, error) { return room.StepDown{}, nil },
	"end":              func(ClientMessage) (room.Command, error) { return room.End{}, nil },
	"invite_to_speak":  targeted(func(t string) room.Command { return room.InviteToSpeak{Target: t} }),
	"move_to_audience": targeted(func(t string) room.Command { return room.MoveToAudience{Target: t} }),
	"make_moderator":   targeted(func(t string) room.Command { return room.MakeModerator{Target: t} }),
	"revoke_moderator": targeted(func(t string) room.Command { return room.RevokeModerator{Target: t} }),
	"release_mute":     targeted(func(t string) room.Command { return room.ReleaseMute{Target: t} }),
	"remove":           targeted(func(t string) room.Command { return room.Remove{Target: t} }),
	"mute": func(m ClientMessage) (room.Command, error) {
		if err := checkTarget(m.Target); err != nil {
			return nil, err
		}
		return room.Mute{Target: m.Target, Hold: m.Hold}, nil
	},
	"set_muted": func(m ClientMessage) (room.Command, error) {
		if m.Muted == nil {
			return nil, fmt.Errorf("%w: set_muted needs muted: true or false", ErrBadMessage)
		}
		return room.SetMuted{Muted: *m.Muted}, nil
	},
	"set_guests": func(m ClientMessage) (room.Command, error) {
		if m.Allowed == nil {
			return nil, fmt.Errorf("%w: set_guests needs allowed: true or false", ErrBadMessage)
		}
		return room.SetGuests{Allowed: *m.Allowed}, nil
	},
	"set_recording": func(m ClientMessage) (room.Command, error) {
		if m.On == nil {
			return nil, fmt.Errorf("%w: set_recording needs on: true or false", ErrBadMessage)
		}
		return room.SetRecording{On: *m.On}, nil
	},
	"set_live_captions": func(m ClientMessage) (room.Command, error) {
		if m.On == nil {
			return nil, fmt.Errorf("%w: set_live_captions needs on: true or false", ErrBadMessage)
		}
		return room.SetLiveCaptions{On: *m.On}, nil
	},
	"react": func(m ClientMessage) (room.Command, error) { return room.React{Emoji: m.Emoji}, nil },
	"chat":  func(m ClientMessage) (room.Command, error) { return room.Chat{Text: m.Text}, nil },
	"set_chat": func(m ClientMessage) (room.Command, error) {
		slow := 0
		if m.Slow != nil {
			slow = *m.Slow
		}
		return room.SetChat{Mode: room.ChatMode(m.Mode), SlowSeconds: slow}, nil
	},
	"chat_mute": func(m ClientMessage) (room.Command, error) {
		if err := checkTarget(m.Target); err != nil {
			return nil, err
		}
		if m.Muted == nil {
			return nil, fmt.Errorf("%w: chat_mute needs muted: true or false", ErrBadMessage)
		}
		return room.ChatMute{Target: m.Target, Muted: *m.Muted}, nil
	},
	"pin_link": func(m ClientMessage) (room.Command, error) {
		if m.URL == nil {
			return nil, fmt.Errorf("%w: pin_link needs url (\"\" unpins)", ErrBadMessage)
		}
		return room.PinLink{URL: *m.URL}, nil
	},
	"set_reactions": func(m ClientMessage) (room.Command, error) {
		if m.Allowed == nil {
			return nil, fmt.Errorf("%w: set_reactions needs allowed: true or false", ErrBadMessage)
		}
		return room.SetReactions{Allowed: *m.Allowed}, nil
	},
	"delete_chat": func(m ClientMessage) (room.Command, error) {
		if !ids.Valid(m.MessageID) {
			return nil, fmt.Errorf("%w: delete_chat needs the message_id of a chat message", ErrBadMessage)
		}
		return room.DeleteChat{MessageID: m.MessageID}, nil
	},
	"set_hand_policy": func(m ClientMessage) (room.Command, error) {
		switch p := room.HandPolicy(m.Policy); p {
		case room.HandsNobody, room.HandsEveryone, room.HandsFollowedBySpeakers:
			return room.SetHandPolicy{Policy: p}, nil
		}
		return nil, fmt.Errorf("%w: policy must be nobody, everyone or followed_by_speakers", ErrBadMessage)
	},
}

func targeted(f func(string) room.Command) func(ClientMessage) (room.Command, error) {
	return func(m ClientMessage) (room.Command, error) {
		if err := checkTarget(m.Target); err != nil {
			return nil, err
		}
		return f(m.Target), nil
	}
}

func checkTarget(t string) error {
	if !ids.Valid(t) && !validGuestID(t) {
		return fmt.Errorf("%w: target must be a participant ID", ErrBadMessage)
	}
	return nil
}

// DecodeClientMessage parses one client frame. For a room command it also returns
// the room.Command to apply; other types (ping, snapshot, leave, answer, candidate)
// return a nil command and are handled by the socket itself.
func DecodeClientMessage(data []byte) (ClientMessage, room.Command, error) {
	var m ClientMessage
	if len(data) > MaxFrame {
		return m, nil, fmt.Errorf("%w: frame over %d bytes", ErrBadMessage, MaxFrame)
	}
	if err := jsonv2.Unmarshal(data, &m, jsonv2.RejectUnknownMembers(true)); err != nil {
		return ClientMessage{ID: requestID(data)}, nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if len(m.ID) > maxRequestID {
		m.ID = ""
		return m, nil, fmt.Errorf("%w: id is longer than %d bytes", ErrBadMessage, maxRequestID)
	}
	switch m.Type {
	case MsgPing, MsgSnapshot, MsgLeave:
		return m, nil, nil
	case MsgChatHistory:
		if m.Before != "" && !ids.Valid(m.Before) {
			return m, nil, fmt.Errorf("%w: before must be the ID of a chat message", ErrBadMessage)
		}
		if m.Limit < 0 || m.Limit > chatPage {
			return m, nil, fmt.Errorf("%w: limit must be 1 to %d", ErrBadMessage, chatPage)
		}
		return m, nil, nil
	case MsgAudience:
		if m.After != "" && checkTarget(m.After) != nil {
			return m, nil, fmt.Errorf("%w: after must be the ID of a listener", ErrBadMessage)
		}
		if m.Limit < 0 || m.Limit > audiencePage {
			return m, nil, fmt.Errorf("%w: limit must be 1 to %d", ErrBadMessage, audiencePage)
		}
		return m, nil, nil
	case MsgShowCaptions:
		if m.On == nil {
			return m, nil, fmt.Errorf("%w: show_captions needs on: true or false", ErrBadMessage)
		}
		return m, nil, nil
	case MsgAnswer:
		if m.SDP == "" {
			return m, nil, fmt.Errorf("%w: answer needs sdp", ErrBadMessage)
		}
		return m, nil, nil
	case MsgCandidate:
		if m.Candidate == nil || len(m.Candidate.Candidate) > 1024 {
			return m, nil, fmt.Errorf("%w: candidate needs a candidate of at most 1024 bytes", ErrBadMessage)
		}
		return m, nil, nil
	case "":
		return m, nil, fmt.Errorf("%w: type is required", ErrBadMessage)
	}
	f, ok := commandOf[m.Type]
	if !ok {
		return m, nil, fmt.Errorf("%w: %q", ErrUnknownMessage, truncate(m.Type, 40))
	}
	cmd, err := f(m)
	return m, cmd, err
}

// requestID digs the request id out of a frame that failed to decode (an unknown
// field, a wrong type), so that its error still answers the right request. It
// returns "" when the frame is not a JSON object with a short string "id".
func requestID(data []byte) string {
	var m struct {
		ID jsontext.Value `json:"id"`
	}
	if jsonv2.Unmarshal(data, &m) != nil || m.ID.Kind() != '"' {
		return ""
	}
	var id string
	if jsonv2.Unmarshal(m.ID, &id) != nil || len(id) > maxRequestID {
		return ""
	}
	return id
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
