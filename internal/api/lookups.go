package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/townhall/townhall/internal/account"
)

// The look-up limit. An answer that differs for an existing and a missing
// username tells whether the account exists, so every request that names users
// spends from one budget per session (Options.LookupPerSecond, --lookup-rate,
// with a burst of four seconds' worth) and is refused with 429 once it is spent:
//
//   - a route whose path takes a {username} costs one look-up; as counts it,
//     after authentication and before the handler, so a route added to the table
//     with {username} in its pattern counts without further ado;
//   - usernames in a request body (invitations, pings, co-hosts) go through
//     lookUp, which counts one look-up per name (at most the whole burst);
//   - a search costs one look-up, besides its own limit.

// countLookups spends n look-ups from the budget of r's session, or returns
// retryAfter once it is spent.
func (a *API) countLookups(r *http.Request, n int) error {
	if n <= 0 {
		return nil
	}
	if d := a.lookups.waitN(sessionOf(r).ID, n); d > 0 {
		return retryAfter(d)
	}
	return nil
}

// namesUser reports whether a route pattern takes a {username}.
func namesUser(pattern string) bool { return strings.Contains(pattern, "{username}") }

// lookUp resolves, for viewer u and in order, the usernames a request names in
// its body, once they are counted against the session's look-up budget. A user
// who blocks u is not found (account.Service.Lookup), nor is one that keep
// refuses (nil keeps everyone found); the first name not found stops it, named in
// the error.
func (a *API) lookUp(r *http.Request, u account.User, names []string, keep func(account.User, account.Relation) bool) ([]account.User, error) {
	if err := a.countLookups(r, len(names)); err != nil {
		return nil, err
	}
	out := make([]account.User, 0, len(names))
	for _, n := range names {
		t, rel, err := a.accounts.Lookup(r.Context(), u, n)
		if err == nil && keep != nil && !keep(t, rel) {
			err = account.ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s", err, n)
		}
		out = append(out, t)
	}
	return out, nil
}
