package api

import (
	"fmt"
	"net/http"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/push"
)

// subscribeRequest is a browser's PushSubscription, as its toJSON() gives it.
type subscribeRequest struct {
	Endpoint       string  `json:"endpoint"`
	ExpirationTime *int64  `json:"expirationTime"`
	Keys           pushKey `json:"keys"`
}

type pushKey struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

func (r *subscribeRequest) validate() error {
	switch {
	case r.Endpoint == "":
		return missing("endpoint")
	case r.Keys.P256dh == "" || r.Keys.Auth == "":
		return missing("keys")
	}
	return nil
}

type unsubscribeRequest struct {
	Endpoint string `json:"endpoint"`
}

func (r *unsubscribeRequest) validate() error {
	if r.Endpoint == "" {
		return missing("endpoint")
	}
	return nil
}

type pushKindsRequest struct {
	Kinds []string `json:"kinds"`
}

func (r *pushKindsRequest) validate() error {
	if r.Kinds == nil {
		return missing("kinds")
	}
	if len(r.Kinds) > 50 {
		return fmt.Errorf("%w: at most 50 kinds", errInvalid)
	}
	return nil
}

// pushOn answers 503 while Web Push is not configured.
func (a *API) pushOn(w http.ResponseWriter) bool {
	if a.push == nil {
		writeCode(w, errcode.Unavailable, "push notifications are not available")
		return false
	}
	return true
}

// pushSettings tells the app the key to subscribe with, the kinds the user
// wants pushed, and every kind there is.
func (a *API) pushSettings(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.pushOn(w) {
		return
	}
	kinds, err := a.push.Kinds(r.Context(), u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	n, err := a.push.Count(r.Context(), u.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"public_key": a.push.PublicKey(), "kinds": kinds, "all": a.pushKinds,
		"subscriptions": n})
}

func (a *API) setPushKinds(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.pushOn(w) {
		return
	}
	req, err := bind[pushKindsRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	kinds, err := a.push.SetKinds(r.Context(), u.ID, req.Kinds)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"public_key": a.push.PublicKey(), "kinds": kinds, "all": a.pushKinds})
}

func (a *API) subscribePush(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.pushOn(w) {
		return
	}
	req, err := bindLimit[subscribeRequest](w, r, MaxPageBody)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	err = a.push.Subscribe(r.Context(), u.ID, push.Subscription{Endpoint: req.Endpoint, P256dh: req.Keys.P256dh, Auth: req.Keys.Auth})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"endpoint": req.Endpoint})
}

func (a *API) unsubscribePush(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.pushOn(w) {
		return
	}
	req, err := bindLimit[unsubscribeRequest](w, r, MaxPageBody)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.push.Unsubscribe(r.Context(), u.ID, req.Endpoint); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}
