package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
)

// joinAnswer is the join API's answer (internal/api/cluster.go).
type joinAnswer struct {
	Node      string `json:"node"`
	SocketURL string `json:"socket_url"`
}

// TestRoomPageJoinsThroughTheJoinAPI: the room page asks the join API where the
// room runs and opens the socket it names (in a cluster, the node that runs the
// room); a guest asks as a guest.
func TestRoomPageJoinsThroughTheJoinAPI(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	roomID := liveRoom(t, admin, "Where does this room run?", "open")
	b := newBrowser(t)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	from := bob.net.mark()
	bob.click(`[data-testid=join]`)
	bob.waitFor("the room", `!!document.querySelector("[data-testid=hand]")`)

	// The server's answer to the same question, asked by bob's API client.
	var want joinAnswer
	if err := bobAPI.Do(context.Background(), "POST", "/api/v1/rooms/"+roomID+"/join", nil, &want); err != nil {
		t.Fatal(err)
	}
	if want.SocketURL == "" || want.Node == "" {
		t.Fatalf("the join API answered %+v", want)
	}
	seen, _ := bob.net.since(from)
	js := joins(seen, roomID)
	if len(js) != 1 || js[0].Status != 200 || strings.Contains(js[0].URL, "guest=1") {
		t.Fatalf("the page's join API calls: %v; want one POST, answered 200\nall: %v", js, seen)
	}
	roomSocks := sockets(seen, "/api/v1/rooms/"+roomID+"/socket")
	if len(roomSocks) != 1 || roomSocks[0].URL != want.SocketURL {
		t.Fatalf("the page opened the room sockets %v; want one at %s", roomSocks, want.SocketURL)
	}
	opened := firstOf(seen, func(e netEntry) bool { return e.Socket && e.URL == want.SocketURL })
	asked := firstOf(seen, func(e netEntry) bool { return len(joins([]netEntry{e}, roomID)) == 1 })
	if opened < asked {
		t.Fatalf("the room socket was opened before the join API was asked: %v", seen)
	}

	// A guest asks as a guest, and gets a guest's socket.
	guestRoom := guestRoomOf(t, ts, admin)
	guest := b.user("guest", ts.url)
	guest.open("/rooms/" + guestRoom)
	from = guest.net.mark()
	guest.clickText("Listen as a guest")
	guest.waitText("You are listening as a guest")
	seen, _ = guest.net.since(from)
	js = joins(seen, guestRoom)
	if len(js) != 1 || !strings.HasSuffix(js[0].URL, "/join?guest=1") || js[0].Status != 200 {
		t.Fatalf("the guest's join API calls: %v; want one POST ...?guest=1, answered 200", js)
	}
	if gs := sockets(seen, "/api/v1/rooms/"+guestRoom+"/socket?guest=1"); len(gs) != 1 {
		t.Fatalf("the guest's sockets: %v; want one guest socket", sockets(seen, ""))
	}
}

// guestRoomOf starts a room that takes guests, with carol (a new user) on its
// stage: the admin is in another room already.
func guestRoomOf(t *testing.T, ts *testServer, admin *apiUser) string {
	t.Helper()
	ctx := context.Background()
	carol := ts.invite(t, admin, "carol")
	r, err := carol.CreateRoom(ctx, client.RoomSpec{Title: "Open to all", Type: "open", AllowGuests: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := carol.JoinRoom(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return r.ID
}

// firstOf is the index of the first entry that ok accepts, or len(entries).
func firstOf(entries []netEntry, ok func(netEntry) bool) int {
	for i, e := range entries {
		if ok(e) {
			return i
		}
	}
	return len(entries)
}

// TestEndedSessionSignsTheRoomPageOut: when the session of the page ends on the
// server (here bob signs it out from another device, DELETE /api/v1/sessions/{id}),
// the room page says so within a second, with a link to log in that leads back
// to the room, and tries no reconnection.
func TestEndedSessionSignsTheRoomPageOut(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	roomID := liveRoom(t, admin, "Mind your sessions", "open")
	b := newBrowser(t)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	bob.click(`[data-testid=join]`)
	bob.waitFor("the room", `!!document.querySelector("[data-testid=hand]")`)
	if n := len(sockets(mustSince(bob, 0), "/api/v1/socket")); n == 0 {
		t.Fatal("the page has no user socket")
	}

	// Bob's other device (his API client) signs out the browser's session.
	list, err := bobAPI.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	from := bob.net.mark()
	revoked := 0
	for _, s := range list {
		if s.Current {
			continue
		}
		if err := bobAPI.RevokeSession(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		revoked++
	}
	if revoked != 1 {
		t.Fatalf("bob has %d other sessions; want the browser's alone", revoked)
	}
	start := time.Now()
	bob.waitFor("the signed-out text", `document.querySelector("[data-testid=room-over]")?.textContent === "You were signed out (this session ended). Log in again to rejoin."`)
	if d := time.Since(start); d > time.Second {
		t.Errorf("the page said it was signed out %s after the session ended; want within a second", d.Round(time.Millisecond))
	}
	if path := eval[string](bob, `location.pathname`); path != "/rooms/"+roomID {
		t.Errorf("the page went to %s; want it to stay on the room and say why", path)
	}
	href := eval[string](bob, `document.querySelector("[data-testid=login-again]")?.getAttribute("href") || ""`)
	if want := "/login?next=%2Frooms%2F" + roomID; href != want {
		t.Errorf("the log-in link is %q; want %q", href, want)
	}
	admin.waitRoom(t, roomID, "bob gone from the room at once (no grace window)", func(r roomInfo) bool { return r.ListenerCount == 0 })

	// No reconnection: the page asks nothing of the join API and opens no socket.
	// Proving an absence takes waiting: 2 s is more than the longest first
	// retry of either socket (750 ms), and a "moved" would reconnect at once.
	eval[bool](bob, `new Promise((r) => setTimeout(() => r(true), 2000))`)
	after := mustSince(bob, from)
	if js, socks := joins(after, roomID), sockets(after, ""); len(js) > 0 || len(socks) > 0 {
		t.Errorf("after the session ended the page called the join API %v and opened the sockets %v", js, socks)
	}

	// The link logs in and leads back to the room.
	bob.click(`[data-testid=login-again]`)
	bob.waitFor("the login page", `location.pathname === "/login"`)
	bob.fill("Username", "bob")
	bob.fill("Password", password)
	bob.clickText("Log in")
	bob.waitFor("the room again", fmt.Sprintf(`location.pathname === "/rooms/%s" && !!document.querySelector("[data-testid=join]")`, roomID))
}

// TestDroppedSocketShowsReconnectingAndCarriesOn: when the connection drops (a
// real one: the TCP relay between the browser and the server closes every
// connection and refuses new ones, as a dead node or a lost network does), the
// room page says "Reconnecting…", keeps asking the join API with backoff, and
// once the network is back it carries on in its place: its raised hand reaches
// the moderator.
func TestDroppedSocketShowsReconnectingAndCarriesOn(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	link := newProxy(t, strings.TrimPrefix(ts.url, "http://")) // bob's network
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Flaky wifi", "open", false)
	bob := b.user("bob", link.url())
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	bob.click(`[data-testid=join]`)
	bob.waitFor("the room", `!!document.querySelector("[data-testid=hand]")`)
	mod.waitFor("bob listening", `document.querySelector("[data-testid=listener-count]")?.textContent === "1 listener"`)

	from := bob.net.mark()
	link.setDown(true)
	bob.waitFor("Reconnecting…", `document.querySelector("[data-testid=reconnecting-label]")?.textContent === "Reconnecting…"`)
	// While the network is down, the page keeps asking the join API, which
	// cannot answer.
	checkFor(t, patience, 50*time.Millisecond, func() error {
		for _, e := range joins(mustSince(bob, from), roomID) {
			if e.Failed {
				return nil
			}
		}
		return fmt.Errorf("no failed join API call yet")
	})
	back := bob.net.mark()
	link.setDown(false)
	bob.waitFor("the banner gone", `!document.querySelector("[data-testid=reconnecting]") && !!document.querySelector("[data-testid=hand]")`)
	seen := mustSince(bob, back)
	var answered bool
	for _, e := range joins(seen, roomID) {
		answered = answered || e.Status == 200
	}
	if !answered || len(sockets(seen, "/api/v1/rooms/"+roomID+"/socket")) == 0 {
		t.Errorf("the page came back without the join API: %v", seen)
	}

	// It carries on: same place, and the moderator sees its raised hand.
	bob.click(`[data-testid=hand]`)
	bob.waitFor("the hand up", `document.querySelector("[data-testid=hand]")?.getAttribute("aria-pressed") === "true"`)
	mod.waitFor("bob's raised hand", `document.querySelectorAll(".hands .hand-row").length === 1`)
	if n := eval[string](mod, `document.querySelector("[data-testid=listener-count]")?.textContent`); n != "1 listener" {
		t.Errorf("the moderator sees %q; want bob, once", n)
	}
}

// mustSince returns what the tab sent since mark.
func mustSince(p *page, mark int) []netEntry {
	e, _ := p.net.since(mark)
	return e
}

// checkFor calls f every `every` until it returns nil, failing the test with
// f's last error after total.
func checkFor(t *testing.T, total, every time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		<-tick.C
	}
}

// roomInfo is what GET /api/v1/rooms/{id} says of a room.
type roomInfo struct {
	State         string `json:"state"`
	ListenerCount int    `json:"listener_count"`
}

// waitRoom waits until the room, as the API shows it to u, satisfies ok.
func (u *apiUser) waitRoom(t *testing.T, roomID, what string, ok func(roomInfo) bool) {
	t.Helper()
	var last roomInfo
	checkFor(t, patience, 50*time.Millisecond, func() error {
		if err := u.Do(context.Background(), "GET", "/api/v1/rooms/"+roomID, nil, &last); err != nil {
			return err
		}
		if !ok(last) {
			return fmt.Errorf("waiting for %s: the room is %+v", what, last)
		}
		return nil
	})
}
