package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/townhall/townhall/client"
)

// TestFirstRunLinkCreatesTheAdminWhoInvitesASecondUser: (1) the one-time link the
// server logs makes the admin account; the admin makes an invite link on their
// profile, and a second person signs up through it.
func TestFirstRunLinkCreatesTheAdminWhoInvitesASecondUser(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	ada := b.user("ada", ts.url)

	ada.open("/join/" + ts.code)
	ada.waitText("Welcome to your townhall")
	ada.fill("Username", "ada")
	ada.fill("Your name", "Ada Lovelace")
	ada.fill("Password", password)
	ada.clickText("Create the admin account")
	ada.waitFor("the hallway", `location.pathname === "/" && !!document.querySelector(".hallway")`)
	ada.waitText("It’s quiet right now")

	// The first-run link works once.
	other := b.user("stranger", ts.url)
	other.open("/join/" + ts.code)
	other.waitText("This invite link no longer works")

	ada.click(`a.me-link`)
	ada.waitFor("her profile", `document.querySelector("[data-testid=profile-name]")?.textContent === "Ada Lovelace"`)
	ada.waitText("admin")
	ada.clickText("Invite someone to townhall")
	ada.waitFor("the invite link", `document.querySelector("dialog input.link-input")?.value.includes("/join/")`)
	link := eval[string](ada, `document.querySelector("dialog input.link-input").value`)

	bob := b.user("bob", ts.url)
	bob.open(ts.rewrite(link))
	bob.waitText("Ada Lovelace invited you")
	bob.fill("Username", "bob")
	bob.fill("Your name", "Bob")
	bob.fill("Password", "short")
	bob.clickText("Join townhall")
	bob.waitFor("the browser's check of the password", `document.activeElement?.name === "password"`)
	bob.fill("Password", password)
	bob.clickText("Join townhall")
	bob.waitFor("the hallway", `location.pathname === "/" && !!document.querySelector(".hallway")`)

	bob.open("/u/bob")
	bob.waitText("Invited by")
	bob.waitFor("the inviter's name", `[...document.querySelectorAll("a")].some((a) => a.textContent === "Ada Lovelace" && a.getAttribute("href") === "/u/ada")`)

	// Log out and back in.
	bob.click(`[data-testid=logout]`)
	bob.waitFor("the login page", `location.pathname === "/login"`)
	bob.login("bob")
}

// TestModeratorRemovesAListenerWhoCannotRejoin: (4) the moderator removes a
// listener from the room; the listener's page says so, and joining again is refused.
func TestModeratorRemovesAListenerWhoCannotRejoin(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	b := newBrowser(t)

	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Late night radio", "open", false)

	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.waitFor("the room in the hallway", fmt.Sprintf(`!!document.querySelector('[data-room-id=%q]')`, roomID))
	bob.click(fmt.Sprintf(`a[data-room-id=%q]`, roomID)) // one click joins
	bob.waitFor("the room", `!!document.querySelector(".room .stage-grid [data-testid=stage-person]")`)
	bob.waitFor("the raise hand button", `!!document.querySelector("[data-testid=hand]")`)

	mod.waitFor("bob in the audience", fmt.Sprintf(`!!document.querySelector('[data-testid=listener][data-user-id=%q]')`, bobAPI.ID))
	mod.menu(fmt.Sprintf(`[data-testid=listener][data-user-id=%q]`, bobAPI.ID), "Remove from the room")
	mod.waitFor("bob gone", fmt.Sprintf(`!document.querySelector('[data-user-id=%q]')`, bobAPI.ID))

	bob.waitFor("the removal notice", `document.querySelector("[data-testid=room-over]")?.textContent.includes("removed you")`)

	// Joining again is refused, in words. (A reload would rejoin at once: come
	// from elsewhere to see the Join button.)
	bob.open("/notifications")
	bob.open("/rooms/" + roomID)
	bob.click(`[data-testid=join]`)
	bob.waitFor("the refusal", `document.querySelector("[data-testid=room-over]")?.textContent.includes("cannot rejoin")`)
}

// TestGuestListensToAnOpenRoomWithoutAnAccount: (5) an open room that allows
// guests can be listened to from its link, without an account.
func TestGuestListensToAnOpenRoomWithoutAnAccount(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	carol := ts.invite(t, admin, "carol")
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Open mic", "open", true)

	guest := b.user("guest", ts.url)
	guest.open("/rooms/" + roomID)
	guest.waitText("Open mic")
	guest.clickText("Listen as a guest")
	guest.waitFor("the stage", `document.querySelectorAll(".room [data-testid=stage-person]").length === 1`)
	guest.waitText("You are listening as a guest")
	hasHand := eval[bool](guest, `!!document.querySelector("[data-testid=hand]")`)
	if hasHand {
		t.Error("a guest sees the raise hand button; guests only listen")
	}
	mod.waitFor("one listener", `document.querySelector("[data-testid=listener-count]")?.textContent === "1 listener"`)

	// A room that does not take guests is not shown to them.
	closed := liveRoom(t, carol, "Members only", "open")
	guest.open("/rooms/" + closed)
	guest.waitText("Room not available")
}

// TestConnectionLossReconnectsAndKeepsTheRole: when the network drops, the
// room says so, reconnects on its own, and within the grace window the user is
// back in their place (the creator, on stage, a moderator). A listener whose
// network is down while the room ends learns it when they are back.
func TestConnectionLossReconnectsAndKeepsTheRole(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	modNet := newProxy(t, strings.TrimPrefix(ts.url, "http://"))
	bobNet := newProxy(t, strings.TrimPrefix(ts.url, "http://"))
	b := newBrowser(t)
	mod := b.user("admin", modNet.url())
	mod.login("admin")
	roomID := startRoomInUI(mod, "Bumpy connection", "open", false)
	bob := b.user("bob", bobNet.url())
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	bob.click(`[data-testid=join]`)
	bob.waitFor("the room", `!!document.querySelector("[data-testid=hand]")`)

	modNet.setDown(true)
	mod.waitFor("the reconnecting banner", `!!document.querySelector("[data-testid=reconnecting]")`)
	modNet.setDown(false)
	mod.waitFor("the banner gone", `!document.querySelector("[data-testid=reconnecting]")`)
	mod.waitFor("still a moderator on stage", `document.querySelectorAll(".stage-grid [data-testid=stage-person]").length === 1 &&
		!!document.querySelector(".stage-grid .is-me .mod-star") && !!document.querySelector("[aria-label='Room settings']")`)
	bob.waitFor("the moderator still on stage", `document.querySelectorAll(".stage-grid [data-testid=stage-person]").length === 1`)

	// Bob's network drops; meanwhile the moderator ends the room.
	bobNet.setDown(true)
	bob.waitFor("bob's reconnecting banner", `!!document.querySelector("[data-testid=reconnecting]")`)
	mod.click(`[aria-label='Room settings']`)
	mod.clickText("End the room for everyone")
	mod.clickText("Really end it? Everyone will leave.")
	mod.waitText("The room has ended")
	bobNet.setDown(false)
	bob.waitFor("the end", `document.querySelector("[data-testid=room-over]")?.textContent === "This room has ended."`)
}

// TestRaisedHandInvitedToSpeakUnmutesAndIsHeldMuted: a listener raises their
// hand, which the moderator sees and another listener does not (the hand queue
// is the moderators'), the moderator invites them to speak, they accept (the
// microphone is asked for then), unmute, and the moderator holds their mute,
// then releases it.
func TestRaisedHandInvitedToSpeakUnmutesAndIsHeldMuted(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	carolAPI := ts.invite(t, admin, "carol")
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Ask me anything", "open", false)
	carol := b.user("carol", ts.url)
	carol.login("carol")
	carol.open("/rooms/" + roomID)
	carol.click(`[data-testid=join]`)
	carol.waitFor("carol in the room", `!!document.querySelector("[data-testid=hand]")`)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	bob.click(`[data-testid=join]`)
	bob.click(`[data-testid=hand]`)
	bob.waitFor("the hand up", `document.querySelector("[data-testid=hand]")?.getAttribute("aria-pressed") === "true"`)

	mod.waitFor("the raised hand", `document.querySelectorAll(".hands .hand-row").length === 1`)
	handOn := func(id string) string {
		return fmt.Sprintf(`!!document.querySelector('.audience [data-user-id=%q] .badge-hand')`, id)
	}
	mod.waitFor("bob's hand on his tile", handOn(bobAPI.ID))
	// Carol raises her hand after bob: once her page shows hers, bob's would
	// have reached it before (a socket's events come in order).
	carol.click(`[data-testid=hand]`)
	carol.waitFor("carol's hand up", `document.querySelector("[data-testid=hand]")?.getAttribute("aria-pressed") === "true"`)
	carol.waitFor("carol's hand on her own tile", handOn(carolAPI.ID))
	if eval[bool](carol, handOn(bobAPI.ID)) || eval[bool](carol, `!!document.querySelector(".hands .hand-row")`) {
		t.Error("carol, a listener, sees bob's raised hand")
	}
	mod.waitFor("both raised hands", `document.querySelectorAll(".hands .hand-row").length === 2`)
	carol.click(`[data-testid=hand]`)
	carol.waitFor("carol's hand down", `document.querySelector("[data-testid=hand]")?.getAttribute("aria-pressed") === "false"`)
	mod.waitFor("bob's hand alone", `document.querySelectorAll(".hands .hand-row").length === 1`)
	mod.clickText("Invite to speak")
	bob.waitText("admin invited you to speak.")
	bob.click(`[data-testid=accept-speak]`)
	bob.waitFor("bob on stage", fmt.Sprintf(`!!document.querySelector('.stage-grid [data-user-id=%q]')`, bobAPI.ID))
	bob.waitFor("the mute button, muted", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-pressed") === "false"`)
	if eval[bool](bob, `!!document.querySelector("[data-testid=mic-error]")`) {
		t.Error("the fake microphone was refused")
	}
	bob.click(`[data-testid=mute]`)
	bob.waitFor("unmuted", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-pressed") === "true"`)
	mod.waitFor("bob unmuted on the moderator's stage", fmt.Sprintf(`!document.querySelector('.stage-grid [data-user-id=%q] .badge-mute')`, bobAPI.ID))

	bobTile := fmt.Sprintf(`.stage-grid [data-user-id=%q]`, bobAPI.ID)
	mod.menu(bobTile, "Mute and hold")
	bob.waitFor("held muted", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-label") === "Muted by a moderator"`)
	mod.menu(bobTile, "Release mute")
	bob.waitFor("free to unmute", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-label") === "Unmute your microphone"`)
	mod.menu(bobTile, "Move to the audience")
	bob.waitFor("back in the audience", `!!document.querySelector("[data-testid=hand]")`)
}

// TestClosedRoomIsNotInAnotherUsersHallway: (6) a closed room is not in the
// hallway of someone it does not include, while an open room is.
func TestClosedRoomIsNotInAnotherUsersHallway(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	carol := ts.invite(t, admin, "carol")
	dee := ts.invite(t, admin, "dee")
	if err := dee.Follow(context.Background(), "admin"); err != nil {
		t.Fatal(err)
	}

	// Each creator opens one room: a user is in one room at a time.
	closedID := liveRoom(t, admin, "The closed circle", "closed")

	b := newBrowser(t)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	// An open room started afterwards proves bob's hallway is live and up to date.
	openID := liveRoom(t, carol, "Everyone welcome", "open")
	bob.waitFor("the open room", fmt.Sprintf(`!!document.querySelector('[data-room-id=%q]')`, openID))
	if eval[bool](bob, fmt.Sprintf(`!!document.querySelector('[data-room-id=%q]')`, closedID)) ||
		eval[bool](bob, `document.body.innerText.includes("The closed circle")`) {
		t.Error("bob's hallway shows a closed room he is not in")
	}
	// Nor can he open it by its address.
	bob.open("/rooms/" + closedID)
	bob.waitText("Room not available")

	// The admin sees all three; screenshots of the hallway at phone and desktop widths.
	adm := b.user("admin", ts.url)
	adm.login("admin")
	liveRoom(t, dee, "Sunday gardening: what grows in the shade?", "social")
	adm.waitFor("three rooms", `document.querySelectorAll(".room-card").length === 3`)
	adm.waitText("The closed circle")
	adm.viewport(375, 812)
	adm.screenshot("hallway-375")
	adm.viewport(1280, 800)
	adm.screenshot("hallway-1280")
}

// TestInvitedUserAsksAQuestionThenAcceptsAndLandsOnStage: (7) the moderator
// invites someone to the conversation; they ask a question (the moderator sees
// it live), then accept, and land on the stage.
func TestInvitedUserAsksAQuestionThenAcceptsAndLandsOnStage(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ctx := context.Background()
	admin.rename(t, "Ada Admin")
	bobAPI := ts.invite(t, admin, "bob")
	bobAPI.rename(t, "Bob Builder")
	// Two listeners the moderator follows (so they may join a social room), for
	// the audience split and the screenshots.
	var listeners []*apiUser
	for _, n := range [][2]string{{"cyd", "Cyd Charisse"}, {"dee", "Dee Dee"}} {
		u := ts.invite(t, admin, n[0])
		u.rename(t, n[1])
		if err := admin.Follow(ctx, n[0]); err != nil {
			t.Fatal(err)
		}
		listeners = append(listeners, u)
	}
	b := newBrowser(t)

	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Product feedback hour", "social", false)

	bob := b.user("bob", ts.url)
	bob.login("bob")

	mod.clickText("Invite")
	mod.fill("Usernames", "bob")
	mod.fill("Message (optional)", "Come tell us about the new app!")
	mod.clickText("Send invitations")
	mod.waitFor("bob invited", `[...document.querySelectorAll("[data-testid=sent-invitation]")].some((e) => e.textContent.includes("Bob Builder") && e.querySelector("[data-status=sent]"))`)

	// The bell shows it; the notification page has the invitation.
	bob.waitFor("the unread badge", `document.querySelector("[data-testid=bell] .badge")?.textContent === "1"`)
	bob.click(`[data-testid=bell]`)
	bob.waitText("Come tell us about the new app!")
	bob.waitText("Product feedback hour")
	bob.click(`[data-testid=ask-invitation]`)
	bob.fill("Your question", "Should I bring notes?")
	bob.clickText("Send question")
	bob.waitFor("the question sent", `!!document.querySelector("[data-testid=question-sent]")`)

	mod.waitFor("the question, live", `[...document.querySelectorAll("[data-testid=sent-invitation]")].some((e) => e.querySelector("[data-status=question]") && e.textContent.includes("Should I bring notes?"))`)
	mod.click(`dialog[open] .sheet-head button`) // close the sheet
	mod.waitFor("the sheet closed", `!document.querySelector("dialog[open]")`)

	bob.click(`[data-testid=accept-invitation]`)
	bob.waitFor("the room", fmt.Sprintf(`location.pathname === "/rooms/%s"`, roomID))
	bob.waitFor("bob on stage", fmt.Sprintf(`!!document.querySelector('.stage-grid [data-user-id=%q]')`, bobAPI.ID))
	bob.waitFor("the mute button", `!!document.querySelector("[data-testid=mute]")`)
	mod.waitFor("bob on the moderator's stage", fmt.Sprintf(`!!document.querySelector('.stage-grid [data-user-id=%q]')`, bobAPI.ID))

	for _, u := range listeners {
		s, err := u.JoinRoom(ctx, roomID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}
	mod.waitFor("two listeners", `document.querySelector("[data-testid=listener-count]")?.textContent === "2 listeners"`)
	mod.waitFor("them followed by the speakers", `document.querySelectorAll("[data-testid=followed-audience] [data-testid=listener]").length === 2`)
	mod.viewport(375, 812)
	mod.screenshot("room-375")
	mod.viewport(1280, 800)
	mod.screenshot("room-1280")

	// Someone without an account gets the link of the invitation's page; signing
	// up there and accepting lands them in the room.
	mod.clickText("Invite")
	mod.clickText("Create their invitation link")
	mod.waitFor("the link", `document.querySelector("[data-testid=invite-link]")?.value.includes("/i/")`)
	link := eval[string](mod, `document.querySelector("[data-testid=invite-link]").value`)
	eve := b.user("eve", ts.url)
	eve.open(link[strings.Index(link, "/i/"):])
	eve.waitText("Ada Admin invites you to talk")
	eve.fill("Username", "eve")
	eve.fill("Your name", "Eve")
	eve.fill("Password", password)
	eve.clickText("Sign up and accept")
	eve.waitFor("the room", fmt.Sprintf(`location.pathname === "/rooms/%s" && !!document.querySelector(".room .stage-grid")`, roomID))
	eve.waitText("Product feedback hour")
}

// TestUserSuppliedTextIsNeverMarkup: a room title that looks like HTML is shown
// as text, runs nothing, and the page has no inline script.
func TestUserSuppliedTextIsNeverMarkup(t *testing.T) {
	ts := startServer(t)
	ts.admin(t)
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	title := `<img src=x onerror="window.pwned=1">`
	roomID := startRoomInUI(mod, title, "open", false)
	mod.waitFor("the title as text", fmt.Sprintf(`document.querySelector(".room-name")?.textContent === %s`, jsString(title)))
	mod.open("/")
	mod.waitFor("the card", fmt.Sprintf(`document.querySelector('[data-room-id=%q] .room-title')?.textContent === %s`, roomID, jsString(title)))
	if n := eval[int](mod, `document.querySelectorAll("main img").length`); n != 0 {
		t.Errorf("the title made %d <img> elements", n)
	}
	if eval[bool](mod, `window.pwned === 1`) {
		t.Error("the title ran script")
	}
	if n := eval[int](mod, `document.querySelectorAll("script:not([src])").length`); n != 0 {
		t.Errorf("%d inline scripts in the page", n)
	}
	if n := eval[int](mod, `document.querySelectorAll("[style]").length`); n != 0 {
		t.Errorf("%d elements with inline styles", n)
	}
}

// menu opens the menu of the person whose tile css selects, picks action, and
// waits until the server agreed (the menu closes).
func (p *page) menu(css, action string) {
	p.t.Helper()
	p.click(css)
	p.clickText(action)
	p.waitFor("the menu to close", `!document.querySelector("dialog[open]")`)
}

// speak unmutes p, on stage, and waits until its microphone sends audio.
func (p *page) speak() {
	p.t.Helper()
	p.click(`[data-testid=mute]`)
	p.waitFor("the microphone sending", `window.__townhall.audioStats().then((s) => s.mic.enabled && s.outbound.some((o) => o.bytesSent > 0))`)
}

// startRoomInUI starts a room from the hallway form and waits until its creator
// is on stage; it returns the room's ID.
func startRoomInUI(p *page, title, typ string, guests bool) string {
	p.t.Helper()
	p.open("/")
	p.clickText("Start a room")
	p.fill("What do you want to talk about?", title)
	p.click(fmt.Sprintf(`.start-form input[value=%q] + .choice-box`, typ))
	if guests {
		p.click(`input[name=allow_guests]`)
	}
	p.clickText("Start the room")
	p.waitFor("the creator on stage", `location.pathname.startsWith("/rooms/") && document.querySelectorAll(".stage-grid [data-testid=stage-person]").length === 1`)
	id := eval[string](p, `location.pathname.split("/")[2]`)
	if strings.ContainsAny(id, "/ ") || id == "" {
		p.t.Fatalf("odd room path %q", id)
	}
	return id
}

// liveRoom creates a room through the API and opens it (its creator joins with
// the Go client and stays until the test ends).
func liveRoom(t *testing.T, creator *apiUser, title, typ string) string {
	t.Helper()
	ctx := context.Background()
	r, err := creator.CreateRoom(ctx, client.RoomSpec{Title: title, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	s, err := creator.JoinRoom(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return r.ID
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("copied %s to %s", from, to)
}
