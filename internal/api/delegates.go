package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
)

type delegateRequest struct {
	Scopes []string `json:"scopes"` // events, invitations, rooms
}

func (r *delegateRequest) validate() error {
	if len(r.Scopes) == 0 || len(r.Scopes) > len(account.Scopes()) {
		return fmt.Errorf("%w: name 1 to %d scopes", errInvalid, len(account.Scopes()))
	}
	_, err := account.ParseScopes(r.Scopes)
	return err
}

type delegateView struct {
	User      userView        `json:"user"`
	Scopes    []account.Scope `json:"scopes"`
	CreatedAt time.Time       `json:"created_at"`
}

type delegationView struct {
	Account   userView        `json:"account"`
	Scopes    []account.Scope `json:"scopes"`
	CreatedAt time.Time       `json:"created_at"`
}

type auditView struct {
	ID       string    `json:"id"`
	Delegate userView  `json:"delegate"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	At       time.Time `json:"at"`
}

func (a *API) delegationOn(w http.ResponseWriter, r *http.Request) bool {
	if a.delegation == nil {
		a.writeError(w, r, errNoService)
		return false
	}
	return true
}

func (a *API) listDelegates(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.delegationOn(w, r) {
		return
	}
	list, err := a.delegation.Delegates(r.Context(), actorOf(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]delegateView, len(list))
	for i, d := range list {
		out[i] = delegateView{User: a.userViewByID(r, d.UserID), Scopes: d.Scopes, CreatedAt: d.CreatedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"delegates": out})
}

// nameDelegate names a delegate, or changes their scopes.
func (a *API) nameDelegate(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.delegationOn(w, r) {
		return
	}
	req, err := bind[delegateRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	d, t, err := a.delegation.Name(r.Context(), actorOf(r), r.PathValue("username"), req.Scopes)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, delegateView{User: viewSummary(account.SummaryOf(t)), Scopes: d.Scopes, CreatedAt: d.CreatedAt})
}

// revokeDelegate ends a delegation at once.
func (a *API) revokeDelegate(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.delegationOn(w, r) {
		return
	}
	if err := a.delegation.Revoke(r.Context(), actorOf(r), r.PathValue("username")); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

// listDelegations lists the accounts the user may act for.
func (a *API) listDelegations(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.delegationOn(w, r) {
		return
	}
	list, err := a.delegation.Delegations(r.Context(), u)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]delegationView, len(list))
	for i, d := range list {
		out[i] = delegationView{Account: a.userViewByID(r, d.OwnerID), Scopes: d.Scopes, CreatedAt: d.CreatedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"delegations": out})
}

// auditLog lists what the owner's delegates did, newest first; ?before= pages.
func (a *API) auditLog(w http.ResponseWriter, r *http.Request, u account.User) {
	if !a.delegationOn(w, r) {
		return
	}
	before := r.URL.Query().Get("before")
	if before != "" && !ids.Valid(before) {
		a.writeError(w, r, errBadCursor)
		return
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.delegation.AuditLog(r.Context(), actorOf(r), before, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]auditView, len(list))
	for i, e := range list {
		out[i] = auditView{ID: e.ID, Delegate: a.userViewByID(r, e.DelegateID), Action: e.Action, Target: e.Target, At: e.At}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out})
}
