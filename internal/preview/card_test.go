package preview_test

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/townhall/townhall/internal/preview"
)

func TestCard(t *testing.T) {
	cards := map[string]preview.Card{
		"the generic card": {},
		"a live room":      {Kind: "Live room", Title: "The future of public libraries, and what we owe to the readers of tomorrow", Person: "Ada Lovelace", PersonID: "k7x", Status: "Live now · 2 on stage · 14 listening", Live: true},
		"an invitation":    {Kind: "Invitation", Title: "Ada Lovelace invites Jane Doe", Quote: "Would you talk about libraries with me, live, next to the town's readers?", Person: "Ada Lovelace", Status: "Question asked"},
		"a word too long":  {Kind: "Event", Title: strings.Repeat("W", 200), Person: strings.Repeat("N", 80), Status: strings.Repeat("s", 200)},
		"other scripts":    {Kind: "Club", Title: "Ελληνικά и кириллица", Person: "Ζωή"},
	}
	for name, c := range cards {
		t.Run(name+" decodes as a 1200×630 PNG", func(t *testing.T) {
			b, err := c.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if s := img.Bounds().Size(); s.X != preview.Width || s.Y != preview.Height {
				t.Fatalf("size %v", s)
			}
			if d := os.Getenv("TOWNHALL_ARTIFACTS"); d != "" {
				_ = os.WriteFile(filepath.Join(d, "card-"+strings.ReplaceAll(name, " ", "-")+".png"), b, 0o644)
			}
		})
	}
	t.Run("a card's key follows what it shows", func(t *testing.T) {
		a := preview.Card{Title: "x", Status: "Live now", Live: true}
		b := a
		b.Status = "Ended"
		if a.Key() == b.Key() || a.Key() != (preview.Card{Title: "x", Status: "Live now", Live: true}).Key() {
			t.Fatal("keys do not follow the content")
		}
		if !(preview.Card{}).Generic() || a.Generic() {
			t.Fatal("Generic is wrong")
		}
	})
	t.Run("the cache draws a card once and keeps at most its size", func(t *testing.T) {
		k := preview.NewCache(2)
		a, b, c := preview.Card{Title: "a"}, preview.Card{Title: "b"}, preview.Card{Title: "c"}
		first, _ := k.PNG(a)
		again, _ := k.PNG(a)
		if &first[0] != &again[0] {
			t.Fatal("drawn twice")
		}
		k.PNG(b)
		k.PNG(c)
		if k.Len() != 2 {
			t.Fatalf("%d cards kept", k.Len())
		}
	})
	t.Run("the icons are square PNGs", func(t *testing.T) {
		for _, size := range []int{192, 512} {
			b, err := preview.Icon(size)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil || img.Bounds().Dx() != size || img.Bounds().Dy() != size {
				t.Fatalf("icon %d: %v %v", size, img.Bounds(), err)
			}
		}
	})
}
