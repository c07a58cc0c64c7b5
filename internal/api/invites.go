package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/account"
)

func (a *API) createInvite(w http.ResponseWriter, r *http.Request, u account.User) {
	inv, err := a.accounts.CreateInvite(r.Context(), u)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a.viewInvite(inv))
}

func (a *API) listInvites(w http.ResponseWriter, r *http.Request, u account.User) {
	list, err := a.accounts.Invites(r.Context(), u)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]inviteView, len(list))
	for i, inv := range list {
		out[i] = a.viewInvite(inv)
	}
	writeJSON(w, http.StatusOK, map[string]any{"invites": out})
}

// checkInvite tells a sign-up page whether a code is still usable and who made it.
// Codes are 256-bit secrets, so this reveals nothing to someone without one.
func (a *API) checkInvite(w http.ResponseWriter, r *http.Request) {
	info, err := a.accounts.InviteInfo(r.Context(), r.PathValue("code"))
	if errors.Is(err, account.ErrNotFound) {
		a.writeError(w, r, account.ErrInviteInvalid)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	v := struct {
		Admin     bool      `json:"admin"`
		InvitedBy *userView `json:"invited_by"`
		ExpiresAt time.Time `json:"expires_at"`
		RoomID    string    `json:"room_id,omitempty"`
	}{Admin: info.GrantsAdmin, ExpiresAt: info.ExpiresAt, RoomID: info.RoomID}
	if info.Inviter != nil {
		iv := viewSummary(*info.Inviter)
		v.InvitedBy = &iv
	}
	writeJSON(w, http.StatusOK, v)
}
