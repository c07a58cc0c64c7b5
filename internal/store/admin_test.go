package store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/club"
	"github.com/townhall/townhall/internal/event"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/moderation"
	"github.com/townhall/townhall/internal/photo"
	"github.com/townhall/townhall/internal/store"
)

func photoSet(fill byte) photo.Set {
	var s photo.Set
	for _, n := range photo.Sizes {
		s.Images = append(s.Images, photo.Image{Size: n, Data: bytes.Repeat([]byte{fill, 0, 0xFF}, n)})
	}
	return s
}

func newReport(t *testing.T, db *store.DB, reporter, subject string, at time.Time) moderation.Report {
	t.Helper()
	r := moderation.Report{ID: ids.New(), ReporterID: reporter, Kind: moderation.KindUser, TargetID: "eve", SubjectID: subject,
		Reason: moderation.ReasonSpam, Details: "selling things", Context: json.RawMessage(`{"display_name":"Eve"}`), CreatedAt: at}
	must(t, db.CreateReport(t.Context(), r))
	return r
}

func resetToken(t *testing.T, db *store.DB, user, admin string, expires time.Time) []byte {
	t.Helper()
	h := sha256.Sum256([]byte(ids.Secret()))
	must(t, db.CreatePasswordReset(t.Context(), account.PasswordReset{TokenHash: h[:], UserID: user, CreatedBy: admin,
		CreatedAt: t0, ExpiresAt: expires}))
	return h[:]
}

func adminCases() []storeCase {
	return []storeCase{
		{"a photo's images read back byte for byte, a new one replaces it, and clearing removes it", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			must(t, db.SetPhoto(t.Context(), ada.ID, "h1", photoSet(1), t0))
			u, err := db.UserByID(t.Context(), ada.ID)
			must(t, err)
			if u.Photo != "h1" {
				t.Fatalf("photo = %q, want h1", u.Photo)
			}
			data, ct, err := db.Photo(t.Context(), "h1", 256)
			must(t, err)
			if !bytes.Equal(data, photoSet(1).Images[1].Data) || ct != photo.ContentType {
				t.Fatalf("read back %d bytes of %s", len(data), ct)
			}
			must(t, db.SetPhoto(t.Context(), ada.ID, "h2", photoSet(2), t0))
			_, _, err = db.Photo(t.Context(), "h1", 256)
			wantErr(t, err, account.ErrNotFound)
			must(t, db.ClearPhoto(t.Context(), ada.ID))
			_, _, err = db.Photo(t.Context(), "h2", 96)
			wantErr(t, err, account.ErrNotFound)
			u, err = db.UserByID(t.Context(), ada.ID)
			must(t, err)
			if u.Photo != "" {
				t.Fatalf("photo = %q after clearing", u.Photo)
			}
		}},
		{"a photo of an unknown user is not found", func(t *testing.T, db *store.DB) {
			wantErr(t, db.SetPhoto(t.Context(), ids.New(), "h1", photoSet(1), t0), account.ErrNotFound)
		}},
		{"reports list newest first, page by cursor, and leave the handled ones out of the open list", func(t *testing.T, db *store.DB) {
			ada, eve := newUser(t, db, "ada"), newUser(t, db, "eve")
			var made []moderation.Report
			for i := range 5 {
				made = append(made, newReport(t, db, ada.ID, eve.ID, t0.Add(time.Duration(i)*time.Minute)))
			}
			page, next, err := db.Reports(t.Context(), false, account.Cursor{}, 3)
			must(t, err)
			if len(page) != 3 || page[0].ID != made[4].ID || next.IsZero() {
				t.Fatalf("first page: %d reports, next %v", len(page), next)
			}
			rest, next, err := db.Reports(t.Context(), false, next, 3)
			must(t, err)
			if len(rest) != 2 || rest[1].ID != made[0].ID || !next.IsZero() {
				t.Fatalf("second page: %d reports, next %v", len(rest), next)
			}
			got, err := db.ReportByID(t.Context(), made[0].ID)
			must(t, err)
			if got.SubjectID != eve.ID || string(got.Context) != `{"display_name":"Eve"}` || !got.Open() || got.Reason != moderation.ReasonSpam {
				t.Fatalf("read back %+v", got)
			}
			must(t, db.ResolveReport(t.Context(), made[4].ID, ada.ID, "warned", t0.Add(time.Hour)))
			wantErr(t, db.ResolveReport(t.Context(), made[4].ID, ada.ID, "again", t0.Add(time.Hour)), moderation.ErrResolved)
			wantErr(t, db.ResolveReport(t.Context(), ids.New(), ada.ID, "", t0), account.ErrNotFound)
			open, _, err := db.Reports(t.Context(), true, account.Cursor{}, 10)
			must(t, err)
			n, err := db.OpenReports(t.Context())
			must(t, err)
			if len(open) != 4 || n != 4 {
				t.Fatalf("%d open reports listed, %d counted; want 4", len(open), n)
			}
		}},
		{"the admin log lists newest first", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			for i, a := range []string{"disable", "enable"} {
				must(t, db.AddAdminEntry(t.Context(), moderation.Entry{ID: ids.New(), AdminID: ada.ID, Action: a, Target: "eve",
					At: t0.Add(time.Duration(i) * time.Second)}))
			}
			got, _, err := db.AdminLog(t.Context(), account.Cursor{}, 10)
			must(t, err)
			if len(got) != 2 || got[0].Action != "enable" || got[1].Action != "disable" {
				t.Fatalf("log = %+v", got)
			}
		}},
		{"a reset link works once, before it expires, and ends every session of the account", func(t *testing.T, db *store.DB) {
			adm, bob := newUser(t, db, "adm"), newUser(t, db, "bob")
			s1, s2 := newSession(t, db, bob.ID, t0), newSession(t, db, bob.ID, t0)
			tok := resetToken(t, db, bob.ID, adm.ID, t0.Add(time.Hour))
			other := resetToken(t, db, bob.ID, adm.ID, t0.Add(time.Hour))
			old := resetToken(t, db, bob.ID, adm.ID, t0.Add(time.Minute))
			_, err := db.PasswordResetUser(t.Context(), old, t0.Add(2*time.Minute))
			wantErr(t, err, account.ErrNotFound)
			u, err := db.PasswordResetUser(t.Context(), tok, t0)
			must(t, err)
			if u.ID != bob.ID {
				t.Fatalf("reset for %s", u.Username)
			}
			user, ended, err := db.UsePasswordReset(t.Context(), tok, "new-hash", t0)
			must(t, err)
			if user != bob.ID || len(ended) != 2 || !(ended[0] == s1.ID || ended[1] == s1.ID) || !(ended[0] == s2.ID || ended[1] == s2.ID) {
				t.Fatalf("used for %s, ended %v", user, ended)
			}
			_, _, err = db.UsePasswordReset(t.Context(), tok, "x", t0)
			wantErr(t, err, account.ErrNotFound)
			_, _, err = db.UsePasswordReset(t.Context(), other, "x", t0) // spent with the first
			wantErr(t, err, account.ErrNotFound)
			u, err = db.UserByID(t.Context(), bob.ID)
			must(t, err)
			if u.PasswordHash != "new-hash" {
				t.Fatalf("password hash %q", u.PasswordHash)
			}
			list, err := db.ListSessions(t.Context(), bob.ID, t0)
			must(t, err)
			if len(list) != 0 {
				t.Fatalf("%d sessions left", len(list))
			}
		}},
		{"a session's last request reads back", func(t *testing.T, db *store.DB) {
			bob := newUser(t, db, "bob")
			s := newSession(t, db, bob.ID, t0)
			must(t, db.TouchSession(t.Context(), s.ID, t0.Add(time.Hour)))
			got, err := db.SessionByTokenHash(t.Context(), s.TokenHash)
			must(t, err)
			if !got.LastSeen.Equal(t0.Add(time.Hour)) {
				t.Fatalf("last seen %v", got.LastSeen)
			}
		}},
		{"admins find accounts by part of a name, disabled ones too, and enable them", func(t *testing.T, db *store.DB) {
			newUser(t, db, "ada")
			eve := newUser(t, db, "eve_100")
			must(t, db.DisableUser(t.Context(), eve.ID, t0))
			got, err := db.ListUsers(t.Context(), "E_1", 10)
			must(t, err)
			if len(got) != 1 || got[0].ID != eve.ID || !got[0].Disabled() {
				t.Fatalf("found %+v", got)
			}
			if got, _ := db.ListUsers(t.Context(), "%", 10); len(got) != 0 {
				t.Fatalf("%% is a wildcard: found %d", len(got))
			}
			all, err := db.ListUsers(t.Context(), "", 10)
			must(t, err)
			if len(all) != 2 {
				t.Fatalf("%d accounts", len(all))
			}
			must(t, db.EnableUser(t.Context(), eve.ID))
			u, err := db.UserByID(t.Context(), eve.ID)
			must(t, err)
			if u.Disabled() {
				t.Fatal("still disabled")
			}
		}},
		{"a deleted account frees its name, loses its sessions, follows and photo, cancels its events and hands on its clubs", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			s := newSession(t, db, ada.ID, t0)
			must(t, db.Follow(t.Context(), bob.ID, ada.ID, t0))
			must(t, db.Follow(t.Context(), ada.ID, cy.ID, t0))
			must(t, db.SetPhoto(t.Context(), ada.ID, "h1", photoSet(1), t0))
			upcoming := newEvent(t, db, ada, t0.Add(48*time.Hour), nil)
			kept := newClub(t, db, "Kept", ada, false) // bob joins: he becomes its admin
			must(t, db.AddClubMember(t.Context(), club.Member{ClubID: kept.ID, UserID: bob.ID, Role: club.RoleMember, JoinedAt: t0}))
			alone := newClub(t, db, "Alone", ada, false) // nobody else: it goes
			clubEvent := newEvent(t, db, ada, t0.Add(72*time.Hour), func(e *event.Event) { e.ClubID = alone.ID })

			ended, cancelled, err := db.DeleteAccount(t.Context(), ada.ID, t0.Add(time.Hour))
			must(t, err)
			if len(ended) != 1 || ended[0] != s.ID {
				t.Fatalf("ended %v", ended)
			}
			if len(cancelled) != 2 {
				t.Fatalf("cancelled %v, want the upcoming event and the club's", cancelled)
			}
			_, err = db.UserByUsername(t.Context(), "ada")
			wantErr(t, err, account.ErrNotFound)
			newUser(t, db, "ada") // the name is free
			u, err := db.UserByID(t.Context(), ada.ID)
			must(t, err)
			if u.DeletedAt.IsZero() || !u.Disabled() || u.Photo != "" || u.DisplayName != "Deleted account" {
				t.Fatalf("deleted account reads %+v", u)
			}
			wantCounts(t, db, ada.ID, 0, 0)
			wantCounts(t, db, bob.ID, 0, 0)
			_, _, err = db.Photo(t.Context(), "h1", 96)
			wantErr(t, err, account.ErrNotFound)
			e, err := db.EventByID(t.Context(), upcoming.ID)
			must(t, err)
			if !e.Cancelled() {
				t.Fatal("the upcoming event was not cancelled")
			}
			members, err := db.ClubMembers(t.Context(), kept.ID, 10)
			must(t, err)
			if len(members) != 1 || members[0].UserID != bob.ID || members[0].Role != club.RoleAdmin {
				t.Fatalf("members of the kept club: %+v", members)
			}
			_, err = db.ClubByID(t.Context(), alone.ID)
			wantErr(t, err, club.ErrNotFound)
			e, err = db.EventByID(t.Context(), clubEvent.ID)
			must(t, err)
			if !e.Cancelled() || e.ClubID != "" {
				t.Fatalf("the club's event: cancelled %v, club %q", e.Cancelled(), e.ClubID)
			}
			_, _, err = db.DeleteAccount(t.Context(), ada.ID, t0)
			wantErr(t, err, account.ErrNotFound)
		}},
	}
}
