package api_test

import (
	"slices"
	"testing"
)

func TestDelegates(t *testing.T) {
	t.Run("a delegate answers an invitation for the account and the owner reads it in the audit log", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob", "dee")
		ada, bob, dee := p["ada"], p["bob"], p["dee"]
		resp := e.do(req{method: "PUT", path: "/api/v1/me/delegates/bob", token: ada.token,
			body: map[string]any{"scopes": []string{"invitations"}}})
		expect(t, resp, 200, "")
		dels := e.do(req{method: "GET", path: "/api/v1/me/delegations", token: bob.token})
		if got := list(dels, "delegations"); len(got) != 1 {
			t.Fatalf("bob's delegations = %s", dels.raw)
		}

		// dee invites ada to an event; bob answers for ada.
		resp = e.do(req{method: "POST", path: "/api/v1/events", token: dee.token, body: map[string]any{"name": "Talk", "starts_at": soon()}})
		expect(t, resp, 201, "")
		id := resp.str("id")
		expect(t, e.do(req{method: "POST", path: "/api/v1/events/" + id + "/invitations", token: dee.token,
			body: map[string]any{"usernames": []string{"ada"}}}), 201, "")
		mine := e.do(req{method: "GET", path: "/api/v1/me/event-invitations", token: bob.token, header: as("ada")})
		expect(t, mine, 200, "")
		if got := list(mine, "invitations"); len(got) != 1 {
			t.Fatalf("ada's invitations, as read by bob = %s", mine.raw)
		}
		resp = e.do(req{method: "POST", path: "/api/v1/events/" + id + "/answer", token: bob.token, header: as("ada"),
			body: map[string]any{"answer": "accept", "text": "Ada will be there"}})
		expect(t, resp, 200, "")
		if u, _ := resp.body["user"].(map[string]any); u["username"] != "ada" {
			t.Fatalf("answer = %s, want it recorded for ada", resp.raw)
		}

		audit := e.do(req{method: "GET", path: "/api/v1/me/audit", token: ada.token})
		expect(t, audit, 200, "")
		entries := list(audit, "entries")
		if len(entries) != 1 || entries[0]["action"] != "POST /api/v1/events/{id}/answer" ||
			entries[0]["target"] != "/api/v1/events/"+id+"/answer" {
			t.Fatalf("audit log = %s", audit.raw)
		}
		if d, _ := entries[0]["delegate"].(map[string]any); d["username"] != "bob" {
			t.Fatalf("audit delegate = %v", entries[0]["delegate"])
		}
	})

	t.Run("a delegate cannot exceed its scopes nor touch what is personal", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob", "cyd")
		ada, bob, cyd := p["ada"], p["bob"], p["cyd"]
		expect(t, e.do(req{method: "PUT", path: "/api/v1/me/delegates/bob", token: ada.token,
			body: map[string]any{"scopes": []string{"invitations"}}}), 200, "")
		refused := []req{
			{method: "POST", path: "/api/v1/events", body: map[string]any{"name": "x", "starts_at": soon()}},
			{method: "GET", path: "/api/v1/events"},
			{method: "GET", path: "/api/v1/me/delegates"},
			{method: "PUT", path: "/api/v1/me/delegates/cyd", body: map[string]any{"scopes": []string{"events"}}},
			{method: "DELETE", path: "/api/v1/me/delegates/bob"},
			{method: "GET", path: "/api/v1/me/audit"},
			{method: "GET", path: "/api/v1/sessions"},
			{method: "POST", path: "/api/v1/logout"},
			{method: "PATCH", path: "/api/v1/me", body: map[string]any{"bio": "hacked"}},
			{method: "POST", path: "/api/v1/invites"},
			{method: "PUT", path: "/api/v1/users/cyd/follow"},
			{method: "POST", path: "/api/v1/rooms", body: map[string]any{"title": "as ada"}},
			{method: "GET", path: "/api/v1/socket"},
			{method: "POST", path: "/api/v1/clubs", body: map[string]any{"name": "Ada's"}},
			{method: "PUT", path: "/api/v1/notifications/settings", body: map[string]any{"muted": []string{"ping"}}},
		}
		for _, r := range refused {
			r.token, r.header = bob.token, as("ada")
			if resp := e.do(r); resp.status != 403 || resp.code() != "forbidden" {
				t.Errorf("%s %s as ada's delegate: got %d %q, want 403 forbidden", r.method, r.path, resp.status, resp.code())
			}
		}
		// Someone who is no delegate cannot act for ada at all.
		expect(t, e.do(req{method: "GET", path: "/api/v1/invitations", token: cyd.token, header: as("ada")}), 403, "forbidden")
		expect(t, e.do(req{method: "GET", path: "/api/v1/invitations", token: cyd.token, header: as("nobody")}), 403, "forbidden")
		// Within scope it works; the session is still bob's own.
		expect(t, e.do(req{method: "GET", path: "/api/v1/invitations", token: bob.token, header: as("ada")}), 200, "")
		if audit := list(e.do(req{method: "GET", path: "/api/v1/me/audit", token: ada.token}), "entries"); len(audit) != 0 {
			t.Fatalf("refused and read-only requests were audited: %v", audit)
		}
	})

	t.Run("a delegate with the events scope schedules for the account, and a revoked one is refused at once", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		p := e.people("ada", "bob")
		ada, bob := p["ada"], p["bob"]
		expect(t, e.do(req{method: "PUT", path: "/api/v1/me/delegates/bob", token: ada.token,
			body: map[string]any{"scopes": []string{"events", "rooms"}}}), 200, "")
		resp := e.do(req{method: "POST", path: "/api/v1/events", token: bob.token, header: as("ada"),
			body: map[string]any{"name": "Ada's talk", "starts_at": soon()}})
		expect(t, resp, 201, "")
		if h, _ := resp.body["host"].(map[string]any); h["username"] != "ada" {
			t.Fatalf("event host = %v, want ada", resp.body["host"])
		}
		id := resp.str("id")
		resp = e.do(req{method: "POST", path: "/api/v1/events/" + id + "/start", token: bob.token, header: as("ada")})
		expect(t, resp, 201, "")
		if cfg := e.rooms.config(resp.str("room_id")); cfg.CreatorID != ada.id || !slices.Equal(cfg.CoHosts, []string{bob.id}) {
			t.Fatalf("room = %+v, want ada's room co-hosted by her rooms delegate", cfg)
		}
		if audit := list(e.do(req{method: "GET", path: "/api/v1/me/audit", token: ada.token}), "entries"); len(audit) != 2 {
			t.Fatalf("audit log = %v, want the event and its start", audit)
		}

		expect(t, e.do(req{method: "DELETE", path: "/api/v1/me/delegates/bob", token: ada.token}), 204, "")
		expect(t, e.do(req{method: "POST", path: "/api/v1/events", token: bob.token, header: as("ada"),
			body: map[string]any{"name": "Another", "starts_at": soon()}}), 403, "forbidden")
		expect(t, e.do(req{method: "GET", path: "/api/v1/events/" + id, token: bob.token, header: as("ada")}), 403, "forbidden")
		expect(t, e.do(req{method: "DELETE", path: "/api/v1/me/delegates/bob", token: ada.token}), 404, "not_found")
	})

	t.Run("bad delegations are refused", func(t *testing.T) {
		e := newTeamEnv(t, "sqlite", 100)
		ada := e.people("ada", "bob")["ada"]
		expect(t, e.do(req{method: "PUT", path: "/api/v1/me/delegates/bob", token: ada.token, body: map[string]any{"scopes": []string{"password"}}}), 422, "invalid_field")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/me/delegates/bob", token: ada.token, body: map[string]any{"scopes": []string{}}}), 422, "invalid_field")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/me/delegates/ada", token: ada.token, body: map[string]any{"scopes": []string{"events"}}}), 422, "invalid_field")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/me/delegates/nobody", token: ada.token, body: map[string]any{"scopes": []string{"events"}}}), 404, "not_found")
	})
}

func TestNotificationSettings(t *testing.T) {
	e := newTeamEnv(t, "sqlite", 100)
	p := e.people("ada", "bob", "cyd")
	ada, bob, cyd := p["ada"], p["bob"], p["cyd"]
	expect(t, e.do(req{method: "PUT", path: "/api/v1/users/ada/follow", token: bob.token}), 204, "")
	expect(t, e.do(req{method: "PUT", path: "/api/v1/users/ada/follow", token: bob.token}), 204, "")
	if k := e.kinds(ada); !slices.Equal(k, []string{"new_follower"}) {
		t.Fatalf("ada's notifications = %v, want one new_follower", k)
	}
	resp := e.do(req{method: "PUT", path: "/api/v1/notifications/settings", token: ada.token,
		body: map[string]any{"muted": []string{"new_follower", "ping"}}})
	expect(t, resp, 200, "")
	expect(t, e.do(req{method: "PUT", path: "/api/v1/users/ada/follow", token: cyd.token}), 204, "")
	if k := e.kinds(ada); len(k) != 1 {
		t.Fatalf("a muted kind was delivered: %v", k)
	}
	got := e.do(req{method: "GET", path: "/api/v1/notifications/settings", token: ada.token})
	if m, _ := got.body["muted"].([]any); len(m) != 2 {
		t.Fatalf("settings = %s", got.raw)
	}
	expect(t, e.do(req{method: "PUT", path: "/api/v1/notifications/settings", token: ada.token,
		body: map[string]any{"muted": []string{"spam"}}}), 422, "invalid_field")
}

func TestSearch(t *testing.T) {
	e := newTeamEnv(t, "sqlite", 1) // a burst of 5, then one a second
	p := e.people("ada", "bob")
	ada, bob := p["ada"], p["bob"]
	expect(t, e.do(req{method: "POST", path: "/api/v1/clubs", token: ada.token, body: map[string]any{"name": "Late Night Jazz"}}), 201, "")
	expect(t, e.do(req{method: "POST", path: "/api/v1/events", token: ada.token, body: map[string]any{"name": "Jazz brunch", "starts_at": soon()}}), 201, "")
	resp := e.do(req{method: "GET", path: "/api/v1/search?q=jaz", token: bob.token})
	expect(t, resp, 200, "")
	if len(list(resp, "clubs")) != 1 || len(list(resp, "events")) != 1 || len(list(resp, "users")) != 0 {
		t.Fatalf("search = %s", resp.raw)
	}
	resp = e.do(req{method: "GET", path: "/api/v1/search?q=ad", token: bob.token})
	if u := list(resp, "users"); len(u) != 1 || u[0]["username"] != "ada" {
		t.Fatalf("people = %s", resp.raw)
	}
	var last response
	for range 5 {
		last = e.do(req{method: "GET", path: "/api/v1/search?q=x", token: bob.token})
	}
	expect(t, last, 429, "rate_limited")
	if last.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}
