package room

import (
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The backchannel of a room: reactions and the text chat beside the stage. The
// room decides who may react and who may write, and keeps the chat's settings;
// the messages themselves and the reactions are the layer above's to carry and
// store: they change nothing of the room, and a room of thousands sends many.

// ChatMode says who may write in the room's chat. Everyone present may read it.
type ChatMode string

// The chat modes.
const (
	ChatOff      ChatMode = "off"
	ChatSpeakers ChatMode = "speakers" // the people on stage
	ChatEveryone ChatMode = "everyone" // every signed-in participant (guests read)
)

func (m ChatMode) valid() bool { return m == ChatOff || m == ChatSpeakers || m == ChatEveryone }

// DefaultChat is the chat mode a room of type t starts with when its Config names
// none: open rooms, where anyone comes in, let the stage write; social and closed
// rooms, among people who know each other, let everyone.
func DefaultChat(t Type) ChatMode {
	if t == Open {
		return ChatSpeakers
	}
	return ChatEveryone
}

// Limits of the backchannel.
const (
	MaxChatRunes   = 500 // the longest chat message, in characters
	MaxLinkBytes   = 500 // the longest pinned link
	MaxSlowSeconds = 300 // the longest slow mode
)

// Reactions is the fixed set of reactions, NumReactions of them.
var Reactions = []string{"👏", "❤️", "😂", "💯", "✋", "🙏"}

// NumReactions is how many reactions there are.
const NumReactions = 6

// React sends a reaction from the fixed set. Anyone present may, guests
// included, while the moderators leave reactions on. It changes nothing and emits
// nothing: the caller carries the reaction.
type React struct {
	Emoji string
}

// Chat writes a message in the chat, as the chat mode allows, unless a moderator
// muted the actor in chat, and not sooner than the slow mode allows after their
// last one. It emits nothing: the caller stores and carries the message.
type Chat struct {
	Text string
	Now  time.Time
}

// SetChat sets who may write in the chat, and the slow mode: the least time, in
// seconds, between two messages of one person (moderators).
type SetChat struct {
	Mode        ChatMode
	SlowSeconds int
}

// ChatMute mutes someone in the chat, or lets them write again (moderators).
type ChatMute struct {
	Target string
	Muted  bool
}

// PinLink pins a link under the room's title, or unpins it with an empty URL
// (moderators). http and https only.
type PinLink struct {
	URL string
}

// SetReactions switches reactions on or off (moderators).
type SetReactions struct {
	Allowed bool
}

// DeleteChat lets a moderator delete a chat message; the room only checks that
// the actor may (the caller knows the messages).
type DeleteChat struct {
	MessageID string
}

func (React) command()        {}
func (Chat) command()         {}
func (SetChat) command()      {}
func (ChatMute) command()     {}
func (PinLink) command()      {}
func (SetReactions) command() {}
func (DeleteChat) command()   {}

// ChatSettingsChanged: the moderator By set the chat's mode and slow mode. To
// members.
type ChatSettingsChanged struct {
	Header
	Mode        ChatMode
	SlowSeconds int
	By          string
}

// ChatMuted: the moderator By muted UserID in the chat (Muted), or let them write
// again. To UserID and the moderators.
type ChatMuted struct {
	Header
	UserID string
	Muted  bool
	By     string
}

// LinkPinned: the moderator By pinned URL under the title ("" unpinned). To
// members.
type LinkPinned struct {
	Header
	URL string
	By  string
}

// ReactionsChanged: the moderator By switched reactions on or off. To members.
type ReactionsChanged struct {
	Header
	Allowed bool
	By      string
}

// The kinds of the backchannel's events.
const (
	KindChatSettingsChanged = "chat_settings_changed"
	KindChatMuted           = "chat_muted"
	KindLinkPinned          = "link_pinned"
	KindReactionsChanged    = "reactions_changed"
)

// Kind returns KindChatSettingsChanged.
func (ChatSettingsChanged) Kind() string { return KindChatSettingsChanged }

// Kind returns KindChatMuted.
func (ChatMuted) Kind() string { return KindChatMuted }

// Kind returns KindLinkPinned.
func (LinkPinned) Kind() string { return KindLinkPinned }

// Kind returns KindReactionsChanged.
func (ReactionsChanged) Kind() string { return KindReactionsChanged }

// backchannel is the room's part of the backchannel.
type backchannel struct {
	chat        ChatMode
	slow        int                  // seconds
	chatMuted   map[string]struct{}  // people a moderator muted in chat
	lastChat    map[string]time.Time // each writer's last message, for the slow mode
	pinned      string
	noReactions bool
}

func (r *Room) dispatchBackchannel(m *member, cmd Command) (bool, error) {
	switch c := cmd.(type) {
	case React:
		return true, r.react(m, c)
	case Chat:
		return true, r.chatMessage(m, c)
	case SetChat:
		return true, r.setChat(m, c)
	case ChatMute:
		return true, r.chatMute(m, c)
	case PinLink:
		return true, r.pinLink(m, c)
	case SetReactions:
		return true, r.setReactions(m, c)
	case DeleteChat:
		if m.role != Moderator {
			return true, ErrNotModerator
		}
		if c.MessageID == "" {
			return true, ErrBadCommand
		}
		return true, nil
	}
	return false, nil
}

func (r *Room) react(m *member, c React) error {
	switch {
	case r.bc.noReactions:
		return ErrReactionsOff
	case !slices.Contains(Reactions, c.Emoji):
		return ErrBadReaction
	}
	return nil
}

func (r *Room) chatMessage(m *member, c Chat) error {
	_, muted := r.bc.chatMuted[m.id]
	switch {
	case m.guest:
		return ErrGuestListenOnly
	case r.bc.chat == ChatOff:
		return ErrChatOff
	case r.bc.chat == ChatSpeakers && m.role == Listener:
		return ErrChatSpeakers
	case muted:
		return ErrChatMuted
	case strings.TrimSpace(c.Text) == "" || !validText(c.Text, MaxChatRunes, "\n"):
		return ErrBadChat
	}
	if last, ok := r.bc.lastChat[m.id]; ok && r.bc.slow > 0 && c.Now.Sub(last) < time.Duration(r.bc.slow)*time.Second {
		return ErrSlowMode
	}
	if r.bc.slow > 0 {
		r.bc.lastChat[m.id] = c.Now
	}
	return nil
}

func (r *Room) setChat(m *member, c SetChat) error {
	switch {
	case m.role != Moderator:
		return ErrNotModerator
	case !c.Mode.valid() || c.SlowSeconds < 0 || c.SlowSeconds > MaxSlowSeconds:
		return ErrBadCommand
	case c.Mode == r.bc.chat && c.SlowSeconds == r.bc.slow:
		return nil
	}
	r.bc.chat, r.bc.slow = c.Mode, c.SlowSeconds
	if c.SlowSeconds == 0 {
		clear(r.bc.lastChat)
	}
	r.emit(ChatSettingsChanged{Header: r.header(members()), Mode: c.Mode, SlowSeconds: c.SlowSeconds, By: m.id})
	return nil
}

func (r *Room) chatMute(m *member, c ChatMute) error {
	t, err := r.moderatorTarget(m, c.Target)
	if err != nil {
		return err
	}
	if t == m {
		return ErrSelfTarget
	}
	if _, muted := r.bc.chatMuted[t.id]; muted == c.Muted {
		return nil
	}
	if c.Muted {
		r.bc.chatMuted[t.id] = struct{}{}
	} else {
		delete(r.bc.chatMuted, t.id)
	}
	r.emit(ChatMuted{Header: r.header(r.userAndModerators(t.id)), UserID: t.id, Muted: c.Muted, By: m.id})
	return nil
}

func (r *Room) pinLink(m *member, c PinLink) error {
	if m.role != Moderator {
		return ErrNotModerator
	}
	if c.URL != "" && !validLink(c.URL) {
		return ErrBadLink
	}
	if c.URL == r.bc.pinned {
		return nil
	}
	r.bc.pinned = c.URL
	r.emit(LinkPinned{Header: r.header(members()), URL: c.URL, By: m.id})
	return nil
}

// validLink reports whether s is an absolute http or https URL of text.
func validLink(s string) bool {
	if len(s) > MaxLinkBytes || !utf8.ValidString(s) || strings.ContainsAny(s, " \t\r\n\"<>\\`") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

func (r *Room) setReactions(m *member, c SetReactions) error {
	if m.role != Moderator {
		return ErrNotModerator
	}
	if r.bc.noReactions == !c.Allowed {
		return nil
	}
	r.bc.noReactions = !c.Allowed
	r.emit(ReactionsChanged{Header: r.header(members()), Allowed: c.Allowed, By: m.id})
	return nil
}

// ChatMode returns who may write in the chat, and the slow mode in seconds.
func (r *Room) ChatMode() (ChatMode, int) { return r.bc.chat, r.bc.slow }

// PinnedLink returns the pinned link, "" for none.
func (r *Room) PinnedLink() string { return r.bc.pinned }

// ReactionsAllowed reports whether reactions are on.
func (r *Room) ReactionsAllowed() bool { return !r.bc.noReactions }

// ChatMutedIDs lists, sorted, who a moderator muted in the chat.
func (r *Room) ChatMutedIDs() []string {
	out := make([]string, 0, len(r.bc.chatMuted))
	for id := range r.bc.chatMuted {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Blocks reports whether a blocks b, both present (the chat hides b's messages
// from a).
func (r *Room) Blocks(a, b string) bool { return r.blocks.has(a, b) }

// InBlocks reports whether u, present, blocks or is blocked by anyone present:
// only for them does the chat need to hide anything.
func (r *Room) InBlocks(u string) bool {
	return len(r.blocks.out[u]) > 0 || len(r.blocks.in[u]) > 0
}

// Hidden reports whether the chat hides a message of author from viewer: one of
// them blocks the other.
func (r *Room) Hidden(viewer, author string) bool {
	return r.blocks.has(viewer, author) || r.blocks.has(author, viewer)
}
