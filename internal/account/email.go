package account

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
)

// Limits of an e-mail address (RFC 5321, section 4.5.3.1).
const (
	MaxEmail      = 254
	maxEmailLocal = 64
)

// NormalizeEmail checks an e-mail address an owner gives for their account and
// returns it with its domain lower-cased; "" (no address) is allowed. Only a
// bare addr-spec of printable ASCII is taken (RFC 5322, section 3.4.1): no
// display name, no comment, no quoted local part, no spaces or line breaks
// (which could inject mail headers), a domain of at least two labels of
// letters, digits and hyphens.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: email %s", ErrInvalid, why)
	}
	if len(s) > MaxEmail {
		return bad(fmt.Sprintf("is at most %d characters", MaxEmail))
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return bad("holds a space or a character outside plain ASCII")
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return bad("must be an address such as name@example.org, without a name or brackets")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if len(local) > maxEmailLocal || strings.HasPrefix(local, `"`) {
		return bad("has a local part (before the @) that is too long or quoted")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad("needs a domain such as example.org after the @")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return bad("has a malformed domain")
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return bad("has a malformed domain")
			}
		}
	}
	return local + "@" + domain, nil
}

// SetEmail sets u's e-mail address (or clears it with ""), once their current
// password proves it is them: the address receives password reset links, so a
// stolen session alone must not change it. It returns the account as changed.
// ErrBadCredentials for a wrong password, ErrInvalid for a bad address.
func (s *Service) SetEmail(ctx context.Context, u User, current, email string) (User, error) {
	ok, err := s.opts.Hasher.Check(ctx, u.PasswordHash, current)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	e, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if err := s.store.SetEmail(ctx, u.ID, e); err != nil {
		return User{}, err
	}
	u.Email = e
	return u, nil
}

// MaskEmail hides most of an address for the people who may know that it exists
// but not what it is (an admin who sends a reset link to it): "a•••@example.org".
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 1 {
		return ""
	}
	return e[:1] + "•••" + e[at:]
}
