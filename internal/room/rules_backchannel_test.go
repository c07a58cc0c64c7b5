package room_test

import (
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/room"
)

// chatEveryone opens the chat to everyone.
func chatEveryone(c *room.Config) { c.Chat = room.ChatEveryone }

// backchannelCases: reactions, the chat's modes, mutes and slow mode, the pinned
// link.
func backchannelCases() []ruleCase {
	say := func(u, text string, n int) step { return by(u, room.Chat{Text: text, Now: at(n)}) }
	return []ruleCase{
		{
			name:  "a listener reacts with one of the six reactions, and nothing changes",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.React{Emoji: "👏"}),
			kinds: []string{},
		},
		{
			name:  "a guest reacts too",
			cfg:   guests,
			given: steps(opened, []step{guestFrom(guest, "b", "10.0.0.1")}),
			when:  by(guest, room.React{Emoji: "❤️"}),
			kinds: []string{},
		},
		{
			name:  "a reaction outside the six is refused",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.React{Emoji: "🍕"}),
			err:   room.ErrBadReaction,
		},
		{
			name:  "a moderator switches reactions off",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.SetReactions{Allowed: false}),
			kinds: []string{"reactions_changed"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "reactions", r.ReactionsAllowed(), false)
			},
		},
		{
			name:  "nobody reacts while reactions are off",
			given: steps(opened, listener(ann), []step{by(creator, room.SetReactions{Allowed: false})}),
			when:  by(ann, room.React{Emoji: "👏"}),
			err:   room.ErrReactionsOff,
		},
		{
			name:  "a listener cannot switch reactions off",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.SetReactions{Allowed: false}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "an open room's chat lets the stage write",
			given: opened,
			when:  say(creator, "welcome", 1),
			kinds: []string{},
		},
		{
			name:  "an open room's chat refuses a listener by default",
			given: steps(opened, listener(ann)),
			when:  say(ann, "hello", 1),
			err:   room.ErrChatSpeakers,
		},
		{
			name:  "a social room's chat lets every participant write by default",
			cfg:   social,
			given: steps(opened, []step{joinWith(ann, room.Relations{FollowedBy: []string{creator}})}),
			when:  say(ann, "hello", 1),
			kinds: []string{},
		},
		{
			name:  "a guest reads the chat but does not write in it",
			cfg:   func(c *room.Config) { guests(c); chatEveryone(c) },
			given: steps(opened, []step{guestFrom(guest, "b", "10.0.0.1")}),
			when:  say(guest, "hi", 1),
			err:   room.ErrGuestListenOnly,
		},
		{
			name:  "a moderator opens the chat to everyone, with a slow mode",
			given: steps(opened, listener(ann)),
			when:  by(creator, room.SetChat{Mode: room.ChatEveryone, SlowSeconds: 30}),
			kinds: []string{"chat_settings_changed"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				mode, slow := r.ChatMode()
				wantEqual(t, "mode", mode, room.ChatEveryone)
				wantEqual(t, "slow", slow, 30)
				wantEqual(t, "by", event[room.ChatSettingsChanged](t, events).By, creator)
			},
		},
		{
			name:  "the chat off refuses even the stage",
			given: steps(opened, []step{by(creator, room.SetChat{Mode: room.ChatOff})}),
			when:  say(creator, "anyone?", 1),
			err:   room.ErrChatOff,
		},
		{
			name:  "slow mode refuses a second message too soon",
			cfg:   chatEveryone,
			given: steps(opened, listener(ann), []step{by(creator, room.SetChat{Mode: room.ChatEveryone, SlowSeconds: 30}), say(ann, "one", 1)}),
			when:  by(ann, room.Chat{Text: "two", Now: at(1).Add(10 * time.Second)}),
			err:   room.ErrSlowMode,
		},
		{
			name:  "slow mode takes the next message once its time passed",
			cfg:   chatEveryone,
			given: steps(opened, listener(ann), []step{by(creator, room.SetChat{Mode: room.ChatEveryone, SlowSeconds: 30}), say(ann, "one", 1)}),
			when:  by(ann, room.Chat{Text: "two", Now: at(1).Add(30 * time.Second)}),
			kinds: []string{},
		},
		{
			name:  "a message over 500 characters is refused",
			given: opened,
			when:  say(creator, strings.Repeat("é", 501), 1),
			err:   room.ErrBadChat,
		},
		{
			name:  "a blank message is refused",
			given: opened,
			when:  say(creator, " \n ", 1),
			err:   room.ErrBadChat,
		},
		{
			name:  "a message with a control character is refused",
			given: opened,
			when:  say(creator, "bell\a", 1),
			err:   room.ErrBadChat,
		},
		{
			name:  "a moderator mutes someone in the chat, who is told with the moderators",
			cfg:   chatEveryone,
			given: steps(opened, listener(ann)),
			when:  by(creator, room.ChatMute{Target: ann, Muted: true}),
			kinds: []string{"chat_muted"},
			then: func(t *testing.T, r *room.Room, events []room.Event) {
				e := event[room.ChatMuted](t, events)
				wantEqual(t, "recipients", strings.Join(e.Recipients().Users, ","), ann+","+creator)
			},
		},
		{
			name:  "someone muted in the chat cannot write",
			cfg:   chatEveryone,
			given: steps(opened, listener(ann), []step{by(creator, room.ChatMute{Target: ann, Muted: true})}),
			when:  say(ann, "hey", 1),
			err:   room.ErrChatMuted,
		},
		{
			name:  "a listener cannot mute anyone in the chat",
			cfg:   chatEveryone,
			given: steps(opened, listener(ann), listener(bob)),
			when:  by(ann, room.ChatMute{Target: bob, Muted: true}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a moderator pins a link, shown to everyone",
			given: opened,
			when:  by(creator, room.PinLink{URL: "https://example.org/agenda"}),
			kinds: []string{"link_pinned"},
			then: func(t *testing.T, r *room.Room, _ []room.Event) {
				wantEqual(t, "pinned", r.PinnedLink(), "https://example.org/agenda")
			},
		},
		{
			name:  "a link that is not http or https is refused",
			given: opened,
			when:  by(creator, room.PinLink{URL: "javascript:alert(1)"}),
			err:   room.ErrBadLink,
		},
		{
			name:  "a listener cannot pin a link",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.PinLink{URL: "https://example.org"}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "a moderator may delete a chat message",
			given: opened,
			when:  by(creator, room.DeleteChat{MessageID: "m1"}),
			kinds: []string{},
		},
		{
			name:  "a listener may not delete a chat message",
			given: steps(opened, listener(ann)),
			when:  by(ann, room.DeleteChat{MessageID: "m1"}),
			err:   room.ErrNotModerator,
		},
		{
			name:  "the removed can neither write nor react",
			cfg:   chatEveryone,
			given: steps(opened, listener(ann), []step{by(creator, room.Remove{Target: ann})}),
			when:  by(ann, room.React{Emoji: "👏"}),
			err:   room.ErrNotJoined,
		},
	}
}
