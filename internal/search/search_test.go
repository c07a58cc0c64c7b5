package search_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/townhall/townhall/internal/search"
)

func TestTerms(t *testing.T) {
	cases := []struct {
		name, q string
		want    []string
	}{
		{"words are lower-cased and split on anything but letters and digits", "Jazz-Night, ÉTÉ 2026!", []string{"jazz", "night", "été", "2026"}},
		{"query syntax of either engine is only a separator", `"a" OR b* & c:* NEAR(d)`, []string{"a", "or", "b", "c", "near", "d"}},
		{"an empty query has no terms", "  ?! ", nil},
		{"at most eight terms count", "a b c d e f g h i j", []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{"a word over 40 characters is dropped", strings.Repeat("x", 41) + " ok", []string{"ok"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := search.Terms(c.q); !slices.Equal(got, c.want) {
				t.Fatalf("Terms(%q) = %q, want %q", c.q, got, c.want)
			}
		})
	}
}
