package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/townhall/townhall/internal/audiotest"
)

// replayEnergy measures, in the page, the energy of what the replay's <audio>
// element plays, through an analyser (Web Audio), into window.__replayEnergy.
const replayEnergy = `(() => {
	const a = document.querySelector("[data-testid=replay-audio]");
	if (!a || window.__replayEnergy !== undefined) return true;
	window.__replayEnergy = 0;
	const ctx = new AudioContext();
	const an = ctx.createAnalyser();
	ctx.createMediaElementSource(a).connect(an);
	an.connect(ctx.destination);
	const buf = new Float32Array(an.fftSize);
	setInterval(() => {
		an.getFloatTimeDomainData(buf);
		for (const v of buf) window.__replayEnergy += v * v;
	}, 50);
	return true;
})()`

// TestRecordedRoomIsAnnouncedAndItsReplayPlays: a host starts a recorded room
// from the form; the badge says so inside, a listener is told before joining
// and again before accepting to speak; when the room ends, its page plays the
// replay (the energy played grows) with its captions, seeks, and shows who
// spoke.
func TestRecordedRoomIsAnnouncedAndItsReplayPlays(t *testing.T) {
	audiotest.Tools(t, "ffmpeg", "pocketsphinx_continuous")
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	b := newBrowser(t, fakeMic(t))
	mod := b.user("admin", ts.url)
	mod.login("admin")
	mod.open("/")
	mod.clickText("Start a room")
	mod.fill("What do you want to talk about?", "On the record")
	mod.click(`[data-testid=record]`)
	mod.click(`input[name=allow_clips]`)
	mod.click(`input[name=captions]`)
	mod.clickText("Start the room")
	mod.waitFor("the creator on stage", `location.pathname.startsWith("/rooms/") && document.querySelectorAll(".stage-grid [data-testid=stage-person]").length === 1`)
	roomID := eval[string](mod, `location.pathname.split("/")[2]`)
	mod.waitFor("the recorded badge", `!!document.querySelector("[data-testid=recorded-badge]")`)
	mod.speak()

	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	bob.waitFor("the notice before joining", `!!document.querySelector("[data-testid=recorded-notice]") && !!document.querySelector("[data-testid=join]")`)
	bob.click(`[data-testid=join]`)
	bob.waitFor("the badge inside", `!!document.querySelector("[data-testid=recorded-badge]")`)
	bob.waitFor("the clip button", `!!document.querySelector("[data-testid=clip]")`)
	bob.waitHearing("the admin")
	bob.click(`[data-testid=clip]`)
	bob.waitFor("the clip's link", `!!document.querySelector("[data-testid=clip-link]")`)
	clipPath := eval[string](bob, `new URL(document.querySelector("[data-testid=clip-link]").href).pathname`)
	bob.click(`.sheet [aria-label=Close]`)
	bob.click(`[data-testid=hand]`)
	mod.waitFor("the raised hand", `document.querySelectorAll(".hands .hand-row").length === 1`)
	mod.clickText("Invite to speak")
	bob.waitFor("the notice before accepting to speak", `!!document.querySelector("[data-testid=recorded-speak-notice]") && !!document.querySelector("[data-testid=accept-speak]")`)
	bob.clickText("Not now")

	mod.click(`[aria-label="Room settings"]`)
	mod.clickText("End the room for everyone")
	mod.clickText("Really end it? Everyone will leave.")
	bob.waitFor("the room over", `!!document.querySelector("[data-testid=room-over]")`)

	// The replay is mixed when the room ends: until then the page says it is
	// being made.
	for i := 0; ; i++ {
		bob.open("/rooms/" + roomID)
		bob.waitFor("the replay's card", `!!document.querySelector("[data-testid=replay-audio], [data-testid=replay-state]")`)
		if eval[bool](bob, `!!document.querySelector("[data-testid=replay-audio]")`) {
			break
		}
		if i == 40 {
			t.Fatalf("no replay player on the ended room's page: %s", eval[string](bob, `document.getElementById("main").innerText`))
		}
		bob.waitFor("a moment", `new Promise((r) => setTimeout(() => r(true), 250))`)
	}
	bob.waitFor("the timeline naming the admin", `document.querySelector("[data-testid=replay-timeline]").textContent.includes("admin")`)
	bob.waitFor("the replay's length", `document.querySelector("[data-testid=replay-audio]").duration > 1`)
	bob.waitFor("the analyser", replayEnergy)
	bob.waitFor("playing", `document.querySelector("[data-testid=replay-audio]").play().then(() => true)`)
	bob.waitFor("energy played", `window.__replayEnergy > 0.01`)
	bob.waitFor("a caption in the admin's name", `document.querySelector("[data-testid=replay-audio-caption]").textContent.startsWith("admin: ")`)
	bob.waitFor("a seek", `(() => { const a = document.querySelector("[data-testid=replay-audio]"); a.currentTime = 0.5; return true; })()`)
	bob.waitFor("the position after the seek", `(() => { const a = document.querySelector("[data-testid=replay-audio]"); return a.currentTime >= 0.5 && a.currentTime < a.duration; })()`)
	t.Logf("replay played: energy %.3f, %s", eval[float64](bob, `window.__replayEnergy`),
		fmt.Sprint(eval[float64](bob, `document.querySelector("[data-testid=replay-audio]").duration`), " s"))

	// The clip's own page plays it.
	bob.open(clipPath)
	bob.waitFor("the clip's player", `document.querySelector("[data-testid=clip-audio]")?.duration > 0.5`)
	bob.waitFor("the clip's analyser", strings.ReplaceAll(replayEnergy, "replay-audio", "clip-audio"))
	bob.waitFor("the clip playing", `document.querySelector("[data-testid=clip-audio]").play().then(() => true)`)
	bob.waitFor("energy played from the clip", `window.__replayEnergy > 0.01`)
}

// TestRecordingTurnedOnMidRoomIsShownToEveryone: a moderator turns recording on
// from the room's settings; a listener already there sees the badge appear and is
// told; turned off, the badge goes.
func TestRecordingTurnedOnMidRoomIsShownToEveryone(t *testing.T) {
	audiotest.Tools(t, "ffmpeg")
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "bob")
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Not recorded yet", "open", false)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	if eval[bool](bob, `!!document.querySelector("[data-testid=recorded-notice]")`) {
		t.Error("a room not recorded says it is")
	}
	bob.click(`[data-testid=join]`)
	bob.waitFor("in the room", `!!document.querySelector("[data-testid=hand]")`)

	mod.click(`[aria-label="Room settings"]`)
	mod.click(`[data-testid=set-recording]`)
	bob.waitFor("the badge", `!!document.querySelector("[data-testid=recorded-badge]")`)
	bob.waitText("Recording started: this room is now recorded for a replay.")
	mod.click(`[data-testid=set-recording]`)
	bob.waitFor("the badge gone", `!document.querySelector("[data-testid=recorded-badge]")`)
}
