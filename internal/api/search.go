package api

import (
	"net/http"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/search"
)

// searchAll finds people, clubs and upcoming events matching ?q=, rate-limited
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
		Users  []userView  `json:"users"`
		Clubs  []clubView  `json:"clubs"`
		Events []eventView `json:"events"`
	}{Users: []userView{}, Clubs: []clubView{}, Events: []eventView{}}
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
