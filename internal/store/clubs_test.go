package store_test

import (
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/store"
)

// newClub stores a club made by creator.
func newClub(t *testing.T, db *store.DB, name string, creator account.User, approval bool) club.Club {
	t.Helper()
	c := club.Club{ID: ids.New(), Name: name, Description: "About " + name, Rules: "Be kind.", Approval: approval,
		CreatedBy: creator.ID, CreatedAt: t0}
	must(t, db.CreateClub(t.Context(), c))
	return c
}

func clubCases() []storeCase {
	return []storeCase{
		{"a new club has its creator as its only admin", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			c := newClub(t, db, "Jazz", ada, false)
			got, err := db.ClubByID(t.Context(), c.ID)
			must(t, err)
			if got.Name != "Jazz" || got.Members != 1 || !got.CreatedAt.Equal(t0) || got.Rules != "Be kind." {
				t.Fatalf("club = %+v", got)
			}
			m, err := db.ClubMember(t.Context(), c.ID, ada.ID)
			must(t, err)
			if m.Role != club.RoleAdmin {
				t.Fatalf("creator role = %q, want admin", m.Role)
			}
		}},
		{"club names are unique whatever their case", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			newClub(t, db, "Jazz", ada, false)
			err := db.CreateClub(t.Context(), club.Club{ID: ids.New(), Name: "JAZZ", CreatedBy: ada.ID, CreatedAt: t0})
			wantErr(t, err, club.ErrNameTaken)
			other := newClub(t, db, "Blues", ada, false)
			other.Name = "jazz"
			wantErr(t, db.UpdateClub(t.Context(), other), club.ErrNameTaken)
		}},
		{"an unknown club is not found", func(t *testing.T, db *store.DB) {
			_, err := db.ClubByID(t.Context(), ids.New())
			wantErr(t, err, club.ErrNotFound)
			_, err = db.ClubMember(t.Context(), ids.New(), ids.New())
			wantErr(t, err, club.ErrNotMember)
		}},
		{"members are listed admins first and a member joins once", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			c := newClub(t, db, "Jazz", ada, false)
			must(t, db.AddClubMember(t.Context(), club.Member{ClubID: c.ID, UserID: bob.ID, Role: club.RoleMember, JoinedAt: t0.Add(time.Minute)}))
			must(t, db.AddClubMember(t.Context(), club.Member{ClubID: c.ID, UserID: cy.ID, Role: club.RoleLeader, JoinedAt: t0.Add(2 * time.Minute)}))
			wantErr(t, db.AddClubMember(t.Context(), club.Member{ClubID: c.ID, UserID: bob.ID, Role: club.RoleMember, JoinedAt: t0}), club.ErrAlreadyIn)
			list, err := db.ClubMembers(t.Context(), c.ID, 10)
			must(t, err)
			if len(list) != 3 || list[0].UserID != ada.ID || list[1].UserID != cy.ID || list[2].UserID != bob.ID {
				t.Fatalf("members = %+v", list)
			}
			mine, err := db.ClubsOf(t.Context(), bob.ID)
			must(t, err)
			if len(mine) != 1 || mine[0].Role != club.RoleMember || mine[0].Members != 3 {
				t.Fatalf("clubs of bob = %+v", mine)
			}
		}},
		{"the last admin can neither step down nor leave", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			c := newClub(t, db, "Jazz", ada, false)
			wantErr(t, db.SetClubRole(t.Context(), c.ID, ada.ID, club.RoleMember), club.ErrLastAdmin)
			wantErr(t, db.RemoveClubMember(t.Context(), c.ID, ada.ID), club.ErrLastAdmin)
			must(t, db.AddClubMember(t.Context(), club.Member{ClubID: c.ID, UserID: bob.ID, Role: club.RoleMember, JoinedAt: t0}))
			must(t, db.SetClubRole(t.Context(), c.ID, bob.ID, club.RoleAdmin))
			must(t, db.SetClubRole(t.Context(), c.ID, ada.ID, club.RoleLeader))
			must(t, db.RemoveClubMember(t.Context(), c.ID, ada.ID))
			wantErr(t, db.RemoveClubMember(t.Context(), c.ID, ada.ID), club.ErrNotMember)
			wantErr(t, db.SetClubRole(t.Context(), c.ID, ada.ID, club.RoleAdmin), club.ErrNotMember)
		}},
		{"a request is pending once, and approving it makes a member", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			c := newClub(t, db, "Jazz", ada, true)
			must(t, db.AddClubRequest(t.Context(), club.Request{ClubID: c.ID, UserID: bob.ID, CreatedAt: t0}))
			must(t, db.AddClubRequest(t.Context(), club.Request{ClubID: c.ID, UserID: cy.ID, CreatedAt: t0.Add(time.Second)}))
			wantErr(t, db.AddClubRequest(t.Context(), club.Request{ClubID: c.ID, UserID: bob.ID, CreatedAt: t0}), club.ErrPending)
			wantErr(t, db.AddClubRequest(t.Context(), club.Request{ClubID: c.ID, UserID: ada.ID, CreatedAt: t0}), club.ErrAlreadyIn)
			reqs, err := db.ClubRequests(t.Context(), c.ID, 10)
			must(t, err)
			if len(reqs) != 2 || reqs[0].UserID != bob.ID {
				t.Fatalf("requests = %+v", reqs)
			}
			must(t, db.DecideClubRequest(t.Context(), c.ID, bob.ID, true, t0.Add(time.Hour)))
			must(t, db.DecideClubRequest(t.Context(), c.ID, cy.ID, false, t0.Add(time.Hour)))
			wantErr(t, db.DecideClubRequest(t.Context(), c.ID, bob.ID, true, t0), club.ErrNoRequest)
			m, err := db.ClubMember(t.Context(), c.ID, bob.ID)
			must(t, err)
			if m.Role != club.RoleMember || !m.JoinedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("bob = %+v", m)
			}
			_, err = db.ClubMember(t.Context(), c.ID, cy.ID)
			wantErr(t, err, club.ErrNotMember)
			reqs, err = db.ClubRequests(t.Context(), c.ID, 10)
			must(t, err)
			if len(reqs) != 0 {
				t.Fatalf("requests left: %+v", reqs)
			}
		}},
	}
}

func clubMember(clubID, userID string) club.Member {
	return club.Member{ClubID: clubID, UserID: userID, Role: club.RoleMember, JoinedAt: t0}
}
