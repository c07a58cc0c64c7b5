// Package search finds people by username or display name, clubs by name, and
// upcoming events by text. The store does the matching (SQLite FTS5, Postgres
// full-text search); this package applies who may see what.
package search

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/event"
)

// MaxQuery is the longest query, in bytes; MaxResults the most of each kind.
const (
	MaxQuery   = 100
	MaxResults = 20
	// MaxTerms is how many words of a query count.
	MaxTerms = 8
)

// Store matches text. terms are lower-case words of letters and digits; a record
// matches when every term is a prefix of one of its words.
type Store interface {
	// SearchUsers matches usernames and display names of active users.
	SearchUsers(ctx context.Context, terms []string, limit int) ([]account.User, error)
	// SearchClubs matches club names and descriptions.
	SearchClubs(ctx context.Context, terms []string, limit int) ([]club.Club, error)
	// SearchEvents matches the titles and descriptions of events not cancelled
	// starting at or after from, by start.
	SearchEvents(ctx context.Context, terms []string, from time.Time, limit int) ([]event.Event, error)
	// Relation tells how two users stand, to hide people who block the searcher.
	Relation(ctx context.Context, a, b string) (account.Relation, error)
}

// Results is what a search found.
type Results struct {
	Users  []account.User
	Clubs  []club.Club
	Events []event.Event
}

// Service searches.
type Service struct {
	store  Store
	events *event.Service
	now    func() time.Time
}

// New returns the search over store; events decides which events a viewer sees.
func New(store Store, events *event.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, events: events, now: now}
}

// Terms splits a query into at most MaxTerms lower-case words of letters and
// digits, the only thing both full-text engines agree on.
func Terms(q string) []string {
	if len(q) > MaxQuery {
		q = q[:MaxQuery]
	}
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var out []string
	for _, w := range words {
		if len([]rune(w)) > 40 {
			continue
		}
		out = append(out, w)
		if len(out) == MaxTerms {
			break
		}
	}
	return out
}

// Matches reports whether every one of terms (Terms) starts a word of text,
// the rule of the stores' full-text search, for what is matched in Go (live
// rooms' and replays' titles).
func Matches(text string, terms []string) bool {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, t := range terms {
		found := false
		for _, w := range words {
			if strings.HasPrefix(w, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Search finds what viewer may see matching q. An empty query finds nothing.
func (s *Service) Search(ctx context.Context, viewer string, q string) (Results, error) {
	res := Results{Users: []account.User{}, Clubs: []club.Club{}, Events: []event.Event{}}
	terms := Terms(q)
	if len(terms) == 0 {
		return res, nil
	}
	users, err := s.store.SearchUsers(ctx, terms, 2*MaxResults)
	if err != nil {
		return res, err
	}
	for _, u := range users {
		rel, err := s.store.Relation(ctx, viewer, u.ID)
		if err != nil {
			return res, err
		}
		if !rel.BBlocksA && len(res.Users) < MaxResults {
			res.Users = append(res.Users, u)
		}
	}
	if res.Clubs, err = s.store.SearchClubs(ctx, terms, MaxResults); err != nil {
		return res, err
	}
	if res.Clubs == nil {
		res.Clubs = []club.Club{}
	}
	evs, err := s.store.SearchEvents(ctx, terms, s.now().Add(-event.LiveFor), 3*MaxResults)
	if err != nil {
		return res, err
	}
	res.Events, err = s.events.Visible(ctx, viewer, evs, MaxResults)
	return res, err
}
