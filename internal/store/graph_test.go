package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/store"
)

func graphCases() []storeCase {
	return []storeCase{
		{"two strangers have no relation", func(t *testing.T, db *store.DB) {
			a, b := newUser(t, db, "a"), newUser(t, db, "b")
			wantRelation(t, db, a.ID, b.ID, account.Relation{})
			wantCounts(t, db, a.ID, 0, 0)
		}},
		{"a follow shows in the relation and the counts, and following again changes nothing", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			a, b := newUser(t, db, "a"), newUser(t, db, "b")
			must(t, db.Follow(ctx, a.ID, b.ID, t0))
			must(t, db.Follow(ctx, a.ID, b.ID, t0.Add(time.Hour)))
			wantRelation(t, db, a.ID, b.ID, account.Relation{AFollowsB: true})
			wantRelation(t, db, b.ID, a.ID, account.Relation{BFollowsA: true})
			wantCounts(t, db, a.ID, 0, 1)
			wantCounts(t, db, b.ID, 1, 0)
			must(t, db.Follow(ctx, b.ID, a.ID, t0))
			wantRelation(t, db, a.ID, b.ID, account.Relation{AFollowsB: true, BFollowsA: true})
			// The repeated follow kept its first time.
			users, _, err := db.Followers(ctx, b.ID, "", account.Cursor{}, 10)
			must(t, err)
			if len(users) != 1 {
				t.Fatalf("%d followers, want 1", len(users))
			}
		}},
		{"unfollowing removes the follow and can be repeated", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			a, b := newUser(t, db, "a"), newUser(t, db, "b")
			must(t, db.Follow(ctx, a.ID, b.ID, t0))
			must(t, db.Unfollow(ctx, a.ID, b.ID))
			must(t, db.Unfollow(ctx, a.ID, b.ID))
			must(t, db.Unfollow(ctx, ids.New(), ids.New()))
			wantRelation(t, db, a.ID, b.ID, account.Relation{})
			wantCounts(t, db, b.ID, 0, 0)
		}},
		{"following an unknown user, or as one, is not found", func(t *testing.T, db *store.DB) {
			a := newUser(t, db, "a")
			wantErr(t, db.Follow(t.Context(), a.ID, ids.New(), t0), account.ErrNotFound)
			wantErr(t, db.Follow(t.Context(), ids.New(), a.ID, t0), account.ErrNotFound)
			wantCounts(t, db, a.ID, 0, 0)
		}},
		{"a block either way forbids a follow", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			a, b := newUser(t, db, "a"), newUser(t, db, "b")
			must(t, db.Block(ctx, a.ID, b.ID, t0))
			wantErr(t, db.Follow(ctx, a.ID, b.ID, t0), account.ErrBlocked)
			wantErr(t, db.Follow(ctx, b.ID, a.ID, t0), account.ErrBlocked)
			wantRelation(t, db, a.ID, b.ID, account.Relation{ABlocksB: true})
			wantRelation(t, db, b.ID, a.ID, account.Relation{BBlocksA: true})
		}},
		{"blocking removes the follows in both directions", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			a, b, c := newUser(t, db, "a"), newUser(t, db, "b"), newUser(t, db, "c")
			must(t, db.Follow(ctx, a.ID, b.ID, t0))
			must(t, db.Follow(ctx, b.ID, a.ID, t0))
			must(t, db.Follow(ctx, c.ID, a.ID, t0))
			must(t, db.Block(ctx, b.ID, a.ID, t0))
			wantRelation(t, db, a.ID, b.ID, account.Relation{BBlocksA: true})
			wantCounts(t, db, a.ID, 1, 0) // c's follow stays
		}},
		{"blocking can be repeated and unblocking restores no follow", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			a, b := newUser(t, db, "a"), newUser(t, db, "b")
			must(t, db.Follow(ctx, a.ID, b.ID, t0))
			must(t, db.Block(ctx, a.ID, b.ID, t0))
			must(t, db.Block(ctx, a.ID, b.ID, t0.Add(time.Hour)))
			must(t, db.Block(ctx, b.ID, a.ID, t0))
			wantRelation(t, db, a.ID, b.ID, account.Relation{ABlocksB: true, BBlocksA: true})
			must(t, db.Unblock(ctx, a.ID, b.ID))
			must(t, db.Unblock(ctx, a.ID, b.ID))
			wantRelation(t, db, a.ID, b.ID, account.Relation{BBlocksA: true})
			wantErr(t, db.Follow(ctx, a.ID, b.ID, t0), account.ErrBlocked)
			must(t, db.Unblock(ctx, b.ID, a.ID))
			wantRelation(t, db, a.ID, b.ID, account.Relation{})
			must(t, db.Follow(ctx, a.ID, b.ID, t0))
			wantRelation(t, db, a.ID, b.ID, account.Relation{AFollowsB: true})
		}},
		{"blocking an unknown user, or as one, is not found", func(t *testing.T, db *store.DB) {
			a := newUser(t, db, "a")
			wantErr(t, db.Block(t.Context(), a.ID, ids.New(), t0), account.ErrNotFound)
			wantErr(t, db.Block(t.Context(), ids.New(), a.ID, t0), account.ErrNotFound)
		}},
	}
}

func listCases() []storeCase {
	return []storeCase{
		{"followers are listed newest first and paged by the cursor", func(t *testing.T, db *store.DB) {
			star := newUser(t, db, "star")
			want := followedBy(t, db, star.ID, 7)
			got := listAll(t, db.Followers, star.ID, "", 3)
			if !slices.Equal(got, want) {
				t.Fatalf("followers %v, want %v", got, want)
			}
		}},
		{"followees are listed newest first and paged by the cursor", func(t *testing.T, db *store.DB) {
			fan := newUser(t, db, "fan")
			var want []string
			for i, at := range followTimes(6) {
				u := newUser(t, db, fmt.Sprintf("idol%d", i))
				must(t, db.Follow(t.Context(), fan.ID, u.ID, at))
				want = append(want, u.ID)
			}
			sortNewestFirst(want, followTimes(6))
			got := listAll(t, db.Following, fan.ID, "", 2)
			if !slices.Equal(got, want) {
				t.Fatalf("following %v, want %v", got, want)
			}
		}},
		{"a page that ends the list returns the zero cursor", func(t *testing.T, db *store.DB) {
			star := newUser(t, db, "star")
			followedBy(t, db, star.ID, 4)
			users, next, err := db.Followers(t.Context(), star.ID, "", account.Cursor{}, 2)
			must(t, err)
			if len(users) != 2 || next.IsZero() {
				t.Fatalf("first page: %d users, next %+v", len(users), next)
			}
			users, next, err = db.Followers(t.Context(), star.ID, "", next, 2)
			must(t, err)
			if len(users) != 2 || !next.IsZero() {
				t.Fatalf("last page: %d users, next %+v", len(users), next)
			}
			users, next, err = db.Followers(t.Context(), star.ID, "", account.Cursor{}, 4)
			must(t, err)
			if len(users) != 4 || !next.IsZero() {
				t.Fatalf("whole list: %d users, next %+v", len(users), next)
			}
			users, next, err = db.Followers(t.Context(), ids.New(), "", account.Cursor{}, 4)
			must(t, err)
			if len(users) != 0 || !next.IsZero() {
				t.Fatalf("unknown user: %d users, next %+v", len(users), next)
			}
		}},
		{"lists leave out whoever the viewer blocks or is blocked by", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			star, viewer := newUser(t, db, "star"), newUser(t, db, "viewer")
			fans := followedBy(t, db, star.ID, 4) // newest first
			must(t, db.Block(ctx, viewer.ID, fans[0], t0))
			must(t, db.Block(ctx, fans[2], viewer.ID, t0))
			got := listAll(t, db.Followers, star.ID, viewer.ID, 1)
			if want := []string{fans[1], fans[3]}; !slices.Equal(got, want) {
				t.Fatalf("followers seen by viewer %v, want %v", got, want)
			}
			if got := listAll(t, db.Followers, star.ID, "", 10); len(got) != 4 {
				t.Fatalf("an anonymous viewer sees %d followers, want 4", len(got))
			}
			// The same rule for Following.
			must(t, db.Follow(ctx, fans[2], star.ID, t0)) // already following: no-op
			got = listAll(t, db.Following, fans[2], viewer.ID, 10)
			if want := []string{star.ID}; !slices.Equal(got, want) {
				t.Fatalf("following seen by viewer %v, want %v", got, want)
			}
			must(t, db.Block(ctx, star.ID, viewer.ID, t0))
			if got := listAll(t, db.Following, fans[2], viewer.ID, 10); len(got) != 0 {
				t.Fatalf("viewer sees %v, a user who blocks them", got)
			}
		}},
		{"a list with a limit below one is refused as invalid", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			_, _, err := db.Followers(t.Context(), u.ID, "", account.Cursor{}, 0)
			wantErr(t, err, account.ErrInvalid)
			_, _, err = db.Following(t.Context(), u.ID, "", account.Cursor{}, -1)
			wantErr(t, err, account.ErrInvalid)
		}},
	}
}

// followTimes returns n follow times, some of them equal, so that the user ID
// breaks ties.
func followTimes(n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = t0.Add(time.Duration(i/2) * time.Minute)
	}
	return out
}

// followedBy creates n users who follow userID and returns their IDs in list order:
// newest follow first, then by ID descending.
func followedBy(t *testing.T, db *store.DB, userID string, n int) []string {
	t.Helper()
	times := followTimes(n)
	ids := make([]string, n)
	for i, at := range times {
		u := newUser(t, db, fmt.Sprintf("fan%d", i))
		must(t, db.Follow(t.Context(), u.ID, userID, at))
		ids[i] = u.ID
	}
	sortNewestFirst(ids, times)
	return ids
}

// sortNewestFirst sorts ids, followed at times, as the lists are ordered.
func sortNewestFirst(ids []string, times []time.Time) {
	at := make(map[string]time.Time, len(ids))
	for i, id := range ids {
		at[id] = times[i]
	}
	slices.SortFunc(ids, func(a, b string) int {
		if c := at[b].Compare(at[a]); c != 0 {
			return c
		}
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
}

// listFunc is (*store.DB).Followers or Following.
type listFunc func(ctx context.Context, userID, viewerID string, after account.Cursor, limit int) ([]account.User, account.Cursor, error)

// listAll pages through a whole list limit at a time and returns the user IDs.
func listAll(t *testing.T, list listFunc, userID, viewerID string, limit int) []string {
	t.Helper()
	var (
		out   []string
		after account.Cursor
	)
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("the list does not end")
		}
		users, next, err := list(t.Context(), userID, viewerID, after, limit)
		must(t, err)
		if len(users) > limit {
			t.Fatalf("page of %d users, limit %d", len(users), limit)
		}
		for _, u := range users {
			out = append(out, u.ID)
		}
		if next.IsZero() {
			return out
		}
		if len(users) == 0 {
			t.Fatal("an empty page with a cursor to go on")
		}
		after = next
	}
}

func wantRelation(t *testing.T, db *store.DB, a, b string, want account.Relation) {
	t.Helper()
	got, err := db.Relation(t.Context(), a, b)
	must(t, err)
	if got != want {
		t.Fatalf("Relation = %+v, want %+v", got, want)
	}
}

func wantCounts(t *testing.T, db *store.DB, userID string, followers, following int) {
	t.Helper()
	fr, fg, err := db.FollowCounts(t.Context(), userID)
	must(t, err)
	if fr != followers || fg != following {
		t.Fatalf("FollowCounts = %d followers, %d following; want %d, %d", fr, fg, followers, following)
	}
}
