package api

import (
	"context"
	"net/http"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/notify"
)

func (a *API) profile(w http.ResponseWriter, r *http.Request, u account.User) {
	p, err := a.accounts.Profile(r.Context(), u, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewProfile(p))
}

func (a *API) followers(w http.ResponseWriter, r *http.Request, u account.User) {
	a.page(w, r, u, a.accounts.Followers)
}

func (a *API) following(w http.ResponseWriter, r *http.Request, u account.User) {
	a.page(w, r, u, a.accounts.Following)
}

type pageFunc = func(ctx context.Context, viewer account.User, username string, after account.Cursor, limit int) ([]account.Summary, account.Cursor, error)

func (a *API) page(w http.ResponseWriter, r *http.Request, u account.User, f pageFunc) {
	after, limit, err := pageParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	list, next, err := f(r.Context(), u, r.PathValue("username"), after, limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := pageView{Users: make([]userView, len(list)), NextCursor: encodeCursor(next)}
	for i, s := range list {
		out.Users[i] = viewSummary(s)
	}
	writeJSON(w, http.StatusOK, out)
}

// relate runs one of the follow/block verbs on the user named in the path.
func (a *API) relate(f func(ctx context.Context, viewer account.User, username string) error) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, u account.User) {
		if err := f(r.Context(), u, r.PathValue("username")); err != nil {
			a.writeError(w, r, err)
			return
		}
		noContent(w)
	}
}

// follow follows a user and, the first time, notifies them (new_follower).
func (a *API) follow(w http.ResponseWriter, r *http.Request, u account.User) {
	a.relate(a.inRooms(func(ctx context.Context, viewer account.User, username string) error {
		t, rel, err := a.accounts.Lookup(ctx, viewer, username)
		if err == nil {
			err = a.accounts.Follow(ctx, viewer, username)
		}
		if err != nil || rel.AFollowsB || a.notify == nil {
			return err
		}
		from := viewSummary(account.SummaryOf(viewer))
		if err := a.notify.Notify(ctx, t.ID, notify.KindNewFollower, viewer.ID, map[string]any{"from": from}); err != nil {
			a.log.WarnContext(ctx, "notifying a new follower", "err", err)
		}
		return nil
	}))(w, r, u)
}

func (a *API) unfollow(w http.ResponseWriter, r *http.Request, u account.User) {
	a.relate(a.inRooms(a.accounts.Unfollow))(w, r, u)
}

func (a *API) block(w http.ResponseWriter, r *http.Request, u account.User) {
	a.relate(a.inRooms(a.accounts.Block))(w, r, u)
}

func (a *API) unblock(w http.ResponseWriter, r *http.Request, u account.User) {
	a.relate(a.inRooms(a.accounts.Unblock))(w, r, u)
}

// inRooms makes a change of the social graph reach the live rooms: if the two
// people are in the same room, its block and follow rules see it at once.
func (a *API) inRooms(f func(ctx context.Context, viewer account.User, username string) error) func(ctx context.Context, viewer account.User, username string) error {
	return func(ctx context.Context, viewer account.User, username string) error {
		if err := f(ctx, viewer, username); err != nil {
			return err
		}
		if a.hub == nil {
			return nil
		}
		other, err := a.accounts.IDOf(ctx, username)
		if err == nil {
			err = a.hub.RelationChanged(ctx, viewer.ID, other)
		}
		if err != nil {
			a.log.WarnContext(ctx, "telling the rooms of a changed relation", "err", err)
		}
		return nil
	}
}

// disable disables an account (admins): its sessions end, and everything they
// opened closes, so a disabled speaker is off the stage and no longer heard.
func (a *API) disable(w http.ResponseWriter, r *http.Request, u account.User) {
	target, err := a.accounts.Disable(r.Context(), u, r.PathValue("username"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.revoke(live.Revocation{UserID: target.ID, Reason: live.ByeDisabled})
	a.audit(r.Context(), u, "disable", target.Username, "")
	noContent(w)
}
