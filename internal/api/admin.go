package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/moderation"
)

// The admin console's API: reports, accounts, live rooms, figures and the audit
// log. Every route is for admins only (forbidden otherwise), and every change
// an admin makes is written to the audit log (moderation.Service.Log).

type adminUserView struct {
	userView
	IsAdmin    bool      `json:"is_admin"`
	CreatedAt  time.Time `json:"created_at"`
	Disabled   bool      `json:"disabled"`
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	// HasEmail says a reset link can be mailed to the account: admins learn
	// that the address exists, not what it is.
	HasEmail bool `json:"has_email"`
}

func viewAdminUser(u account.User) adminUserView {
	return adminUserView{userView: viewSummary(account.SummaryOf(u)), IsAdmin: u.IsAdmin, CreatedAt: u.CreatedAt,
		Disabled: u.Disabled(), DisabledAt: u.DisabledAt, HasEmail: u.Email != ""}
}

// requireAdmin refuses anyone but an admin.
func requireAdmin(u account.User) error {
	if !u.IsAdmin {
		return account.ErrForbidden
	}
	return nil
}

// audit writes an admin's action to the audit log; a failure is logged, not
// answered (the action itself happened).
func (a *API) audit(ctx context.Context, admin account.User, action, target, detail string) {
	if a.moderation == nil {
		return
	}
	if err := a.moderation.Log(context.WithoutCancel(ctx), admin, action, target, detail); err != nil {
		a.log.ErrorContext(ctx, "writing the admin audit log", "action", action, "target", target, "err", err)
	}
}

func (a *API) adminUsers(w http.ResponseWriter, r *http.Request, u account.User) {
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, err := a.accounts.Users(r.Context(), u, r.URL.Query().Get("q"), limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]adminUserView, len(list))
	for i, x := range list {
		out[i] = viewAdminUser(x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

func (a *API) adminUser(w http.ResponseWriter, r *http.Request, u account.User) {
	acc, err := a.accounts.Account(r.Context(), u, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	sessions := make([]sessionView, len(acc.Sessions))
	for i, s := range acc.Sessions {
		sessions[i] = viewSession(s, "")
	}
	invites := make([]inviteView, len(acc.Invites))
	for i, inv := range acc.Invites {
		invites[i] = a.viewInvite(inv)
		invites[i].Code, invites[i].URL = "", "" // an admin sees that they exist, not the codes
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": viewAdminUser(acc.User), "sessions": sessions, "invites": invites})
}

// enable lifts the disabling of an account.
func (a *API) enable(w http.ResponseWriter, r *http.Request, u account.User) {
	target, err := a.accounts.Enable(r.Context(), u, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r.Context(), u, "enable", target.Username, "")
	noContent(w)
}

// signOutUser ends every session of an account (without disabling it).
func (a *API) signOutUser(w http.ResponseWriter, r *http.Request, u account.User) {
	if err := requireAdmin(u); err != nil {
		a.writeError(w, r, err)
		return
	}
	acc, err := a.accounts.Account(r.Context(), u, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	for _, s := range acc.Sessions {
		if err := a.accounts.RevokeSession(r.Context(), acc.User, s.ID); err != nil && !errors.Is(err, account.ErrNotFound) {
			a.writeError(w, r, err)
			return
		}
	}
	a.revoke(live.Revocation{UserID: acc.User.ID})
	a.audit(r.Context(), u, "sign_out", acc.User.Username, fmt.Sprintf("%d sessions", len(acc.Sessions)))
	noContent(w)
}

type adminRoomView struct {
	live.Summary
	Node string `json:"node"`
}

func (a *API) adminRooms(w http.ResponseWriter, r *http.Request, u account.User) {
	if err := requireAdmin(u); err != nil {
		a.writeError(w, r, err)
		return
	}
	out := []adminRoomView{}
	if a.hub != nil {
		for _, x := range a.hub.LiveRooms() {
			out = append(out, adminRoomView{Summary: x.Summary, Node: x.Owner})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rooms": out})
}

// endRoom ends a live room for everyone, on whichever node runs it.
func (a *API) endRoom(w http.ResponseWriter, r *http.Request, u account.User) {
	if err := requireAdmin(u); err != nil {
		a.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if !ids.Valid(id) || a.hub == nil {
		a.writeError(w, r, live.ErrRoomNotFound)
		return
	}
	if err := a.hub.EndRoom(r.Context(), id); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r.Context(), u, "end_room", id, "")
	noContent(w)
}

// moderateRoom is "Join as moderator": it asks the room to take the admin on
// stage as a moderator at their next join, and answers where to join it, as
// the join API does. The room page then joins as usual; the socket checks again
// that the account is an admin.
func (a *API) moderateRoom(w http.ResponseWriter, r *http.Request, u account.User) {
	if err := requireAdmin(u); err != nil {
		a.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if !ids.Valid(id) || a.hub == nil {
		a.writeError(w, r, live.ErrRoomNotFound)
		return
	}
	if err := a.hub.ModerateAsAdmin(r.Context(), id, u.ID); err != nil {
		a.writeError(w, r, err)
		return
	}
	info, err := a.hub.RouteAdmin(r.Context(), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	title := ""
	if s, err := a.hub.AdminRoomInfo(id); err == nil {
		title = s.Title
	}
	a.audit(r.Context(), u, "moderate_room", id, title)
	writeJSON(w, http.StatusOK, a.joinAnswer(r, id, info, false))
}

// adminStats: the server's health and figures.
func (a *API) adminStats(w http.ResponseWriter, r *http.Request, u account.User) {
	if err := requireAdmin(u); err != nil {
		a.writeError(w, r, err)
		return
	}
	out := struct {
		Users       int  `json:"users"`
		Disabled    int  `json:"disabled"`
		OpenReports int  `json:"open_reports"`
		Rooms       int  `json:"rooms"`
		Speakers    int  `json:"speakers"`
		Listeners   int  `json:"listeners"`
		Sockets     int  `json:"sockets"`
		Nodes       int  `json:"nodes"`
		Ready       bool `json:"ready"`
		Mail        bool `json:"mail"` // the server can mail reset links (--smtp-addr)
	}{Ready: true, Mail: a.mailer != nil}
	ctx := r.Context()
	if a.figures != nil {
		var err error
		if out.Users, out.Disabled, err = a.figures(ctx); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	if a.moderation != nil {
		var err error
		if out.OpenReports, err = a.moderation.OpenReports(ctx); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	if a.hub != nil {
		for _, x := range a.hub.LiveRooms() {
			out.Rooms++
			out.Speakers += len(x.Stage)
			out.Listeners += x.ListenerCount
		}
		if a.nodes != nil {
			for _, n := range a.nodes() {
				out.Nodes++
				out.Sockets += n.Sockets
			}
		} else {
			out.Nodes, out.Sockets = 1, a.hub.Stats().Sockets
		}
	}
	if a.ready != nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		out.Ready = a.ready(rctx) == nil
		cancel()
	}
	writeJSON(w, http.StatusOK, out)
}

// person finds a user for a view by ID (reports name people by ID).
func (a *API) person(ctx context.Context, id string) *userView {
	if id == "" {
		return nil
	}
	u, err := a.accounts.UserByID(ctx, id)
	if err != nil {
		return &userView{ID: id, Username: "", DisplayName: "Unknown account"}
	}
	v := viewSummary(account.SummaryOf(u))
	return &v
}

func (a *API) viewReport(ctx context.Context, rep moderation.Report) reportView {
	v := reportView{ID: rep.ID, Kind: rep.Kind, Target: rep.TargetID, Reason: rep.Reason, Details: rep.Details,
		Context: rep.Context, Reporter: a.person(ctx, rep.ReporterID), Subject: a.person(ctx, rep.SubjectID),
		CreatedAt: rep.CreatedAt, Open: rep.Open(), ResolvedAt: rep.ResolvedAt, ResolvedBy: a.person(ctx, rep.ResolvedBy),
		Resolution: rep.Resolution}
	if rep.SubjectID != "" {
		if u, err := a.accounts.UserByID(ctx, rep.SubjectID); err == nil {
			au := viewAdminUser(u)
			v.SubjectNow = &au
		}
	}
	return v
}

func (a *API) adminReports(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.moderation == nil {
		a.writeError(w, r, errNoService)
		return
	}
	after, limit, err := pageParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	open := r.URL.Query().Get("all") == ""
	list, next, err := a.moderation.Reports(r.Context(), u, open, after, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]reportView, len(list))
	for i, rep := range list {
		out[i] = a.viewReport(r.Context(), rep)
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": out, "next_cursor": encodeCursor(next)})
}

func (a *API) adminReport(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.moderation == nil {
		a.writeError(w, r, errNoService)
		return
	}
	rep, err := a.moderation.ReportByID(r.Context(), u, r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.viewReport(r.Context(), rep))
}

type resolveRequest struct {
	Resolution string `json:"resolution"`
}

func (q *resolveRequest) validate() error { return nil } // the service checks it

func (a *API) resolveReport(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.moderation == nil {
		a.writeError(w, r, errNoService)
		return
	}
	req, err := bind[resolveRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.moderation.Resolve(r.Context(), u, r.PathValue("id"), req.Resolution); err != nil {
		a.writeError(w, r, err)
		return
	}
	noContent(w)
}

type auditEntryView struct {
	ID     string    `json:"id"`
	Admin  *userView `json:"admin"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

func (a *API) adminAudit(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.moderation == nil {
		a.writeError(w, r, errNoService)
		return
	}
	after, limit, err := pageParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, next, err := a.moderation.AdminLog(r.Context(), u, after, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]auditEntryView, len(list))
	for i, e := range list {
		out[i] = auditEntryView{ID: e.ID, Admin: a.person(r.Context(), e.AdminID), Action: e.Action, Target: e.Target, Detail: e.Detail, At: e.At}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out, "next_cursor": encodeCursor(next)})
}
