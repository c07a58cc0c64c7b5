package web_test

import (
	"testing"

	"github.com/townhall/townhall/internal/audiotest"
)

// TestLiveCaptionsShowWithCC: a host speaks (the fake microphone plays
// espeak-ng speech) and turns live captions on in the room's settings; a
// listener sees the CC button appear, turns it on, and reads captions in the
// host's name while the host speaks. Screenshots of the room with captions.
func TestLiveCaptionsShowWithCC(t *testing.T) {
	audiotest.Tools(t, "espeak-ng", "ffmpeg", "pocketsphinx_continuous")
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	b := newBrowser(t, fakeMic(t))
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Read along", "open", false)
	mod.speak()

	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	bob.click(`[data-testid=join]`)
	bob.waitFor("in the room", `!!document.querySelector("[data-testid=hand]")`)
	if eval[bool](bob, `!!document.querySelector("[data-testid=cc]")`) {
		t.Error("a CC button while live captions are off")
	}

	mod.click(`[aria-label="Room settings"]`)
	mod.click(`[data-testid=set-live-captions]`)
	mod.click(`.sheet [aria-label=Close]`)
	bob.waitFor("the CC button", `!!document.querySelector("[data-testid=cc]")`)
	bob.click(`[data-testid=cc]`)
	bob.waitFor("CC on", `document.querySelector("[data-testid=cc]").getAttribute("aria-pressed") === "true" && !document.querySelector("[data-testid=captions]").hidden`)
	bob.waitFor("a caption in the host's name", `[...document.querySelectorAll("[data-testid=caption-line]")].some((l) => l.textContent.startsWith("admin: ") && l.textContent.length > 9)`)
	t.Logf("bob reads: %s", eval[string](bob, `document.querySelector("[data-testid=captions]").innerText`))
	bob.shots("live-captions")
	bob.click(`[data-testid=cc]`)
	bob.waitFor("the captions hidden", `document.querySelector("[data-testid=captions]").hidden`)
}
