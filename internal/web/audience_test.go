package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/server"
	"github.com/townhall/townhall/internal/servertest"
)

// TestShowMoreListenersPagesTheAudience: a snapshot names the first listeners
// only (500; 2 here), and "Show more" lists the rest, a page at a time.
func TestShowMoreListenersPagesTheAudience(t *testing.T) {
	srv := servertest.Start(t, servertest.WithServerOptions(server.WithLiveOptions(func(o *live.Options) {
		o.HallwayEvery, o.ListedListeners = 20*time.Millisecond, 2
	})))
	ts := &testServer{url: srv.URL, code: srv.Code}
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	roomID := liveRoom(t, admin, "A crowd", "open")
	for i := range 4 {
		u := ts.invite(t, admin, fmt.Sprintf("listener%d", i))
		s, err := u.JoinRoom(context.Background(), roomID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}

	b := newBrowser(t)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	tiles := `document.querySelectorAll("[data-testid=listener]").length`
	bob.joinFromPreview(roomID, tiles+` === 2 && !!document.querySelector("[data-testid=more-listeners]")`)
	bob.waitText("and 3 more listeners")
	bob.click(`[data-testid=more-listeners]`)
	bob.waitFor("every listener named, and nothing more to show", tiles+` === 5 && !document.querySelector("[data-testid=more-listeners]")`)
	names := eval[[]string](bob, `[...document.querySelectorAll("[data-testid=listener]")].map((e) => e.dataset.userId)`)
	if len(names) != 5 || names[4] == names[3] {
		t.Fatalf("the audience shows %q", names)
	}
}
