package server_test

import (
	"bytes"
	"context"
	"html"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/preview"
)

var metaTag = regexp.MustCompile(`<meta (?:property|name)="([^"]+)" content="([^"]*)">`)

// fetch GETs url without cookies and returns its status and body.
func fetch(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestSharedLinksUnfold: each shareable page, fetched without cookies as a link
// unfurler does, carries Open Graph and Twitter card tags whose image is a
// 1200×630 PNG drawn by the server; a closed room and a private invitation get
// the generic card and tags, which say nothing of them.
func TestSharedLinksUnfold(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := context.Background()
	ada, bob := ts.user("ada"), ts.user("bob")
	if err := ada.Do(ctx, "PATCH", "/api/v1/me", map[string]string{"display_name": "Ada Lovelace"}, nil); err != nil {
		t.Fatal(err)
	}
	open := createRoom(t, ada, client.RoomSpec{Title: "The future of libraries", Type: "open", AllowGuests: true}).ID
	join(t, ada, open)
	closed := createRoom(t, bob, client.RoomSpec{Title: "Secret plans", Description: "hush", Type: "closed"}).ID
	join(t, bob, closed)
	public := inviteByLink(t, ada, open, "Jane Doe", "Would you talk with me?", true)
	private := inviteByLink(t, ada, open, "Sam Secret", "a private word", false)
	var ev struct {
		ID string `json:"id"`
	}
	err := ada.Do(ctx, "POST", "/api/v1/events", map[string]any{"name": "Reading night", "description": "Bring a book",
		"starts_at": time.Now().Add(48 * time.Hour).Format(time.RFC3339), "time_zone": "Europe/Paris"}, &ev)
	if err != nil {
		t.Fatal(err)
	}
	var club struct {
		ID string `json:"id"`
	}
	if err := ada.Do(ctx, "POST", "/api/v1/clubs", map[string]any{"name": "Readers", "description": "We read"}, &club); err != nil {
		t.Fatal(err)
	}
	genericPNG, err := preview.Card{}.PNG()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, title string
		generic           bool
		secret            string
	}{
		{"a live open room", "/rooms/" + open, "The future of libraries", false, ""},
		{"an event", "/events/" + ev.ID, "Reading night", false, ""},
		{"a club", "/clubs/" + club.ID, "Readers", false, ""},
		{"a profile", "/u/ada", "Ada Lovelace (@ada)", false, ""},
		{"a public invitation", "/i/" + public.Invitation.Code, "Ada Lovelace invites Jane Doe to talk", false, ""},
		{"a closed room", "/rooms/" + closed, "A live conversation on townhall", true, "Secret plans"},
		{"a private invitation", "/i/" + private.Invitation.Code, "A live conversation on townhall", true, "Sam Secret"},
	} {
		t.Run(c.name+" unfolds into its card", func(t *testing.T) {
			status, body := fetch(t, ts.url+c.path)
			if status != 200 {
				t.Fatalf("GET %s: %d", c.path, status)
			}
			tags := map[string]string{}
			for _, m := range metaTag.FindAllStringSubmatch(string(body), -1) {
				tags[m[1]] = html.UnescapeString(m[2])
			}
			for _, k := range []string{"og:title", "og:description", "og:image", "og:url", "twitter:card", "twitter:image"} {
				if tags[k] == "" {
					t.Errorf("no %s in %s", k, c.path)
				}
			}
			if tags["og:title"] != c.title || tags["twitter:card"] != "summary_large_image" {
				t.Errorf("og:title %q, twitter:card %q", tags["og:title"], tags["twitter:card"])
			}
			if c.secret != "" && strings.Contains(string(body), c.secret) {
				t.Errorf("the page tells %q", c.secret)
			}
			img := tags["og:image"]
			i := strings.Index(img, "/preview/")
			if i < 0 {
				t.Fatalf("og:image %q", img)
			}
			status, pic := fetch(t, ts.url+img[i:])
			if status != 200 {
				t.Fatalf("GET %s: %d", img, status)
			}
			decoded, err := png.Decode(bytes.NewReader(pic))
			if err != nil {
				t.Fatal(err)
			}
			if b := decoded.Bounds(); b.Dx() != 1200 || b.Dy() != 630 {
				t.Fatalf("card of %v", b)
			}
			if got := bytes.Equal(pic, genericPNG); got != c.generic {
				t.Errorf("the card is the generic one: %v, want %v", got, c.generic)
			}
		})
	}
	t.Run("the app installs: a manifest with PNG icons and a service worker", func(t *testing.T) {
		if status, b := fetch(t, ts.url+"/manifest.webmanifest"); status != 200 || !strings.Contains(string(b), `"display":"standalone"`) {
			t.Fatalf("manifest: %d %s", status, b)
		}
		status, b := fetch(t, ts.url+"/icons/192.png")
		if img, err := png.Decode(bytes.NewReader(b)); status != 200 || err != nil || img.Bounds().Dx() != 192 {
			t.Fatalf("icon: %d %v", status, err)
		}
		if status, b := fetch(t, ts.url+"/sw.js"); status != 200 || !strings.Contains(string(b), "showNotification") {
			t.Fatalf("sw.js: %d", status)
		}
	})
}
