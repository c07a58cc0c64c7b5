package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// portrait is a JPEG of a face-sized blob of colour c on a lighter ground, as a
// photo would be: w×h, the blob in its middle.
func portrait(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			dx, dy := float64(x-w/2)/float64(w), float64(y-h/2)/float64(h)
			px := color.RGBA{uint8(200 + y*40/h), uint8(190 + x*40/w), 170, 255}
			if dx*dx+dy*dy < 0.06 {
				px = c
			}
			img.Set(x, y, px)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// setPhoto uploads a photo for u through the API.
func (ts *testServer) setPhoto(t *testing.T, u *apiUser, data []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "PUT", ts.url+"/api/v1/me/photo", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("uploading %s's photo: %d", u.Name, res.StatusCode)
	}
}

// dark switches the page's prefers-color-scheme (true: dark, false: light).
func (p *page) dark(on bool) {
	p.t.Helper()
	scheme := "light"
	if on {
		scheme = "dark"
	}
	p.do("emulating "+scheme, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	}))
}

// shots takes the screenshots of the page at 375 and 1280 px, light and dark.
func (p *page) shots(name string) map[string]string {
	p.t.Helper()
	out := map[string]string{}
	for _, dark := range []bool{false, true} {
		p.dark(dark)
		for _, w := range []int64{375, 1280} {
			h := int64(812)
			if w > 375 {
				h = 800
			}
			p.viewport(w, h)
			key := fmt.Sprintf("%s-%d", name, w)
			if dark {
				key += "-dark"
			}
			out[key] = p.screenshot(key)
		}
	}
	p.dark(false)
	return out
}

// TestPhotoUploadedShowsOnAnotherBrowsersTile: ada picks a photo in her
// settings; bob, in another browser, sees it on her tile on the stage, and on
// her card in his hallway. Screenshots of the room with photos.
func TestPhotoUploadedShowsOnAnotherBrowsersTile(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	adaAPI := ts.invite(t, admin, "ada")
	adaAPI.rename(t, "Ada Lovelace")
	bobAPI := ts.invite(t, admin, "bob")
	bobAPI.rename(t, "Bob Builder")
	file := filepath.Join(t.TempDir(), "ada.jpg")
	if err := os.WriteFile(file, portrait(t, 900, 700, color.RGBA{150, 70, 60, 255}), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	ada := b.user("ada", ts.url)
	ada.login("ada")
	ada.open("/settings")
	ada.do("choosing a photo", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=photo-input]`), []string{file}))
	ada.waitFor("the photo in the preview", `document.querySelector("[data-testid=photo-preview] img")?.naturalWidth === 512`)
	ada.waitFor("the photo in the header", `!!document.querySelector(".me-link img")`)

	bob := b.user("bob", ts.url)
	bob.login("bob")
	roomID := startRoomInUI(ada, "Faces of the analytical engine", "open", false)
	bob.waitFor("ada's photo on her card in the hallway", fmt.Sprintf(`(() => {
		const img = document.querySelector('[data-room-id=%q] .avatar-stack img');
		return img && img.complete && img.naturalWidth === 96;
	})()`, roomID))
	bob.click(fmt.Sprintf(`a[data-room-id=%q]`, roomID))
	tile := fmt.Sprintf(`.stage-grid [data-user-id=%q]`, adaAPI.ID)
	bob.waitFor("ada's photo on her tile", fmt.Sprintf(`(() => {
		const img = document.querySelector('%s img');
		return img && img.complete && img.naturalWidth === 256;
	})()`, tile))
	if n := eval[int](bob, fmt.Sprintf(`document.querySelectorAll('[data-user-id=%q] .avatar:not(.avatar-photo)').length`, bobAPI.ID)); n != 1 {
		t.Errorf("bob, without a photo, has %d initials avatars on his own tile, want 1", n)
	}

	// A fuller room for the screenshots: people with photos, people without.
	shades := []color.RGBA{{60, 110, 150, 255}, {170, 120, 40, 255}, {90, 140, 90, 255}}
	for i, n := range [][2]string{{"cyd", "Cyd Charisse"}, {"dee", "Dee Dee Ramone"}, {"eli", "Eli"}, {"fay", "Fay Wray"}, {"gus", "Gus"}} {
		u := ts.invite(t, admin, n[0])
		u.rename(t, n[1])
		if i < len(shades) {
			ts.setPhoto(t, u, portrait(t, 400, 400, shades[i]))
		}
		s, err := u.JoinRoom(context.Background(), roomID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}
	ada.waitFor("six listeners", `document.querySelector("[data-testid=listener-count]")?.textContent === "6 listeners"`)
	ada.waitFor("the photos loaded", `[...document.querySelectorAll(".room img")].length === 4 && [...document.querySelectorAll(".room img")].every((i) => i.complete && i.naturalWidth > 0)`)
	ada.shots("room-photos") // the README's room is TestRoomScreenshotsWithChatAndReactions's
}

// TestReportHandledFromAdmin: bob reports eve from her profile; the admin sees
// the report in /admin with what bob saw, disables eve and marks it handled; the
// audit log says so. Screenshots of /admin.
func TestReportHandledFromAdmin(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	admin.rename(t, "Ada Admin")
	ts.invite(t, admin, "bob")
	eve := ts.invite(t, admin, "eve")
	eve.rename(t, "Eve Spammer")
	ts.setPhoto(t, eve, portrait(t, 300, 300, color.RGBA{190, 60, 120, 255}))
	liveRoom(t, eve, "Cheap watches, best prices", "open")

	b := newBrowser(t)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/u/eve")
	bob.click(`[data-testid=report]`)
	bob.click(`[data-testid=report-form] input[value=spam]`)
	bob.fill("What happened? (optional)", "She pings everyone into her shop.")
	bob.clickText("Send report")
	bob.waitText("The admins will look at it")

	adm := b.user("admin", ts.url)
	adm.login("admin")
	adm.click(`[data-testid=admin-tab]`)
	adm.waitFor("the report", `document.querySelectorAll("[data-testid=reports] .report").length === 1`)
	adm.waitText("She pings everyone into her shop.")
	adm.waitText("Spam or scams")
	adm.waitFor("the live room", `document.querySelector("[data-testid=rooms]")?.textContent.includes("Cheap watches")`)
	shots := adm.shots("admin")
	if len(shots) != 4 {
		t.Fatalf("%d screenshots", len(shots))
	}

	adm.clickText("Disable @eve")
	adm.clickText("Really disable @eve? They are signed out at once.")
	adm.waitFor("eve disabled", `document.querySelector("[data-testid=reports]")?.textContent.includes("@eve is disabled")`)
	adm.fill("What you did", "Disabled: a shop, not a person.")
	adm.click(`[data-testid=resolve]`)
	adm.waitFor("the queue empty", `document.querySelector("[data-testid=reports]")?.textContent.includes("No open reports")`)
	adm.waitFor("the audit log", `(() => {
		const t = document.querySelector("[data-testid=audit]")?.textContent || "";
		return t.includes("handled the report") && t.includes("disabled") && t.includes("Disabled: a shop");
	})()`)
	// Eve's room went with her sessions: she is off its stage, and nobody is left on it.
	adm.waitFor("no live room left", `document.querySelector("[data-testid=rooms]")?.textContent.includes("No live rooms")`)
}

// TestPasswordChangeSignsTheOtherSessionOut: ada is signed in in two browsers;
// she changes her password in one, and the other is signed out at once.
func TestPasswordChangeSignsTheOtherSessionOut(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	ts.invite(t, admin, "ada")
	b := newBrowser(t)
	phone := b.user("ada on her phone", ts.url)
	phone.login("ada")
	laptop := b.user("ada on her laptop", ts.url)
	laptop.login("ada")
	laptop.open("/settings")
	laptop.waitFor("three devices (the sign-up through the API is one)", `document.querySelectorAll("[data-testid=sessions] .session-row").length === 3`)
	laptop.fill("Current password", password)
	laptop.fill("New password", "a much better password")
	laptop.clickText("Change password")
	laptop.waitText("Your other devices were signed out")
	phone.waitFor("the phone signed out", `location.pathname === "/login"`)
	phone.waitText("You were signed out")
	laptop.waitFor("one device left", `document.querySelectorAll("[data-testid=sessions] .session-row").length === 1`)
	again := b.user("ada on her phone, again", ts.url)
	again.open("/login")
	again.fill("Username", "ada")
	again.fill("Password", "a much better password")
	again.clickText("Log in")
	again.waitFor("the hallway", `location.pathname === "/" && !!document.querySelector(".hallway")`)
}

// TestPolishFoundByTryingIt: the small things issue 17 lists, each seen as a
// person sees it.
func TestPolishFoundByTryingIt(t *testing.T) {
	ts := startServer(t)
	admin := ts.admin(t)
	bobAPI := ts.invite(t, admin, "bob")
	bobAPI.rename(t, "Bartholomew Maximilian Fitzgerald-Worthington III")
	b := newBrowser(t)
	p := b.user("admin", ts.url)
	p.login("admin")

	t.Run("an unknown URL shows the app's own page, with 404", func(t *testing.T) {
		res, err := http.Get(ts.url + "/no/such/page")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		p.open("/no/such/page")
		p.waitText("This page does not exist.")
	})
	t.Run("the title counts characters as the API does, and says the limit", func(t *testing.T) {
		p.open("/")
		p.clickText("Start a room")
		p.fill("What do you want to talk about?", "🎷🎺🎸")
		p.waitFor("a count of 3", `document.querySelector(".start-form .counter")?.textContent === "3 / 80"`)
		if n := eval[int](p, `document.querySelector(".start-form input[name=title]").maxLength`); n != -1 {
			t.Errorf("the title field still cuts at %d UTF-16 units", n)
		}
		p.fill("What do you want to talk about?", string(bytes.Repeat([]byte("a"), 81)))
		p.waitFor("the limit said", `document.querySelector(".start-form input[name=title]").validationMessage === "At most 80 characters: this is 81."`)
		if !eval[bool](p, `!!document.querySelector(".start-form textarea[name=description]")`) {
			t.Error("the start form has no description")
		}
	})
	t.Run("a too short username gets the rule in words", func(t *testing.T) {
		guest := b.user("stranger", ts.url)
		inv, err := admin.CreateInvite(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		guest.open("/join/" + inv.Code)
		guest.fill("Username", "al")
		guest.fill("Password", password)
		guest.clickText("Join townhall")
		guest.waitFor("the rule", `document.activeElement?.name === "username" &&
			document.activeElement.validationMessage === "A username has at least 3 characters: letters, digits or _."`)
	})
	t.Run("a long name in a tile takes two lines at most, and a raised hand's avatar stays round", func(t *testing.T) {
		roomID := startRoomInUI(p, "Names", "open", false)
		s, err := bobAPI.JoinRoom(context.Background(), roomID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Command(context.Background(), "raise_hand", nil); err != nil {
			t.Fatal(err)
		}
		p.viewport(375, 812)
		p.waitFor("bob's hand", `document.querySelectorAll(".hands .hand-row").length === 1`)
		lines := eval[float64](p, `(() => { const e = document.querySelector("[data-testid=listener] .person-name-text");
			return e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight); })()`)
		if lines > 2.1 {
			t.Errorf("the long name takes %.1f lines", lines)
		}
		w := eval[float64](p, `document.querySelector(".hand-row .avatar").getBoundingClientRect().width`)
		h := eval[float64](p, `document.querySelector(".hand-row .avatar").getBoundingClientRect().height`)
		if w != h {
			t.Errorf("the raised hand's avatar is %.0f×%.0f", w, h)
		}
		p.viewport(1280, 800)
	})
	t.Run("live rooms are found by search", func(t *testing.T) {
		p.open("/search?q=nam")
		p.fill("Search people, clubs and events", "names")
		p.waitFor("the room", `!!document.querySelector("[data-testid=search-rooms]")`)
	})
	t.Run("a toast shows above an open sheet and goes with its page", func(t *testing.T) {
		p.open("/")
		p.waitFor("the room in the hallway", `!!document.querySelector(".room-card")`)
		p.click(".room-card")
		p.click(`[aria-label='Room settings']`)
		p.click(`dialog[open] input[value=followed_by_speakers]`)
		p.waitFor("the toast on top of the sheet", `(() => {
			const t = [...document.querySelectorAll(".toast")].find((e) => e.textContent.includes("Hand settings saved"));
			if (!t || !document.querySelector("dialog[open]")) return false;
			const r = t.getBoundingClientRect();
			return t.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
		})()`)
		p.click(`dialog[open] .sheet-head button`)
		p.waitFor("the toast a second old", `Date.now() - Number(document.querySelector(".toast")?.dataset.at || 0) > 1100`)
		p.click(`a.tab[href="/events"]`)
		p.waitFor("the events page, without the room's toast", `location.pathname === "/events" && !document.querySelector(".toast")`)
	})
}
