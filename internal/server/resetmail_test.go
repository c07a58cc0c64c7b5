package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/mail/mailtest"
)

// withMail points the server at a test mail server.
func withMail(srv *mailtest.Server) serverOption {
	return withConfig(func(c *config.Config) {
		c.SMTPAddr, c.SMTPFrom = srv.Addr, "Townhall <noreply@town.example>"
	})
}

// mailedLink waits for the mail server's next message and returns its
// recipient and the reset link in its text.
func mailedLink(t *testing.T, srv *mailtest.Server) (to, link string) {
	t.Helper()
	var m mailtest.Message
	select {
	case m = <-srv.Messages:
	case <-time.After(patience):
		t.Fatal("no mail reached the mail server")
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("the mail does not parse: %v\n%s", err, m.Data)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	link = regexp.MustCompile(`https?://\S+/reset/\S+`).FindString(string(body))
	if link == "" || len(m.To) != 1 || m.To[0] != msg.Header.Get("To")[1:len(msg.Header.Get("To"))-1] {
		t.Fatalf("envelope to %v, header To %q, body:\n%s", m.To, msg.Header.Get("To"), body)
	}
	return m.To[0], link
}

// setEmail sets u's address with their password.
func setEmail(t *testing.T, u *user, email, pw string) error {
	t.Helper()
	return u.Do(ctxT(t), "PUT", "/api/v1/me/email", map[string]string{"email": email, "current_password": pw}, nil)
}

// TestResetLinkByMail: (issue 17) bob gives his address; an admin sends him a
// reset link by mail, without seeing it; the link in the mail sets a new
// password and signs bob out everywhere.
func TestResetLinkByMail(t *testing.T) {
	mailSrv := mailtest.Start(t, mailtest.Options{})
	ts := startServer(t, "sqlite", withMail(mailSrv))
	bob, cyd := ts.user("bob"), ts.user("cyd")

	t.Run("an owner's address is refused without their password or when malformed, and kept for them alone", func(t *testing.T) {
		wantStatus(t, "a wrong password", setEmail(t, bob, "bob@example.org", "not my password"), 401, "bad_credentials")
		wantStatus(t, "no password", setEmail(t, bob, "bob@example.org", ""), 422, "invalid_field")
		for _, bad := range []string{"bob", "Bob <bob@example.org>", "bob@example.org\r\nBcc: eve@example.org", "bob@localhost"} {
			wantStatus(t, "the address "+bad, setEmail(t, bob, bad, password), 422, "invalid_field")
		}
		status, _, b := raw(t, ts, bob, "PUT", "/api/v1/me/email", []byte(`{"email":"bob@example.org","password":"x"}`))
		if status != 400 || errCode(b) != "bad_request" {
			t.Fatalf("an unknown field: %d %s", status, b)
		}
		if err := setEmail(t, bob, "Bob@Example.ORG", password); err != nil {
			t.Fatal(err)
		}
		var me struct{ Email string }
		if err := bob.Do(ctxT(t), "GET", "/api/v1/me", nil, &me); err != nil || me.Email != "Bob@example.org" {
			t.Fatalf("bob's own view: %+v, %v", me, err)
		}
		for _, path := range []string{"/api/v1/users/bob", "/api/v1/admin/users/bob", "/api/v1/admin/users?q=bob"} {
			viewer := cyd
			if strings.Contains(path, "admin") {
				viewer = ts.admin
			}
			if _, _, b := raw(t, ts, viewer, "GET", path, nil); bytes.Contains(bytes.ToLower(b), []byte("bob@example.org")) {
				t.Fatalf("%s shows bob's address: %s", path, b)
			}
		}
		var adm struct {
			User struct {
				HasEmail bool `json:"has_email"`
			} `json:"user"`
		}
		if err := ts.admin.Do(ctxT(t), "GET", "/api/v1/admin/users/bob", nil, &adm); err != nil || !adm.User.HasEmail {
			t.Fatalf("the admin's view of bob: %+v, %v", adm, err)
		}
	})

	t.Run("an admin mails bob a link they never see, and the link in the mail sets his new password", func(t *testing.T) {
		us := userSocket(t, bob)
		var sent map[string]any
		if err := ts.admin.Do(ctxT(t), "POST", "/api/v1/admin/users/bob/reset-link", map[string]string{"send": "mail"}, &sent); err != nil {
			t.Fatal(err)
		}
		if sent["sent_to"] != "B•••@example.org" || sent["url"] != nil {
			t.Fatalf("the admin's answer: %v", sent)
		}
		to, link := mailedLink(t, mailSrv)
		if to != "Bob@example.org" || !strings.HasPrefix(link, ts.url+"/reset/") {
			t.Fatalf("mailed to %q the link %q", to, link)
		}
		if status, _, page := raw(t, ts, nil, "GET", strings.TrimPrefix(link, ts.url), nil); status != 200 || !bytes.Contains(page, []byte("<html")) {
			t.Fatalf("the link's page: %d", status)
		}
		token := link[strings.LastIndex(link, "/")+1:]
		if status, _, b := raw(t, ts, nil, "GET", "/api/v1/password-reset/"+token, nil); status != 200 || !strings.Contains(string(b), `"bob"`) {
			t.Fatalf("the link's account: %d %s", status, b)
		}
		body, _ := json.Marshal(map[string]string{"token": token, "new_password": "a new good password"})
		if status, _, b := raw(t, ts, nil, "POST", "/api/v1/password-reset", body); status != 204 {
			t.Fatalf("reset: %d %s", status, b)
		}
		if bye := closedWithin(t, us, revokedWithin); bye != "session_ended" {
			t.Fatalf("bob's user socket: bye %q", bye)
		}
		c, sess, err := client.New(ts.url).Login(ctxT(t), "bob", "a new good password")
		if err != nil {
			t.Fatalf("the new password: %v", err)
		}
		// The new session's socket lives on: only the sessions that ended were
		// revoked, not the one opened right after.
		fresh := userSocket(t, &user{Client: c, ID: sess.User.ID, Name: "bob"})
		follow(t, cyd, bob)
		fresh.waitFor(t, "a notification on the new session's socket", msgType("notification"))
		if got := auditLog(t, ts); len(got) == 0 || got[0] != "reset_mail bob B•••@example.org" {
			t.Fatalf("audit log %v", got)
		}
	})

	t.Run("what cannot be mailed is refused with a JSON error, and nothing is sent", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			as     *user
			path   string
			body   string
			status int
			code   string
		}{
			{"an account without an address", ts.admin, "/api/v1/admin/users/cyd/reset-link", `{"send":"mail"}`, 409, "conflict"},
			{"a way of sending that does not exist", ts.admin, "/api/v1/admin/users/cyd/reset-link", `{"send":"fax"}`, 422, "invalid_field"},
			{"a body that is not JSON", ts.admin, "/api/v1/admin/users/cyd/reset-link", `send=mail`, 400, "bad_request"},
			{"an unknown account", ts.admin, "/api/v1/admin/users/nobody/reset-link", `{"send":"mail"}`, 404, "not_found"},
			{"a request of someone who is not an admin", cyd, "/api/v1/admin/users/bob/reset-link", `{"send":"mail"}`, 403, "forbidden"},
		} {
			t.Run(c.name+" is refused", func(t *testing.T) {
				status, _, b := raw(t, ts, c.as, "POST", c.path, []byte(c.body))
				if status != c.status || errCode(b) != c.code {
					t.Fatalf("%d %s, want %d %s", status, b, c.status, c.code)
				}
			})
		}
		select {
		case m := <-mailSrv.Messages:
			t.Fatalf("a refused request sent mail to %v", m.To)
		default:
		}
	})

	t.Run("a mail server that refuses the mail is an unavailable error, and the link is shown to nobody", func(t *testing.T) {
		picky := mailtest.Start(t, mailtest.Options{User: "town", Password: "s3cret"}) // wants a login the server lacks
		ts2 := startServer(t, "sqlite", withMail(picky))
		dan := ts2.user("dan")
		if err := setEmail(t, dan, "dan@example.org", password); err != nil {
			t.Fatal(err)
		}
		status, _, b := raw(t, ts2, ts2.admin, "POST", "/api/v1/admin/users/dan/reset-link", []byte(`{"send":"mail"}`))
		if status != 503 || errCode(b) != "unavailable" || bytes.Contains(b, []byte("/reset/")) {
			t.Fatalf("%d %s, want 503 unavailable", status, b)
		}
	})

	t.Run("a server without a mail server refuses to mail and still shows links", func(t *testing.T) {
		plain := startServer(t, "sqlite")
		eve := plain.user("eve")
		if err := setEmail(t, eve, "eve@example.org", password); err != nil {
			t.Fatal(err)
		}
		status, _, b := raw(t, plain, plain.admin, "POST", "/api/v1/admin/users/eve/reset-link", []byte(`{"send":"mail"}`))
		if status != 409 || errCode(b) != "conflict" {
			t.Fatalf("%d %s, want 409 conflict", status, b)
		}
		var stats struct{ Mail bool }
		if err := plain.admin.Do(ctxT(t), "GET", "/api/v1/admin/stats", nil, &stats); err != nil || stats.Mail {
			t.Fatalf("stats say mail %v, %v", stats.Mail, err)
		}
		var link struct{ URL string }
		if err := plain.admin.Do(ctxT(t), "POST", "/api/v1/admin/users/eve/reset-link", nil, &link); err != nil || link.URL == "" {
			t.Fatalf("a shown link: %+v, %v", link, err)
		}
	})
}
