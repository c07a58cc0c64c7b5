// Package ids makes the random public identifiers and secrets of townhall: user,
// room and session IDs that cannot be guessed or enumerated, and bearer tokens.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns a 128-bit random identifier as 26 lowercase base32 characters.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return idEncoding.EncodeToString(b[:])
}

// Secret returns a 256-bit random secret (session token, invite code) encoded as
// URL-safe base64 without padding (43 characters).
func Secret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Valid reports whether s has the shape of an ID made by New. It lets decoders
// reject garbage before it reaches the store.
func Valid(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// SecretBytes returns 256 random bits, for keys that never leave the process.
func SecretBytes() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// From returns an identifier of New's shape made from seed: the same seed always
// gives the same one (a notice that must be stored once, whoever stores it).
func From(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return idEncoding.EncodeToString(sum[:16])
}
