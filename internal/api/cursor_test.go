package api

import (
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
)

func mustCursor() account.Cursor {
	return account.Cursor{At: time.UnixMilli(1_700_000_000_123).UTC(), ID: ids.New()}
}

func TestCursorRoundTrip(t *testing.T) {
	c := mustCursor()
	got, err := decodeCursor(encodeCursor(c))
	if err != nil || got != c {
		t.Fatalf("round trip of %+v gave %+v, %v", c, got, err)
	}
}
