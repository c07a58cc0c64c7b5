package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/live"
)

// reactions reads s's reactions messages until they add up to n reactions, and
// returns them.
func (s *sock) reactions(t *testing.T, n int) []client.Message {
	t.Helper()
	var out []client.Message
	total := 0
	for total < n {
		m := s.waitFor(t, fmt.Sprintf("%d reactions", n), msgType("reactions"))
		out = append(out, m)
		total += len(m.From)
		for _, k := range m.Others {
			total += k
		}
	}
	if total != n {
		t.Fatalf("%s: %d reactions arrived, want %d", s.who, total, n)
	}
	return out
}

// chatEvent waits for a chat event and returns its messages.
func (s *sock) chatEvent(t *testing.T) []client.ChatMessage {
	t.Helper()
	m := s.event(t, "chat", "")
	var d struct {
		Messages []client.ChatMessage `json:"messages"`
	}
	if err := m.DecodeData(&d); err != nil {
		t.Fatalf("%s: chat event %s: %v", s.who, m.Raw, err)
	}
	return d.Messages
}

// chatTexts lists the texts of msgs.
func chatTexts(msgs []client.ChatMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

// TestReactions checks reactions over real sockets: who may send them, the fixed
// set, the moderators' switch, the per-socket budget, and that the server sends
// them as a tally a few times a second, naming senders only where a tile shows
// them.
func TestReactions(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, bob := ts.admin, ts.user("bob")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Cheers", Type: "open", AllowGuests: true})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)

	t.Run("a listener's reaction reaches everyone, named in a small room", func(t *testing.T) {
		bs.do(t, "react", map[string]any{"emoji": "👏"})
		for _, s := range []*sock{as, bs} {
			got := s.reactions(t, 1)
			if f := got[0].From; len(f) != 1 || f[0].UserID != bob.ID || f[0].Emoji != "👏" {
				t.Fatalf("%s got %s", s.who, got[0].Raw)
			}
		}
	})

	t.Run("reactions sent together arrive as one tally, not one message each", func(t *testing.T) {
		for _, e := range []string{"❤️", "❤️", "😂"} {
			if err := bs.React(ctxT(t), e); err != nil {
				t.Fatal(err)
			}
		}
		if got := as.reactions(t, 3); len(got) > 2 {
			t.Fatalf("three reactions came in %d messages", len(got))
		}
		bs.reactions(t, 3)
	})

	t.Run("a guest reacts too", func(t *testing.T) {
		g := openRoom(t, ts.guest(), "a guest", rm.ID)
		g.do(t, "react", map[string]any{"emoji": "🙏"})
		if got := as.reactions(t, 1); got[0].From[0].UserID != g.welcome.You.ID {
			t.Fatalf("the guest's reaction came as %s", got[0].Raw)
		}
		bs.reactions(t, 1)
		g.Close()
	})

	refusals := []struct {
		name   string
		fields map[string]any
		code   string
	}{
		{"a reaction outside the set is refused", map[string]any{"emoji": "🍕"}, "invalid_field"},
		{"an empty reaction is refused", map[string]any{"emoji": ""}, "invalid_field"},
		{"a long string is not a reaction", map[string]any{"emoji": strings.Repeat("👏", 100)}, "invalid_field"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) { bs.refused(t, "react", tc.fields, tc.code) })
	}

	t.Run("a listener cannot switch reactions off", func(t *testing.T) {
		bs.refused(t, "set_reactions", map[string]any{"allowed": false}, "forbidden")
	})

	t.Run("reactions switched off by a moderator are refused until switched on", func(t *testing.T) {
		as.do(t, "set_reactions", map[string]any{"allowed": false})
		bs.event(t, "reactions_changed", "")
		if st := bs.snapshot(t); st.ReactionsAllowed {
			t.Fatal("the snapshot says reactions are on")
		}
		bs.refused(t, "react", map[string]any{"emoji": "👏"}, "forbidden")
		as.do(t, "set_reactions", map[string]any{"allowed": true})
		bs.event(t, "reactions_changed", "")
		bs.do(t, "react", map[string]any{"emoji": "👏"})
		as.reactions(t, 1)
		bs.reactions(t, 1)
	})

	t.Run("a sender past their budget is refused, and others still react", func(t *testing.T) {
		limited := false
		sent := 0
		for range 20 {
			err := bs.Command(ctxT(t), "react", map[string]any{"emoji": "💯"})
			if client.Code(err) == "rate_limited" {
				limited = true
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			sent++
		}
		if !limited {
			t.Fatal("20 reactions at once were all accepted")
		}
		as.do(t, "react", map[string]any{"emoji": "👏"})
		as.reactions(t, sent+1)
		bs.reactions(t, sent+1)
	})
}

// TestReactionsInABigRoom checks that a busy room counts its listeners' reactions
// per emoji instead of naming each sender, and still names the stage's.
func TestReactionsInABigRoom(t *testing.T) {
	ts := startServer(t, "sqlite", withLive(func(o *live.Options) { o.CoalesceAbove = 1 }))
	ada, bob, cyd := ts.admin, ts.user("bob"), ts.user("cyd")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Stadium", Type: "open"})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	join(t, cyd, rm.ID)

	bs.do(t, "react", map[string]any{"emoji": "👏"})
	as.do(t, "react", map[string]any{"emoji": "❤️"})
	var named, counted int
	for _, m := range as.reactions(t, 2) {
		for _, f := range m.From {
			if f.UserID != ada.ID {
				t.Fatalf("a listener is named in a busy room: %s", m.Raw)
			}
			named++
		}
		counted += m.Others["👏"]
	}
	if named != 1 || counted != 1 {
		t.Fatalf("named %d and counted %d, want 1 and 1", named, counted)
	}
}

// TestChat checks the room's chat over real sockets and HTTP: who may write as
// the mode says, the limits, mutes, slow mode, deletion, the pinned link, blocks
// hiding messages both ways, history, and the chat kept or dropped at the end.
func TestChat(t *testing.T) {
	ts := startServer(t, "sqlite")
	ada, bob, cyd, dan := ts.admin, ts.user("bob"), ts.user("cyd"), ts.user("dan")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Book club", Type: "open", AllowGuests: true, Chat: "everyone",
		KeepChat: true})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	cs := join(t, cyd, rm.ID)

	t.Run("a message reaches everyone present, with its author's name", func(t *testing.T) {
		bs.do(t, "chat", map[string]any{"text": "hello <b>all</b> https://example.org"})
		for _, s := range []*sock{as, bs, cs} {
			got := s.chatEvent(t)
			if len(got) != 1 || got[0].UserID != bob.ID || got[0].Name == "" || got[0].Text != "hello <b>all</b> https://example.org" {
				t.Fatalf("%s got %+v", s.who, got)
			}
		}
	})

	t.Run("a newcomer's snapshot holds the latest messages", func(t *testing.T) {
		ds := join(t, dan, rm.ID)
		if got := chatTexts(ds.state.Chat); len(got) != 1 || !strings.HasPrefix(got[0], "hello") {
			t.Fatalf("snapshot chat = %q", got)
		}
		if ds.state.ChatMode != "everyone" || !ds.state.KeepChat || len(ds.state.Reactions) != 6 {
			t.Fatalf("snapshot backchannel = %q keep %v reactions %v", ds.state.ChatMode, ds.state.KeepChat, ds.state.Reactions)
		}
		ds.Close()
	})

	refusals := []struct {
		name string
		who  *sock
		typ  string
		f    map[string]any
		code string
	}{
		{"an empty message is refused", bs, "chat", map[string]any{"text": "   "}, "invalid_field"},
		{"a message over 500 characters is refused", bs, "chat", map[string]any{"text": strings.Repeat("é", 501)}, "invalid_field"},
		{"a message with control characters is refused", bs, "chat", map[string]any{"text": "a\x00b"}, "invalid_field"},
		{"a listener cannot set the chat", bs, "set_chat", map[string]any{"mode": "off"}, "forbidden"},
		{"a listener cannot pin a link", bs, "pin_link", map[string]any{"url": "https://example.org"}, "forbidden"},
		{"a listener cannot mute in chat", bs, "chat_mute", map[string]any{"target": cyd.ID, "muted": true}, "forbidden"},
		{"a listener cannot delete a message", bs, "delete_chat", map[string]any{"message_id": strings.Repeat("a", 26)}, "forbidden"},
		{"a pinned javascript link is refused", as, "pin_link", map[string]any{"url": "javascript:alert(1)"}, "invalid_field"},
		{"an unknown chat mode is refused", as, "set_chat", map[string]any{"mode": "loud"}, "bad_request"},
		{"a slow mode over five minutes is refused", as, "set_chat", map[string]any{"mode": "everyone", "slow_seconds": 301}, "bad_request"},
		{"deleting a message that does not exist is not found", as, "delete_chat", map[string]any{"message_id": strings.Repeat("a", 26)}, "not_found"},
		{"deleting without a message ID is malformed", as, "delete_chat", map[string]any{"message_id": "x"}, "bad_request"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) { tc.who.refused(t, tc.typ, tc.f, tc.code) })
	}

	t.Run("a guest reads the chat but cannot write", func(t *testing.T) {
		g := openRoom(t, ts.guest(), "a guest", rm.ID)
		g.refused(t, "chat", map[string]any{"text": "hi"}, "forbidden")
		msgs, _, err := g.ChatHistory(ctxT(t), "", 0)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("the guest's history = %v, %v", msgs, err)
		}
		g.Close()
	})

	t.Run("chat off refuses everyone, speakers only refuses listeners", func(t *testing.T) {
		as.do(t, "set_chat", map[string]any{"mode": "off"})
		bs.event(t, "chat_settings_changed", "")
		cs.event(t, "chat_settings_changed", "")
		bs.refused(t, "chat", map[string]any{"text": "anyone?"}, "forbidden")
		as.refused(t, "chat", map[string]any{"text": "anyone?"}, "forbidden")
		as.do(t, "set_chat", map[string]any{"mode": "speakers"})
		bs.event(t, "chat_settings_changed", "")
		cs.event(t, "chat_settings_changed", "")
		bs.refused(t, "chat", map[string]any{"text": "me too"}, "forbidden")
		as.do(t, "chat", map[string]any{"text": "only the stage now"})
		for _, s := range []*sock{as, bs, cs} {
			s.chatEvent(t)
		}
		as.do(t, "set_chat", map[string]any{"mode": "everyone"})
		bs.event(t, "chat_settings_changed", "")
		cs.event(t, "chat_settings_changed", "")
	})

	t.Run("someone muted in chat cannot write until unmuted", func(t *testing.T) {
		as.do(t, "chat_mute", map[string]any{"target": cyd.ID, "muted": true})
		cs.event(t, "chat_muted", cyd.ID)
		cs.refused(t, "chat", map[string]any{"text": "let me speak"}, "forbidden")
		if st := cs.snapshot(t); len(st.ChatMuted) != 1 || st.ChatMuted[0] != cyd.ID {
			t.Fatalf("cyd's snapshot says muted: %v", st.ChatMuted)
		}
		if st := bs.snapshot(t); len(st.ChatMuted) != 0 {
			t.Fatalf("bob's snapshot tells him who is muted: %v", st.ChatMuted)
		}
		as.do(t, "chat_mute", map[string]any{"target": cyd.ID, "muted": false})
		cs.event(t, "chat_muted", cyd.ID)
		cs.do(t, "chat", map[string]any{"text": "thanks"})
		for _, s := range []*sock{as, bs, cs} {
			s.chatEvent(t)
		}
	})

	t.Run("slow mode refuses a second message too soon", func(t *testing.T) {
		as.do(t, "set_chat", map[string]any{"mode": "everyone", "slow_seconds": 60})
		bs.event(t, "chat_settings_changed", "")
		cs.event(t, "chat_settings_changed", "")
		bs.do(t, "chat", map[string]any{"text": "one"})
		bs.refused(t, "chat", map[string]any{"text": "two"}, "rate_limited")
		for _, s := range []*sock{as, bs, cs} {
			s.chatEvent(t)
		}
		as.do(t, "set_chat", map[string]any{"mode": "everyone", "slow_seconds": 0})
		bs.event(t, "chat_settings_changed", "")
		cs.event(t, "chat_settings_changed", "")
	})

	t.Run("a moderator deletes a message for everyone, and history loses it", func(t *testing.T) {
		bs.do(t, "chat", map[string]any{"text": "regrettable"})
		id := as.chatEvent(t)[0].ID
		bs.chatEvent(t)
		cs.chatEvent(t)
		as.do(t, "delete_chat", map[string]any{"message_id": id})
		for _, s := range []*sock{as, bs, cs} {
			var d struct{ ID, By string }
			if err := s.event(t, "chat_deleted", "").DecodeData(&d); err != nil || d.ID != id || d.By != ada.ID {
				t.Fatalf("%s: chat_deleted %+v %v", s.who, d, err)
			}
		}
		msgs, _, err := cs.ChatHistory(ctxT(t), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.ID == id {
				t.Fatal("history still has the deleted message")
			}
		}
		if st := cs.snapshot(t); strings.Contains(strings.Join(chatTexts(st.Chat), "|"), "regrettable") {
			t.Fatal("the snapshot still has the deleted message")
		}
		as.refused(t, "delete_chat", map[string]any{"message_id": id}, "not_found")
	})

	t.Run("a moderator pins a link under the title and unpins it", func(t *testing.T) {
		as.do(t, "pin_link", map[string]any{"url": "https://example.org/agenda"})
		var d struct{ URL string }
		if err := bs.event(t, "link_pinned", "").DecodeData(&d); err != nil || d.URL != "https://example.org/agenda" {
			t.Fatalf("link_pinned %+v %v", d, err)
		}
		cs.event(t, "link_pinned", "")
		if st := cs.snapshot(t); st.PinnedLink != "https://example.org/agenda" {
			t.Fatalf("snapshot pinned_link = %q", st.PinnedLink)
		}
		as.do(t, "pin_link", map[string]any{"url": ""})
		bs.event(t, "link_pinned", "")
		cs.event(t, "link_pinned", "")
	})

	t.Run("someone who blocks an author sees none of their messages, nor does the author see theirs", func(t *testing.T) {
		if err := cyd.Block(ctxT(t), bob.Name); err != nil {
			t.Fatal(err)
		}
		// The block reaches the room on the blocker's next join.
		cs.Close()
		cs = join(t, cyd, rm.ID)
		bs.do(t, "chat", map[string]any{"text": "from bob"})
		as.do(t, "chat", map[string]any{"text": "from ada"})
		if got := chatTexts(as.chatEvent(t)); got[0] != "from bob" {
			t.Fatalf("ada got %q", got)
		}
		as.chatEvent(t)
		if got := chatTexts(bs.chatEvent(t)); got[0] != "from bob" {
			t.Fatalf("bob got %q", got)
		}
		cs.do(t, "chat", map[string]any{"text": "from cyd"})
		if got := chatTexts(bs.chatEvent(t)); got[0] != "from ada" {
			t.Fatalf("bob's next message is %q, want ada's (cyd's is hidden from him)", got)
		}
		if got := chatTexts(cs.chatEvent(t)); got[0] != "from ada" {
			t.Fatalf("cyd's first chat event is %q: bob's message reached her", got)
		}
		cs.chatEvent(t)
		as.chatEvent(t)
		for _, who := range []*sock{cs} {
			msgs, _, err := who.ChatHistory(ctxT(t), "", 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if m.UserID == bob.ID {
					t.Fatalf("cyd's history has bob's %q", m.Text)
				}
			}
			for _, m := range cs.state.Chat {
				if m.UserID == bob.ID {
					t.Fatalf("cyd's snapshot has bob's %q", m.Text)
				}
			}
		}
		if _, seen := bs.mentions("from cyd"); seen {
			t.Fatal("bob saw the message of cyd, who blocks him")
		}
	})

	t.Run("history pages back without repeats", func(t *testing.T) {
		first, more, err := as.ChatHistory(ctxT(t), "", 2)
		if err != nil || len(first) != 2 || !more {
			t.Fatalf("first page %v more %v err %v", chatTexts(first), more, err)
		}
		rest, _, err := as.ChatHistory(ctxT(t), first[1].ID, live.MaxChatPage)
		if err != nil {
			t.Fatal(err)
		}
		all, _, err := as.ChatHistory(ctxT(t), "", live.MaxChatPage)
		if err != nil {
			t.Fatal(err)
		}
		if got := append(chatTexts(first), chatTexts(rest)...); strings.Join(got, "|") != strings.Join(chatTexts(all), "|") {
			t.Fatalf("pages %q, whole %q", got, chatTexts(all))
		}
	})

	t.Run("a socket past its chat budget is refused", func(t *testing.T) {
		limited := false
		for range 10 {
			err := as.Command(ctxT(t), "chat", map[string]any{"text": "spam"})
			if client.Code(err) == "rate_limited" {
				limited = true
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !limited {
			t.Fatal("10 messages at once were all accepted")
		}
	})

	t.Run("a message is reported, with its text for the admins", func(t *testing.T) {
		msgs, _, err := bs.ChatHistory(ctxT(t), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var adas string
		for _, m := range msgs {
			if m.UserID == ada.ID {
				adas = m.ID
			}
		}
		var out map[string]any
		err = bob.Do(ctxT(t), "POST", "/api/v1/reports", map[string]any{"kind": "message", "target": adas, "reason": "spam"}, &out)
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the chat of a room whose host kept it is there after the end, for its speakers", func(t *testing.T) {
		as.do(t, "end", nil)
		eventually(t, "the kept chat", func() bool {
			var out struct{ Messages []client.ChatMessage }
			err := ada.Do(ctxT(t), "GET", "/api/v1/rooms/"+rm.ID+"/chat", nil, &out)
			return err == nil && len(out.Messages) > 3
		})
		err := dan.Do(ctxT(t), "GET", "/api/v1/rooms/"+rm.ID+"/chat", nil, nil)
		wantStatus(t, "a listener reading the ended room's chat", err, http.StatusNotFound, "not_found")
		err = ts.guest().Do(ctxT(t), "GET", "/api/v1/rooms/"+rm.ID+"/chat", nil, nil)
		wantStatus(t, "a guest reading the ended room's chat", err, http.StatusNotFound, "not_found")
	})

	t.Run("the chat of a room whose host did not keep it is gone after the end", func(t *testing.T) {
		other := createRoom(t, ada, client.RoomSpec{Title: "Ephemeral", Type: "social"})
		os := join(t, ada, other.ID)
		os.do(t, "chat", map[string]any{"text": "gone soon"})
		var out struct{ Messages []client.ChatMessage }
		eventually(t, "the message stored", func() bool {
			return ada.Do(ctxT(t), "GET", "/api/v1/rooms/"+other.ID+"/chat", nil, &out) == nil && len(out.Messages) == 1
		})
		os.do(t, "end", nil)
		eventually(t, "the chat dropped", func() bool {
			return ada.Do(ctxT(t), "GET", "/api/v1/rooms/"+other.ID+"/chat", nil, &out) == nil && len(out.Messages) == 0
		})
	})

	t.Run("a malformed page request is refused", func(t *testing.T) {
		for _, q := range []string{"?limit=0", "?limit=51", "?limit=x", "?before=nope"} {
			err := ada.Do(ctxT(t), "GET", "/api/v1/rooms/"+rm.ID+"/chat"+q, nil, nil)
			wantStatus(t, q, err, http.StatusUnprocessableEntity, "invalid_field")
		}
	})
}

// TestReconnectingSpeaker checks that a speaker whose socket drops shows as
// reconnecting to the others, and comes back to the stage with the same role.
func TestReconnectingSpeaker(t *testing.T) {
	ts := startServer(t, "sqlite", withGrace(patience))
	ada, bob := ts.admin, ts.user("bob")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Flaky wifi", Type: "open"})
	as := join(t, ada, rm.ID)
	bs := join(t, bob, rm.ID)
	as.do(t, "invite_to_speak", map[string]any{"target": bob.ID})
	bs.event(t, "speak_invited", bob.ID)
	bs.do(t, "accept_speak", nil)
	as.event(t, "joined_stage", bob.ID)

	bs.CloseNow()
	var d struct {
		UserID       string `json:"user_id"`
		Reconnecting bool   `json:"reconnecting"`
	}
	if err := as.event(t, "reconnecting", bob.ID).DecodeData(&d); err != nil || !d.Reconnecting {
		t.Fatalf("reconnecting %+v %v", d, err)
	}
	if p, ok := as.snapshot(t).OnStage(bob.ID); !ok || !p.Reconnecting || p.Role != "speaker" {
		t.Fatalf("bob in ada's snapshot: %+v (on stage %v)", p, ok)
	}
	back := join(t, bob, rm.ID)
	if !back.welcome.Resumed {
		t.Fatal("bob's return is not a resume")
	}
	if err := as.event(t, "reconnecting", bob.ID).DecodeData(&d); err != nil || d.Reconnecting {
		t.Fatalf("back: %+v %v", d, err)
	}
	if p, ok := back.state.OnStage(bob.ID); !ok || p.Reconnecting || p.Role != "speaker" {
		t.Fatalf("bob back: %+v (on stage %v)", p, ok)
	}
}

// TestChatOrderWithinAMillisecond checks that messages sent within one
// millisecond (here a stopped clock) come back from history in the order they
// were sent, and that a page before one of them holds exactly those before it.
func TestChatOrderWithinAMillisecond(t *testing.T) {
	stopped := time.Now()
	ts := startServer(t, "sqlite", withLive(func(o *live.Options) { o.Now = func() time.Time { return stopped } }))
	ada := ts.admin
	rm := createRoom(t, ada, client.RoomSpec{Title: "Quick fingers", Type: "open", Chat: "everyone"})
	as := join(t, ada, rm.ID)
	want := []string{"1", "2", "3", "4", "5"}
	for _, text := range want {
		as.do(t, "chat", map[string]any{"text": text})
	}
	all, _, err := as.ChatHistory(ctxT(t), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := chatTexts(all)
	slices.Reverse(got)
	if !slices.Equal(got, want) {
		t.Fatalf("history, oldest first: %q, want %q", got, want)
	}
	before, _, err := as.ChatHistory(ctxT(t), all[2].ID, 0) // before "3"
	if err != nil {
		t.Fatal(err)
	}
	if got := chatTexts(before); !slices.Equal(got, []string{"2", "1"}) {
		t.Fatalf("the page before %q: %q", all[2].Text, got)
	}
	if got := chatTexts(join(t, ts.user("bob"), rm.ID).state.Chat); !slices.Equal(got, want) {
		t.Fatalf("a newcomer's snapshot: %q", got)
	}
}
