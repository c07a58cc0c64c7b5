package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/mail"
)

// resetLinkRequest is the optional body of a reset link: how to hand it over.
type resetLinkRequest struct {
	// Send is "" to show the link to the admin, or "mail" to send it to the
	// address the account's owner gave, without showing it.
	Send string `json:"send"`
}

func (q *resetLinkRequest) validate() error {
	if q.Send != "" && q.Send != "mail" {
		return fmt.Errorf("%w: send must be \"mail\", or left out to show the link", errInvalid)
	}
	return nil
}

var (
	errNoMailServer = errcode.New(errcode.Conflict, "this server sends no mail: it needs --smtp-addr and --smtp-from; show the link instead")
	errNoEmail      = errcode.New(errcode.Conflict, "this account has no e-mail address: its owner adds one in their settings; show the link instead")
	errMailFailed   = errcode.New(errcode.Unavailable, "the mail server did not take the mail; try again, or show the link instead")
)

// mailTimeout bounds the delivery of one mail to the mail server.
const mailTimeout = 20 * time.Second

// resetLink makes a one-time link that sets a new password for an account. By
// default the admin is shown it and hands it over; with {"send":"mail"} it goes
// only to the address the account's owner gave, and the admin never sees it.
func (a *API) resetLink(w http.ResponseWriter, r *http.Request, u account.User) {
	data, err := readBody(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var req resetLinkRequest
	if len(bytes.TrimSpace(data)) > 0 { // no body: show the link, as before
		if req, err = decode[resetLinkRequest](data); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	if req.Send == "mail" {
		a.mailResetLink(w, r, u)
		return
	}
	token, target, expires, err := a.accounts.CreateReset(r.Context(), u, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r.Context(), u, "reset_link", target.Username, "")
	writeJSON(w, http.StatusCreated, map[string]any{"url": a.publicURL + "/reset/" + token, "expires_at": expires})
}

// mailResetLink sends a new reset link to the account's address. The link is
// made only once the account, its address and the mail server are known to be
// there; a mail the server refuses leaves a link nobody holds (only its hash is
// kept), which expires unused.
func (a *API) mailResetLink(w http.ResponseWriter, r *http.Request, admin account.User) {
	if err := requireAdmin(admin); err != nil {
		a.writeError(w, r, err)
		return
	}
	if a.mailer == nil {
		a.writeError(w, r, errNoMailServer)
		return
	}
	acc, err := a.accounts.Account(r.Context(), admin, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if acc.User.Email == "" {
		a.writeError(w, r, errNoEmail)
		return
	}
	token, target, expires, err := a.accounts.CreateReset(r.Context(), admin, acc.User.Username)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), mailTimeout)
	defer cancel()
	if err := a.mailer.Send(ctx, a.resetMail(target, a.publicURL+"/reset/"+token, expires)); err != nil {
		a.log.WarnContext(r.Context(), "mailing a reset link", "user", target.Username, "err", err)
		a.writeError(w, r, errMailFailed)
		return
	}
	masked := account.MaskEmail(target.Email)
	a.audit(r.Context(), admin, "reset_mail", target.Username, masked)
	writeJSON(w, http.StatusCreated, map[string]any{"sent_to": masked, "expires_at": expires})
}

// resetMail is the mail that carries a reset link to its account's owner.
func (a *API) resetMail(u account.User, link string, expires time.Time) mail.Message {
	site := a.publicURL
	if pu, err := url.Parse(a.publicURL); err == nil && pu.Host != "" {
		site = pu.Host
	}
	return mail.Message{
		To:      u.Email,
		Subject: "A new password for @" + u.Username + " on " + site,
		Text: "Hello " + u.DisplayName + ",\n\n" +
			"An admin of " + site + " made this link for you to choose a new password for your account @" + u.Username + ":\n\n" +
			link + "\n\n" +
			"It works once, until " + expires.UTC().Format("Mon 2 Jan 2006 15:04 MST") + ". Using it signs you out on every device.\n" +
			"If you did not ask for it, you may ignore this mail: your password stays as it is.\n",
	}
}
