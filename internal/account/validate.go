package account

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on user-supplied profile fields.
const (
	MinUsername    = 3
	MaxUsername    = 20
	MaxDisplayName = 50
	MaxBio         = 300
	MinPassword    = 8
	MaxPassword    = 256 // bytes; argon2 would take more, but nobody types more
)

// NormalizeUsername lower-cases a username (usernames are case-insensitive) and
// checks it: 3–20 characters of a–z, 0–9 and _.
func NormalizeUsername(s string) (string, error) {
	u := strings.ToLower(s)
	if len(u) < MinUsername || len(u) > MaxUsername {
		return "", fmt.Errorf("%w: username must be %d to %d characters", ErrInvalid, MinUsername, MaxUsername)
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "", fmt.Errorf("%w: username may hold only a-z, 0-9 and _", ErrInvalid)
		}
	}
	return u, nil
}

// checkText validates a free-text field: valid UTF-8, no control characters (but
// newlines when multiline), at most max runes, and not blank when required.
func checkText(field, s string, max int, required, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	}
	if required && s == "" {
		return "", fmt.Errorf("%w: %s must not be empty", ErrInvalid, field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", fmt.Errorf("%w: %s is %d characters, at most %d allowed", ErrInvalid, field, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && r == '\n') {
			return "", fmt.Errorf("%w: %s holds a control character", ErrInvalid, field)
		}
	}
	return s, nil
}

func checkPassword(p string) error {
	if len(p) < MinPassword || len(p) > MaxPassword {
		return fmt.Errorf("%w: password must be %d to %d bytes", ErrInvalid, MinPassword, MaxPassword)
	}
	return nil
}
