package web_test

import (
	"context"
	"testing"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/audiotest"
	"github.com/townhall/townhall/internal/bot"
	"github.com/townhall/townhall/internal/testwait"
)

// TestReplayShowsOnTheHostsProfileAndOpens: a bot hosts a recorded room, speaks
// and leaves (the room ends, its replay is made); the host's profile lists the
// replay under Replays, the search finds it, and its link opens the room's page,
// which plays it.
func TestReplayShowsOnTheHostsProfileAndOpens(t *testing.T) {
	audiotest.Tools(t, "ffmpeg")
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	ogg := audiotest.Speech(t, t.TempDir(), "this replay is listed on the profile of its host")
	ctx, cancel := context.WithTimeout(context.Background(), 3*patience)
	t.Cleanup(cancel)
	rm, err := admin.CreateRoom(ctx, client.RoomSpec{Title: "Listed replay", Type: "open", Record: true})
	if err != nil {
		t.Fatal(err)
	}
	host, err := bot.New(bot.Config{Server: ts.url, Room: rm.ID, Token: admin.Token(), Speak: ogg, LeaveWhenPlayed: true, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := host.Run(ctx); err != nil || !rep.Played {
		t.Fatalf("the host's bot: %+v, %v", rep, err)
	}
	testwait.Until(t, 2*patience, "the replay to be ready", func() bool {
		var r struct {
			State string `json:"state"`
		}
		return admin.Do(ctx, "GET", "/api/v1/rooms/"+rm.ID+"/replay", nil, &r) == nil && r.State == "ready"
	})

	b := newBrowser(t)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/search?q=listed")
	bob.waitFor("the replay in the search", `document.querySelector("[data-testid=search-replays] [data-testid=replay-link]")?.textContent.includes("Listed replay")`)
	bob.open("/u/admin")
	bob.waitFor("the replay on the host's profile", `document.querySelector("[data-testid=replays] [data-testid=replay-link]")?.textContent.includes("Listed replay")`)
	bob.click(`[data-testid=replays] [data-testid=replay-link]`)
	bob.waitFor("the replay's page", `location.pathname === "/rooms/`+rm.ID+`" && document.querySelector("[data-testid=replay-audio]")?.duration > 1`)
	bob.waitFor("the timeline naming the host", `document.querySelector("[data-testid=replay-timeline]").textContent.includes("admin")`)
}
