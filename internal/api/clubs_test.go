package api_test

import (
	"slices"
	"testing"
)

func TestClubs(t *testing.T) {
	t.Run("joining by approval works end to end, and a member cannot do an admin's work", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob", "cyd")
		ada, bob, cyd := p["ada"], p["bob"], p["cyd"]
		resp := e.do(req{method: "POST", path: "/api/v1/clubs", token: ada.token, body: map[string]any{
			"name": "Late Night Jazz", "description": "Records after midnight", "rules": "Be kind.", "approval": true}})
		expect(t, resp, 201, "")
		id := resp.str("id")
		if resp.str("your_role") != "admin" {
			t.Fatalf("club = %s", resp.raw)
		}
		club := "/api/v1/clubs/" + id

		resp = e.do(req{method: "POST", path: club + "/join", token: bob.token})
		expect(t, resp, 202, "")
		if resp.str("status") != "requested" {
			t.Fatalf("join = %s", resp.raw)
		}
		expect(t, e.do(req{method: "POST", path: club + "/join", token: bob.token}), 409, "conflict")
		if k := e.kinds(ada); !slices.Contains(k, "club_request") {
			t.Fatalf("ada's notifications = %v", k)
		}
		reqs := e.do(req{method: "GET", path: club + "/requests", token: ada.token})
		expect(t, reqs, 200, "")
		if got := list(reqs, "requests"); len(got) != 1 {
			t.Fatalf("requests = %s", reqs.raw)
		}
		expect(t, e.do(req{method: "GET", path: club + "/requests", token: bob.token}), 403, "forbidden")
		expect(t, e.do(req{method: "POST", path: club + "/requests/bob", token: ada.token, body: map[string]any{"approve": true}}), 204, "")
		if k := e.kinds(bob); !slices.Contains(k, "club_request_decided") {
			t.Fatalf("bob's notifications = %v", k)
		}
		resp = e.do(req{method: "GET", path: club, token: bob.token})
		expect(t, resp, 200, "")
		if resp.str("your_role") != "member" || resp.body["members"] != float64(2) {
			t.Fatalf("club as bob = %s", resp.raw)
		}

		// A member cannot do an admin's work.
		expect(t, e.do(req{method: "POST", path: club + "/join", token: cyd.token}), 202, "")
		expect(t, e.do(req{method: "POST", path: club + "/requests/cyd", token: bob.token, body: map[string]any{"approve": true}}), 403, "forbidden")
		expect(t, e.do(req{method: "PUT", path: club + "/members/bob", token: bob.token, body: map[string]any{"role": "admin"}}), 403, "forbidden")
		expect(t, e.do(req{method: "DELETE", path: club + "/members/ada", token: bob.token}), 403, "forbidden")
		expect(t, e.do(req{method: "PATCH", path: club, token: bob.token, body: map[string]any{"name": "Bob's"}}), 403, "forbidden")
		expect(t, e.do(req{method: "POST", path: club + "/rooms", token: bob.token, body: map[string]any{"title": "Bob talks"}}), 403, "forbidden")
		expect(t, e.do(req{method: "POST", path: "/api/v1/events", token: bob.token, body: map[string]any{
			"name": "Club night", "starts_at": soon(), "club_id": id}}), 403, "forbidden")

		// A leader starts club rooms and schedules club events.
		expect(t, e.do(req{method: "PUT", path: club + "/members/bob", token: ada.token, body: map[string]any{"role": "leader"}}), 204, "")
		resp = e.do(req{method: "POST", path: club + "/rooms", token: bob.token, body: map[string]any{"title": "Bob talks", "members_only": true}})
		expect(t, resp, 201, "")
		if cfg := e.rooms.config(resp.str("id")); cfg.ClubID != id || !cfg.MembersOnly || cfg.CreatorID != bob.id {
			t.Fatalf("club room = %+v", cfg)
		}
		resp = e.do(req{method: "POST", path: "/api/v1/events", token: bob.token, body: map[string]any{
			"name": "Club night", "starts_at": soon(), "club_id": id, "members_only": true}})
		expect(t, resp, 201, "")
		eventID := resp.str("id")
		expect(t, e.do(req{method: "GET", path: "/api/v1/events/" + eventID, token: cyd.token}), 404, "not_found")
		expect(t, e.do(req{method: "GET", path: "/api/v1/events/" + eventID, token: ada.token}), 200, "")
		if got := list(e.do(req{method: "GET", path: club + "/events", token: ada.token}), "events"); len(got) != 1 {
			t.Fatalf("club events = %v", got)
		}
		// An admin of the club may cancel a club event it did not host.
		expect(t, e.do(req{method: "DELETE", path: "/api/v1/events/" + eventID, token: ada.token}), 200, "")

		// Declining a request.
		expect(t, e.do(req{method: "POST", path: club + "/requests/cyd", token: ada.token, body: map[string]any{"approve": false}}), 204, "")
		expect(t, e.do(req{method: "GET", path: club, token: cyd.token}), 200, "")
		members := e.do(req{method: "GET", path: club + "/members", token: cyd.token})
		expect(t, members, 200, "")
		if got := list(members, "members"); len(got) != 2 {
			t.Fatalf("members = %s", members.raw)
		}
	})

	t.Run("an open club is joined freely and the last admin cannot leave", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob")
		ada, bob := p["ada"], p["bob"]
		resp := e.do(req{method: "POST", path: "/api/v1/clubs", token: ada.token, body: map[string]any{"name": "Gardening"}})
		expect(t, resp, 201, "")
		club := "/api/v1/clubs/" + resp.str("id")
		resp = e.do(req{method: "POST", path: club + "/join", token: bob.token})
		expect(t, resp, 200, "")
		expect(t, e.do(req{method: "POST", path: club + "/leave", token: ada.token}), 409, "conflict")
		expect(t, e.do(req{method: "PUT", path: club + "/members/ada", token: ada.token, body: map[string]any{"role": "member"}}), 409, "conflict")
		expect(t, e.do(req{method: "PUT", path: club + "/members/bob", token: ada.token, body: map[string]any{"role": "boss"}}), 422, "invalid_field")
		expect(t, e.do(req{method: "POST", path: "/api/v1/clubs", token: bob.token, body: map[string]any{"name": "GARDENING"}}), 409, "conflict")
		mine := e.do(req{method: "GET", path: "/api/v1/clubs", token: bob.token})
		if got := list(mine, "clubs"); len(got) != 1 || got[0]["your_role"] != "member" {
			t.Fatalf("bob's clubs = %s", mine.raw)
		}
		expect(t, e.do(req{method: "POST", path: club + "/leave", token: bob.token}), 204, "")
		expect(t, e.do(req{method: "GET", path: "/api/v1/clubs/nosuchclubnosuchclubnosuc", token: bob.token}), 404, "not_found")
	})
}
