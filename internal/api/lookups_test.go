package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/api"
)

// withFrozenLookups sets the look-up rate and stops the limiters' clock, so that
// a spent budget stays spent however long the test takes.
func withFrozenLookups(perSecond float64) envOption {
	at := time.Now()
	return func(o *api.Options, _ *account.Options) {
		o.LookupPerSecond, o.Now = perSecond, func() time.Time { return at }
	}
}

// session signs u in again: a new session, with a budget of look-ups of its own.
func (e *env) session(u user) string {
	e.t.Helper()
	resp := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{
		"username": u.name, "password": "correct horse battery"}})
	expect(e.t, resp, 200, "")
	return resp.str("token")
}

// TestLookupLimit checks that every route whose answer tells whether a username
// exists spends from one look-up budget per session: each spends it, and each is
// refused once another has spent it.
func TestLookupLimit(t *testing.T) {
	e := newTeamEnv(t, "sqlite", 1000, withFrozenLookups(0.25)) // a burst of one look-up, never refilled
	ada := e.people("ada")["ada"]
	created := func(path string, body map[string]any) string {
		t.Helper()
		resp := e.do(req{method: "POST", path: path, token: ada.token, body: body})
		expect(t, resp, 201, "")
		return resp.str("id")
	}
	club := created("/api/v1/clubs", map[string]any{"name": "Late Night Jazz"})
	ev := created("/api/v1/events", map[string]any{"name": "Jazz brunch", "starts_at": soon()})
	room := created("/api/v1/rooms", map[string]any{"title": "Records"})

	// Each names "nobody", who does not exist: the answer (404) is the oracle.
	routes := []struct {
		req    req
		status int // the answer while the budget lasts
	}{
		{req{method: "GET", path: "/api/v1/users/nobody"}, 404},
		{req{method: "GET", path: "/api/v1/users/nobody/followers"}, 404},
		{req{method: "GET", path: "/api/v1/users/nobody/following"}, 404},
		{req{method: "PUT", path: "/api/v1/users/nobody/follow"}, 404},
		{req{method: "DELETE", path: "/api/v1/users/nobody/follow"}, 404},
		{req{method: "PUT", path: "/api/v1/users/nobody/block"}, 404},
		{req{method: "DELETE", path: "/api/v1/users/nobody/block"}, 404},
		{req{method: "GET", path: "/api/v1/users/nobody/events"}, 404},
		{req{method: "POST", path: "/api/v1/admin/users/nobody/disable"}, 404},
		{req{method: "PUT", path: "/api/v1/me/delegates/nobody", body: map[string]any{"scopes": []string{"events"}}}, 404},
		{req{method: "DELETE", path: "/api/v1/me/delegates/nobody"}, 404},
		{req{method: "PUT", path: "/api/v1/clubs/" + club + "/members/nobody", body: map[string]any{"role": "leader"}}, 404},
		{req{method: "DELETE", path: "/api/v1/clubs/" + club + "/members/nobody"}, 404},
		{req{method: "POST", path: "/api/v1/clubs/" + club + "/requests/nobody", body: map[string]any{"approve": true}}, 404},
		{req{method: "POST", path: "/api/v1/rooms/" + room + "/invitations", body: map[string]any{"usernames": []string{"nobody"}}}, 404},
		{req{method: "POST", path: "/api/v1/rooms/" + room + "/pings", body: map[string]any{"username": "nobody"}}, 404},
		{req{method: "POST", path: "/api/v1/events", body: map[string]any{"name": "Duo", "starts_at": soon(), "cohosts": []string{"nobody"}}}, 404},
		{req{method: "PATCH", path: "/api/v1/events/" + ev, body: map[string]any{"cohosts": []string{"nobody"}}}, 404},
		{req{method: "POST", path: "/api/v1/events/" + ev + "/invitations", body: map[string]any{"usernames": []string{"nobody"}}}, 404},
		{req{method: "GET", path: "/api/v1/search?q=nobody"}, 200},
	}
	profile := req{method: "GET", path: "/api/v1/users/ada"}
	for _, rt := range routes {
		name := rt.req.method + " " + strings.ReplaceAll(strings.ReplaceAll(rt.req.path, club, "{id}"), ev, "{id}")
		name = strings.ReplaceAll(strings.ReplaceAll(name, room, "{id}"), "nobody", "{username}")
		t.Run(name+" spends the session's look-up, so the next look-up is refused", func(t *testing.T) {
			r, p := rt.req, profile
			r.token = e.session(ada)
			p.token = r.token
			if resp := e.do(r); resp.status != rt.status {
				t.Fatalf("with the budget whole: got %d %q, want %d; body: %s", resp.status, resp.code(), rt.status, resp.raw)
			}
			expect(t, e.do(p), 429, "rate_limited")
		})
		t.Run(name+" is refused with 429 once another look-up spent the budget", func(t *testing.T) {
			r, p := rt.req, profile
			r.token = e.session(ada)
			p.token = r.token
			expect(t, e.do(p), 200, "")
			resp := e.do(r)
			expect(t, resp, 429, "rate_limited")
			if resp.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		})
	}
}

// TestLookupLimitCountsNames checks that a body naming several people costs one
// look-up per name, and at most the whole budget.
func TestLookupLimitCountsNames(t *testing.T) {
	e := newTeamEnv(t, "sqlite", 1000, withFrozenLookups(1)) // a burst of four, never refilled
	p := e.people("ada", "bob", "cyd")
	ada := p["ada"]
	resp := e.do(req{method: "POST", path: "/api/v1/events", token: ada.token, body: map[string]any{"name": "Jazz brunch", "starts_at": soon()}})
	expect(t, resp, 201, "")
	invitations := "/api/v1/events/" + resp.str("id") + "/invitations"
	profile := func(token string) response {
		return e.do(req{method: "GET", path: "/api/v1/users/bob", token: token})
	}

	tests := []struct {
		name  string
		names []string
		code  string // the invitation's answer
		left  int    // look-ups left after it
	}{
		{"an invitation of three people spends three look-ups", []string{"bob", "cyd", "nobody"}, "not_found", 1},
		{"an invitation of more people than the budget holds spends all of it, and goes through on a full one",
			[]string{"bob", "cyd", "nobody", "no-one", "none"}, "not_found", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := e.session(ada)
			resp := e.do(req{method: "POST", path: invitations, token: token, body: map[string]any{"usernames": tt.names}})
			expect(t, resp, 404, tt.code)
			for i := range tt.left {
				if resp := profile(token); resp.status != 200 {
					t.Fatalf("look-up %d of the %d left: got %d %s", i+1, tt.left, resp.status, resp.raw)
				}
			}
			expect(t, profile(token), 429, "rate_limited")
		})
	}
}
