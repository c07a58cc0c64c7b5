package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/replay"
	"github.com/townhall/townhall/internal/search"
	"github.com/townhall/townhall/internal/store"
)

// The lists of replays: a profile's, a club's, a search's. Each shows only the
// replays the viewer may listen to (mayListen, the rule of the replay route).

// maxScans bounds the store pages one list request reads to fill a page with
// replays the viewer may listen to; past it the page comes short, with a cursor.
const maxScans = 5

// listFunc reads a page of candidates from the store.
type listFunc func(ctx context.Context, after account.Cursor, limit int) ([]store.ReplayListing, account.Cursor, error)

func (h *replayRoutes) registerLists() {
	h.api.Handle("GET /api/v1/users/{username}/replays", http.HandlerFunc(h.ofUser))
	h.api.Handle("GET /api/v1/clubs/{id}/replays", http.HandlerFunc(h.ofClub))
}

// ofUser serves GET /api/v1/users/{username}/replays: the ready replays of the
// rooms the user created or spoke in, newest first, paged. Not found for a user
// who blocks the viewer, as their profile is.
func (h *replayRoutes) ofUser(w http.ResponseWriter, r *http.Request) {
	viewer, err := h.viewer(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.db.UserByUsername(r.Context(), r.PathValue("username"))
	if err == nil && viewer != "" && viewer != u.ID {
		var edges map[string]live.Edge
		if edges, err = h.db.Edges(r.Context(), viewer, []string{u.ID}); err == nil && edges[u.ID].BlockedBy {
			err = account.ErrNotFound
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, r, viewer, func(ctx context.Context, after account.Cursor, limit int) ([]store.ReplayListing, account.Cursor, error) {
		return h.db.ReplaysOfUser(ctx, u.ID, after, limit)
	})
}

// ofClub serves GET /api/v1/clubs/{id}/replays: the ready replays of the club's
// rooms, newest first, paged; a members-only room's only for members.
func (h *replayRoutes) ofClub(w http.ResponseWriter, r *http.Request) {
	viewer, err := h.viewer(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if !ids.Valid(id) {
		h.fail(w, r, club.ErrNotFound)
		return
	}
	if _, err := h.db.ClubByID(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, r, viewer, func(ctx context.Context, after account.Cursor, limit int) ([]store.ReplayListing, account.Cursor, error) {
		return h.db.ReplaysOfClub(ctx, id, after, limit)
	})
}

// page writes one page of the replays of list that viewer may listen to.
func (h *replayRoutes) page(w http.ResponseWriter, r *http.Request, viewer string, list listFunc) {
	after, limit, err := api.PageParams(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items, next, err := h.visible(r.Context(), viewer, after, limit, list)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ReplayPage{Replays: items, NextCursor: api.EncodeCursor(next)})
}

// visible reads pages of list after after, keeping the replays viewer may
// listen to, until it has limit of them, the list ends, or maxScans pages were
// read; it returns them and where the list goes on (zero at its end).
func (h *replayRoutes) visible(ctx context.Context, viewer string, after account.Cursor, limit int, list listFunc) ([]api.ReplayItem, account.Cursor, error) {
	out := []api.ReplayItem{}
	for range maxScans {
		page, next, err := list(ctx, after, limit)
		if err != nil {
			return nil, account.Cursor{}, err
		}
		for i, l := range page {
			ok, err := h.mayList(ctx, viewer, l.RoomID)
			if err != nil {
				return nil, account.Cursor{}, err
			}
			if !ok {
				continue
			}
			out = append(out, h.item(ctx, l))
			if len(out) == limit {
				if i == len(page)-1 {
					return out, next, nil
				}
				return out, l.Cursor(), nil
			}
		}
		if next.IsZero() {
			return out, account.Cursor{}, nil
		}
		after = next
	}
	return out, after, nil
}

// mayList reports whether viewer may listen to roomID's replay (mayListen).
func (h *replayRoutes) mayList(ctx context.Context, viewer, roomID string) (bool, error) {
	_, err := h.mayListen(ctx, viewer, roomID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, replay.ErrNotFound):
		return false, nil
	}
	return false, err
}

// item is a listed replay as the API shows it.
func (h *replayRoutes) item(ctx context.Context, l store.ReplayListing) api.ReplayItem {
	it := api.ReplayItem{RoomID: l.RoomID, Title: l.Title, StartedAt: l.StartedAt, DurationMS: l.Duration.Milliseconds(),
		URL: h.publicURL + "/rooms/" + l.RoomID, AudioURL: h.publicURL + "/api/v1/rooms/" + l.RoomID + "/replay/audio"}
	if u, err := h.db.UserByID(ctx, l.CreatorID); err == nil && !u.Disabled() {
		it.Host = &api.ReplayHost{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}
	}
	return it
}

// searchCandidates is how many replays whose titles hold the terms a search
// reads, newest first, before it keeps those whose words start with them and
// that the viewer may listen to.
const searchCandidates = 100

// search finds the replays for GET /api/v1/search (api.ReplaySearch): at most
// search.MaxResults.
func (h *replayRoutes) search(ctx context.Context, viewer string, terms []string) ([]api.ReplayItem, error) {
	found, err := h.db.ReplaysTitled(ctx, terms, searchCandidates)
	if err != nil {
		return nil, err
	}
	out := []api.ReplayItem{}
	for _, l := range found {
		if !search.Matches(l.Title, terms) {
			continue
		}
		ok, err := h.mayList(ctx, viewer, l.RoomID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, h.item(ctx, l))
			if len(out) == search.MaxResults {
				break
			}
		}
	}
	return out, nil
}
