package store_test

import (
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/store"
)

func emailCases() []storeCase {
	return []storeCase{
		{"an account has no e-mail address until its owner sets one, and loses it when cleared", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			if ada.Email != "" {
				t.Fatalf("a new account has the address %q", ada.Email)
			}
			must(t, db.SetEmail(t.Context(), ada.ID, "ada@example.org"))
			for _, read := range []func() (account.User, error){
				func() (account.User, error) { return db.UserByID(t.Context(), ada.ID) },
				func() (account.User, error) { return db.UserByUsername(t.Context(), "ada") },
			} {
				got, err := read()
				must(t, err)
				if got.Email != "ada@example.org" {
					t.Fatalf("email = %q, want ada@example.org", got.Email)
				}
			}
			must(t, db.SetEmail(t.Context(), ada.ID, ""))
			got, err := db.UserByID(t.Context(), ada.ID)
			must(t, err)
			if got.Email != "" {
				t.Fatalf("a cleared address reads back as %q", got.Email)
			}
		}},
		{"two accounts may share an address", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			must(t, db.SetEmail(t.Context(), ada.ID, "family@example.org"))
			must(t, db.SetEmail(t.Context(), bob.ID, "family@example.org"))
		}},
		{"an unknown account gets no address", func(t *testing.T, db *store.DB) {
			wantErr(t, db.SetEmail(t.Context(), ids.New(), "x@example.org"), account.ErrNotFound)
		}},
		{"a reset link's account carries its address, and a deleted account loses it for good", func(t *testing.T, db *store.DB) {
			admin, ada := newUser(t, db, "admin"), newUser(t, db, "ada")
			must(t, db.SetEmail(t.Context(), ada.ID, "ada@example.org"))
			hash := []byte("0123456789abcdef0123456789abcdef")
			must(t, db.CreatePasswordReset(t.Context(), account.PasswordReset{TokenHash: hash, UserID: ada.ID,
				CreatedBy: admin.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
			u, err := db.PasswordResetUser(t.Context(), hash, t0)
			must(t, err)
			if u.Email != "ada@example.org" {
				t.Fatalf("the reset link's account has the address %q", u.Email)
			}
			_, _, err = db.DeleteAccount(t.Context(), ada.ID, t0)
			must(t, err)
			got, err := db.UserByID(t.Context(), ada.ID)
			must(t, err)
			if got.Email != "" {
				t.Fatalf("a deleted account keeps the address %q", got.Email)
			}
			wantErr(t, db.SetEmail(t.Context(), ada.ID, "ada@example.org"), account.ErrNotFound)
		}},
	}
}
