package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/store"
)

// newInvitation stores an invitation by inviterID into roomID at at, to invitees.
func newInvitation(t *testing.T, db *store.DB, roomID, inviterID string, at time.Time, invitees ...string) live.Invitation {
	t.Helper()
	inv := live.Invitation{ID: ids.New(), RoomID: roomID, InviterID: inviterID, Message: "come and talk", CreatedAt: at}
	if err := db.CreateInvitation(t.Context(), inv, invitees); err != nil {
		t.Fatalf("create invitation: %v", err)
	}
	return inv
}

// invitationIDs returns the IDs of invs, in order.
func invitationIDs(invs []live.Invitation) []string {
	out := make([]string, len(invs))
	for i, inv := range invs {
		out[i] = inv.ID
	}
	return out
}

// recipient returns userID's Recipient in rs, failing the test if there is none.
func recipient(t *testing.T, rs []live.Recipient, userID string) live.Recipient {
	t.Helper()
	for _, r := range rs {
		if r.UserID == userID {
			return r
		}
	}
	t.Fatalf("%s is not among the recipients %+v", userID, rs)
	return live.Recipient{}
}

func invitationCases() []storeCase {
	return []storeCase{
		{"an invitation reads back with one pending recipient per invitee, even one listed twice", func(t *testing.T, db *store.DB) {
			host, a, b := newUser(t, db, "host"), newUser(t, db, "a"), newUser(t, db, "b")
			r := newRoom(t, db, host.ID, t0)
			in := live.Invitation{ID: ids.New(), RoomID: r.ID, InviterID: host.ID, Message: "join the stage",
				ToStage: true, CreatedAt: t0.Add(time.Minute)}
			must(t, db.CreateInvitation(t.Context(), in, []string{b.ID, a.ID, b.ID}))
			got, rs, err := db.Invitation(t.Context(), in.ID)
			must(t, err)
			if got.ID != in.ID || got.RoomID != in.RoomID || got.InviterID != in.InviterID ||
				got.Message != in.Message || !got.ToStage || !got.CreatedAt.Equal(in.CreatedAt) {
				t.Fatalf("read back %+v, want %+v", got, in)
			}
			if len(rs) != 2 {
				t.Fatalf("%d recipients, want 2: %+v", len(rs), rs)
			}
			for _, u := range []string{a.ID, b.ID} {
				rec := recipient(t, rs, u)
				if rec != (live.Recipient{InvitationID: in.ID, UserID: u, Status: live.AnswerPending}) {
					t.Fatalf("new recipient %+v, want pending with no answer", rec)
				}
			}
		}},
		{"an invitation naming an unknown room, inviter or invitee is not found and stores nothing", func(t *testing.T, db *store.DB) {
			host, a := newUser(t, db, "host"), newUser(t, db, "a")
			r := newRoom(t, db, host.ID, t0)
			for _, tc := range []struct {
				name          string
				room, inviter string
				invitees      []string
			}{
				{"unknown room", ids.New(), host.ID, []string{a.ID}},
				{"unknown inviter", r.ID, ids.New(), []string{a.ID}},
				{"unknown invitee among known ones", r.ID, host.ID, []string{a.ID, ids.New()}},
			} {
				inv := live.Invitation{ID: ids.New(), RoomID: tc.room, InviterID: tc.inviter, CreatedAt: t0}
				if err := db.CreateInvitation(t.Context(), inv, tc.invitees); !errors.Is(err, account.ErrNotFound) {
					t.Errorf("%s: error = %v, want not found", tc.name, err)
				}
				if _, _, err := db.Invitation(t.Context(), inv.ID); !errors.Is(err, account.ErrNotFound) {
					t.Errorf("%s: the refused invitation was stored (%v)", tc.name, err)
				}
			}
			got, err := db.InvitationsTo(t.Context(), a.ID, 10)
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("a received %d invitations, want none", len(got))
			}
		}},
		{"an invitation without invitees or without an ID is invalid", func(t *testing.T, db *store.DB) {
			host, a := newUser(t, db, "host"), newUser(t, db, "a")
			r := newRoom(t, db, host.ID, t0)
			inv := live.Invitation{ID: ids.New(), RoomID: r.ID, InviterID: host.ID, CreatedAt: t0}
			wantErr(t, db.CreateInvitation(t.Context(), inv, nil), account.ErrInvalid)
			inv.ID = ""
			wantErr(t, db.CreateInvitation(t.Context(), inv, []string{a.ID}), account.ErrInvalid)
		}},
		{"an unknown invitation is not found", func(t *testing.T, db *store.DB) {
			_, _, err := db.Invitation(t.Context(), ids.New())
			wantErr(t, err, account.ErrNotFound)
		}},
		{"answering records the status, text and time, and a later answer replaces it", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			host, a, b := newUser(t, db, "host"), newUser(t, db, "a"), newUser(t, db, "b")
			inv := newInvitation(t, db, newRoom(t, db, host.ID, t0).ID, host.ID, t0, a.ID, b.ID)
			must(t, db.AnswerInvitation(ctx, inv.ID, a.ID, live.AnswerQuestion, "what is it about?", t0.Add(time.Minute)))
			_, rs, err := db.Invitation(ctx, inv.ID)
			must(t, err)
			want := live.Recipient{InvitationID: inv.ID, UserID: a.ID, Status: live.AnswerQuestion,
				Text: "what is it about?", AnsweredAt: t0.Add(time.Minute)}
			if got := recipient(t, rs, a.ID); !sameRecipient(got, want) {
				t.Fatalf("after a question %+v, want %+v", got, want)
			}
			must(t, db.AnswerInvitation(ctx, inv.ID, a.ID, live.AnswerAccepted, "", t0.Add(2*time.Minute)))
			_, rs, err = db.Invitation(ctx, inv.ID)
			must(t, err)
			want.Status, want.Text, want.AnsweredAt = live.AnswerAccepted, "", t0.Add(2*time.Minute)
			if got := recipient(t, rs, a.ID); !sameRecipient(got, want) {
				t.Fatalf("after accepting %+v, want %+v", got, want)
			}
			if got := recipient(t, rs, b.ID); got.Status != live.AnswerPending || !got.AnsweredAt.IsZero() {
				t.Fatalf("the other invitee's answer changed: %+v", got)
			}
		}},
		{"answering an invitation you did not receive is not found", func(t *testing.T, db *store.DB) {
			host, a, outsider := newUser(t, db, "host"), newUser(t, db, "a"), newUser(t, db, "outsider")
			inv := newInvitation(t, db, newRoom(t, db, host.ID, t0).ID, host.ID, t0, a.ID)
			for _, tc := range []struct{ name, invitation, user string }{
				{"an outsider", inv.ID, outsider.ID},
				{"the inviter", inv.ID, host.ID},
				{"an unknown user", inv.ID, ids.New()},
				{"a recipient, on an unknown invitation", ids.New(), a.ID},
			} {
				err := db.AnswerInvitation(t.Context(), tc.invitation, tc.user, live.AnswerDeclined, "", t0)
				if !errors.Is(err, account.ErrNotFound) {
					t.Errorf("%s: error = %v, want not found", tc.name, err)
				}
			}
		}},
		{"an answer that is not accepted, declined or a question is invalid", func(t *testing.T, db *store.DB) {
			host, a := newUser(t, db, "host"), newUser(t, db, "a")
			inv := newInvitation(t, db, newRoom(t, db, host.ID, t0).ID, host.ID, t0, a.ID)
			for _, status := range []string{live.AnswerPending, "", "maybe", "ACCEPTED"} {
				err := db.AnswerInvitation(t.Context(), inv.ID, a.ID, status, "", t0)
				if !errors.Is(err, account.ErrInvalid) {
					t.Errorf("status %q: error = %v, want invalid", status, err)
				}
			}
		}},
		{"invitations are listed to their recipients and from their inviter, newest first", func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			host, other, a, b := newUser(t, db, "host"), newUser(t, db, "other"), newUser(t, db, "a"), newUser(t, db, "b")
			r := newRoom(t, db, host.ID, t0)
			first := newInvitation(t, db, r.ID, host.ID, t0, a.ID, b.ID)
			second := newInvitation(t, db, r.ID, other.ID, t0.Add(time.Minute), a.ID)
			third := newInvitation(t, db, r.ID, host.ID, t0.Add(2*time.Minute), b.ID)
			must(t, db.AnswerInvitation(ctx, first.ID, a.ID, live.AnswerDeclined, "busy", t0)) // still listed

			for _, tc := range []struct {
				name  string
				list  func(ctx context.Context, userID string, limit int) ([]live.Invitation, error)
				user  string
				limit int
				want  []live.Invitation
			}{
				{"to a", db.InvitationsTo, a.ID, 10, []live.Invitation{second, first}},
				{"to b", db.InvitationsTo, b.ID, 10, []live.Invitation{third, first}},
				{"to b, limit 1", db.InvitationsTo, b.ID, 1, []live.Invitation{third}},
				{"to the host", db.InvitationsTo, host.ID, 10, nil},
				{"from the host", db.InvitationsFrom, host.ID, 10, []live.Invitation{third, first}},
				{"from the host, limit 1", db.InvitationsFrom, host.ID, 1, []live.Invitation{third}},
				{"from the other", db.InvitationsFrom, other.ID, 10, []live.Invitation{second}},
				{"from a", db.InvitationsFrom, a.ID, 10, nil},
				{"to an unknown user", db.InvitationsTo, ids.New(), 10, nil},
			} {
				got, err := tc.list(ctx, tc.user, tc.limit)
				must(t, err)
				if !slices.Equal(invitationIDs(got), invitationIDs(tc.want)) {
					t.Errorf("%s: %v, want %v", tc.name, invitationIDs(got), invitationIDs(tc.want))
				}
			}
		}},
		{"invitation lists with a limit below one are invalid", func(t *testing.T, db *store.DB) {
			u := newUser(t, db, "u")
			_, err := db.InvitationsTo(t.Context(), u.ID, 0)
			wantErr(t, err, account.ErrInvalid)
			_, err = db.InvitationsFrom(t.Context(), u.ID, -1)
			wantErr(t, err, account.ErrInvalid)
		}},
		{"an invitation to more people than one statement holds reaches them all", func(t *testing.T, db *store.DB) {
			host := newUser(t, db, "host")
			invitees := make([]string, 520) // more than one chunk of recipients
			for i := range invitees {
				invitees[i] = newUser(t, db, fmt.Sprintf("guest%d", i)).ID
			}
			inv := newInvitation(t, db, newRoom(t, db, host.ID, t0).ID, host.ID, t0, invitees...)
			_, rs, err := db.Invitation(t.Context(), inv.ID)
			must(t, err)
			got := make([]string, len(rs))
			for i, r := range rs {
				got[i] = r.UserID
			}
			slices.Sort(invitees)
			if !slices.Equal(got, invitees) {
				t.Fatalf("%d recipients, want the %d invitees", len(got), len(invitees))
			}
		}},
	}
}

// sameRecipient compares recipients field by field, times with Equal.
func sameRecipient(a, b live.Recipient) bool {
	ta, tb := a.AnsweredAt, b.AnsweredAt
	a.AnsweredAt, b.AnsweredAt = time.Time{}, time.Time{}
	return a == b && ta.Equal(tb)
}
