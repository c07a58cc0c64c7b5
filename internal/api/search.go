package api

import (
	"context"
	"net/http"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/search"
)

// searchAll finds people, clubs, upcoming events, live rooms and replays
// matching ?q=, rate-limited
// per session; each search also counts as a look-up.
func (a *API) searchAll(w http.ResponseWriter, r *http.Request, u account.User) {
	if a.search == nil {
		a.writeError(w, r, errNoService)
		return
	}
	if d := a.searches.wait(sessionOf(r).ID); d > 0 {
		tooMany(w, d)
		return
	}
	if err := a.countLookups(r, 1); err != nil { // it finds people by username
		a.writeError(w, r, err)
		return
	}
	q := r.URL.Query().Get("q")
	if len(q) > search.MaxQuery {
		a.writeError(w, r, missing("q of at most 100 bytes"))
		return
	}
	res, err := a.search.Search(r.Context(), u.ID, q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := struct {
		Users  []userView         `json:"users"`
		Clubs  []clubView         `json:"clubs"`
		Events []eventView        `json:"events"`
		Rooms  []live.HallwayRoom `json:"rooms"`
		// Replays the viewer may listen to, from a.searchReplays.
		Replays []ReplayItem `json:"replays"`
	}{Users: []userView{}, Clubs: []clubView{}, Events: []eventView{}, Rooms: []live.HallwayRoom{}, Replays: []ReplayItem{}}
	if a.searchReplays != nil {
		if terms := search.Terms(q); len(terms) > 0 {
			if out.Replays, err = a.searchReplays(r.Context(), u.ID, terms); err != nil {
				a.writeError(w, r, err)
				return
			}
		}
	}
	if a.hub != nil {
		rooms, err := a.liveRoomsMatching(r.Context(), u, q)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		out.Rooms = rooms
	}
	for _, x := range res.Users {
		out.Users = append(out.Users, viewSummary(account.SummaryOf(x)))
	}
	for _, c := range res.Clubs {
		out.Clubs = append(out.Clubs, viewClub(c, ""))
	}
	for _, e := range res.Events {
		out.Events = append(out.Events, a.viewEvent(r, e))
	}
	writeJSON(w, http.StatusOK, out)
}

// liveRoomsMatching finds the live rooms the viewer may see (their hallway)
// whose title holds a word starting with each term of q, the
// same rule as the store's full-text search; at most 20.
func (a *API) liveRoomsMatching(ctx context.Context, u account.User, q string) ([]live.HallwayRoom, error) {
	terms := search.Terms(q)
	out := []live.HallwayRoom{}
	if len(terms) == 0 {
		return out, nil
	}
	rooms, err := a.hub.Hallway(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, room := range rooms {
		if search.Matches(room.Title, terms) {
			out = append(out, room)
			if len(out) == 20 {
				break
			}
		}
	}
	return out, nil
}
