package api_test

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

// at is a start time d ahead, in RFC 3339.
func at(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

func TestExplore(t *testing.T) {
	t.Run("a stranger finds open events of people they do not follow, soonest first, page by page", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob", "cyd", "dee")
		ada, bob, cyd, dee := p["ada"], p["bob"], p["cyd"], p["dee"]
		made := map[string]string{}
		for _, ev := range []struct {
			by         user
			name, kind string
			in         time.Duration
		}{
			{ada, "later", "open", 3 * time.Hour},
			{cyd, "sooner", "open", time.Hour},
			{ada, "middle", "open", 2 * time.Hour},
			{ada, "social", "social", time.Hour},
			{ada, "closed", "closed", time.Hour},
			{dee, "blocker's", "open", time.Hour},
		} {
			resp := e.do(req{method: "POST", path: "/api/v1/events", token: ev.by.token, body: map[string]any{
				"name": ev.name, "starts_at": at(ev.in), "room_type": ev.kind}})
			expect(t, resp, 201, "")
			made[resp.str("id")] = ev.name
		}
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/bob/block", token: dee.token}), 204, "")

		var names []string
		cursor := ""
		for pages := 1; ; pages++ {
			if pages > 2 {
				t.Fatalf("three events in pages of two took more than two pages: %v", names)
			}
			q := url.Values{"limit": {"2"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			resp := e.do(req{method: "GET", path: "/api/v1/events/explore?" + q.Encode(), token: bob.token})
			expect(t, resp, 200, "")
			for _, ev := range list(resp, "events") {
				names = append(names, made[ev["id"].(string)])
			}
			if cursor = resp.str("next_cursor"); cursor == "" {
				break
			}
		}
		if want := []string{"sooner", "middle", "later"}; !slices.Equal(names, want) {
			t.Fatalf("bob's explore = %v, want %v", names, want)
		}
		if feed := list(e.do(req{method: "GET", path: "/api/v1/events", token: bob.token}), "events"); len(feed) != 0 {
			t.Fatalf("bob follows nobody, yet his events page lists %v", feed)
		}
	})

	t.Run("a bad limit, a bad cursor or no session is refused with a JSON error", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		ada := e.people("ada")["ada"]
		for _, c := range []struct {
			name, query, token string
			status             int
			code               string
		}{
			{"a limit of zero", "?limit=0", ada.token, 422, "invalid_field"},
			{"a limit over a hundred", "?limit=101", ada.token, 422, "invalid_field"},
			{"a limit that is no number", "?limit=ten", ada.token, 422, "invalid_field"},
			{"a cursor that is not base64", "?cursor=%25%25", ada.token, 400, "bad_request"},
			{"a cursor without an ID", "?cursor=" + url.QueryEscape("MTIz"), ada.token, 400, "bad_request"},
			{"no session", "", "", 401, "unauthenticated"},
		} {
			t.Run(c.name+" is refused", func(t *testing.T) {
				expect(t, e.do(req{method: "GET", path: "/api/v1/events/explore" + c.query, token: c.token}), c.status, c.code)
			})
		}
	})
}
