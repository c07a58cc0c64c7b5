package store_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/invitation"
	"github.com/townhall/townhall/internal/push"
	"github.com/townhall/townhall/internal/store"
)

// newPage stores the page of an invitation to room by inviter; tweak changes it first.
func newPage(t *testing.T, db *store.DB, inviter account.User, roomID string, tweak func(*invitation.Invitation)) invitation.Invitation {
	t.Helper()
	p := invitation.Invitation{Code: ids.New(), KeyHash: invitation.HashKey("key-" + roomID), InviterID: inviter.ID,
		InviteeName: "Jane", RoomID: roomID, Message: "Come and talk", Status: invitation.StatusSent,
		CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour), UpdatedAt: t0}
	if tweak != nil {
		tweak(&p)
	}
	must(t, db.CreateInvitationPages(t.Context(), []invitation.Invitation{p}))
	return p
}

func invitationPageCases() []storeCase {
	return []storeCase{
		{"a page is stored and read back with its empty thread", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			r := newRoom(t, db, ada.ID, t0)
			p := newPage(t, db, ada, r.ID, func(p *invitation.Invitation) { p.ToStage, p.Public = true, true })
			got, posts, err := db.InvitationPage(t.Context(), p.Code)
			must(t, err)
			if got != p || len(posts) != 0 {
				t.Fatalf("page = %+v, posts %v; want %+v", got, posts, p)
			}
			_, _, err = db.InvitationPage(t.Context(), ids.New())
			wantErr(t, err, invitation.ErrNotFound)
		}},
		{"a page names one room or one event, and existing ones", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			r := newRoom(t, db, ada.ID, t0)
			bad := invitation.Invitation{Code: ids.New(), KeyHash: "k", InviterID: ada.ID, Status: invitation.StatusSent}
			wantErr(t, db.CreateInvitationPages(t.Context(), []invitation.Invitation{bad}), account.ErrInvalid)
			bad.RoomID = ids.New()
			wantErr(t, db.CreateInvitationPages(t.Context(), []invitation.Invitation{bad}), account.ErrNotFound)
			bad.RoomID, bad.InviteeID = r.ID, ids.New()
			wantErr(t, db.CreateInvitationPages(t.Context(), []invitation.Invitation{bad}), account.ErrNotFound)
		}},
		{"posts are numbered in order, set the status, and stop at the maximum", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			r := newRoom(t, db, ada.ID, t0)
			p := newPage(t, db, ada, r.ID, nil)
			q, err := db.AddInvitationPost(t.Context(), p.Code, invitation.Post{Side: invitation.SideInvitee,
				Kind: invitation.PostQuestion, Name: "Jane's office", Text: "What is it about?", At: t0.Add(time.Minute)},
				invitation.StatusQuestion, 3)
			must(t, err)
			reply, err := db.AddInvitationPost(t.Context(), p.Code, invitation.Post{Side: invitation.SideInviter,
				Kind: invitation.PostReply, AuthorID: bob.ID, ForID: ada.ID, Text: "Libraries", At: t0.Add(2 * time.Minute)}, "", 3)
			must(t, err)
			if q.Seq != 1 || reply.Seq != 2 {
				t.Fatalf("seqs %d, %d", q.Seq, reply.Seq)
			}
			got, posts, err := db.InvitationPage(t.Context(), p.Code)
			must(t, err)
			if got.Status != invitation.StatusQuestion || got.Posts != 2 || !got.AnsweredAt.Equal(t0.Add(time.Minute)) ||
				!got.UpdatedAt.Equal(t0.Add(2*time.Minute)) {
				t.Fatalf("page after two posts: %+v", got)
			}
			if len(posts) != 2 || posts[0] != q || posts[1] != reply {
				t.Fatalf("posts = %+v", posts)
			}
			_, err = db.AddInvitationPost(t.Context(), p.Code, invitation.Post{Side: invitation.SideInvitee, Kind: invitation.PostQuestion, Text: "3", At: t0}, "", 3)
			must(t, err)
			_, err = db.AddInvitationPost(t.Context(), p.Code, invitation.Post{Side: invitation.SideInvitee, Kind: invitation.PostQuestion, Text: "4", At: t0}, "", 3)
			wantErr(t, err, invitation.ErrTooManyPosts)
			_, err = db.AddInvitationPost(t.Context(), ids.New(), invitation.Post{Text: "x", At: t0}, "", 3)
			wantErr(t, err, invitation.ErrNotFound)
		}},
		{"posts written at once never share a number", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			p := newPage(t, db, ada, newRoom(t, db, ada.ID, t0).ID, nil)
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					_, err := db.AddInvitationPost(t.Context(), p.Code, invitation.Post{Side: invitation.SideInviter,
						Kind: invitation.PostReply, AuthorID: ada.ID, Text: string(rune('a' + i)), At: t0}, "", 100)
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			_, posts, err := db.InvitationPage(t.Context(), p.Code)
			must(t, err)
			for i, q := range posts {
				if q.Seq != i+1 {
					t.Fatalf("posts %+v", posts)
				}
			}
			if len(posts) != 8 {
				t.Fatalf("%d posts", len(posts))
			}
		}},
		{"a page is seen once, from sent only", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			p := newPage(t, db, ada, newRoom(t, db, ada.ID, t0).ID, nil)
			changed, err := db.MarkInvitationSeen(t.Context(), p.Code, t0.Add(time.Hour))
			must(t, err)
			again, err := db.MarkInvitationSeen(t.Context(), p.Code, t0.Add(2*time.Hour))
			must(t, err)
			got, _, err := db.InvitationPage(t.Context(), p.Code)
			must(t, err)
			if !changed || again || got.Status != invitation.StatusSeen || !got.SeenAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("changed %v, again %v, page %+v", changed, again, got)
			}
		}},
		{"claiming a page makes it the user's and uses up its sign-up code", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			inv := newInvite(t, db, ada.ID, false, t0.Add(time.Hour))
			p := newPage(t, db, ada, newRoom(t, db, ada.ID, t0).ID, func(p *invitation.Invitation) { p.SignupCode = inv.Code })
			bySignup, err := db.InvitationPageBySignup(t.Context(), inv.Code)
			must(t, err)
			if bySignup.Code != p.Code {
				t.Fatalf("by sign-up code: %+v", bySignup)
			}
			must(t, db.ClaimInvitationPage(t.Context(), p.Code, bob.ID, t0.Add(time.Minute)))
			must(t, db.ClaimInvitationPage(t.Context(), p.Code, bob.ID, t0.Add(time.Minute)))
			wantErr(t, db.ClaimInvitationPage(t.Context(), p.Code, cy.ID, t0.Add(time.Minute)), invitation.ErrClaimed)
			got, _, err := db.InvitationPage(t.Context(), p.Code)
			must(t, err)
			used, err := db.InviteByCode(t.Context(), inv.Code)
			must(t, err)
			if got.InviteeID != bob.ID || used.UsedBy != bob.ID {
				t.Fatalf("page %+v, invite %+v", got, used)
			}
			wantErr(t, db.ClaimInvitationPage(t.Context(), ids.New(), bob.ID, t0), invitation.ErrNotFound)
		}},
		{"lists show a room's, an inviter's or an invitee's pages newest first, or only the public ones", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			r := newRoom(t, db, ada.ID, t0)
			old := newPage(t, db, ada, r.ID, func(p *invitation.Invitation) { p.InviteeID = bob.ID })
			pub := newPage(t, db, ada, r.ID, func(p *invitation.Invitation) { p.CreatedAt, p.Public = t0.Add(time.Minute), true })
			codes := func(of invitation.Of, public bool) []string {
				list, err := db.InvitationPages(t.Context(), of, public, 10)
				must(t, err)
				var out []string
				for _, p := range list {
					out = append(out, p.Code)
				}
				return out
			}
			for _, c := range []struct {
				of     invitation.Of
				public bool
				want   []string
			}{
				{invitation.Of{RoomID: r.ID}, false, []string{pub.Code, old.Code}},
				{invitation.Of{RoomID: r.ID}, true, []string{pub.Code}},
				{invitation.Of{InviterID: ada.ID}, false, []string{pub.Code, old.Code}},
				{invitation.Of{InviteeID: bob.ID}, false, []string{old.Code}},
				{invitation.Of{InviterID: bob.ID}, false, nil},
			} {
				if got := codes(c.of, c.public); !slices.Equal(got, c.want) {
					t.Errorf("%+v public %v: %v, want %v", c.of, c.public, got, c.want)
				}
			}
			must(t, db.SetInvitationPublic(t.Context(), old.Code, true, t0))
			if got := codes(invitation.Of{RoomID: r.ID}, true); len(got) != 2 {
				t.Errorf("after making it public: %v", got)
			}
			wantErr(t, db.SetInvitationPublic(t.Context(), ids.New(), true, t0), invitation.ErrNotFound)
		}},
		{"a page is found by its room invitation and invitee", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			invID := ids.New()
			p := newPage(t, db, ada, newRoom(t, db, ada.ID, t0).ID, func(p *invitation.Invitation) { p.InviteeID, p.InvitationID = bob.ID, invID })
			got, err := db.InvitationPageFor(t.Context(), invitation.Of{InvitationID: invID, InviteeID: bob.ID})
			must(t, err)
			if got.Code != p.Code {
				t.Fatalf("found %+v", got)
			}
			_, err = db.InvitationPageFor(t.Context(), invitation.Of{InvitationID: invID, InviteeID: ada.ID})
			wantErr(t, err, invitation.ErrNotFound)
		}},
		{"push subscriptions are kept per endpoint, at most max per user, and deleted", func(t *testing.T, db *store.DB) {
			ada, bob := newUser(t, db, "ada"), newUser(t, db, "bob")
			sub := func(user account.User, n int) push.Subscription {
				return push.Subscription{Endpoint: "https://push.example/" + string(rune('a'+n)), UserID: user.ID,
					P256dh: "p", Auth: "a", CreatedAt: t0.Add(time.Duration(n) * time.Minute)}
			}
			for i := range 3 {
				must(t, db.PutPushSubscription(t.Context(), sub(ada, i), 2))
			}
			list, err := db.PushSubscriptions(t.Context(), ada.ID)
			must(t, err)
			if len(list) != 2 || list[0].Endpoint != sub(ada, 2).Endpoint || list[1].Endpoint != sub(ada, 1).Endpoint {
				t.Fatalf("ada's subscriptions %+v", list)
			}
			must(t, db.PutPushSubscription(t.Context(), sub(bob, 2), 2)) // the browser is bob's now
			list, err = db.PushSubscriptions(t.Context(), ada.ID)
			must(t, err)
			if len(list) != 1 {
				t.Fatalf("ada keeps %+v", list)
			}
			must(t, db.DeletePushSubscription(t.Context(), ada.ID, sub(bob, 2).Endpoint)) // not hers: nothing
			must(t, db.DeletePushSubscription(t.Context(), "", sub(ada, 1).Endpoint))
			a, _ := db.PushSubscriptions(t.Context(), ada.ID)
			b, _ := db.PushSubscriptions(t.Context(), bob.ID)
			if len(a) != 0 || len(b) != 1 {
				t.Fatalf("after deleting: ada %+v, bob %+v", a, b)
			}
			wantErr(t, db.PutPushSubscription(t.Context(), sub(account.User{ID: ids.New()}, 0), 2), account.ErrNotFound)
		}},
		{"the kinds a user wants pushed are replaced as a set", func(t *testing.T, db *store.DB) {
			ada := newUser(t, db, "ada")
			must(t, db.SetPushKinds(t.Context(), ada.ID, []string{"speaking", "invitation"}))
			got, err := db.PushKinds(t.Context(), ada.ID)
			must(t, err)
			if !slices.Equal(got, []string{"invitation", "speaking"}) {
				t.Fatalf("kinds %v", got)
			}
			must(t, db.SetPushKinds(t.Context(), ada.ID, nil))
			got, _ = db.PushKinds(t.Context(), ada.ID)
			if len(got) != 0 {
				t.Fatalf("kinds after clearing %v", got)
			}
			wantErr(t, db.SetPushKinds(t.Context(), ids.New(), nil), account.ErrNotFound)
		}},
		{"follower IDs list the newest followers first", func(t *testing.T, db *store.DB) {
			ada, bob, cy := newUser(t, db, "ada"), newUser(t, db, "bob"), newUser(t, db, "cy")
			must(t, db.Follow(t.Context(), bob.ID, ada.ID, t0))
			must(t, db.Follow(t.Context(), cy.ID, ada.ID, t0.Add(time.Minute)))
			got, err := db.FollowerIDs(t.Context(), ada.ID, 10)
			must(t, err)
			if !slices.Equal(got, []string{cy.ID, bob.ID}) {
				t.Fatalf("followers %v", got)
			}
		}},
	}
}
