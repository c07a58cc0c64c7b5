package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEventScheduledSubscribedAndStartedInOneClick: (issue 7) a user schedules
// an event from the web app; a follower sees it coming up in the hallway and
// subscribes from the events page; the host starts it with one click and lands
// in the room on stage; the subscriber gets the event_live notification and
// joins from it.
func TestEventScheduledSubscribedAndStartedInOneClick(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	admin.rename(t, "Ada Admin")
	bobAPI := ts.invite(t, admin, "bob")
	bobAPI.rename(t, "Bob Builder")
	ts.invite(t, admin, "cyd").rename(t, "Cyd Charisse")
	if err := bobAPI.Follow(context.Background(), "admin"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)

	ada := b.user("admin", ts.url)
	ada.login("admin")
	ada.clickText("Events")
	ada.waitFor("the events page", `location.pathname === "/events"`)
	ada.clickText("Schedule an event")
	ada.fill("Name", "Jazz night")
	ada.fill("Description (optional)", "Records and talk, bring one.")
	ada.fill("Co-hosts (optional)", "cyd")
	ada.click(`.event-form input[value=closed] + .choice-box`)
	ada.click(`.event-form input[value=open] + .choice-box`)
	if zone := eval[string](ada, `document.querySelector(".event-form select[name=time_zone]").value`); zone != eval[string](ada, `Intl.DateTimeFormat().resolvedOptions().timeZone`) {
		t.Errorf("the time zone defaults to %q, not the browser's", zone)
	}
	ada.clickText("Schedule")
	ada.waitFor("the event page", `location.pathname.startsWith("/events/") && document.querySelector("[data-testid=event-name]")?.textContent === "Jazz night"`)
	eventID := eval[string](ada, `location.pathname.split("/")[2]`)
	ada.waitText("Cyd Charisse")
	ada.waitFor("the Start button", `!!document.querySelector("[data-testid=start-event]")`)
	ada.waitFor("the .ics link", fmt.Sprintf(`document.querySelector("[data-testid=ics]")?.getAttribute("href") === "/api/v1/events/%s.ics"`, eventID))
	if ics := eval[string](ada, `fetch(document.querySelector("[data-testid=ics]").href).then(async (r) => r.headers.get("Content-Type") + "\n" + await r.text())`); !strings.HasPrefix(ics, "text/calendar") || !strings.Contains(ics, "SUMMARY:Jazz night") {
		t.Errorf("the .ics link with the session cookie gives:\n%s", ics)
	}

	bob := b.user("bob", ts.url)
	bob.login("bob")
	card := fmt.Sprintf(`[data-event-id=%q]`, eventID)
	bob.waitFor("the event coming up in the hallway", fmt.Sprintf(`!!document.querySelector('.hallway-events %s')`, card))
	bob.clickText("All events")
	bob.waitFor("the event on the events page", fmt.Sprintf(`!!document.querySelector('.event-list %s')`, card))
	bob.click(card + ` [data-testid=notify-me]`)
	bob.waitFor("subscribed", fmt.Sprintf(`document.querySelector('%s [data-testid=notify-me]')?.getAttribute("aria-pressed") === "true"`, card))
	bob.viewport(375, 812)
	bob.screenshot("events-375")
	bob.viewport(1280, 800)
	bob.screenshot("events-1280")
	bob.open("/events/" + eventID)
	bob.waitFor("still subscribed on the event page", `document.querySelector("[data-testid=notify-me]")?.getAttribute("aria-pressed") === "true"`)
	if eval[bool](bob, `!!document.querySelector("[data-testid=start-event]")`) {
		t.Error("a subscriber who is not a host sees the Start button")
	}
	bob.open("/") // wait in the hallway

	ada.viewport(375, 812)
	ada.screenshot("event-375")
	ada.viewport(1280, 800)
	ada.click(`[data-testid=start-event]`) // one click
	ada.waitFor("the host on stage in the event's room", fmt.Sprintf(`location.pathname.startsWith("/rooms/") &&
		!!document.querySelector('.stage-grid [data-user-id=%q] .mod-star')`, admin.ID))
	ada.waitText("Jazz night")
	roomID := eval[string](ada, `location.pathname.split("/")[2]`)

	bob.waitFor("the unread badge", `document.querySelector("[data-testid=bell] .badge")?.textContent === "1"`)
	bob.click(`[data-testid=bell]`)
	bob.waitFor("the event_live notification", `document.querySelector("[data-kind=event_live]")?.textContent.includes("Jazz night is live now.")`)
	bob.click(`[data-kind=event_live] [data-testid=join-live-event]`)
	bob.waitFor("bob in the room", fmt.Sprintf(`location.pathname === "/rooms/%s" && !!document.querySelector("[data-testid=hand]")`, roomID))
	ada.waitFor("bob in the audience", fmt.Sprintf(`!!document.querySelector('[data-testid=listener][data-user-id=%q]')`, bobAPI.ID))
}

// TestDelegateActsForTheOwnerButJoinsRoomsAsThemselves: the owner mutes a kind
// of notification and names a delegate in their settings; the delegate switches to "Acting as", which says
// so on every page, schedules an event for the owner, and the owner reads it in
// the audit log. Rooms stay the delegate's own.
func TestDelegateActsForTheOwnerButJoinsRoomsAsThemselves(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	b := newBrowser(t)

	ada := b.user("admin", ts.url)
	ada.login("admin")
	ada.click(`[data-testid=settings-link]`)
	// Mute one kind of notification.
	ada.click(`input[data-kind=ping]`)
	ada.clickText("Save")
	ada.waitText("Notification settings saved.")
	var settings struct{ Muted []string }
	if err := admin.Do(context.Background(), "GET", "/api/v1/notifications/settings", nil, &settings); err != nil {
		t.Fatal(err)
	}
	if strings.Join(settings.Muted, ",") != "ping" {
		t.Errorf("muted kinds %v, want [ping]", settings.Muted)
	}

	ada.fill("Username", "bob")
	ada.clickText("Name delegate")
	ada.waitFor("bob as a delegate", `!!document.querySelector(".delegate-row[data-username=bob]")`)

	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.click(`[data-testid=acting-switch]`)
	bob.click(`[data-acting-as=admin]`)
	bob.waitFor("the banner", `document.querySelector("[data-testid=acting-banner]")?.textContent.includes("Acting as @admin")`)
	bob.viewport(375, 812)
	bob.screenshot("acting-375")
	bob.viewport(1280, 800)
	bob.clickText("Events")
	bob.waitText("Upcoming, for @admin.")
	bob.waitFor("the banner on the events page too", `!!document.querySelector("[data-testid=acting-banner]")`)
	bob.clickText("Schedule an event")
	bob.fill("Name", "Office hours")
	bob.clickText("Schedule")
	bob.waitFor("the event page", `document.querySelector("[data-testid=event-name]")?.textContent === "Office hours"`)
	eventID := eval[string](bob, `location.pathname.split("/")[2]`)
	var ev struct {
		Host struct{ Username string } `json:"host"`
	}
	if err := admin.Do(context.Background(), "GET", "/api/v1/events/"+eventID, nil, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Host.Username != "admin" {
		t.Errorf("the delegate's event is hosted by %q, want admin", ev.Host.Username)
	}

	// A room bob starts is his own, acting or not.
	roomID := startRoomInUI(bob, "Bob's own room", "open", false)
	var room struct {
		Stage []struct{ Username string } `json:"stage"`
	}
	if err := admin.Do(context.Background(), "GET", "/api/v1/rooms/"+roomID, nil, &room); err != nil {
		t.Fatal(err)
	}
	if len(room.Stage) != 1 || room.Stage[0].Username != "bob" {
		t.Errorf("the room's stage is %+v, want bob himself", room.Stage)
	}
	bob.clickText("Stop acting")
	bob.waitFor("the banner gone", `!document.querySelector("[data-testid=acting-banner]")`)

	ada.open("/settings")
	ada.viewport(375, 812)
	ada.screenshot("settings-375")
	ada.viewport(1280, 800)
	ada.waitFor("the audit entry", `[...document.querySelectorAll(".audit-row")].some((r) => r.textContent.includes("POST /api/v1/events"))`)
	entries := eval[string](ada, `[...document.querySelectorAll(".audit-row")].map((r) => r.textContent).join("\n")`)
	if strings.Contains(entries, "/rooms") {
		t.Errorf("the audit log shows a room action of the delegate:\n%s", entries)
	}
}

// TestClubFoundBySearchJoinedByApprovalAndItsLeaderStartsAMembersRoom: a user
// creates a club that takes members by approval; another finds it with the
// search box and asks to join; the admin approves and makes them a leader; the
// leader starts a members-only club room, which the admin's hallway shows
// under the club's name.
func TestClubFoundBySearchJoinedByApprovalAndItsLeaderStartsAMembersRoom(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	bobAPI.rename(t, "Bob Builder")
	b := newBrowser(t)

	ada := b.user("admin", ts.url)
	ada.login("admin")
	ada.clickText("Clubs")
	ada.clickText("Create a club")
	ada.fill("Name", "Late Night Jazz")
	ada.fill("Description", "Records after midnight.")
	ada.fill("Rules", "Be kind. One record each.")
	ada.click(`input[name=approval]`)
	ada.clickText("Create the club")
	ada.waitFor("the club page", `document.querySelector("[data-testid=club-name]")?.textContent === "Late Night Jazz"`)
	clubID := eval[string](ada, `location.pathname.split("/")[2]`)
	ada.waitText("you: admin")

	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.fill("Search people, clubs and events", "late jazz")
	bob.do("submitting the search", chromedp.SendKeys(chromedp.CSS(`input.search-input`), "\r"))
	bob.waitFor("the club in the results", fmt.Sprintf(`!!document.querySelector('[data-testid=search-clubs] a[href="/clubs/%s"]')`, clubID))
	bob.click(fmt.Sprintf(`[data-testid=search-clubs] a[href="/clubs/%s"]`, clubID))
	bob.waitText("Be kind. One record each.")
	bob.clickText("Ask to join")
	bob.waitFor("the request sent", `document.querySelector("[data-testid=join-club]")?.textContent === "Request sent"`)

	ada.open("/clubs/" + clubID)
	ada.waitFor("bob's request", `!!document.querySelector("li[data-username=bob]")`)
	ada.clickText("Approve")
	ada.waitFor("bob a member", `!!document.querySelector("#role-bob")`)
	eval[bool](ada, `(() => { // choosing in the select, as a person would
		const s = document.querySelector("#role-bob");
		s.value = "leader";
		s.dispatchEvent(new Event("change"));
		return true;
	})()`)
	ada.waitText("Bob Builder is a leader now.")
	ada.viewport(375, 812)
	ada.screenshot("club-375")
	ada.viewport(1280, 800)

	bob.waitFor("the approval", `document.querySelector("[data-testid=bell] .badge")?.textContent === "1"`)
	bob.open("/clubs/" + clubID)
	bob.waitText("you: leader")
	bob.fill("Start a club room", "Members only listening party")
	bob.clickText("Start the room")
	bob.waitFor("bob on stage", `location.pathname.startsWith("/rooms/") && document.querySelectorAll(".stage-grid [data-testid=stage-person]").length === 1`)
	roomID := eval[string](bob, `location.pathname.split("/")[2]`)

	ada.open("/")
	ada.waitFor("the club room, named for its club", fmt.Sprintf(`document.querySelector('[data-room-id=%q] [data-testid=club-tag]')?.textContent === "Late Night Jazz"`, roomID))
}
