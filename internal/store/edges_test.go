package store_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/store"
)

func wantEdges(t *testing.T, db *store.DB, userID string, others []string, want map[string]live.Edge) {
	t.Helper()
	got, err := db.Edges(t.Context(), userID, others)
	must(t, err)
	if got == nil {
		t.Fatal("Edges returned a nil map")
	}
	if !maps.Equal(got, want) {
		t.Fatalf("Edges = %+v, want %+v", got, want)
	}
}

func edgeCases() []storeCase {
	return []storeCase{
		{"edges report all four directions and leave strangers out", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			u := newUser(t, db, "u")
			followed, follower, mutual := newUser(t, db, "followed"), newUser(t, db, "follower"), newUser(t, db, "mutual")
			blocked, blocker, both := newUser(t, db, "blocked"), newUser(t, db, "blocker"), newUser(t, db, "both")
			stranger, unlisted := newUser(t, db, "stranger"), newUser(t, db, "unlisted")
			must(t, db.Follow(ctx, u.ID, followed.ID, t0))
			must(t, db.Follow(ctx, follower.ID, u.ID, t0))
			must(t, db.Follow(ctx, u.ID, mutual.ID, t0))
			must(t, db.Follow(ctx, mutual.ID, u.ID, t0))
			must(t, db.Block(ctx, u.ID, blocked.ID, t0))
			must(t, db.Block(ctx, blocker.ID, u.ID, t0))
			must(t, db.Block(ctx, u.ID, both.ID, t0))
			must(t, db.Block(ctx, both.ID, u.ID, t0))
			must(t, db.Follow(ctx, u.ID, unlisted.ID, t0))        // not asked about
			must(t, db.Follow(ctx, stranger.ID, followed.ID, t0)) // between others
			others := []string{followed.ID, follower.ID, mutual.ID, blocked.ID, blocker.ID, both.ID,
				stranger.ID, ids.New(), followed.ID}
			wantEdges(t, db, u.ID, others, map[string]live.Edge{
				followed.ID: {Follows: true},
				follower.ID: {FollowedBy: true},
				mutual.ID:   {Follows: true, FollowedBy: true},
				blocked.ID:  {Blocks: true},
				blocker.ID:  {BlockedBy: true},
				both.ID:     {Blocks: true, BlockedBy: true},
			})
		}},
		{"edges of no others are an empty map", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			wantEdges(t, db, u.ID, nil, map[string]live.Edge{})
			wantEdges(t, db, u.ID, []string{}, map[string]live.Edge{})
		}},
		{"edges of 1,200 others are all found, across chunks", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			u := newUser(t, db, "u")
			others := make([]string, 1200)
			for i := range others {
				others[i] = ids.New()
			}
			want := map[string]live.Edge{}
			relate := []func(other string) (live.Edge, error){
				func(o string) (live.Edge, error) { return live.Edge{Follows: true}, db.Follow(ctx, u.ID, o, t0) },
				func(o string) (live.Edge, error) { return live.Edge{FollowedBy: true}, db.Follow(ctx, o, u.ID, t0) },
				func(o string) (live.Edge, error) { return live.Edge{Blocks: true}, db.Block(ctx, u.ID, o, t0) },
				func(o string) (live.Edge, error) { return live.Edge{BlockedBy: true}, db.Block(ctx, o, u.ID, t0) },
			}
			// Related users at both ends of every chunk of 500, each direction in several chunks.
			for n, i := range []int{0, 499, 500, 999, 1000, 1199} {
				o := newUser(t, db, fmt.Sprintf("o%d", i)).ID
				others[i] = o
				e, err := relate[n%len(relate)](o)
				must(t, err)
				want[o] = e
			}
			wantEdges(t, db, u.ID, others, want)
		}},
		{"following IDs are listed newest first, up to the limit", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			fan := newUser(t, db, "fan")
			var want []string
			for i := range 4 {
				idol := newUser(t, db, fmt.Sprintf("idol%d", i))
				must(t, db.Follow(ctx, fan.ID, idol.ID, t0.Add(time.Duration(i)*time.Minute)))
				want = append([]string{idol.ID}, want...)
			}
			must(t, db.Follow(ctx, want[0], fan.ID, t0)) // a follower is not a followee
			for _, tc := range []struct {
				limit int
				want  []string
			}{{10, want}, {4, want}, {2, want[:2]}, {1, want[:1]}} {
				got, err := db.FollowingIDs(ctx, fan.ID, tc.limit)
				must(t, err)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("limit %d: FollowingIDs = %v, want %v", tc.limit, got, tc.want)
				}
			}
			none, err := db.FollowingIDs(ctx, ids.New(), 10)
			must(t, err)
			if len(none) != 0 {
				t.Fatalf("an unknown user follows %v", none)
			}
		}},
		{"following IDs with a limit below one are invalid", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			for _, limit := range []int{0, -1} {
				_, err := db.FollowingIDs(t.Context(), u.ID, limit)
				wantErr(t, err, account.ErrInvalid)
			}
		}},
	}
}
