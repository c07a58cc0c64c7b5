package api

import (
	"context"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/account"
)

// ReplayItem is a replay in a list (a profile's, a club's, a search's), as the
// replay routes of the server make it (docs/api.md, "Replays and clips").
type ReplayItem struct {
	RoomID     string    `json:"room_id"`
	Title      string    `json:"title"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	URL        string    `json:"url"`       // the room's page, which plays it
	AudioURL   string    `json:"audio_url"` // the Ogg Opus file
	// Host is the room's creator (absent if the account is gone).
	Host *ReplayHost `json:"host,omitempty"`
}

// ReplayHost names the creator of a replay's room.
type ReplayHost struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

// ReplayPage is a page of a list of replays.
type ReplayPage struct {
	Replays    []ReplayItem `json:"replays"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// ReplaySearch finds, for a search, the replays viewer may listen to whose
// room's title has a word starting with each of terms (search.Terms), at most
// 20: the server's replay routes, which decide who may listen.
type ReplaySearch func(ctx context.Context, viewer string, terms []string) ([]ReplayItem, error)

// PageParams reads a paged list's ?cursor= and ?limit= (50 by default, at most
// account.MaxPage), for routes the server adds (Handle); bad ones are an
// invalid_field error.
func PageParams(r *http.Request) (account.Cursor, int, error) { return pageParams(r) }

// EncodeCursor makes the next_cursor of a page that ends at c ("" at the end).
func EncodeCursor(c account.Cursor) string { return encodeCursor(c) }
