package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/audiotest"
)

// replayList is a page of replays as the API lists them.
type replayList struct {
	Replays []struct {
		RoomID string `json:"room_id"`
		Title  string `json:"title"`
		URL    string `json:"url"`
		Host   *struct {
			Username string `json:"username"`
		} `json:"host"`
	} `json:"replays"`
	NextCursor string `json:"next_cursor"`
}

func (l replayList) titles() []string {
	out := []string{}
	for _, r := range l.Replays {
		out = append(out, r.Title)
	}
	return out
}

// record makes roomID's replay: its host u joins, speaks the packets, and ends
// the room; it returns once the replay is ready.
func record(t *testing.T, u *user, roomID string, pkts []client.OpusPacket) {
	t.Helper()
	s := join(t, u, roomID)
	a := connectAudio(t, s, 'a')
	s.do(t, "set_muted", map[string]any{"muted": false})
	speak(t, a, pkts)
	s.do(t, "end", nil)
	readyReplay(t, u, roomID)
}

func TestReplaysAreListedToWhoMayListen(t *testing.T) {
	audiotest.Tools(t, "ffmpeg")
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run("on "+driver, func(t *testing.T) { replaysListed(t, driver) })
	}
}

func replaysListed(t *testing.T, driver string) {
	ts := startServer(t, driver)
	ada, bob, dee := ts.admin, ts.user("bob"), ts.user("dee")
	pkts := audiotest.Packets(t, audiotest.Speech(t, t.TempDir(), "hello"))

	var club struct {
		ID string `json:"id"`
	}
	if err := ada.Do(ctxT(t), "POST", "/api/v1/clubs", map[string]any{"name": "Gardeners", "description": "plants"}, &club); err != nil {
		t.Fatal(err)
	}
	if err := bob.Do(ctxT(t), "POST", "/api/v1/clubs/"+club.ID+"/join", nil, nil); err != nil {
		t.Fatal(err)
	}
	open := createRoom(t, ada, client.RoomSpec{Title: "Morning show", Type: "open", Record: true})
	record(t, ada, open.ID, pkts)
	closed := createRoom(t, ada, client.RoomSpec{Title: "Board minutes", Type: "closed", Record: true})
	record(t, ada, closed.ID, pkts)
	var clubRoom struct {
		ID string `json:"id"`
	}
	if err := ada.Do(ctxT(t), "POST", "/api/v1/clubs/"+club.ID+"/rooms",
		map[string]any{"title": "Garden morning", "type": "open", "members_only": true, "record": true}, &clubRoom); err != nil {
		t.Fatal(err)
	}
	record(t, ada, clubRoom.ID, pkts)
	unrecorded := createRoom(t, ada, client.RoomSpec{Title: "Morning chat", Type: "open"})
	s := join(t, ada, unrecorded.ID)
	s.do(t, "end", nil)

	list := func(t *testing.T, c *client.Client, path string) replayList {
		t.Helper()
		var l replayList
		if err := c.Do(ctxT(t), "GET", path, nil, &l); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return l
	}
	lists := []struct {
		name string
		c    *client.Client
		path string
		want []string // newest first
	}{
		{"the host sees every replay of theirs on their profile", ada.Client, "/api/v1/users/admin/replays",
			[]string{"Garden morning", "Board minutes", "Morning show"}},
		{"a club member sees the club's members-only replay on the profile", bob.Client, "/api/v1/users/admin/replays",
			[]string{"Garden morning", "Morning show"}},
		{"a stranger sees only the open room's replay on the profile", dee.Client, "/api/v1/users/admin/replays",
			[]string{"Morning show"}},
		{"a guest sees only the open room's replay on the profile", ts.guest(), "/api/v1/users/admin/replays",
			[]string{"Morning show"}},
		{"a club member sees the club's replays", bob.Client, "/api/v1/clubs/" + club.ID + "/replays",
			[]string{"Garden morning"}},
		{"someone outside the club does not see its members-only replay", dee.Client, "/api/v1/clubs/" + club.ID + "/replays",
			[]string{}},
		{"a listener's profile lists no replay", ada.Client, "/api/v1/users/bob/replays", []string{}},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			l := list(t, tt.c, tt.path)
			if got := l.titles(); !slices.Equal(got, tt.want) || l.NextCursor != "" {
				t.Errorf("%s: %v (next %q), want %v", tt.path, got, l.NextCursor, tt.want)
			}
		})
	}
	t.Run("a listed replay names its host and links to its room's page", func(t *testing.T) {
		l := list(t, dee.Client, "/api/v1/users/admin/replays")
		if len(l.Replays) != 1 || l.Replays[0].Host == nil || l.Replays[0].Host.Username != "admin" ||
			l.Replays[0].URL != ts.url+"/rooms/"+open.ID {
			t.Errorf("listed %+v", l.Replays)
		}
	})
	t.Run("the host's replays come a page at a time", func(t *testing.T) {
		var got []string
		path := "/api/v1/users/admin/replays?limit=2"
		for range 3 {
			l := list(t, ada.Client, path)
			got = append(got, l.titles()...)
			if l.NextCursor == "" {
				break
			}
			path = "/api/v1/users/admin/replays?limit=2&cursor=" + url.QueryEscape(l.NextCursor)
		}
		if want := []string{"Garden morning", "Board minutes", "Morning show"}; !slices.Equal(got, want) {
			t.Errorf("paged %v, want %v", got, want)
		}
	})
	searches := []struct {
		name string
		c    *client.Client
		q    string
		want []string
	}{
		{"a search finds the replays the searcher may listen to", bob.Client, "morning", []string{"Garden morning", "Morning show"}},
		{"a search does not find a closed room's replay for a stranger", dee.Client, "board", []string{}},
		{"a search finds a closed room's replay for its host", ada.Client, "board min", []string{"Board minutes"}},
		{"a search matches the start of words only", ada.Client, "orning", []string{}},
	}
	for _, tt := range searches {
		t.Run(tt.name, func(t *testing.T) {
			l := list(t, tt.c, "/api/v1/search?q="+url.QueryEscape(tt.q))
			if got := l.titles(); !slices.Equal(got, tt.want) {
				t.Errorf("search %q: %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	bad := []struct {
		name   string
		path   string
		status int
		code   string
	}{
		{"a bad cursor is refused", "/api/v1/users/admin/replays?cursor=nonsense", http.StatusBadRequest, "bad_request"},
		{"a bad limit is refused", "/api/v1/clubs/" + club.ID + "/replays?limit=0", http.StatusUnprocessableEntity, "invalid_field"},
		{"an unknown user has no list", "/api/v1/users/nobody/replays", http.StatusNotFound, "not_found"},
		{"an unknown club has no list", "/api/v1/clubs/nope/replays", http.StatusNotFound, "not_found"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, tt.path, dee.Do(ctxT(t), "GET", tt.path, nil, nil), tt.status, tt.code)
		})
	}
	t.Run("someone the host blocks finds no list of theirs", func(t *testing.T) {
		if err := ada.Block(ctxT(t), dee.Name); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "dee listing ada's replays", dee.Do(ctxT(t), "GET", "/api/v1/users/admin/replays", nil, nil),
			http.StatusNotFound, "not_found")
	})
}
