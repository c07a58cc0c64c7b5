package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/townhall/townhall/internal/store/storetest"
)

func TestFirstRun(t *testing.T) {
	e := newEnv(t, "sqlite")
	code, ok, err := e.accounts.FirstRunInvite(t.Context())
	if err != nil || !ok {
		t.Fatalf("first-run invite on an empty database: %v %v", ok, err)
	}
	t.Run("the same code is offered until it is used", func(t *testing.T) {
		again, _, _ := e.accounts.FirstRunInvite(t.Context())
		if again != code {
			t.Fatalf("got a second code %q, want %q", again, code)
		}
	})
	t.Run("the code tells the sign-up page it makes an admin", func(t *testing.T) {
		resp := e.do(req{method: "GET", path: "/api/v1/invites/" + code})
		expect(t, resp, 200, "")
		if resp.body["admin"] != true {
			t.Fatalf("admin = %v", resp.body["admin"])
		}
	})
	admin := e.signup("founder", code)
	t.Run("the code makes the first account an admin", func(t *testing.T) {
		resp := e.do(req{method: "GET", path: "/api/v1/me", token: admin.token})
		expect(t, resp, 200, "")
		if resp.body["is_admin"] != true {
			t.Fatalf("is_admin = %v", resp.body["is_admin"])
		}
	})
	t.Run("no first-run code is offered once an account exists", func(t *testing.T) {
		if _, ok, err := e.accounts.FirstRunInvite(t.Context()); ok || err != nil {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
	})
	t.Run("the used code cannot make a second admin", func(t *testing.T) {
		resp := e.do(req{method: "POST", path: "/api/v1/signup", body: map[string]string{
			"username": "intruder", "password": "correct horse battery", "invite_code": code}})
		expect(t, resp, 410, "invite_invalid")
	})
}

func TestSignupRefusals(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.admin("founder")
	fresh := func() string {
		resp := e.do(req{method: "POST", path: "/api/v1/invites", token: admin.token})
		expect(t, resp, 201, "")
		return resp.str("code")
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"a sign-up without an invite code is refused", map[string]string{"username": "bob", "password": "long enough pw"}, 410, "invite_invalid"},
		{"an unknown invite code is refused", map[string]string{"username": "bob", "password": "long enough pw", "invite_code": "nope"}, 410, "invite_invalid"},
		{"a too short username is refused", map[string]string{"username": "bo", "password": "long enough pw", "invite_code": fresh()}, 422, "invalid_field"},
		{"a username with a dash is refused", map[string]string{"username": "bo-b", "password": "long enough pw", "invite_code": fresh()}, 422, "invalid_field"},
		{"a 21-character username is refused", map[string]string{"username": strings.Repeat("a", 21), "password": "long enough pw", "invite_code": fresh()}, 422, "invalid_field"},
		{"a short password is refused", map[string]string{"username": "bob", "password": "short", "invite_code": fresh()}, 422, "invalid_field"},
		{"a taken username is refused whatever its case", map[string]string{"username": "FOUNDER", "password": "long enough pw", "invite_code": fresh()}, 409, "username_taken"},
		{"an unknown field is refused", `{"username":"bob","password":"long enough pw","admin":true}`, 400, "bad_request"},
		{"a duplicated key is refused", `{"username":"bob","username":"eve","password":"long enough pw"}`, 400, "bad_request"},
		{"a field of the wrong type is refused", `{"username":7,"password":"long enough pw"}`, 400, "bad_request"},
		{"trailing data is refused", `{"username":"bob","password":"long enough pw"} {}`, 400, "bad_request"},
		{"a body that is not an object is refused", `[]`, 400, "bad_request"},
		{"an empty body is refused", ``, 400, "bad_request"},
		{"a body over the size limit is refused", `{"username":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "too_large"},
		{"a display name with a control character is refused", map[string]string{"username": "bob", "display_name": "B\x07b", "password": "long enough pw", "invite_code": fresh()}, 422, "invalid_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(req{method: "POST", path: "/api/v1/signup", body: tt.body})
			expect(t, resp, tt.status, tt.code)
		})
	}
	t.Run("a refused sign-up leaves its invite code usable", func(t *testing.T) {
		code := fresh()
		resp := e.do(req{method: "POST", path: "/api/v1/signup", body: map[string]string{"username": "founder", "password": "long enough pw", "invite_code": code}})
		expect(t, resp, 409, "username_taken")
		e.signup("bob", code)
	})
}

func TestSingleUseInviteUnderConcurrency(t *testing.T) {
	for _, driver := range storetest.Drivers() {
		t.Run("100 simultaneous redemptions of one code make one account on "+driver, func(t *testing.T) {
			e := newEnv(t, driver)
			admin := e.admin("founder")
			resp := e.do(req{method: "POST", path: "/api/v1/invites", token: admin.token})
			expect(t, resp, 201, "")
			code := resp.str("code")

			const n = 100
			statuses := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					body := fmt.Sprintf(`{"username":"racer%d","password":"long enough pw","invite_code":%q}`, i, code)
					hr, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/signup", strings.NewReader(body))
					r, err := e.srv.Client().Do(hr)
					if err != nil {
						t.Error(err)
						return
					}
					r.Body.Close()
					statuses[i] = r.StatusCode
				}()
			}
			close(start)
			wg.Wait()
			created := 0
			for _, s := range statuses {
				switch s {
				case 201:
					created++
				case 410:
				default:
					t.Errorf("unexpected status %d", s)
				}
			}
			if created != 1 {
				t.Fatalf("%d accounts were created from one code, want 1", created)
			}
		})
	}
}

func TestLoginAndSessions(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.admin("founder")

	t.Run("login is case-insensitive in the username", func(t *testing.T) {
		resp := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "Founder", "password": "correct horse battery"}})
		expect(t, resp, 200, "")
		if resp.str("token") == "" {
			t.Fatal("no token")
		}
	})
	t.Run("a wrong password and an unknown user get the same answer", func(t *testing.T) {
		a := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "founder", "password": "wrong password"}})
		b := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "nobody", "password": "wrong password"}})
		expect(t, a, 401, "bad_credentials")
		expect(t, b, 401, "bad_credentials")
		if a.body["error"].(map[string]any)["message"] != b.body["error"].(map[string]any)["message"] {
			t.Fatal("messages differ")
		}
	})
	t.Run("a request without a session is refused", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/api/v1/me"}), 401, "unauthenticated")
		expect(t, e.do(req{method: "GET", path: "/api/v1/me", token: "garbage"}), 401, "unauthenticated")
	})
	t.Run("a user lists their sessions and revokes another one", func(t *testing.T) {
		other := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "founder", "password": "correct horse battery"}})
		expect(t, other, 200, "")
		list := e.do(req{method: "GET", path: "/api/v1/sessions", token: admin.token})
		expect(t, list, 200, "")
		sessions := list.body["sessions"].([]any)
		if len(sessions) < 2 {
			t.Fatalf("got %d sessions, want at least 2", len(sessions))
		}
		expect(t, e.do(req{method: "DELETE", path: "/api/v1/sessions/" + other.str("session_id"), token: admin.token}), 204, "")
		expect(t, e.do(req{method: "GET", path: "/api/v1/me", token: other.str("token")}), 401, "unauthenticated")
		expect(t, e.do(req{method: "GET", path: "/api/v1/me", token: admin.token}), 200, "")
	})
	t.Run("a user cannot revoke someone else's session", func(t *testing.T) {
		bob := e.invited(admin, "bob")
		list := e.do(req{method: "GET", path: "/api/v1/sessions", token: admin.token})
		id := list.body["sessions"].([]any)[0].(map[string]any)["id"].(string)
		expect(t, e.do(req{method: "DELETE", path: "/api/v1/sessions/" + id, token: bob.token}), 404, "not_found")
	})
	t.Run("logout revokes the session", func(t *testing.T) {
		s := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "founder", "password": "correct horse battery"}})
		tok := s.str("token")
		expect(t, e.do(req{method: "POST", path: "/api/v1/logout", token: tok}), 204, "")
		expect(t, e.do(req{method: "GET", path: "/api/v1/me", token: tok}), 401, "unauthenticated")
	})
}

func TestLoginRateLimits(t *testing.T) {
	t.Run("too many attempts on one account get 429 with Retry-After", func(t *testing.T) {
		e := newEnv(t, "sqlite", withRates(3, 1000))
		e.admin("founder")
		var last response
		for range 4 {
			last = e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "founder", "password": "wrong password"}})
		}
		expect(t, last, 429, "rate_limited")
		if last.header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After header")
		}
	})
}

func TestCookieSessionsAndCSRF(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.admin("founder")
	login := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "founder", "password": "correct horse battery"}})
	expect(t, login, 200, "")
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: login.header}).Cookies() {
		if c.Name == "townhall_session" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("login set no session cookie")
	}
	t.Run("the cookie is HttpOnly and SameSite=Lax", func(t *testing.T) {
		if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
			t.Fatalf("cookie %+v", cookie)
		}
	})
	tests := []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"a same-origin browser request passes", map[string]string{"Sec-Fetch-Site": "same-origin"}, 201, ""},
		{"a cross-site browser request is refused", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross_origin"},
		{"a request from a foreign Origin is refused", map[string]string{"Origin": "https://evil.example"}, 403, "cross_origin"},
		{"a request from the page's own Origin passes", map[string]string{"Origin": e.srv.URL}, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(req{method: "POST", path: "/api/v1/invites", cookie: cookie, header: tt.header})
			expect(t, resp, tt.status, tt.code)
		})
	}
	t.Run("the cookie works for reads", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/api/v1/me", cookie: cookie}), 200, "")
	})
}

func TestInvites(t *testing.T) {
	e := newEnv(t, "sqlite", withInvitesPerUser(2))
	admin := e.admin("founder")
	bob := e.invited(admin, "bob")

	t.Run("a user holds at most the configured number of open invites", func(t *testing.T) {
		expect(t, e.do(req{method: "POST", path: "/api/v1/invites", token: bob.token}), 201, "")
		expect(t, e.do(req{method: "POST", path: "/api/v1/invites", token: bob.token}), 201, "")
		expect(t, e.do(req{method: "POST", path: "/api/v1/invites", token: bob.token}), 409, "invite_limit")
	})
	t.Run("a used invite frees a place", func(t *testing.T) {
		list := e.do(req{method: "GET", path: "/api/v1/invites", token: bob.token})
		code := list.body["invites"].([]any)[0].(map[string]any)["code"].(string)
		e.signup("carol", code)
		expect(t, e.do(req{method: "POST", path: "/api/v1/invites", token: bob.token}), 201, "")
	})
	t.Run("admins have no limit", func(t *testing.T) {
		for range 4 {
			expect(t, e.do(req{method: "POST", path: "/api/v1/invites", token: admin.token}), 201, "")
		}
	})
	t.Run("the profile says who invited whom", func(t *testing.T) {
		resp := e.do(req{method: "GET", path: "/api/v1/users/carol", token: admin.token})
		expect(t, resp, 200, "")
		by, _ := resp.body["invited_by"].(map[string]any)
		if by["username"] != "bob" {
			t.Fatalf("invited_by = %v", resp.body["invited_by"])
		}
	})
	t.Run("the invite link points at the public URL", func(t *testing.T) {
		resp := e.do(req{method: "POST", path: "/api/v1/invites", token: admin.token})
		if !strings.HasPrefix(resp.str("url"), "http://townhall.test/join/") {
			t.Fatalf("url = %q", resp.str("url"))
		}
	})
}

func TestDisableAccount(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.admin("founder")
	bob := e.invited(admin, "bob")
	carol := e.invited(admin, "carol")

	t.Run("a non-admin cannot disable an account", func(t *testing.T) {
		expect(t, e.do(req{method: "POST", path: "/api/v1/admin/users/carol/disable", token: bob.token}), 403, "forbidden")
	})
	t.Run("an admin disables an account and its sessions die at once", func(t *testing.T) {
		expect(t, e.do(req{method: "POST", path: "/api/v1/admin/users/carol/disable", token: admin.token}), 204, "")
		expect(t, e.do(req{method: "GET", path: "/api/v1/me", token: carol.token}), 401, "unauthenticated")
	})
	t.Run("a disabled account cannot sign in", func(t *testing.T) {
		resp := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "carol", "password": "correct horse battery"}})
		expect(t, resp, 403, "account_disabled")
	})
	t.Run("an admin cannot disable themselves", func(t *testing.T) {
		expect(t, e.do(req{method: "POST", path: "/api/v1/admin/users/founder/disable", token: admin.token}), 403, "forbidden")
	})
}
