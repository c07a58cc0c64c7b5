package api

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/townhall/townhall/internal/errcode"
)

// seed adds every file of testdata/requests/<kind>*.json to the corpus.
func seed(f *testing.F, kind string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "requests", kind+"*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", kind, err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkDecodeError asserts a decoder failure carries a client error code, never
// an internal one.
func checkDecodeError(t *testing.T, err error) {
	if err == nil {
		return
	}
	if c := errcode.Of(err); c.Status() >= 500 {
		t.Fatalf("decode error %v has server status %d", err, c.Status())
	}
}

func FuzzDecodeSignup(f *testing.F) {
	seed(f, "signup")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[signupRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeLogin(f *testing.F) {
	seed(f, "login")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[loginRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeProfile(f *testing.F) {
	seed(f, "profile")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decode[profileRequest](data)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add("")
	f.Add(encodeCursor(mustCursor()))
	f.Add("MTcwMDAwMDAwMDAwMDphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5eg")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		checkDecodeError(t, err)
		if err == nil && !c.IsZero() && encodeCursor(c) == "" {
			t.Fatalf("cursor %q decoded to %+v which does not encode back", s, c)
		}
	})
}
