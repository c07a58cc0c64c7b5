package api

import (
	"net/http"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
)

// revokeOthers signs out every other device: every session of the user but the
// one making the request ends, and what it opened closes.
func (a *API) revokeOthers(w http.ResponseWriter, r *http.Request, u account.User) {
	keep := sessionOf(r).ID
	ended, err := a.accounts.RevokeOthers(r.Context(), u, keep)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.revoke(live.Revocation{UserID: u.ID, Except: keep})
	writeJSON(w, http.StatusOK, map[string]int{"ended": len(ended)})
}

type deleteMeRequest struct {
	Password string `json:"password"`
}

func (q *deleteMeRequest) validate() error {
	if q.Password == "" {
		return missing("password")
	}
	return nil
}

// deleteMe deletes the account once its password proves who asks. Its sessions
// end and what they opened closes at once; the live rooms it created end; its
// upcoming events are cancelled (docs/api.md says what else goes and stays).
func (a *API) deleteMe(w http.ResponseWriter, r *http.Request, u account.User) {
	req, err := bind[deleteMeRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if d := a.loginByAccount.wait(u.Username); d > 0 { // a password guess, like a login
		tooMany(w, d)
		return
	}
	var rooms []string
	if a.hub != nil {
		rooms = a.hub.RoomsCreatedBy(u.ID)
	}
	if _, err := a.accounts.Delete(r.Context(), u, req.Password); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.revoke(live.Revocation{UserID: u.ID})
	for _, id := range rooms {
		if err := a.hub.EndRoom(r.Context(), id); err != nil {
			a.log.WarnContext(r.Context(), "ending a room of a deleted account", "room", id, "err", err)
		}
	}
	clearSessionCookie(w, r)
	noContent(w)
}

// resetInfo tells a reset page whose password its link sets. No session; the
// token is a 256-bit secret, and the route is limited per address.
func (a *API) resetInfo(w http.ResponseWriter, r *http.Request) {
	if d := a.loginByIP.wait(a.clientAddr(r)); d > 0 {
		tooMany(w, d)
		return
	}
	u, err := a.accounts.ResetFor(r.Context(), r.PathValue("token"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": viewSummary(account.SummaryOf(u))})
}

type resetRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

func (q *resetRequest) validate() error {
	if q.Token == "" {
		return missing("token")
	}
	if q.NewPassword == "" {
		return missing("new_password")
	}
	return nil
}

// resetPassword spends a reset link: a new password, and every session of the
// account ends (whoever held one is signed out everywhere).
func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) {
	if d := a.loginByIP.wait(a.clientAddr(r)); d > 0 {
		tooMany(w, d)
		return
	}
	req, err := bind[resetRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	user, ended, err := a.accounts.Reset(r.Context(), req.Token, req.NewPassword)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	// The sessions that ended, one by one: a revocation of every session of the
	// account would, for the minute the hub remembers it, also close the
	// sockets of the session its owner opens next with the new password.
	for _, id := range ended {
		a.revoke(live.Revocation{UserID: user, Session: id})
	}
	noContent(w)
}
