package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/townhall/townhall/internal/config"
)

// speechWAV makes a WAV file of text spoken by espeak-ng, for Chromium's fake
// microphone (speech goes through Chromium's audio processing better than a
// steady tone). Without espeak-ng the test skips, and fails under CI=true.
func speechWAV(t *testing.T, text string) string {
	t.Helper()
	exe, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("espeak-ng is not installed (apt-get install -y espeak-ng); CI needs it for the audio tests")
		}
		t.Skip("espeak-ng is not installed; skipping the audio test (apt-get install -y espeak-ng)")
	}
	path := filepath.Join(t.TempDir(), "speech.wav")
	if out, err := exec.Command(exe, "-w", path, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	return path
}

// fakeMic is the flag that feeds Chromium's fake microphone with a speech file.
func fakeMic(t *testing.T) chromedp.ExecAllocatorOption {
	t.Helper()
	wav := speechWAV(t, "Good evening everyone, and welcome to the town hall. "+
		"Tonight we talk about the new library, the bus lines, and the summer fair. "+
		"Please raise your hand if you would like to speak.")
	return chromedp.Flag("use-file-for-fake-audio-capture", wav)
}

// micSpy counts the page's calls to getUserMedia in window.__gumCalls, in every
// document the tab loads from now on. With reject set, every call fails as
// when the user blocks the microphone.
const micSpy = `(() => {
	const md = navigator.mediaDevices;
	if (!md || window.__gumCalls !== undefined) return;
	window.__gumCalls = 0;
	const real = md.getUserMedia.bind(md);
	md.getUserMedia = (c) => {
		window.__gumCalls++;
		if (%t) return Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
		return real(c);
	};
})()`

// spyOnMic installs micSpy in p's tab; call it before the first page load.
func (p *page) spyOnMic(reject bool) {
	p.t.Helper()
	src := fmt.Sprintf(micSpy, reject)
	p.do("installing the microphone spy", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
}

// audioStats is what window.__townhall.audioStats() says (audio.js).
type audioStats struct {
	Status string `json:"status"`
	Mic    struct {
		Granted bool   `json:"granted"`
		Enabled bool   `json:"enabled"`
		Error   string `json:"error"`
	} `json:"mic"`
	Inbound []struct {
		Mid              string  `json:"mid"`
		BytesReceived    float64 `json:"bytesReceived"`
		PacketsReceived  float64 `json:"packetsReceived"`
		TotalAudioEnergy float64 `json:"totalAudioEnergy"`
		AudioLevel       float64 `json:"audioLevel"`
	} `json:"inbound"`
	Outbound []struct {
		Mid       string  `json:"mid"`
		BytesSent float64 `json:"bytesSent"`
	} `json:"outbound"`
}

// received sums the bytes and the audio energy of every received slot.
func (s audioStats) received() (bytes, energy float64) {
	for _, in := range s.Inbound {
		bytes += in.BytesReceived
		energy += in.TotalAudioEnergy
	}
	return bytes, energy
}

// stats reads the page's audio statistics.
func (p *page) stats() audioStats {
	p.t.Helper()
	raw := eval[string](p, `window.__townhall.audioStats().then((s) => JSON.stringify(s))`)
	var s audioStats
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		p.t.Fatalf("%s: audio stats %q: %v", p.name, raw, err)
	}
	return s
}

// waitHearing waits until p receives audio with energy in it: bytes arriving
// and totalAudioEnergy growing (which needs a playing <audio> element). It
// returns the last sample.
func (p *page) waitHearing(what string) audioStats {
	p.t.Helper()
	deadline := time.Now().Add(2 * patience)
	first := p.stats()
	b0, e0 := first.received()
	for {
		s := p.stats()
		b, e := s.received()
		if b > b0 && e > e0 && e > 0 {
			p.t.Logf("%s hears %s: %.0f bytes, energy %.4f", p.name, what, b, e)
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s does not hear %s: %+v (first %+v)", p.name, what, s, first)
		}
		p.waitFor("the next stats sample", `new Promise((r) => setTimeout(() => r(true), 250))`)
	}
}

// TestListenerHearsTheSpeakerOverHTTPS: (2) the admin starts a room and speaks
// into their (fake) microphone; a second user joins from the hallway and hears
// them: bytes and audio energy arrive in their browser, the speaking ring
// lights up and the screen reader is told who speaks. The listener's page never
// asks for the microphone. All of it over TLS with a certificate the test made,
// where the session cookie is Secure.
func TestListenerHearsTheSpeakerOverHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	ts := startServer(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	admin := tlsSignUp(t, ts, pool)
	b := newBrowser(t, fakeMic(t), chromedp.Flag("ignore-certificate-errors", true))

	mod := b.user("admin", ts.url)
	mod.spyOnMic(false)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Town hall, live", "open", false)
	mod.click(`[data-testid=mute]`) // unmute: speak
	mod.waitFor("unmuted", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-pressed") === "true"`)
	mod.waitFor("the microphone sending", `window.__townhall.audioStats().then((s) => s.mic.enabled && s.outbound.some((o) => o.bytesSent > 0))`)

	bob := b.user("bob", ts.url)
	bob.spyOnMic(false)
	bob.login("bob")
	if got := cookieSecure(bob, "townhall_session"); !got {
		t.Error("the session cookie over https is not Secure")
	}
	bob.waitFor("the room in the hallway", fmt.Sprintf(`!!document.querySelector('a[data-room-id=%q]')`, roomID))
	bob.click(fmt.Sprintf(`a[data-room-id=%q]`, roomID)) // one click joins
	bob.waitFor("the raise hand button", `!!document.querySelector("[data-testid=hand]")`)
	bob.waitFor("audio on", `document.querySelector("[data-testid=audio-status]")?.textContent === "Audio on"`)
	bob.waitHearing("the admin")
	bob.waitFor("the admin's speaking ring", fmt.Sprintf(`!!document.querySelector('.person.speaking[data-user-id=%q]')`, admin))
	bob.waitFor("the announcement", `document.getElementById("announcer").textContent === "admin is speaking"`)
	bob.viewport(375, 812)
	bob.screenshot("room-speaking-375")
	bob.viewport(1280, 800)
	if n := eval[int](bob, `window.__gumCalls`); n != 0 {
		t.Errorf("a listener's page called getUserMedia %d times", n)
	}
	if n := eval[int](mod, `window.__gumCalls`); n != 1 {
		t.Errorf("the speaker's page called getUserMedia %d times, want 1", n)
	}
}

// TestListenerOnStageIsHeardUntilMuted: (3) a listener raises their hand, the
// moderator invites them, they accept and unmute: the moderator hears them.
// The moderator mutes them, and the energy the moderator receives stops growing.
func TestListenerOnStageIsHeardUntilMuted(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	b := newBrowser(t, fakeMic(t))
	mod := b.user("admin", ts.url)
	mod.login("admin")
	roomID := startRoomInUI(mod, "Open floor", "open", false)

	bob := b.user("bob", ts.url)
	bob.spyOnMic(false)
	bob.login("bob")
	bob.open("/rooms/" + roomID)
	bob.click(`[data-testid=join]`)
	bob.click(`[data-testid=hand]`)
	bob.waitFor("the hand up", `document.querySelector("[data-testid=hand]")?.getAttribute("aria-pressed") === "true"`)
	if n := eval[int](bob, `window.__gumCalls`); n != 0 {
		t.Errorf("a listener's page called getUserMedia %d times", n)
	}

	mod.waitFor("the raised hand", `document.querySelectorAll(".hands .hand-row").length === 1`)
	mod.clickText("Invite to speak")
	bob.click(`[data-testid=accept-speak]`)
	bob.waitFor("bob on stage, muted", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-pressed") === "false"`)
	bob.click(`[data-testid=mute]`)
	bob.waitFor("unmuted", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-pressed") === "true"`)
	bob.waitFor("the microphone on", `window.__townhall.audioStats().then((s) => s.mic.granted && s.mic.enabled)`)
	if n := eval[int](bob, `window.__gumCalls`); n != 1 {
		t.Errorf("bob's page called getUserMedia %d times on stage, want 1", n)
	}

	mod.waitHearing("bob")
	mod.waitFor("bob's speaking ring", fmt.Sprintf(`!!document.querySelector('.person.speaking[data-user-id=%q]')`, bobAPI.ID))

	mod.menu(fmt.Sprintf(`.stage-grid [data-user-id=%q]`, bobAPI.ID), "Mute")
	bob.waitFor("muted", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-pressed") === "false"`)
	bob.waitFor("the track disabled", `window.__townhall.audioStats().then((s) => !s.mic.enabled)`)
	mod.waitFor("bob's ring off", fmt.Sprintf(`!document.querySelector('.person.speaking[data-user-id=%q]')`, bobAPI.ID))
	// What was in flight when the mute took effect may still be played out:
	// take the baseline a moment later, then watch the energy over two seconds.
	mod.waitFor("a moment", `new Promise((r) => setTimeout(() => r(true), 500))`)
	_, before := mod.stats().received()
	for i := 0; i < 4; i++ {
		mod.waitFor("the next stats sample", `new Promise((r) => setTimeout(() => r(true), 500))`)
		if _, e := mod.stats().received(); e-before > 1e-4 {
			t.Fatalf("the moderator still receives bob's voice after the mute: energy %.5f → %.5f", before, e)
		}
	}
}

// TestMicrophoneBlockedSaysSo: when the browser refuses the microphone, a user
// who goes on stage is told why and how to fix it, and stays in the room.
func TestMicrophoneBlockedSaysSo(t *testing.T) {
	ts := startServer(t)
	ts.admin(t)
	b := newBrowser(t)
	mod := b.user("admin", ts.url)
	mod.spyOnMic(true)
	mod.login("admin")
	startRoomInUI(mod, "No mic today", "open", false)
	mod.waitFor("the microphone error", `document.querySelector("[data-testid=mic-error]")?.textContent.includes("Microphone blocked")`)
	mod.waitFor("the mute button, off", `document.querySelector("[data-testid=mute]")?.getAttribute("aria-pressed") === "false"`)
	mod.clickText("Try again")
	mod.waitFor("a second request", `window.__gumCalls === 2`)
	mod.waitText("Microphone blocked")
	// Unmuting without a microphone is refused in words; the user stays muted.
	mod.click(`[data-testid=mute]`)
	mod.waitFor("a third request", `window.__gumCalls === 3`)
	mod.waitFor("the refusal", `[...document.querySelectorAll(".toast-error")].some((t) => t.textContent.includes("Microphone blocked"))`)
	if eval[string](mod, `document.querySelector("[data-testid=mute]").getAttribute("aria-pressed")`) != "false" {
		t.Error("unmuted without a microphone")
	}
}
