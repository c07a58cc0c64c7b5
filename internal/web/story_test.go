package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/townhall/townhall/client"
)

// TestTheFoundingStory plays the story townhall exists for, in headless
// Chromium: a moderator publicly invites someone who has no account; in a
// signed-out browser, the invitee opens the link, sees the room, who is on stage
// and the message, and asks a question without an account; the moderator
// replies from the room; the invitee makes an account from the page and names
// their office a delegate, which answers for them ("for Jane Doe, by office");
// the invitee accepts and is heard on stage by a guest listening. A third,
// signed-out browser watches the public page show each step as it happens.
func TestTheFoundingStory(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	admin.rename(t, "Ada Admin")
	office := ts.invite(t, admin, "office")
	office.rename(t, "The Office")
	b := newBrowser(t, fakeMic(t))
	ctx := context.Background()

	// The moderator opens a room and invites Jane, who has no account, publicly.
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "The future of libraries", "open", true)
	mod.clickText("Invite")
	mod.fill("Message (optional)", "Would you talk about libraries with me, tonight?")
	mod.click(`[data-testid=invite-public]`)
	mod.fill("Their name (optional)", "Jane Doe")
	mod.clickText("Create their invitation link")
	mod.waitFor("the link", `document.querySelector("[data-testid=invite-link]")?.value.includes("/i/")`)
	link := eval[string](mod, `document.querySelector("[data-testid=invite-link]").value`)
	path := link[strings.Index(link, "/i/"):]
	code := strings.TrimPrefix(strings.SplitN(path, "#", 2)[0], "/i/")
	if !strings.Contains(path, "#k=") {
		t.Fatalf("the invitee's link has no key: %s", link)
	}
	mod.click(`dialog .sheet-head button`) // close the sheet

	// A stranger watches the public page.
	watcher := b.user("watcher", ts.url)
	watcher.open("/i/" + code)
	watcher.waitFor("the public invitation", `document.querySelector("[data-testid=invitation-title]")?.textContent === "Ada Admin invites Jane Doe to talk"`)
	watcher.waitFor("its status", `document.querySelector("[data-testid=invitation-status]")?.dataset.status === "sent"`)

	// Jane, signed out, opens her link: the room, the stage, the message.
	jane := b.user("jane", ts.url)
	jane.open(path)
	jane.waitFor("the room", `document.querySelector("[data-testid=room-title]")?.textContent === "The future of libraries"`)
	jane.waitText("On stage now: Ada Admin")
	jane.waitText("Would you talk about libraries with me, tonight?")
	jane.waitFor("the key out of the address bar", `location.hash === ""`)
	watcher.waitFor("seen", `document.querySelector("[data-testid=invitation-status]")?.dataset.status === "seen"`)
	jane.viewport(375, 812)
	jane.screenshot("invitation-signed-out-375")
	jane.viewport(1280, 900)

	// She asks without an account; what she writes stays text.
	jane.fill("Who is asking", "Office of Jane Doe")
	jane.fill("Your question", "What exactly is proposed? <b>Details</b> please")
	jane.clickText("Ask")
	jane.waitFor("her question in the thread", `[...document.querySelectorAll("[data-testid=post-text]")].some((p) => p.textContent.includes("<b>Details</b>"))`)
	if n := eval[int](jane, `document.querySelectorAll(".thread b").length`); n != 0 {
		t.Errorf("the question made %d <b> elements", n)
	}
	watcher.waitFor("the question, live", `document.querySelector("[data-testid=invitation-status]")?.dataset.status === "question"`)
	watcher.waitText("Office of Jane Doe")

	// The moderator answers from the room.
	mod.waitFor("the room", fmt.Sprintf(`location.pathname === "/rooms/%s"`, roomID))
	mod.clickText("Invite")
	mod.waitFor("the question in the sent list", `[...document.querySelectorAll("dialog [data-testid=post-text]")].some((p) => p.textContent.includes("What exactly is proposed?"))`)
	mod.screenshot("invite-sheet-question-1280")
	mod.fill("Your answer", "An hour on stage about the future of libraries, with questions from the audience.")
	mod.clickText("Send answer")
	jane.waitText("An hour on stage about the future of libraries")
	watcher.waitText("An hour on stage about the future of libraries")
	mod.click(`dialog .sheet-head button`)

	// Jane makes an account from the page, and names her office a delegate.
	jane.fill("Username", "jane")
	jane.fill("Your name", "Jane Doe")
	jane.fill("Password", password)
	jane.click(`[data-testid=signup-only]`)
	jane.waitFor("the accept button, signed in", `!!document.querySelector("[data-testid=accept-invitation]")`)
	janeAPI, _, err := client.New(ts.url).Login(ctx, "jane", password)
	if err != nil {
		t.Fatal(err)
	}
	if err := janeAPI.Do(ctx, "PUT", "/api/v1/me/delegates/office", map[string]any{"scopes": []string{"invitations"}}, nil); err != nil {
		t.Fatal(err)
	}

	// Her office answers for her, shown as written for her by the office.
	officePage := b.user("office", ts.url)
	officePage.login("office")
	officePage.click(`[data-testid=acting-switch]`)
	officePage.click(`[data-acting-as=jane]`)
	officePage.waitFor("the acting banner", `!!document.querySelector("[data-testid=acting-banner]")`)
	officePage.open("/i/" + code)
	officePage.waitText("You answer for Jane Doe")
	officePage.fill("Your question", "Interesting, we must first understand what is proposed.")
	officePage.clickText("Ask")
	for _, p := range []*page{jane, watcher, officePage} {
		p.waitFor("the office's answer, for Jane, by the office", `[...document.querySelectorAll("[data-testid=post-by]")].some((b) => b.textContent.trim() === "for Jane Doe, by The Office")`)
	}
	jane.screenshot("invitation-thread-1280")

	// Later Jane accepts from the page, lands on stage, and is heard.
	jane.click(`[data-testid=accept-invitation]`)
	jane.waitFor("jane in the room, on stage", fmt.Sprintf(`location.pathname === "/rooms/%s" && !!document.querySelector("[data-testid=mute]")`, roomID))
	watcher.waitFor("accepted, live", `document.querySelector("[data-testid=invitation-status]")?.dataset.status === "accepted"`)
	watcher.open("/rooms/" + roomID)
	watcher.clickText("Listen as a guest")
	watcher.waitFor("audio on", `document.querySelector("[data-testid=audio-status]")?.textContent === "Audio on"`)
	jane.click(`[data-testid=mute]`) // unmute
	jane.waitFor("unmuted", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-pressed") === "true"`)
	watcher.waitHearing("Jane on stage")
	mod.waitFor("Jane on the moderator's stage", `[...document.querySelectorAll(".stage-grid [data-testid=stage-person]")].some((b) => b.getAttribute("aria-label").startsWith("Jane Doe"))`)

	// The room's page and Ada's profile list the public invitation and where it stands.
	mod.waitFor("the public invitation on the room's page", fmt.Sprintf(`!!document.querySelector('[data-testid=public-invitations] [data-code=%q] [data-status=accepted]')`, code))
	mod.screenshot("room-public-invitation-1280")
	mod.open("/u/admin")
	mod.waitFor("the public invitation on the profile", fmt.Sprintf(`!!document.querySelector('[data-testid=public-invitations] [data-code=%q]')`, code))
}

// TestLogInFromAnInvitationKeepsItsDestination: someone with an account opens an
// invitation's link signed out, logs in from the page, comes back to it (the key
// kept by the browser), accepts, and lands in the room, a closed one that the
// invitation lets them into, on stage since the inviter moderates it.
func TestLogInFromAnInvitationKeepsItsDestination(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Back room talk", "closed", false)
	mod.clickText("Invite")
	mod.clickText("Create their invitation link")
	mod.waitFor("the link", `document.querySelector("[data-testid=invite-link]")?.value.includes("/i/")`)
	link := eval[string](mod, `document.querySelector("[data-testid=invite-link]").value`)
	path := link[strings.Index(link, "/i/"):]
	code := strings.TrimPrefix(strings.SplitN(path, "#", 2)[0], "/i/")

	bob := b.user("bob", ts.url)
	bob.open(path)
	bob.waitFor("the room", `document.querySelector("[data-testid=room-title]")?.textContent === "Back room talk"`)
	bob.click(`[data-testid=login-from-invitation]`)
	bob.waitFor("the login page", `location.pathname === "/login"`)
	bob.fill("Username", "bob")
	bob.fill("Password", password)
	bob.clickText("Log in")
	bob.waitFor("back on the invitation, able to accept", fmt.Sprintf(`location.pathname === "/i/%s" && !!document.querySelector("[data-testid=accept-invitation]")`, code))
	bob.click(`[data-testid=accept-invitation]`)
	bob.waitFor("bob on stage in the closed room", fmt.Sprintf(`location.pathname === "/rooms/%s" && !!document.querySelector('.stage-grid [data-user-id=%q]')`, roomID, bobAPI.ID))
}
