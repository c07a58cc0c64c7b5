package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/errcode"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/moderation"
)

// ReportResolver finds what a report of one kind is about, as the reporter may
// see it: the user it concerns and a snapshot of what the reporter saw. It
// answers account.ErrNotFound for something that does not exist or is hidden
// from the reporter.
type ReportResolver func(ctx context.Context, reporter account.User, id string) (subject string, snapshot any, err error)

type reportRequest struct {
	Kind    moderation.Kind   `json:"kind"`
	Target  string            `json:"target"`
	Reason  moderation.Reason `json:"reason"`
	Details string            `json:"details"`
}

func (r *reportRequest) input() moderation.Input {
	return moderation.Input{Kind: r.Kind, TargetID: r.Target, Reason: r.Reason, Details: r.Details}
}

func (r *reportRequest) validate() error {
	_, err := r.input().Check()
	return err
}

var errNotReportable = errcode.New(errcode.NotFound, "there is nothing of that kind to report on this server")

// report files a report, limited per user.
func (a *API) report(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.moderation == nil {
		a.writeError(w, r, errNoService)
		return
	}
	req, err := bind[reportRequest](w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if d := a.reports.wait(u.ID); d > 0 {
		tooMany(w, d)
		return
	}
	resolve := a.resolvers[req.Kind]
	if resolve == nil {
		a.writeError(w, r, errNotReportable)
		return
	}
	subject, snapshot, err := resolve(r.Context(), u, req.Target)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if subject == u.ID {
		a.writeError(w, r, fmt.Errorf("%w: you cannot report yourself", errInvalid))
		return
	}
	rep, err := a.moderation.Report(r.Context(), u, req.input(), subject, snapshot)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": rep.ID, "created_at": rep.CreatedAt})
}

// defaultResolvers resolve users, rooms, chat messages and invitations;
// Options.Resolvers may add or replace kinds.
func (a *API) defaultResolvers() map[moderation.Kind]ReportResolver {
	return map[moderation.Kind]ReportResolver{
		moderation.KindUser: func(ctx context.Context, reporter account.User, username string) (string, any, error) {
			if err := a.countLookupsOf(ctx, 1); err != nil {
				return "", nil, err
			}
			p, err := a.accounts.Profile(ctx, reporter, username)
			if err != nil {
				return "", nil, err
			}
			return p.ID, map[string]any{"username": p.Username, "display_name": p.DisplayName, "bio": p.Bio, "photo": p.Photo}, nil
		},
		moderation.KindRoom: func(ctx context.Context, reporter account.User, id string) (string, any, error) {
			if a.hub == nil {
				return "", nil, errNotReportable
			}
			s, err := a.hub.RoomInfo(ctx, reporter.ID, id)
			if err != nil {
				return "", nil, err
			}
			stage := make([]live.Person, 0, len(s.Stage))
			for _, p := range s.Stage {
				stage = append(stage, p.Person)
			}
			return s.CreatorID, map[string]any{"title": s.Title, "description": s.Description, "type": s.Type,
				"stage": stage, "listener_count": s.ListenerCount}, nil
		},
		moderation.KindMessage: func(ctx context.Context, reporter account.User, id string) (string, any, error) {
			if a.hub == nil {
				return "", nil, errNotReportable
			}
			if !ids.Valid(id) {
				return "", nil, account.ErrNotFound
			}
			m, err := a.hub.ChatMessageFor(ctx, reporter.ID, id)
			if err != nil {
				return "", nil, err
			}
			return m.UserID, map[string]any{"room_id": m.RoomID, "name": m.Name, "text": m.Text, "at": m.At}, nil
		},
		moderation.KindInvitation: func(ctx context.Context, reporter account.User, id string) (string, any, error) {
			if a.hub == nil {
				return "", nil, errNotReportable
			}
			inv, _, err := a.hub.InvitationFor(ctx, reporter.ID, id)
			if err != nil {
				return "", nil, err
			}
			return inv.InviterID, map[string]any{"room_id": inv.RoomID, "message": inv.Message, "created_at": inv.CreatedAt}, nil
		},
	}
}

// countLookupsOf spends n look-ups of the session behind ctx (a report names a
// username, which tells whether it exists).
func (a *API) countLookupsOf(ctx context.Context, n int) error {
	s, _ := ctx.Value(sessionKey).(account.Session)
	if d := a.lookups.waitN(s.ID, n); d > 0 {
		return retryAfter(d)
	}
	return nil
}

type reportView struct {
	ID         string            `json:"id"`
	Kind       moderation.Kind   `json:"kind"`
	Target     string            `json:"target"`
	Reason     moderation.Reason `json:"reason"`
	Details    string            `json:"details"`
	Context    any               `json:"context"`
	Reporter   *userView         `json:"reporter"`
	Subject    *userView         `json:"subject"`
	SubjectNow *adminUserView    `json:"subject_account,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	Open       bool              `json:"open"`
	ResolvedAt time.Time         `json:"resolved_at,omitzero"`
	ResolvedBy *userView         `json:"resolved_by,omitempty"`
	Resolution string            `json:"resolution,omitempty"`
}
