package preview_test

import (
	"testing"

	"github.com/townhall/townhall/internal/preview"
)

// FuzzCard: any title, quote, name and status draw a card (titles come from
// rooms and events people name).
func FuzzCard(f *testing.F) {
	f.Add("The future of libraries", "Would you?", "Ada Lovelace", "Live now")
	f.Add("", "", "", "")
	f.Add("WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", "\x00\xff", " ", "\n\t")
	f.Fuzz(func(t *testing.T, title, quote, person, status string) {
		if _, err := (preview.Card{Kind: "Room", Title: title, Quote: quote, Person: person, Status: status}).PNG(); err != nil {
			t.Fatal(err)
		}
	})
}
