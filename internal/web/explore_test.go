package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestExploreFindsOpenEventsOfStrangers: (issue 17) cyd follows nobody, so her
// events page is empty; Explore lists the open events of people she does not
// follow, soonest first, twenty at a time with "Show more", and never a closed
// one. She asks to be notified of one from the list.
func TestExploreFindsOpenEventsOfStrangers(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	admin.rename(t, "Ada Admin")
	ts.invite(t, admin, "cyd")
	start := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Minute)
	var first string
	for i := range 22 {
		var e struct {
			ID string `json:"id"`
		}
		body := map[string]any{"name": fmt.Sprintf("Open talk %02d", i+1), "starts_at": start.Add(time.Duration(i) * time.Hour)}
		if err := admin.Do(context.Background(), "POST", "/api/v1/events", body, &e); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = e.ID
		}
	}
	closed := map[string]any{"name": "Closed circle", "starts_at": start, "room_type": "closed"}
	if err := admin.Do(context.Background(), "POST", "/api/v1/events", closed, nil); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	cyd := b.user("cyd", ts.url)
	cyd.login("cyd")
	cyd.clickText("Events")
	cyd.waitText("Nothing scheduled yet")
	cyd.click(`[data-testid=events-explore]`)
	cyd.waitFor("the first page of Explore", `location.search === "?list=explore" &&
		document.querySelectorAll(".event-list .event-card").length === 20`)
	if got := eval[string](cyd, `document.querySelector(".event-list .event-card .event-name").textContent`); got != "Open talk 01" {
		t.Errorf("Explore starts with %q, not the soonest event", got)
	}
	cyd.viewport(375, 812)
	cyd.screenshot("explore-375")
	cyd.viewport(1280, 800)
	cyd.screenshot("explore-1280")
	cyd.click(`[data-testid=explore-more]`)
	cyd.waitFor("all 22 open events and no more button", `document.querySelectorAll(".event-list .event-card").length === 22 &&
		!document.querySelector("[data-testid=explore-more]")`)
	if eval[bool](cyd, `document.querySelector(".event-list").textContent.includes("Closed circle")`) {
		t.Error("Explore lists a closed event")
	}
	card := fmt.Sprintf(`[data-event-id=%q]`, first)
	cyd.click(card + ` [data-testid=notify-me]`)
	cyd.waitFor("subscribed from Explore", fmt.Sprintf(`document.querySelector('%s [data-testid=notify-me]')?.getAttribute("aria-pressed") === "true"`, card))
	cyd.click(`[data-testid=events-for-you]`)
	cyd.waitFor("the subscribed event now on her own list", fmt.Sprintf(`location.search === "" && !!document.querySelector('.event-list %s')`, card))
}
