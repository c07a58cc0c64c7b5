package server_test

import (
	"net"
	"testing"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/config"
)

// from makes c come from addr, through the trusted proxy the test server has on
// loopback.
func from(c *client.Client, addr string) *client.Client { return c.WithHeader("X-Forwarded-For", addr) }

// behindProxy makes the test server trust loopback as its reverse proxy, so that a
// client names its address in X-Forwarded-For.
func behindProxy(c *config.Config) {
	_, lo, _ := net.ParseCIDR("127.0.0.1/32")
	c.TrustedProxies = []*net.IPNet{lo}
}

// TestGuestRemoval checks that a removal holds against guests: whoever was removed,
// a guest or a signed-in user, cannot come back to the room as a guest from the
// same browser or the same address, and that moderators can close the room to
// guests mid-room.
func TestGuestRemoval(t *testing.T) {
	ts := startServer(t, "sqlite", withConfig(behindProxy))
	ada, bob := ts.admin, ts.user("bob")
	rm := createRoom(t, ada, client.RoomSpec{Title: "Open house", Type: "open", AllowGuests: true})
	as := join(t, ada, rm.ID)

	t.Run("a removed guest cannot come back with the same browser", func(t *testing.T) {
		browser := from(ts.guest(), "10.0.0.1")
		g := openRoom(t, browser, "a guest", rm.ID)
		gid := g.welcome.You.ID
		as.do(t, "remove", map[string]any{"target": gid})
		if bye, _ := g.ended(t); bye != "removed" {
			t.Fatalf("the removed guest's bye is %q", bye)
		}
		_, err := tryRoom(t, browser, "the guest again", rm.ID)
		wantCode(t, "the removed guest's browser", err, "removed_from_room")
		_, err = tryRoom(t, from(browser, "10.0.0.2"), "the guest from elsewhere", rm.ID)
		wantCode(t, "the removed guest's browser from another address", err, "removed_from_room")
	})

	t.Run("a removed guest cannot come back from the same address with cleared cookies", func(t *testing.T) {
		browser := from(ts.guest(), "10.0.0.3")
		g := openRoom(t, browser, "a guest", rm.ID)
		as.do(t, "remove", map[string]any{"target": g.welcome.You.ID})
		g.ended(t)
		_, err := tryRoom(t, from(ts.guest(), "10.0.0.3"), "a fresh browser", rm.ID)
		wantCode(t, "a fresh browser from the removed guest's address", err, "removed_from_room")
	})

	t.Run("a removed user cannot come back as a guest after signing out", func(t *testing.T) {
		device := from(ts.login(bob).Client, "10.0.0.4")
		bs := openRoom(t, device, "bob", rm.ID)
		as.do(t, "remove", map[string]any{"target": bob.ID})
		bs.ended(t)
		if err := device.Logout(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		signedOut := device.WithToken("") // the same browser, its identity kept
		_, err := tryRoom(t, from(signedOut, "10.0.0.5"), "bob as a guest", rm.ID)
		wantCode(t, "bob's browser as a guest", err, "removed_from_room")
		fresh := from(ts.guest(), "10.0.0.4")
		_, err = tryRoom(t, fresh, "a guest from bob's address", rm.ID)
		wantCode(t, "a guest from bob's address", err, "removed_from_room")
	})

	t.Run("others still come in as guests", func(t *testing.T) {
		openRoom(t, from(ts.guest(), "10.0.0.9"), "an unrelated guest", rm.ID)
	})

	t.Run("moderators close the room to guests and open it again", func(t *testing.T) {
		stays := openRoom(t, from(ts.guest(), "10.0.1.1"), "a guest who stays", rm.ID)
		as.do(t, "set_guests", map[string]any{"allowed": false})
		if d := dataOf(stays.event(t, "guests_changed", "")); d.By != ada.ID {
			t.Fatalf("guests_changed by %q", d.By)
		}
		_, err := tryRoom(t, from(ts.guest(), "10.0.1.2"), "a new guest", rm.ID)
		wantStatus(t, "a new guest while closed", err, 403, "forbidden")
		if st := stays.snapshot(t); st.AllowGuests {
			t.Fatal("the snapshot still says guests are allowed")
		}
		join(t, ts.user("eve"), rm.ID) // signed-in users still come in
		as.do(t, "set_guests", map[string]any{"allowed": true})
		openRoom(t, from(ts.guest(), "10.0.1.2"), "a new guest after reopening", rm.ID)
	})

	t.Run("a listener cannot close the room to guests", func(t *testing.T) {
		cyd := ts.user("cyd")
		cs := join(t, cyd, rm.ID)
		cs.refused(t, "set_guests", map[string]any{"allowed": false}, "forbidden")
	})
}

// TestGuestCaps checks the caps on guests: per address and room, per address over
// all rooms, and per room.
func TestGuestCaps(t *testing.T) {
	ts := startServer(t, "sqlite", withConfig(func(c *config.Config) {
		behindProxy(c)
		c.MaxGuestsPerIPRoom, c.MaxGuestsPerIP, c.MaxGuestsPerRoom = 2, 3, 4
	}))
	hosts := ts.users("hosta", "hostb", "hostc")
	rooms := make([]string, len(hosts))
	for i, h := range hosts {
		rooms[i] = createRoom(t, h, client.RoomSpec{Title: "Caps", Type: "open", AllowGuests: true}).ID
		join(t, h, rooms[i])
	}
	a, b, c := rooms[0], rooms[1], rooms[2]
	guestFrom := func(addr, roomID string) (*sock, error) {
		return tryRoom(t, from(ts.guest(), addr), "a guest from "+addr, roomID)
	}
	mustGuest := func(addr, roomID string) *sock {
		t.Helper()
		s, err := guestFrom(addr, roomID)
		if err != nil {
			t.Fatalf("a guest from %s: %v", addr, err)
		}
		return s
	}

	first := mustGuest("10.0.0.1", a)
	mustGuest("10.0.0.1", a)
	t.Run("an address at its cap in one room gets no more guests in", func(t *testing.T) {
		_, err := guestFrom("10.0.0.1", a)
		wantCode(t, "a third guest from one address", err, "room_full")
	})
	t.Run("an address at its cap in one room still gets guests into another", func(t *testing.T) {
		mustGuest("10.0.0.1", b)
	})
	t.Run("an address at its cap over all rooms gets no more guest connections", func(t *testing.T) {
		_, err := guestFrom("10.0.0.1", c)
		wantStatus(t, "a fourth guest connection from one address", err, 429, "rate_limited")
	})
	mustGuest("10.0.0.2", a)
	mustGuest("10.0.0.3", a)
	t.Run("a room at its guest cap takes no more guests", func(t *testing.T) {
		_, err := guestFrom("10.0.0.4", a)
		wantCode(t, "a fifth guest in a room of four", err, "room_full")
	})
	t.Run("a room at its guest cap still takes signed-in users", func(t *testing.T) {
		join(t, ts.user("dora"), a)
	})
	t.Run("a guest who leaves makes room for another", func(t *testing.T) {
		first.do(t, "leave", nil)
		first.ended(t)
		eventually(t, "a guest getting in after one left", func() bool {
			s, err := guestFrom("10.0.0.4", a)
			if err == nil {
				s.Close()
			}
			return err == nil
		})
	})
}
