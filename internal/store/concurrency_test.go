package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/store"
)

// race runs fn(0..n-1) on n goroutines released at once, and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// tally counts the errors that are nil, that are want, and returns the others.
func tally(errs []error, want error) (ok, wanted int, other []error) {
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, want):
			wanted++
		default:
			other = append(other, err)
		}
	}
	return ok, wanted, other
}

func concurrencyCases() []storeCase {
	return []storeCase{
		{"of 100 concurrent redemptions of one invite exactly one succeeds", func(t *testing.T, db *store.DB) {
			inv := newInvite(t, db, "", false, t0.Add(time.Hour))
			errs := race(100, func(i int) error {
				_, err := db.CreateUser(t.Context(), account.User{ID: ids.New(), Username: fmt.Sprintf("racer%d", i)}, inv.Code, t0)
				return err
			})
			ok, invalid, other := tally(errs, account.ErrInviteInvalid)
			if ok != 1 || invalid != 99 || len(other) != 0 {
				t.Fatalf("%d succeeded, %d invalid, other errors %v; want 1, 99, none", ok, invalid, other)
			}
			n, err := db.CountUsers(t.Context())
			must(t, err)
			if n != 1 {
				t.Fatalf("CountUsers = %d, want 1", n)
			}
			used, err := db.InviteByCode(t.Context(), inv.Code)
			must(t, err)
			if _, err := db.UserByID(t.Context(), used.UsedBy); err != nil {
				t.Fatalf("the invite's UsedBy %q is not the created user: %v", used.UsedBy, err)
			}
		}},
		{"concurrent invite creation cannot exceed the limit", func(t *testing.T, db *store.DB) {
			c := newUser(t, db, "c")
			const limit = 5
			errs := race(30, func(int) error {
				inv := account.Invite{Code: ids.Secret(), CreatedBy: c.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
				return db.CreateInvite(t.Context(), inv, limit, t0)
			})
			ok, limited, other := tally(errs, account.ErrInviteLimit)
			if ok != limit || limited != 30-limit || len(other) != 0 {
				t.Fatalf("%d created, %d limited, other errors %v; want %d, %d, none", ok, limited, other, limit, 30-limit)
			}
			invs, err := db.ListInvites(t.Context(), c.ID)
			must(t, err)
			if len(invs) != limit {
				t.Fatalf("%d invites stored, want %d", len(invs), limit)
			}
		}},
		{"a follow racing a block never survives it", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			a, b := newUser(t, db, "a"), newUser(t, db, "b")
			for round := range 20 {
				errs := race(2, func(i int) error {
					if i == 0 {
						return db.Follow(ctx, a.ID, b.ID, t0)
					}
					return db.Block(ctx, b.ID, a.ID, t0)
				})
				if errs[1] != nil || (errs[0] != nil && !errors.Is(errs[0], account.ErrBlocked)) {
					t.Fatalf("round %d: follow: %v, block: %v", round, errs[0], errs[1])
				}
				wantRelation(t, db, a.ID, b.ID, account.Relation{BBlocksA: true})
				must(t, db.Unblock(ctx, b.ID, a.ID))
			}
		}},
		{"concurrent follows of one user are all counted", func(t *testing.T, db *store.DB) {
			star := newUser(t, db, "star")
			fans := make([]account.User, 20)
			for i := range fans {
				fans[i] = newUser(t, db, fmt.Sprintf("fan%d", i))
			}
			errs := race(len(fans), func(i int) error { return db.Follow(t.Context(), fans[i].ID, star.ID, t0) })
			if ok, _, other := tally(errs, nil); ok != len(fans) {
				t.Fatalf("%d follows succeeded, errors %v", ok, other)
			}
			wantCounts(t, db, star.ID, len(fans), 0)
		}},
	}
}
