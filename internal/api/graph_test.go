package api_test

import (
	"fmt"
	"testing"
)

func names(t *testing.T, resp response) []string {
	t.Helper()
	expect(t, resp, 200, "")
	var out []string
	for _, u := range resp.body["users"].([]any) {
		out = append(out, u.(map[string]any)["username"].(string))
	}
	return out
}

func TestFollowAndBlock(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.admin("founder")
	bob := e.invited(admin, "bob")
	carol := e.invited(admin, "carol")

	profile := func(viewer user, name string) response {
		return e.do(req{method: "GET", path: "/api/v1/users/" + name, token: viewer.token})
	}
	t.Run("following shows on both profiles", func(t *testing.T) {
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/carol/follow", token: bob.token}), 204, "")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/carol/follow", token: bob.token}), 204, "") // idempotent
		p := profile(bob, "carol")
		expect(t, p, 200, "")
		if p.body["followers"] != 1.0 || p.body["you_follow"] != true || p.body["follows_you"] != false {
			t.Fatalf("carol as bob sees her: %s", p.raw)
		}
		p = profile(carol, "bob")
		if p.body["following"] != 1.0 || p.body["follows_you"] != true {
			t.Fatalf("bob as carol sees him: %s", p.raw)
		}
	})
	t.Run("a user cannot follow themselves", func(t *testing.T) {
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/bob/follow", token: bob.token}), 422, "invalid_field")
	})
	t.Run("following an unknown user is not found", func(t *testing.T) {
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/nobody/follow", token: bob.token}), 404, "not_found")
	})
	t.Run("lists show followers and following", func(t *testing.T) {
		if got := names(t, e.do(req{method: "GET", path: "/api/v1/users/carol/followers", token: admin.token})); len(got) != 1 || got[0] != "bob" {
			t.Fatalf("carol's followers: %v", got)
		}
		if got := names(t, e.do(req{method: "GET", path: "/api/v1/users/bob/following", token: admin.token})); len(got) != 1 || got[0] != "carol" {
			t.Fatalf("bob's following: %v", got)
		}
	})
	t.Run("a block removes follows both ways", func(t *testing.T) {
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/bob/follow", token: carol.token}), 204, "")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/bob/block", token: carol.token}), 204, "")
		p := profile(carol, "bob")
		expect(t, p, 200, "")
		if p.body["you_block"] != true || p.body["followers"] != 0.0 || p.body["following"] != 0.0 {
			t.Fatalf("after the block carol sees bob as %s", p.raw)
		}
	})
	t.Run("the blocked user cannot see the blocker's profile", func(t *testing.T) {
		expect(t, profile(bob, "carol"), 404, "not_found")
	})
	t.Run("the blocked user cannot follow the blocker, nor the blocker them", func(t *testing.T) {
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/carol/follow", token: bob.token}), 404, "not_found")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/bob/follow", token: carol.token}), 403, "blocked")
	})
	t.Run("a block hides each from the other's lists", func(t *testing.T) {
		dave := e.invited(admin, "dave")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/dave/follow", token: bob.token}), 204, "")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/dave/follow", token: carol.token}), 204, "")
		_ = dave
		for _, n := range names(t, e.do(req{method: "GET", path: "/api/v1/users/dave/followers", token: carol.token})) {
			if n == "bob" {
				t.Fatal("carol sees bob, whom she blocks, among dave's followers")
			}
		}
		for _, n := range names(t, e.do(req{method: "GET", path: "/api/v1/users/dave/followers", token: bob.token})) {
			if n == "carol" {
				t.Fatal("bob sees carol, who blocks him, among dave's followers")
			}
		}
		if got := names(t, e.do(req{method: "GET", path: "/api/v1/users/dave/followers", token: admin.token})); len(got) != 2 {
			t.Fatalf("a third party sees %v, want both", got)
		}
	})
	t.Run("unblocking lets them follow again", func(t *testing.T) {
		expect(t, e.do(req{method: "DELETE", path: "/api/v1/users/bob/block", token: carol.token}), 204, "")
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/carol/follow", token: bob.token}), 204, "")
		expect(t, e.do(req{method: "DELETE", path: "/api/v1/users/carol/follow", token: bob.token}), 204, "")
	})
}

func TestFollowerPagination(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.admin("founder")
	const n = 7
	for i := range n {
		u := e.invited(admin, fmt.Sprintf("fan%d", i))
		expect(t, e.do(req{method: "PUT", path: "/api/v1/users/founder/follow", token: u.token}), 204, "")
	}
	t.Run("pages of 3 walk the whole list once, newest first", func(t *testing.T) {
		seen := map[string]bool{}
		var order []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatal("pagination does not end")
			}
			resp := e.do(req{method: "GET", path: "/api/v1/users/founder/followers?limit=3&cursor=" + cursor, token: admin.token})
			for _, name := range names(t, resp) {
				if seen[name] {
					t.Fatalf("%s seen twice", name)
				}
				seen[name] = true
				order = append(order, name)
			}
			cursor = resp.str("next_cursor")
			if cursor == "" {
				break
			}
		}
		if len(order) != n || order[0] != fmt.Sprintf("fan%d", n-1) {
			t.Fatalf("walked %v", order)
		}
	})
	tests := []struct {
		name, query string
	}{
		{"a malformed cursor is refused", "cursor=not*base64!"},
		{"a cursor of the wrong shape is refused", "cursor=YWJj"},
		{"a zero limit is refused", "limit=0"},
		{"a limit over the page size is refused", "limit=1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(req{method: "GET", path: "/api/v1/users/founder/followers?" + tt.query, token: admin.token})
			if resp.status < 400 || resp.status >= 500 {
				t.Fatalf("got %d: %s", resp.status, resp.raw)
			}
		})
	}
}

func TestLookupRateLimit(t *testing.T) {
	e := newEnv(t, "sqlite", withRates(1000, 1)) // 1 per second, burst 4
	admin := e.admin("founder")
	var last response
	for range 6 {
		last = e.do(req{method: "GET", path: "/api/v1/users/founder", token: admin.token})
	}
	t.Run("crawling profiles quickly gets 429", func(t *testing.T) {
		expect(t, last, 429, "rate_limited")
	})
}

func TestProfileEdit(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.admin("founder")
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"a user sets a display name and a bio", map[string]string{"display_name": "The Founder", "bio": "Builds rooms.\nTalks."}, 200, ""},
		{"an empty display name is refused", map[string]string{"display_name": "  "}, 422, "invalid_field"},
		{"a bio over 300 characters is refused", map[string]string{"bio": string(make([]byte, 301))}, 422, "invalid_field"},
		{"an empty change is refused", map[string]string{}, 422, "invalid_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, e.do(req{method: "PATCH", path: "/api/v1/me", token: admin.token, body: tt.body}), tt.status, tt.code)
		})
	}
	t.Run("the profile shows the edit", func(t *testing.T) {
		p := e.do(req{method: "GET", path: "/api/v1/users/founder", token: admin.token})
		if p.body["display_name"] != "The Founder" || p.body["bio"] != "Builds rooms.\nTalks." {
			t.Fatalf("profile: %s", p.raw)
		}
	})
}
