package invitation_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/townhall/townhall/internal/invitation"
)

// FuzzCleanText: whatever someone without an account writes, what is kept is
// valid UTF-8, within the limit, trimmed, and free of control characters (but
// newlines where allowed) and of bidirectional overrides.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"What exactly is proposed?", "  two\nlines  ", "<b>bold</b>", "a\x07b", "\u202egnirts",
		strings.Repeat("é", 281), "\xff\xfe", "Office of Jane Doe"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		out, err := invitation.CleanText(s, invitation.MaxText, multiline)
		if err != nil {
			return
		}
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) > invitation.MaxText || out != strings.TrimSpace(out) {
			t.Fatalf("kept %q", out)
		}
		for _, r := range out {
			if unicode.IsControl(r) && !(multiline && r == '\n') || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' {
				t.Fatalf("kept %q in %q", r, out)
			}
		}
	})
}

// FuzzKey: a key opens only the page it was made for.
func FuzzKey(f *testing.F) {
	f.Add("abc", "abd")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, key, other string) {
		inv := invitation.Invitation{KeyHash: invitation.HashKey(key)}
		if key != other && inv.KeyOpens(other) {
			t.Fatalf("%q opens the page of %q", other, key)
		}
		if key != "" && len(key) <= 100 && !inv.KeyOpens(key) {
			t.Fatalf("%q does not open its own page", key)
		}
	})
}
