package api

import (
	"fmt"
	"net/http"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/notify"
)

type notificationSettingsRequest struct {
	Muted []string `json:"muted"` // kinds; empty: hear everything
}

func (r *notificationSettingsRequest) validate() error {
	if r.Muted == nil {
		return missing("muted")
	}
	if len(r.Muted) > len(notify.Kinds()) {
		return fmt.Errorf("%w: at most %d kinds", errInvalid, len(notify.Kinds()))
	}
	return nil
}

type notificationSettingsView struct {
	Muted []string `json:"muted"`
	Kinds []string `json:"kinds"` // every kind there is
}

func (a *API) notificationSettings(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.notify == nil {
		a.writeError(w, r, errNoService)
		return
	}
	muted, err := a.notify.Muted(r.Context(), u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, notificationSettingsView{Muted: muted, Kinds: notify.Kinds()})
}

func (a *API) setNotificationSettings(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.notify == nil {
		a.writeError(w, r, errNoService)
		return
	}
	req, err := bind[notificationSettingsRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	muted, err := a.notify.SetMuted(r.Context(), u.ID, req.Muted)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, notificationSettingsView{Muted: muted, Kinds: notify.Kinds()})
}
