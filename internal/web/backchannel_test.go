package web_test

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/townhall/townhall/client"
)

// The backchannel in the browser: reactions floating over tiles, the chat beside
// the stage, the pinned link, the moderators' settings (views/chat.js,
// views/reactions.js, views/roomsheets.js).

// floatOver is the condition that a reaction emoji floats over the tile of user.
func floatOver(user, emoji string) string {
	return fmt.Sprintf(`!!document.querySelector('.tile:has(> .person[data-user-id=%q]) > .float[data-emoji=%q]')`, user, emoji)
}

// react taps the reaction emoji in the dock.
func (p *page) react(emoji string) {
	p.t.Helper()
	p.click(fmt.Sprintf(`.reaction-bar button[data-emoji=%q]`, emoji))
}

// say writes text in the room's chat and sends it.
func (p *page) say(text string) {
	p.t.Helper()
	p.fill("Message", text)
	p.click(`[data-testid=chat-send]`)
	p.waitFor("the composer emptied", `document.querySelector("[data-testid=chat-input]")?.value === ""`)
}

// chatShows is the condition that the chat shows a message whose text is text.
func chatShows(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("[data-testid=chat-text]")].some((e) => e.textContent === %s)`, jsString(text))
}

// messageActions opens the actions of the message whose text is text.
func (p *page) messageActions(text string) {
	p.t.Helper()
	mark := fmt.Sprintf("m%d", clickSeq.Add(1))
	p.waitFor("the message's actions", fmt.Sprintf(`(() => {
		const li = [...document.querySelectorAll("[data-testid=chat-message]")].find((m) => m.querySelector("[data-testid=chat-text]").textContent === %s);
		const b = li && li.querySelector("[data-testid=chat-actions]");
		if (!b) return false;
		b.dataset.testClick = %q;
		return true;
	})()`, jsString(text), mark))
	p.click(fmt.Sprintf(`[data-test-click=%q]`, mark))
	p.waitFor("the message's sheet", `!!document.querySelector("dialog[open]")`)
}

// messageAction does action on the message whose text is text, and waits until
// the server agreed (the sheet closes). Its events may reach the others first:
// a click on the page meanwhile would land on the sheet's backdrop.
func (p *page) messageAction(text, action string) {
	p.t.Helper()
	p.messageActions(text)
	p.clickText(action)
	p.waitFor("the sheet to close", `!document.querySelector("dialog[open]")`)
}

// joinFromPreview opens the room's page and joins it with one click.
func (p *page) joinFromPreview(roomID, ready string) {
	p.t.Helper()
	p.open("/rooms/" + roomID)
	p.click(`[data-testid=join]`)
	p.waitFor("in the room", ready)
}

// startRoomWithChat starts a room from the hallway form with the chat mode
// given (off, speakers, everyone), and returns its ID.
func startRoomWithChat(p *page, title, typ, chat string, guests, keep bool) string {
	p.t.Helper()
	p.open("/")
	p.clickText("Start a room")
	p.fill("What do you want to talk about?", title)
	p.click(fmt.Sprintf(`.start-form input[value=%q] + .choice-box`, typ))
	if guests {
		p.click(`input[name=allow_guests]`)
	}
	if got := eval[string](p, `document.querySelector(".start-form select[name=chat]").value`); typ == "open" && got != "speakers" {
		p.t.Errorf("an open room's chat starts as %q in the form, want speakers (the server's default)", got)
	}
	eval[bool](p, fmt.Sprintf(`(() => { const s = document.querySelector(".start-form select[name=chat]");
		s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, chat))
	if keep {
		p.click(`input[name=keep_chat]`)
	}
	p.clickText("Start the room")
	p.waitFor("the creator on stage", `location.pathname.startsWith("/rooms/") && document.querySelectorAll(".stage-grid [data-testid=stage-person]").length === 1`)
	return eval[string](p, `location.pathname.split("/")[2]`)
}

// TestReactionsFloatInAnotherBrowser: a reaction tapped in one browser floats up
// over the sender's tile in another, for people on stage, listeners and guests;
// a burst of taps stays inside the server's budget; a moderator switches them off.
func TestReactionsFloatInAnotherBrowser(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Cheer for the demo", "open", true)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.joinFromPreview(roomID, `!!document.querySelector("[data-testid=hand]")`)
	mod.waitFor("bob's tile", fmt.Sprintf(`!!document.querySelector('.audience [data-user-id=%q]')`, bobAPI.ID))

	t.Run("a listener's reaction floats over their tile in the moderator's browser", func(t *testing.T) {
		bob.react("👏")
		mod.waitFor("bob's applause over his tile", floatOver(bobAPI.ID, "👏"))
	})

	t.Run("the moderator's reaction floats over her stage tile in the listener's browser", func(t *testing.T) {
		mod.react("❤️")
		bob.waitFor("the moderator's heart over her tile", floatOver(admin.ID, "❤️"))
		if !eval[bool](bob, fmt.Sprintf(`!!document.querySelector('.stage-grid .tile:has(> [data-user-id=%q]) > .float')`, admin.ID)) {
			t.Error("the heart is not over the stage tile")
		}
	})

	t.Run("a guest reacts too", func(t *testing.T) {
		guest := b.user("guest", ts.url)
		guest.open("/rooms/" + roomID)
		guest.clickText("Listen as a guest")
		guest.waitFor("the reactions", `!document.querySelector("[data-testid=reaction-bar]").hidden`)
		guest.react("🙏")
		mod.waitFor("the guest's thanks over a tile of the audience", `!!document.querySelector('.audience .tile > .float[data-emoji="🙏"]')`)
	})

	t.Run("a burst of taps is held to the budget and none is refused", func(t *testing.T) {
		resting := eval[bool](bob, `(() => {
			const b = document.querySelector('.reaction-bar button[data-emoji="💯"]');
			for (let i = 0; i < 12; i++) b.click();
			return document.querySelector(".reaction-bar").classList.contains("resting");
		})()`)
		if !resting {
			t.Error("after 12 taps at once the bar does not rest")
		}
		mod.waitFor("several of the burst over bob's tile", fmt.Sprintf(
			`document.querySelectorAll('.tile:has(> .person[data-user-id=%q]) > .float[data-emoji="💯"]').length >= 3`, bobAPI.ID))
		bob.waitFor("the bar awake again", `!document.querySelector(".reaction-bar").classList.contains("resting")`)
		// A reaction over the server's budget would be refused at once, before
		// the tally that brought the floats: an error toast would be there now.
		if n := eval[int](bob, `document.querySelectorAll(".toast-error").length`); n != 0 {
			t.Errorf("the server refused reactions: %d error toasts", n)
		}
	})

	t.Run("a moderator switches reactions off and the bar goes", func(t *testing.T) {
		mod.click(`[data-testid=room-settings]`)
		mod.click(`[data-testid=reactions-allowed]`)
		mod.waitText("Reactions are off.")
		bob.waitFor("no reaction bar", `document.querySelector("[data-testid=reaction-bar]").hidden`)
		mod.click(`[data-testid=reactions-allowed]`)
		bob.waitFor("the reaction bar back", `!document.querySelector("[data-testid=reaction-bar]").hidden`)
		mod.click(`dialog[open] .sheet-head button`)
	})
}

// TestChatAcrossBrowsers: messages written in one browser appear in the others,
// as text, their links safe; a moderator deletes one for everyone; a user who
// blocks the author stops seeing their messages at once; the composer says why
// it is closed, and a send forced past it gets the server's refusal.
func TestChatAcrossBrowsers(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	admin.rename(t, "Ada Admin")
	bobAPI := ts.invite(t, admin, "bob")
	bobAPI.rename(t, "Bob Builder")
	ts.invite(t, admin, "cyd")
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomWithChat(mod, "Book club", "open", "everyone", true, true)
	mod.waitFor("the chat open to everyone", `document.querySelector("[data-testid=chat-mode]")?.textContent === "Everyone signed in can write"`)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.joinFromPreview(roomID, `!!document.querySelector("[data-testid=chat-input]:not([disabled])")`)
	cyd := b.user("cyd", ts.url)
	cyd.login("cyd")
	cyd.joinFromPreview(roomID, `!!document.querySelector("[data-testid=chat-input]:not([disabled])")`)

	const hello = "Hello <b>all</b>, the list: https://example.org/books?page=1."
	t.Run("a message appears in the other browsers, as text, with its link made safe", func(t *testing.T) {
		bob.say(hello)
		for _, p := range []*page{mod, bob, cyd} {
			p.waitFor("bob's message", chatShows(hello))
		}
		link := eval[map[string]string](mod, `(() => { const a = document.querySelector("[data-testid=chat-text] a");
			return a ? { href: a.getAttribute("href"), rel: a.rel, target: a.target, text: a.textContent } : {}; })()`)
		want := map[string]string{"href": "https://example.org/books?page=1", "rel": "noopener noreferrer nofollow", "target": "_blank", "text": "https://example.org/books?page=1"}
		for k, v := range want {
			if link[k] != v {
				t.Errorf("the link's %s is %q, want %q", k, link[k], v)
			}
		}
		if n := eval[int](mod, `document.querySelectorAll("[data-testid=chat-list] b").length`); n != 0 {
			t.Errorf("the message made %d <b> elements", n)
		}
		if who := eval[string](mod, `document.querySelector("[data-testid=chat-message] .chat-name").textContent`); who != "Bob Builder" {
			t.Errorf("the author shows as %q", who)
		}
	})

	t.Run("the counter counts characters as the server does", func(t *testing.T) {
		cyd.fill("Message", "👏é")
		cyd.waitFor("the counter", `document.querySelector(".chat-composer .counter")?.textContent === "2 / 500"`)
		cyd.fill("Message", "")
	})

	t.Run("a moderator deletes a message for everyone", func(t *testing.T) {
		bob.say("regrettable")
		mod.waitFor("the message", chatShows("regrettable"))
		mod.messageAction("regrettable", "Delete this message")
		for _, p := range []*page{mod, bob, cyd} {
			p.waitFor("the message gone", "!"+chatShows("regrettable"))
		}
		if !eval[bool](cyd, chatShows(hello)) {
			t.Error("the other message went too")
		}
	})

	t.Run("someone who blocks the author stops seeing their messages at once", func(t *testing.T) {
		cyd.messageActions(hello)
		cyd.clickText("View profile")
		cyd.waitFor("bob's profile", `location.pathname === "/u/bob"`)
		cyd.click(`[data-testid=block]`)
		cyd.click(`[data-testid=block]`)
		cyd.waitFor("the block made", `!!document.querySelector("[data-testid=you-block]")`)
		cyd.click(`.minibar-room`)
		cyd.waitFor("back in the room", fmt.Sprintf(`location.pathname === "/rooms/%s" && !!document.querySelector("[data-testid=chat-list]")`, roomID))
		if eval[bool](cyd, fmt.Sprintf(`!!document.querySelector('[data-testid=chat-message][data-author=%q]')`, bobAPI.ID)) {
			t.Error("cyd still sees bob's messages")
		}
		bob.say("after the block")
		mod.waitFor("bob's new message", chatShows("after the block"))
		mod.say("from the moderator")
		cyd.waitFor("the moderator's message", chatShows("from the moderator"))
		if eval[bool](cyd, chatShows("after the block")) {
			t.Error("bob's message after the block reached cyd")
		}
	})

	t.Run("a signed-in user reports a message", func(t *testing.T) {
		bob.messageActions("from the moderator")
		bob.click(`[data-testid=report-message]`)
		bob.waitFor("the report form", `!!document.querySelector("[data-testid=report-form]")`)
		bob.clickText("Send report")
		bob.waitText("Thank you. The admins will look at it.")
	})

	t.Run("a moderator mutes someone in the chat, then lets them write again", func(t *testing.T) {
		cyd.say("cyd here")
		mod.waitFor("cyd's message", chatShows("cyd here"))
		mod.messageAction("cyd here", "Mute cyd in the chat")
		cyd.waitFor("the composer closed, saying why", `document.querySelector("[data-testid=chat-input]").disabled
			&& document.querySelector("[data-testid=chat-why]")?.textContent === "A moderator muted you in the chat."`)
		cyd.waitText("A moderator muted you in the chat.")
		if !eval[bool](bob, `!document.querySelector("[data-testid=chat-input]").disabled`) {
			t.Error("muting cyd closed bob's composer")
		}
		mod.messageAction("cyd here", "Let cyd write again")
		cyd.waitFor("the composer open again", `!document.querySelector("[data-testid=chat-input]").disabled`)
		cyd.say("thanks")
		mod.waitFor("cyd's next message", chatShows("thanks"))
	})

	t.Run("a guest reads the chat, and the composer says why they cannot write", func(t *testing.T) {
		guest := b.user("guest", ts.url)
		guest.open("/rooms/" + roomID)
		guest.clickText("Listen as a guest")
		guest.waitFor("the chat", chatShows("from the moderator"))
		guest.waitFor("the reason", `document.querySelector("[data-testid=chat-why]")?.textContent === "Guests can read the chat. Log in to write."`)
		if !eval[bool](guest, `document.querySelector("[data-testid=chat-input]").disabled`) {
			t.Error("a guest's composer is enabled")
		}
	})

	t.Run("a moderator pins a link, shown safe under the title", func(t *testing.T) {
		mod.click(`[data-testid=room-settings]`)
		mod.fill("Link under the title", "https://example.org/agenda")
		mod.click(`[data-testid=pin-link]`)
		mod.waitText("Link pinned.")
		mod.click(`dialog[open] .sheet-head button`)
		bob.waitFor("the pinned link", `(() => { const a = document.querySelector("[data-testid=pinned-link] a");
			return a && a.getAttribute("href") === "https://example.org/agenda" && a.rel === "noopener noreferrer nofollow" && a.target === "_blank"; })()`)
	})

	t.Run("a link that is not http(s) is refused, and unpinning takes the link away", func(t *testing.T) {
		mod.click(`[data-testid=room-settings]`)
		mod.fill("Link under the title", "javascript:alert(1)")
		mod.click(`[data-testid=pin-link]`)
		mod.waitFor("the refusal", `!!document.querySelector("dialog[open] .form-error:not([hidden])")`)
		if got := eval[string](bob, `document.querySelector("[data-testid=pinned-link] a")?.getAttribute("href") ?? ""`); got != "https://example.org/agenda" {
			t.Errorf("bob's pinned link is %q after a refused one", got)
		}
		mod.click(`[data-testid=unpin-link]`)
		mod.waitText("Link unpinned.")
		mod.click(`dialog[open] .sheet-head button`)
		bob.waitFor("no pinned link", `!document.querySelector("[data-testid=pinned-link]")`)
	})

	t.Run("slow mode counts down before the next message", func(t *testing.T) {
		mod.click(`[data-testid=room-settings]`)
		mod.do("choosing slow mode", chromedp.SetValue(chromedp.CSS(`[data-testid=slow-mode]`), "30"))
		eval[bool](mod, `document.querySelector("[data-testid=slow-mode]").dispatchEvent(new Event("change"))`)
		mod.waitText("Chat settings saved.")
		bob.waitFor("slow mode said", `document.querySelector("[data-testid=chat-mode]")?.textContent.includes("slow mode")`)
		bob.say("one, slowly")
		bob.waitFor("the countdown", `/^Slow mode: you can write again in \d+ s\.$/.test(document.querySelector("[data-testid=chat-why]")?.textContent)`)
		mod.do("choosing no slow mode", chromedp.SetValue(chromedp.CSS(`[data-testid=slow-mode]`), "0"))
		eval[bool](mod, `document.querySelector("[data-testid=slow-mode]").dispatchEvent(new Event("change"))`)
		bob.waitFor("the composer open again", `!document.querySelector("[data-testid=chat-input]").disabled`)
	})

	t.Run("with the chat off the composer is closed, and a forced send is refused by the server", func(t *testing.T) {
		mod.click(`[data-testid=chat-mode-off]`)
		mod.waitFor("the chat off", `document.querySelector("[data-testid=chat-mode]")?.textContent === "The chat is off"`)
		mod.click(`dialog[open] .sheet-head button`)
		bob.waitFor("the composer closed, saying why", `document.querySelector("[data-testid=chat-input]").disabled &&
			document.querySelector("[data-testid=chat-why]")?.textContent === "The moderators turned the chat off."`)
		eval[bool](bob, `(() => {
			const t = document.querySelector("[data-testid=chat-input]");
			t.disabled = false;
			t.value = "let me in anyway";
			const b = document.querySelector("[data-testid=chat-send]");
			b.disabled = false;
			b.click();
			return true;
		})()`)
		bob.waitFor("the server's refusal", `document.querySelector("[data-testid=chat-error]")?.textContent === "The chat is off in this room"`)
		bob.waitFor("the composer closed again", `document.querySelector("[data-testid=chat-input]").disabled`)
		if eval[bool](mod, chatShows("let me in anyway")) {
			t.Error("the forced message reached the room")
		}
	})
}

// TestRoomScreenshotsWithChatAndReactions: a room with photos, people on stage
// and in the audience, a pinned link, the chat and reactions in flight, at 375
// and 1280 px, light and dark; on a phone the chat's tab too.
func TestRoomScreenshotsWithChatAndReactions(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ada := ts.invite(t, admin, "ada")
	ada.rename(t, "Ada Lovelace")
	ts.setPhoto(t, ada, portrait(t, 400, 400, color.RGBA{150, 70, 60, 255}))
	b := newBrowser(t)
	p := b.user("ada", ts.url)
	p.login("ada")
	roomID := startRoomWithChat(p, "Faces of the analytical engine", "open", "everyone", false, false)

	ctx := context.Background()
	socks := map[string]*client.Socket{}
	shades := []color.RGBA{{60, 110, 150, 255}, {170, 120, 40, 255}, {90, 140, 90, 255}}
	for i, n := range [][2]string{{"bob", "Bob Builder"}, {"cyd", "Cyd Charisse"}, {"dee", "Dee Dee Ramone"}, {"eli", "Eli"}, {"fay", "Fay Wray"}} {
		u := ts.invite(t, admin, n[0])
		u.rename(t, n[1])
		if i < len(shades) {
			ts.setPhoto(t, u, portrait(t, 400, 400, shades[i]))
		}
		s, err := u.JoinRoom(ctx, roomID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		socks[n[0]] = s
	}
	p.waitFor("five listeners", `document.querySelector("[data-testid=listener-count]")?.textContent === "5 listeners"`)
	p.menu(`.audience [aria-label^="Bob Builder"]`, "Invite to speak")
	if err := socks["bob"].Command(ctx, "accept_speak", nil); err != nil {
		t.Fatal(err)
	}
	p.waitFor("bob on stage", `document.querySelectorAll(".stage-grid [data-testid=stage-person]").length === 2`)

	p.click(`[data-testid=room-settings]`)
	p.fill("Link under the title", "https://example.org/engine/notes")
	p.click(`[data-testid=pin-link]`)
	p.waitText("Link pinned.")
	p.click(`dialog[open] .sheet-head button`)
	for _, m := range []struct{ who, text string }{
		{"bob", "Welcome! The notes from last week: https://example.org/engine/notes"},
		{"cyd", "Could we start with the difference engine?"},
		{"dee", "Loving this 👏"},
	} {
		if err := socks[m.who].Chat(ctx, m.text); err != nil {
			t.Fatal(err)
		}
	}
	p.say("Yes, the difference engine first, then the notes.")
	p.waitFor("four messages", `document.querySelectorAll("[data-testid=chat-message]").length === 4`)
	p.waitFor("the photos loaded", `[...document.querySelectorAll(".room img")].every((i) => i.complete && i.naturalWidth > 0)`)

	// Reactions in flight: a tile on stage, tiles in the audience.
	cheer := func() {
		t.Helper()
		for who, e := range map[string]string{"bob": "👏", "cyd": "❤️", "dee": "😂", "eli": "👏"} {
			if err := socks[who].React(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		p.waitFor("the reactions floating", `document.querySelectorAll(".float").length >= 4`)
	}
	shots := map[string]string{}
	for _, dark := range []bool{false, true} {
		p.dark(dark)
		for _, w := range []int64{375, 1280} {
			h := int64(812)
			if w > 375 {
				h = 800
			}
			p.viewport(w, h)
			suffix := ""
			if dark {
				suffix = "-dark"
			}
			key := fmt.Sprintf("room-backchannel-%d%s", w, suffix)
			eval[bool](p, `(window.scrollTo(0, 0), true)`)
			cheer()
			if w == 375 {
				shots[key] = p.viewShot(key) // what a phone shows: the dock at the bottom of the screen
			} else {
				shots[key] = p.screenshot(key)
			}
			if w == 375 {
				p.click(`[data-testid=tab-chat]`)
				p.waitFor("the chat tab", `document.querySelector(".room").dataset.tab === "chat"`)
				key = fmt.Sprintf("room-backchannel-chat-%d%s", w, suffix)
				shots[key] = p.viewShot(key) // scrolled: the composer right above the dock
				p.click(`[data-testid=tab-room]`)
			}
		}
	}
	p.dark(false)
	// The README's pictures of a room (only this test writes them).
	if os.Getenv("TOWNHALL_UPDATE_SCREENSHOT") != "" {
		copyFile(t, shots["room-backchannel-375"], filepath.Join("..", "..", "docs", "screenshot-room.png"))
		copyFile(t, shots["room-backchannel-1280"], filepath.Join("..", "..", "docs", "screenshot-room-wide.png"))
	}

	t.Run("on a phone, messages that come while the room shows are counted on the chat's tab", func(t *testing.T) {
		p.viewport(375, 812)
		p.waitFor("the room's tab", `document.querySelector(".room").dataset.tab === "room" && document.querySelector("[data-testid=chat-unread]").hidden`)
		for _, text := range []string{"one more thing", "and another"} {
			if err := socks["eli"].Chat(ctx, text); err != nil {
				t.Fatal(err)
			}
		}
		p.waitFor("two new on the chat's tab", `(() => { const b = document.querySelector("[data-testid=chat-unread]");
			return !b.hidden && b.textContent === "2" && document.querySelector("[data-testid=tab-chat]").getAttribute("aria-label") === "Chat, 2 new"; })()`)
		p.click(`[data-testid=tab-chat]`)
		p.waitFor("the count gone, the newest message in view", `document.querySelector("[data-testid=chat-unread]").hidden && (() => {
			const s = document.querySelector(".chat-scroll"); return s.scrollHeight - s.scrollTop - s.clientHeight < 2; })()`)
	})
}

// chatPaced writes text in the chat from s, coming back when the room's budget
// (20 messages a second, 40 at once: internal/live/backchannel.go) refuses it,
// until the test's patience runs out.
func chatPaced(t *testing.T, s *client.Socket, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		err := s.Chat(ctx, text)
		if client.Code(err) != "rate_limited" {
			if err != nil {
				t.Fatalf("writing %q: %v", text, err)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("writing %q: the room's budget never allowed it: %v", text, err)
		case <-time.After(50 * time.Millisecond): // a twentieth of a second refills the room's budget by one
		}
	}
}

// TestChatHistoryShowsEarlierMessages: someone who joins a room whose chat is
// longer than a snapshot holds sees the latest 50 messages, and "Load earlier
// messages" brings the rest above them (chat_history) without moving what they
// read, down to the start of the chat.
func TestChatHistoryShowsEarlierMessages(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	ctx := context.Background()
	r, err := admin.CreateRoom(ctx, client.RoomSpec{Title: "A long chat", Type: "open", Chat: "everyone"})
	if err != nil {
		t.Fatal(err)
	}
	host, err := admin.JoinRoom(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })
	// 55 messages, at most 5 from one socket (its burst), in order.
	const total = 55
	var writers []*client.Socket
	for i := range total / 5 {
		u := ts.invite(t, admin, fmt.Sprintf("writer%d", i))
		s, err := u.JoinRoom(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		writers = append(writers, s)
	}
	for i := range total {
		chatPaced(t, writers[i/5], fmt.Sprintf("message %02d", i+1))
	}

	b := newBrowser(t)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.joinFromPreview(r.ID, chatShows("message 55"))
	texts := `[...document.querySelectorAll("[data-testid=chat-text]")].map((e) => e.textContent)`
	if got := eval[[]string](bob, texts); len(got) != 50 || got[0] != "message 06" {
		t.Fatalf("the chat shows %d messages from %q, want the latest 50 from message 06", len(got), got[0])
	}
	top := `(() => { const e = [...document.querySelectorAll("[data-testid=chat-message]")].find((m) => m.textContent.includes("message 06"));
		return Math.round(e.getBoundingClientRect().top); })()`
	eval[bool](bob, `(document.querySelector(".chat-scroll").scrollTop = 0, true)`)
	before := eval[int](bob, top)
	bob.click(`[data-testid=chat-earlier]`)
	bob.waitFor("the earlier messages", chatShows("message 01"))
	if got := eval[[]string](bob, texts); len(got) != total || got[0] != "message 01" || got[total-1] != "message 55" {
		t.Errorf("after loading earlier messages the chat shows %d: %q", len(got), got)
	}
	// In place, give or take the rounding of a fractional scroll.
	if after := eval[int](bob, top); after < before-2 || after > before+2 {
		t.Errorf("the message read moved from %d px to %d px", before, after)
	}
	bob.waitFor("the start of the chat said, and nothing more to load", `!document.querySelector(".chat-start").hidden
		&& document.querySelector("[data-testid=chat-earlier]").hidden`)

	// A message that comes while bob reads the top leaves him there, saying so.
	chatPaced(t, host, "message 56")
	bob.waitFor("the new message, and the button that says it came", chatShows("message 56")+
		` && !document.querySelector("[data-testid=chat-newer]").hidden`)
	if after := eval[int](bob, top); after < before-2 || after > before+2 {
		t.Errorf("a new message moved what bob reads from %d px to %d px", before, after)
	}
	bob.click(`[data-testid=chat-newer]`)
	bob.waitFor("the end of the chat in view", `(() => { const s = document.querySelector(".chat-scroll");
		return s.scrollHeight - s.scrollTop - s.clientHeight < 2 && document.querySelector("[data-testid=chat-newer]").hidden; })()`)
}
