package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// A room that survives a reload, speakers shown as reconnecting, and tabs that
// ask before taking a room over (roomtabs.js).

// tab opens another tab of p's browser context: the same cookies and storage,
// as a second tab of one person's browser.
func (p *page) tab(name string) *page {
	p.t.Helper()
	q := &page{t: p.t, name: name, base: p.base}
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithListener(q.listen))
	p.t.Cleanup(cancel)
	q.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		p.t.Fatalf("%s: opening a tab: %v", name, err)
	}
	p.t.Cleanup(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		for _, e := range q.errors {
			p.t.Errorf("%s: uncaught exception in the page: %s", name, e)
		}
	})
	return q
}

// TestReloadKeepsYourPlace: a speaker who reloads the room's page is back in
// the room, on stage, without a click, and the moderator's browser never saw
// their tile leave the stage (it says "reconnecting…" meanwhile, as it does
// for a speaker whose connection drops).
func TestReloadKeepsYourPlace(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	cydAPI := ts.invite(t, admin, "cyd")
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Stay with us", "open", false)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.joinFromPreview(roomID, `!!document.querySelector("[data-testid=hand]")`)
	tile := fmt.Sprintf(`.stage-grid [data-user-id=%q]`, bobAPI.ID)
	mod.menu(fmt.Sprintf(`.audience [data-user-id=%q]`, bobAPI.ID), "Invite to speak")
	bob.click(`[data-testid=accept-speak]`)
	bob.waitFor("bob on stage", `!!document.querySelector("[data-testid=mute]")`)
	mod.waitFor("bob on the moderator's stage", fmt.Sprintf(`!!document.querySelector('%s')`, tile))

	t.Run("a speaker whose connection drops shows as reconnecting, then back", func(t *testing.T) {
		ctx := context.Background()
		cs, err := cydAPI.JoinRoom(ctx, roomID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		cydTile := fmt.Sprintf(`[data-user-id=%q]`, cydAPI.ID)
		mod.menu(`.audience `+cydTile, "Invite to speak")
		if err := cs.Command(ctx, "accept_speak", nil); err != nil {
			t.Fatal(err)
		}
		mod.waitFor("cyd on stage", fmt.Sprintf(`!!document.querySelector('.stage-grid %s')`, cydTile))
		cs.CloseNow() // a drop: no leave
		mod.waitFor("cyd reconnecting", fmt.Sprintf(`(() => {
			const b = document.querySelector('.stage-grid %s');
			return b && b.classList.contains("is-away") && b.querySelector("[data-testid=tile-reconnecting]")?.textContent === "reconnecting…"
				&& b.getAttribute("aria-label").includes("reconnecting");
		})()`, cydTile))
		back, err := cydAPI.JoinRoom(ctx, roomID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { back.Close() })
		mod.waitFor("cyd back", fmt.Sprintf(`(() => { const b = document.querySelector('.stage-grid %s'); return b && !b.classList.contains("is-away"); })()`, cydTile))
		back.Close() // leaves after the grace window; bob's test does not need cyd
	})

	t.Run("a speaker who reloads is on stage again without a click", func(t *testing.T) {
		// The moderator's page records what bob's tile goes through.
		eval[bool](mod, fmt.Sprintf(`(() => {
			window.__bob = { away: false, gone: false };
			const look = () => {
				const b = document.querySelector('%s');
				if (!b) window.__bob.gone = true;
				else if (b.classList.contains("is-away")) window.__bob.away = true;
			};
			new MutationObserver(look).observe(document.querySelector(".room"), { subtree: true, childList: true, attributes: true });
			return true;
		})()`, tile))
		from := bob.net.mark()
		bob.do("reloading", chromedp.Reload())
		bob.waitFor("bob on stage again", fmt.Sprintf(`location.pathname === "/rooms/%s" && !!document.querySelector("[data-testid=mute]")
			&& !!document.querySelector('%s')`, roomID, tile))
		if eval[bool](bob, `!!document.querySelector("[data-testid=join]")`) {
			t.Error("the reloaded page offers to join")
		}
		bob.waitFor("the return announced", `document.getElementById("announcer")?.textContent === "You are back in the room, in your place."`)
		if js := joins(mustSince(bob, from), roomID); len(js) != 1 {
			t.Errorf("the reloaded page called the join API %d times: %v", len(js), js)
		}
		mod.waitFor("bob's tile, not reconnecting", fmt.Sprintf(`(() => { const b = document.querySelector('%s'); return b && !b.classList.contains("is-away"); })()`, tile))
		seen := eval[map[string]bool](mod, `window.__bob`)
		if seen["gone"] {
			t.Error("bob's tile left the moderator's stage during the reload")
		}
		if !seen["away"] {
			// The server may take the new socket before it sees the old one
			// close: a replacement, which nobody is told of.
			t.Log("the moderator's page did not see bob reconnecting: the reload came back before the drop was noticed")
		}
	})

	t.Run("a reload on another page of the app puts the speaker back in the room, in the minibar", func(t *testing.T) {
		bob.click(`a.back`)
		bob.waitFor("the hallway, the room in the minibar", `location.pathname === "/" && !!document.querySelector(".minibar-room")`)
		from := bob.net.mark()
		bob.do("reloading", chromedp.Reload())
		bob.waitFor("the room in the minibar again", `location.pathname === "/" && window.__townhall.roomState()?.status === "live"
			&& !!document.querySelector(".minibar-room")`)
		if js := joins(mustSince(bob, from), roomID); len(js) != 1 {
			t.Errorf("the reloaded page called the join API %d times: %v", len(js), js)
		}
		bob.click(`.minibar-room`)
		bob.waitFor("back in the room, on stage", fmt.Sprintf(`location.pathname === "/rooms/%s" && !!document.querySelector("[data-testid=mute]")`, roomID))
	})

	t.Run("leaving quietly forgets the room: a reload shows its page", func(t *testing.T) {
		bob.click(`[data-testid=leave]`)
		bob.waitFor("the hallway", `location.pathname === "/"`)
		bob.open("/rooms/" + roomID)
		bob.waitFor("the preview", `!!document.querySelector("[data-testid=join]")`)
	})
}

// TestSecondTabAsksBeforeTakingTheRoom: a second tab opening a room the first
// plays offers to listen there instead of taking it silently; taking over leaves
// the first tab calm (no error, no reconnection), with a button to take it back.
func TestSecondTabAsksBeforeTakingTheRoom(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	roomID := liveRoom(t, admin, "One tab at a time", "open")
	b := newBrowser(t)
	first := b.user("bob", ts.url)
	first.login("bob")
	first.joinFromPreview(roomID, `!!document.querySelector("[data-testid=hand]")`)
	first.click(`[data-testid=hand]`)
	first.waitFor("the hand up", `document.querySelector("[data-testid=hand]")?.getAttribute("aria-pressed") === "true"`)

	second := first.tab("bob's second tab")
	second.open("/rooms/" + roomID)
	second.waitFor("the offer to listen here", `document.querySelector("[data-testid=elsewhere-text]")?.textContent === "You’re listening in another tab."`)
	if !eval[bool](first, `!!document.querySelector("[data-testid=hand]")`) {
		t.Fatal("opening the second tab stopped the first")
	}

	from := first.net.mark()
	second.click(`[data-testid=listen-here]`)
	second.waitFor("the second tab in the room, hand still up", `document.querySelector("[data-testid=hand]")?.getAttribute("aria-pressed") === "true"`)
	first.waitFor("the first tab calm", `document.querySelector("[data-testid=elsewhere] h1")?.textContent === "You’re listening in another tab"
		&& !!document.querySelector("[data-testid=listen-here]")`)
	if eval[bool](first, `!!document.querySelector("[role=alert]:not([hidden]), .toast-error, [data-testid=reconnecting]")`) {
		t.Error("the first tab shows an error or reconnects")
	}
	// No reconnection is coming, rather than none yet: the session is over,
	// which no timer or answer of its own can undo (roomsession.js, finish).
	if st := eval[map[string]any](first, `window.__townhall.roomState()`); st["status"] != "over" || st["ending"] != "replaced" {
		t.Errorf("the first tab's session is %v, want over, replaced", st)
	}
	if js := joins(mustSince(first, from), roomID); len(js) > 0 {
		t.Errorf("the first tab called the join API after it was replaced: %v", js)
	}

	t.Run("the first tab takes the room back", func(t *testing.T) {
		first.click(`[data-testid=listen-here]`)
		first.waitFor("the first tab in the room", `!!document.querySelector("[data-testid=hand]")`)
		second.waitFor("the second tab calm", `!!document.querySelector("[data-testid=elsewhere] [data-testid=listen-here]")`)
	})

	t.Run("a tab that reloads while another plays the room asks again", func(t *testing.T) {
		second.do("reloading", chromedp.Reload())
		second.waitFor("the offer to listen here", `!!document.querySelector("[data-testid=elsewhere-text]")`)
		if !eval[bool](first, `!!document.querySelector("[data-testid=hand]")`) {
			t.Error("the reload of the second tab stopped the first")
		}
	})
}
