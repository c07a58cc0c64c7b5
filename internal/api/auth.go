package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// setSessionCookie hands the browser its session: HttpOnly, SameSite=Lax, and
// Secure when the request came over TLS.
func setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

// signup creates an account with an invite code and signs it in.
func (a *API) signup(w http.ResponseWriter, r *http.Request) {
	if d := a.loginByIP.wait(a.clientAddr(r)); d > 0 {
		tooMany(w, d)
		return
	}
	req, err := bind[signupRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	u, inv, err := a.accounts.SignUp(r.Context(), account.SignUp{Username: req.Username, DisplayName: req.DisplayName,
		Password: req.Password, InviteCode: req.InviteCode})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	roomID := inv.RoomID
	page := false
	if req.InviteCode != "" && a.invitations != nil {
		// The sign-up link of an invitation's page: the page becomes the new
		// account's, accepted, as the link always led into the conversation.
		found, out, err := a.invitations.ClaimBySignup(r.Context(), req.InviteCode, u.ID)
		if err != nil {
			a.log.WarnContext(r.Context(), "accepting an invitation at sign-up", "err", err)
		}
		if page = found; found && out.RoomID != "" {
			roomID = out.RoomID
		}
	}
	if inv.RoomID != "" && a.hub != nil && !page {
		a.hub.Admit(r.Context(), inv.RoomID, inv.CreatedBy, u.ID) // the invitation link counts as an invitation
	}
	a.startSession(w, r, req.Username, req.Password, http.StatusCreated, roomID)
}

// login signs in with a username and password, limited per IP and per account.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	if d := a.loginByIP.wait(a.clientAddr(r)); d > 0 {
		tooMany(w, d)
		return
	}
	req, err := bind[loginRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if name, err := account.NormalizeUsername(req.Username); err == nil {
		if d := a.loginByAccount.wait(name); d > 0 {
			tooMany(w, d)
			return
		}
	}
	a.startSession(w, r, req.Username, req.Password, http.StatusOK, "")
}

// startSession signs in after a sign-up or login; roomID, when set, is the room an
// invitation to a conversation leads to.
func (a *API) startSession(w http.ResponseWriter, r *http.Request, username, password string, status int, roomID string) {
	tok, sess, u, err := a.accounts.Login(r.Context(), username, password, r.UserAgent())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	setSessionCookie(w, r, tok, sess.ExpiresAt)
	writeJSON(w, status, loginView{Token: tok, SessionID: sess.ID, ExpiresAt: sess.ExpiresAt, User: viewMe(u), RoomID: roomID})
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, u account.User) {
	id := sessionOf(r).ID
	if err := a.accounts.RevokeSession(r.Context(), u, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.revoke(live.Revocation{UserID: u.ID, Session: id})
	clearSessionCookie(w, r)
	noContent(w)
}

// revoke closes what the ended sessions opened: sockets and audio connections.
func (a *API) revoke(rv live.Revocation) {
	if a.hub != nil {
		a.hub.Revoke(rv)
	}
}

// changePassword sets a new password once the current one proves who asks, and
// ends every other session of the account (this one stays signed in).
func (a *API) changePassword(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[passwordRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	keep := sessionOf(r).ID
	if _, err := a.accounts.ChangePassword(r.Context(), u, keep, req.CurrentPassword, req.NewPassword); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.revoke(live.Revocation{UserID: u.ID, Except: keep})
	noContent(w)
}

type emailRequest struct {
	Email           string `json:"email"` // "" removes it
	CurrentPassword string `json:"current_password"`
}

func (q *emailRequest) validate() error {
	switch {
	case q.CurrentPassword == "":
		return missing("current_password")
	case len(q.CurrentPassword) > account.MaxPassword:
		return account.ErrBadCredentials
	case len(q.Email) > 2*account.MaxEmail: // the account service says why in words
		return fmt.Errorf("%w: email is at most %d characters", errInvalid, account.MaxEmail)
	}
	return nil
}

// setEmail sets or removes the address that password reset links may be sent
// to; the current password proves it is the owner (a stolen session alone must
// not redirect them). Guessed passwords count as login attempts.
func (a *API) setEmail(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[emailRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if d := a.loginByAccount.wait(u.Username); d > 0 {
		tooMany(w, d)
		return
	}
	u, err = a.accounts.SetEmail(r.Context(), u, req.CurrentPassword, req.Email)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewMe(u))
}

func (a *API) me(w http.ResponseWriter, r *http.Request, u account.User) {
	writeJSON(w, http.StatusOK, viewMe(u))
}

func (a *API) updateMe(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[profileRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	display, bio := u.DisplayName, u.Bio
	if req.DisplayName != nil {
		display = *req.DisplayName
	}
	if req.Bio != nil {
		bio = *req.Bio
	}
	u, err = a.accounts.UpdateProfile(r.Context(), u, display, bio)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewMe(u))
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request, u account.User) {
	list, err := a.accounts.Sessions(r.Context(), u)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	cur := sessionOf(r).ID
	out := make([]sessionView, len(list))
	for i, s := range list {
		out[i] = viewSession(s, cur)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (a *API) revokeSession(w http.ResponseWriter, r *http.Request, u account.User) {
	id := r.PathValue("id")
	if err := a.accounts.RevokeSession(r.Context(), u, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.revoke(live.Revocation{UserID: u.ID, Session: id})
	if id == sessionOf(r).ID {
		clearSessionCookie(w, r)
	}
	noContent(w)
}
