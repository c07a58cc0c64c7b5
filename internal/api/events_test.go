package api_test

import (
	"bytes"
	"slices"
	"testing"

	ics "github.com/arran4/golang-ical"
	goical "github.com/emersion/go-ical"
)

func TestEvents(t *testing.T) {
	t.Run("a follower subscribes, the host starts the event, guests land on stage and co-hosts moderate", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob", "cyd", "gus")
		ada, bob, cy, gus := p["ada"], p["bob"], p["cyd"], p["gus"]
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/ada/follow", token: bob.token}), 204, "")

		resp := e.do(req{method: "POST", path: "/api/v1/events", token: ada.token, body: map[string]any{
			"name": "Jazz night", "description": "Records and talk", "starts_at": soon(),
			"time_zone": "Europe/Paris", "cohosts": []string{"cyd"}}})
		expect(t, resp, 201, "")
		id := resp.str("id")
		if resp.str("time_zone") != "Europe/Paris" || resp.str("room_type") != "open" {
			t.Fatalf("event = %s", resp.raw)
		}

		feed := e.do(req{method: "GET", path: "/api/v1/events", token: bob.token})
		expect(t, feed, 200, "")
		if got := list(feed, "events"); len(got) != 1 || got[0]["id"] != id {
			t.Fatalf("bob's events = %s", feed.raw)
		}
		hall := e.do(req{method: "GET", path: "/api/v1/hallway", token: bob.token})
		if got := list(hall, "events"); len(got) != 1 || got[0]["id"] != id {
			t.Fatalf("bob's hallway = %s", hall.raw)
		}
		expect(t, e.do(req{method: "PUT", path: "/api/v1/events/" + id + "/subscription", token: bob.token}), 204, "")

		resp = e.do(req{method: "POST", path: "/api/v1/events/" + id + "/invitations", token: ada.token,
			body: map[string]any{"usernames": []string{"gus"}, "message": "Play us a record?"}})
		expect(t, resp, 201, "")
		if inv := list(resp, "invitations"); len(inv) != 1 || inv[0]["to_stage"] != true || inv[0]["status"] != "pending" {
			t.Fatalf("invitations = %s", resp.raw)
		}
		expect(t, e.do(req{method: "POST", path: "/api/v1/events/" + id + "/answer", token: gus.token,
			body: map[string]any{"answer": "accept"}}), 200, "")
		if k := e.kinds(ada); !slices.Contains(k, "event_invitation_answer") {
			t.Fatalf("ada's notifications = %v", k)
		}

		expect(t, e.do(req{method: "POST", path: "/api/v1/events/" + id + "/start", token: bob.token}), 403, "forbidden")
		resp = e.do(req{method: "POST", path: "/api/v1/events/" + id + "/start", token: ada.token})
		expect(t, resp, 201, "")
		cfg := e.rooms.config(resp.str("room_id"))
		if cfg.CreatorID != ada.id || !slices.Equal(cfg.CoHosts, []string{cy.id}) || !slices.Equal(cfg.Speakers, []string{gus.id}) {
			t.Fatalf("room = %+v", cfg)
		}
		if k := e.kinds(bob); !slices.Contains(k, "event_live") {
			t.Fatalf("bob's notifications = %v, want event_live", k)
		}
		expect(t, e.do(req{method: "POST", path: "/api/v1/events/" + id + "/start", token: ada.token}), 409, "conflict")
	})

	t.Run("a closed event stays invisible to people not invited", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob", "gus")
		ada, bob, gus := p["ada"], p["bob"], p["gus"]
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/ada/follow", token: bob.token}), 204, "")
		resp := e.do(req{method: "POST", path: "/api/v1/events", token: ada.token, body: map[string]any{
			"name": "Secret jazz", "starts_at": soon(), "room_type": "closed"}})
		expect(t, resp, 201, "")
		id := resp.str("id")
		expect(t, e.do(req{method: "POST", path: "/api/v1/events/" + id + "/invitations", token: ada.token,
			body: map[string]any{"usernames": []string{"gus"}}}), 201, "")

		for _, path := range []string{"/api/v1/events/" + id, "/api/v1/events/" + id + ".ics", "/api/v1/events/" + id + "/invitations"} {
			expect(t, e.do(req{method: "GET", path: path, token: bob.token}), 404, "not_found")
		}
		expect(t, e.do(req{method: "PUT", path: "/api/v1/events/" + id + "/subscription", token: bob.token}), 404, "not_found")
		expect(t, e.do(req{method: "POST", path: "/api/v1/events/" + id + "/invitations", token: bob.token,
			body: map[string]any{"usernames": []string{"ada"}}}), 404, "not_found")
		if got := list(e.do(req{method: "GET", path: "/api/v1/events", token: bob.token}), "events"); len(got) != 0 {
			t.Fatalf("bob's feed shows the closed event: %v", got)
		}
		if got := list(e.do(req{method: "GET", path: "/api/v1/search?q=secret", token: bob.token}), "events"); len(got) != 0 {
			t.Fatalf("bob's search finds the closed event: %v", got)
		}
		if got := list(e.do(req{method: "GET", path: "/api/v1/users/ada/events", token: bob.token}), "events"); len(got) != 0 {
			t.Fatalf("ada's page shows bob the closed event: %v", got)
		}
		expect(t, e.do(req{method: "GET", path: "/api/v1/events/" + id, token: gus.token}), 200, "")
		if got := list(e.do(req{method: "GET", path: "/api/v1/search?q=secret", token: gus.token}), "events"); len(got) != 1 {
			t.Fatalf("the invitee's search = %v", got)
		}
	})

	t.Run("only the host edits and cancels, and subscribers are told", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob")
		ada, bob := p["ada"], p["bob"]
		resp := e.do(req{method: "POST", path: "/api/v1/events", token: ada.token, body: map[string]any{
			"name": "Jazz night", "starts_at": soon()}})
		expect(t, resp, 201, "")
		id := resp.str("id")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/events/" + id + "/subscription", token: bob.token}), 204, "")
		expect(t, e.do(req{method: "PATCH", path: "/api/v1/events/" + id, token: bob.token, body: map[string]any{"name": "Mine"}}), 403, "forbidden")
		expect(t, e.do(req{method: "DELETE", path: "/api/v1/events/" + id, token: bob.token}), 403, "forbidden")
		resp = e.do(req{method: "PATCH", path: "/api/v1/events/" + id, token: ada.token, body: map[string]any{"name": "Blues night"}})
		expect(t, resp, 200, "")
		if resp.str("name") != "Blues night" {
			t.Fatalf("edited event = %s", resp.raw)
		}
		resp = e.do(req{method: "DELETE", path: "/api/v1/events/" + id, token: ada.token})
		expect(t, resp, 200, "")
		if resp.body["cancelled"] != true {
			t.Fatalf("cancelled event = %s", resp.raw)
		}
		k := e.kinds(bob)
		if !slices.Contains(k, "event_updated") || !slices.Contains(k, "event_cancelled") {
			t.Fatalf("bob's notifications = %v", k)
		}
		expect(t, e.do(req{method: "POST", path: "/api/v1/events/" + id + "/start", token: ada.token}), 409, "conflict")
	})

	t.Run("bad events are refused with the field named", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		ada := e.people("ada")["ada"]
		for name, body := range map[string]map[string]any{
			"a 61-character name":   {"name": string(bytes.Repeat([]byte("a"), 61)), "starts_at": soon()},
			"a start in the past":   {"name": "x", "starts_at": "2020-01-01T10:00:00Z"},
			"an unknown time zone":  {"name": "x", "starts_at": soon(), "time_zone": "Mars/Olympus"},
			"an unknown room type":  {"name": "x", "starts_at": soon(), "room_type": "secret"},
			"members only, no club": {"name": "x", "starts_at": soon(), "members_only": true},
		} {
			t.Run(name, func(t *testing.T) {
				expect(t, e.do(req{method: "POST", path: "/api/v1/events", token: ada.token, body: body}), 422, "invalid_field")
			})
		}
		expect(t, e.do(req{method: "POST", path: "/api/v1/events", token: ada.token,
			body: map[string]any{"name": "x", "starts_at": soon(), "cohosts": []string{"nobody"}}}), 404, "not_found")
	})

	t.Run("the iCalendar export parses with two libraries", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		ada := e.people("ada")["ada"]
		resp := e.do(req{method: "POST", path: "/api/v1/events", token: ada.token, body: map[string]any{
			"name": "Jazz, night; \"live\"", "description": "Line one\nline two", "starts_at": soon(), "time_zone": "America/New_York"}})
		expect(t, resp, 201, "")
		ical := e.do(req{method: "GET", path: "/api/v1/events/" + resp.str("id") + ".ics", token: ada.token})
		if ical.status != 200 || ical.header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Fatalf("ics: %d %s", ical.status, ical.header.Get("Content-Type"))
		}
		a, err := ics.ParseCalendar(bytes.NewReader(ical.raw))
		if err != nil || len(a.Events()) != 1 || a.Events()[0].GetProperty(ics.ComponentPropertySummary).Value != "Jazz, night; \"live\"" {
			t.Fatalf("golang-ical: %v\n%s", err, ical.raw)
		}
		b, err := goical.NewDecoder(bytes.NewReader(ical.raw)).Decode()
		if err != nil || len(b.Events()) != 1 {
			t.Fatalf("go-ical: %v\n%s", err, ical.raw)
		}
		if s, _ := b.Events()[0].Props.Text(goical.PropSummary); s != "Jazz, night; \"live\"" {
			t.Fatalf("go-ical summary = %q", s)
		}
	})
}
