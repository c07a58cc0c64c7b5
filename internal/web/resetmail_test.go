package web_test

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/mail/mailtest"
)

// TestResetLinkByMailInTheBrowser: (issue 17) bob gives his e-mail address in
// his settings; an admin has a reset link mailed to him from /admin without
// seeing it; the link in the mail opens the app's page where bob sets a new
// password, with which he logs in.
func TestResetLinkByMailInTheBrowser(t *testing.T) {
	mailSrv := mailtest.Start(t, mailtest.Options{})
	ts := startServer(t, func(c *config.Config) { c.SMTPAddr, c.SMTPFrom = mailSrv.Addr, "Townhall <noreply@town.example>" })
	admin := ts.admin(t)
	ts.invite(t, admin, "bob").rename(t, "Bob Builder")

	b := newBrowser(t)
	bob := b.user("bob", ts.url)
	bob.login("bob")
	bob.open("/settings")
	bob.fill("E-mail address (optional)", "bob@example.org")
	bob.fill("Password, to confirm", password)
	bob.clickText("Save address")
	bob.waitText("Address saved.")
	bob.viewport(375, 812)
	bob.screenshot("settings-email-375")
	bob.viewport(1280, 800)

	adm := b.user("admin", ts.url)
	adm.login("admin")
	adm.click(`[data-testid=admin-tab]`)
	adm.click(`[data-testid=users] [data-username=bob] [data-testid=reset]`)
	adm.click(`[data-testid=reset-mail]`)
	adm.waitFor("the link sent", `document.querySelector("[data-testid=reset-sent]")?.textContent.includes("b•••@example.org")`)
	adm.screenshot("admin-reset-mailed-1280")
	if eval[bool](adm, `document.body.textContent.includes("/reset/")`) {
		t.Error("the admin's page shows the mailed link")
	}

	var m mailtest.Message
	select {
	case m = <-mailSrv.Messages:
	case <-time.After(patience):
		t.Fatal("no mail reached the mail server")
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`https?://\S+/reset/\S+`).FindString(string(text))
	if m.To[0] != "bob@example.org" || !strings.Contains(string(text), "Hello Bob Builder") || link == "" {
		t.Fatalf("mail to %v:\n%s", m.To, text)
	}

	phone := b.user("bob on his phone", ts.url)
	phone.open(link[strings.Index(link, "/reset/"):])
	phone.waitText("For @bob. Every device signed in to this account will be signed out.")
	phone.fill("New password", "a brand new password")
	phone.fill("New password, again", "a brand new password")
	phone.clickText("Set the new password")
	phone.waitFor("the login page", `location.pathname === "/login"`)
	phone.fill("Username", "bob")
	phone.fill("Password", "a brand new password")
	phone.clickText("Log in")
	phone.waitFor("the hallway", `location.pathname === "/" && !!document.querySelector(".hallway")`)
	bob.waitFor("bob's first browser signed out", `location.pathname === "/login"`)
}
