package web_test

import (
	"testing"
	"time"

	"github.com/townhall/townhall/internal/config"
)

// TestListenerHearsJoinedPackets: with --listener-ptime 40ms the server sends a
// listener two 20 ms Opus frames to a packet (code 3, RFC 6716 §3.2.5), with no
// change to the SDP. Chromium decodes them: the energy it plays grows, at about
// 25 packets a second rather than 50.
func TestListenerHearsJoinedPackets(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.ListenerPtime = 40 * time.Millisecond })
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	b := newBrowser(t, fakeMic(t))
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Long packets", "open", false)
	mod.speak()

	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	bob.click(`[data-testid=join]`)
	bob.waitFor("audio on", `document.querySelector("[data-testid=audio-status]")?.textContent === "Audio on"`)
	first := bob.waitHearing("the admin")
	start := time.Now()
	bob.waitFor("two seconds", `new Promise((r) => setTimeout(() => r(true), 2000))`)
	last := bob.stats()
	elapsed := time.Since(start).Seconds()
	var packets float64
	for _, in := range last.Inbound {
		packets += in.PacketsReceived
	}
	for _, in := range first.Inbound {
		packets -= in.PacketsReceived
	}
	_, e0 := first.received()
	_, e1 := last.received()
	t.Logf("bob received %.0f packets in %.1f s (%.0f/s); energy %.4f → %.4f", packets, elapsed, packets/elapsed, e0, e1)
	if e1 <= e0 {
		t.Errorf("the energy bob plays did not grow: %.4f → %.4f", e0, e1)
	}
	if rate := packets / elapsed; rate < 15 || rate > 35 {
		t.Errorf("bob received %.0f packets a second, want about 25 (40 ms each)", rate)
	}
}
