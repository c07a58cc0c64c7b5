package account_test

import (
	"errors"
	"net/mail"
	"strings"
	"testing"

	"github.com/townhall/townhall/internal/account"
)

func TestNormalizeEmail(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		ok             bool
	}{
		{"an empty address clears it", "  ", "", true},
		{"a plain address is kept, its domain lower-cased", " Ada.Lovelace+th@Example.ORG ", "Ada.Lovelace+th@example.org", true},
		{"a subdomain is fine", "a@mail.example.co.uk", "a@mail.example.co.uk", true},
		{"a display name is refused", "Ada <ada@example.org>", "", false},
		{"brackets alone are refused", "<ada@example.org>", "", false},
		{"a line break that would inject a header is refused", "ada@example.org\r\nBcc: eve@example.org", "", false},
		{"a space is refused", "ada lovelace@example.org", "", false},
		{"a quoted local part is refused", `"ada"@example.org`, "", false},
		{"non-ASCII is refused", "adä@example.org", "", false},
		{"no @ is refused", "ada.example.org", "", false},
		{"a domain of one label is refused", "ada@localhost", "", false},
		{"an empty domain label is refused", "ada@example..org", "", false},
		{"a domain label with an underscore is refused", "ada@ex_ample.org", "", false},
		{"a comment is refused", "ada@example.org (Ada)", "", false},
		{"a local part over 64 characters is refused", strings.Repeat("a", 65) + "@example.org", "", false},
		{"an address over 254 characters is refused", "a@" + strings.Repeat("b", 250) + ".org", "", false},
		{"two addresses are refused", "a@example.org,b@example.org", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := account.NormalizeEmail(c.in)
			switch {
			case c.ok && (err != nil || got != c.want):
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", c.in, got, err, c.want)
			case !c.ok && !errors.Is(err, account.ErrInvalid):
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want ErrInvalid", c.in, got, err)
			}
		})
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{"ada@example.org": "a•••@example.org", "": "", "x": ""} {
		if got := account.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalizeEmail: whatever an owner types, an address taken is one bare
// address that parses back to itself, with no byte that could end a mail header
// line, within the limits, and taken again unchanged.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ada@example.org", "Ada <ada@example.org>", "a@b.c\r\nBcc: x@y.z", `"a b"@c.d`, "a@@b.c", "a@b-.c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := account.NormalizeEmail(in)
		if err != nil {
			if !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("NormalizeEmail(%q): error %v is not ErrInvalid", in, err)
			}
			return
		}
		if got == "" {
			return
		}
		if len(got) > account.MaxEmail || strings.ContainsAny(got, "\r\n <>,;\"") {
			t.Fatalf("NormalizeEmail(%q) = %q", in, got)
		}
		if a, err := mail.ParseAddress(got); err != nil || a.Address != got || a.Name != "" {
			t.Fatalf("NormalizeEmail(%q) = %q, which parses as %+v, %v", in, got, a, err)
		}
		if again, err := account.NormalizeEmail(got); err != nil || again != got {
			t.Fatalf("NormalizeEmail(%q) = %q, then %q, %v", in, got, again, err)
		}
	})
}
