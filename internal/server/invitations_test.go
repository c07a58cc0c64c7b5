package server_test

import (
	"encoding/json"
	"testing"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/store/storetest"
)

// notice is the union of the data of the notifications of docs/protocol.md.
type notice struct {
	InvitationID string        `json:"invitation_id"`
	RoomID       string        `json:"room_id"`
	RoomTitle    string        `json:"room_title"`
	From         client.Person `json:"from"`
	Message      string        `json:"message"`
	ToStage      bool          `json:"to_stage"`
	Answer       string        `json:"answer"`
	Text         string        `json:"text"`
}

// notification waits for the next notification of kind on a user socket.
func notification(t *testing.T, s *sock, kind string) notice {
	t.Helper()
	m := s.waitFor(t, "a "+kind+" notification", func(m client.Message) bool {
		n, err := m.DecodeNotification()
		return m.Type == "notification" && err == nil && n.Kind == kind
	})
	n, _ := m.DecodeNotification()
	var d notice
	if err := json.Unmarshal(n.Data, &d); err != nil {
		t.Fatalf("notification data %s: %v", n.Data, err)
	}
	return d
}

// kinds lists u's stored notifications of kind, newest first: other packages
// notify of other things (new followers).
func kinds(t *testing.T, u *user, kind string) []client.Notification {
	t.Helper()
	ns, err := u.Notifications(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []client.Notification
	for _, n := range ns {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// TestInvitations checks invitations to a conversation on every store driver:
// notified invitees, answers the inviter sees live, acceptance onto the stage,
// what is stored, and links for people without an account.
func TestInvitations(t *testing.T) {
	for _, driver := range storetest.Drivers() {
		t.Run("on "+driver, func(t *testing.T) { testInvitations(t, driver) })
	}
}

func testInvitations(t *testing.T, driver string) {
	ts := startServer(t, driver)
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan", "eve")
	bob, cyd, dan, eve := us[0], us[1], us[2], us[3]
	rm := createRoom(t, ada, client.RoomSpec{Title: "Ask me anything", Type: "open"})
	as := join(t, ada, rm.ID)
	adas, bobs, cyds := userSocket(t, ada), userSocket(t, bob), userSocket(t, cyd)

	var inv client.Invitation
	t.Run("invitees are notified live, with the inviter's message", func(t *testing.T) {
		var err error
		inv, err = ada.InviteToRoom(ctx, rm.ID, []string{"bob", "cyd"}, "Join the panel?", false)
		if err != nil {
			t.Fatal(err)
		}
		if inv.ID == "" || !inv.ToStage || len(inv.Recipients) != 2 || inv.Recipients[0].Status != "pending" {
			t.Fatalf("invitation %+v", inv)
		}
		if d := dataOf(as.event(t, "members_invited", "")); d.By != ada.ID || !d.ToStage || len(d.Users) != 2 {
			t.Fatalf("the inviter's members_invited %+v", d)
		}
		for _, s := range []*sock{bobs, cyds} {
			d := notification(t, s, "invitation")
			if d.InvitationID != inv.ID || d.RoomID != rm.ID || d.RoomTitle != rm.Title || d.From.ID != ada.ID ||
				d.Message != "Join the panel?" || !d.ToStage {
				t.Fatalf("%s: invitation notice %+v", s.who, d)
			}
		}
	})

	t.Run("the inviter sees every answer live: a question, then an acceptance, and a refusal", func(t *testing.T) {
		if err := bob.AnswerInvitation(ctx, inv.ID, "question", "What is the topic?"); err != nil {
			t.Fatal(err)
		}
		if d := notification(t, adas, "invitation_answer"); d.Answer != "question" || d.Text != "What is the topic?" || d.From.ID != bob.ID {
			t.Fatalf("answer notice %+v", d)
		}
		if err := bob.AnswerInvitation(ctx, inv.ID, "accept", ""); err != nil {
			t.Fatal(err)
		}
		if d := notification(t, adas, "invitation_answer"); d.Answer != "accepted" || d.From.ID != bob.ID || d.InvitationID != inv.ID {
			t.Fatalf("answer notice %+v", d)
		}
		if err := cyd.AnswerInvitation(ctx, inv.ID, "decline", "Busy, sorry"); err != nil {
			t.Fatal(err)
		}
		if d := notification(t, adas, "invitation_answer"); d.Answer != "declined" || d.From.ID != cyd.ID {
			t.Fatalf("answer notice %+v", d)
		}
	})

	t.Run("an invitee who accepts a moderator's invitation joins straight onto the stage", func(t *testing.T) {
		bs := join(t, bob, rm.ID)
		if roleOf(bs.state, bob.ID) != "speaker" {
			t.Fatalf("bob joined as a %s", roleOf(bs.state, bob.ID))
		}
		if d := dataOf(as.event(t, "joined_stage", bob.ID)); d.Role != "speaker" {
			t.Fatalf("joined_stage %+v", d)
		}
	})

	t.Run("invitations and answers are stored", func(t *testing.T) {
		got, err := ada.GetInvitation(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]string{}
		for _, r := range got.Recipients {
			status[r.User.Username] = r.Status + ":" + r.Text
		}
		if status["bob"] != "accepted:" || status["cyd"] != "declined:Busy, sorry" || got.Message != "Join the panel?" || got.From.ID != ada.ID {
			t.Fatalf("stored invitation %+v", got)
		}
		if _, err := bob.GetInvitation(ctx, inv.ID); err != nil {
			t.Fatalf("an invitee reading it: %v", err)
		}
		received, _, err := bob.Invitations(ctx)
		if err != nil || len(received) != 1 || received[0].ID != inv.ID {
			t.Fatalf("bob's invitations %+v %v", received, err)
		}
		_, sent, err := ada.Invitations(ctx)
		if err != nil || len(sent) != 1 || sent[0].ID != inv.ID {
			t.Fatalf("ada's invitations %+v %v", sent, err)
		}
		ns := kinds(t, ada, "invitation_answer")
		if len(ns) != 3 || ns[0].Read {
			t.Fatalf("ada's answers %+v", ns)
		}
		var first notice
		_ = json.Unmarshal(ns[2].Data, &first)
		if first.Answer != "question" || first.Text != "What is the topic?" {
			t.Fatalf("the question is not kept: %+v", first)
		}
		if err := ada.MarkNotificationsRead(ctx, ns[0].ID); err != nil {
			t.Fatal(err)
		}
		if ns = kinds(t, ada, "invitation_answer"); !ns[0].Read || ns[1].Read {
			t.Fatalf("after marking one read: %+v", ns)
		}
		if err := ada.MarkNotificationsRead(ctx); err != nil {
			t.Fatal(err)
		}
		if ns = kinds(t, ada, "invitation_answer"); !ns[1].Read || !ns[2].Read {
			t.Fatalf("after marking all read: %+v", ns)
		}
	})

	t.Run("only invitees answer, with accept, decline or question", func(t *testing.T) {
		err := eve.AnswerInvitation(ctx, inv.ID, "accept", "")
		wantStatus(t, "someone else answering", err, 404, "not_found")
		err = cyd.AnswerInvitation(ctx, inv.ID, "maybe", "")
		wantStatus(t, "an unknown answer", err, 422, "invalid_field")
		err = cyd.AnswerInvitation(ctx, inv.ID, "question", "")
		wantStatus(t, "a question without its text", err, 422, "invalid_field")
		_, err = ada.InviteToRoom(ctx, rm.ID, []string{"nobody_here"}, "", false)
		wantStatus(t, "inviting an unknown username", err, 404, "not_found")
	})

	t.Run("naming someone twice invites them once", func(t *testing.T) {
		got, err := ada.InviteToRoom(ctx, rm.ID, []string{"eve", "eve"}, "twice", false)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := ada.GetInvitation(ctx, got.ID)
		if err != nil || len(stored.Recipients) != 1 {
			t.Fatalf("stored %+v %v", stored, err)
		}
	})

	t.Run("an invitation from a listener brings the invitee to the audience", func(t *testing.T) {
		join(t, cyd, rm.ID)
		got, err := cyd.InviteToRoom(ctx, rm.ID, []string{"dan"}, "listen with me", false)
		if err != nil || got.ToStage {
			t.Fatalf("invitation %+v %v", got, err)
		}
		if ds := join(t, dan, rm.ID); roleOf(ds.state, dan.ID) != "listener" {
			t.Fatalf("dan joined as a %s", roleOf(ds.state, dan.ID))
		}
	})

	t.Run("a listener who accepts a moderator's invitation goes on stage at once", func(t *testing.T) {
		got, err := ada.InviteToRoom(ctx, rm.ID, []string{"dan"}, "come up and speak", false)
		if err != nil || !got.ToStage {
			t.Fatalf("invitation %+v %v", got, err)
		}
		if err := dan.AnswerInvitation(ctx, got.ID, "accept", ""); err != nil {
			t.Fatal(err)
		}
		if d := dataOf(as.event(t, "joined_stage", dan.ID)); d.Role != "speaker" {
			t.Fatalf("joined_stage %+v", d)
		}
	})

	t.Run("a listener who accepts a listener's invitation stays in the audience", func(t *testing.T) {
		fay := ts.user("fay")
		fs := join(t, fay, rm.ID)
		got, err := cyd.InviteToRoom(ctx, rm.ID, []string{"fay"}, "listen with me", false)
		if err != nil || got.ToStage {
			t.Fatalf("invitation %+v %v", got, err)
		}
		if err := fay.AnswerInvitation(ctx, got.ID, "accept", ""); err != nil {
			t.Fatal(err)
		}
		// The answer has been applied when it returns: a moderator can still invite
		// fay to speak, which the room refuses for anyone on stage.
		as.do(t, "invite_to_speak", map[string]any{"target": fay.ID})
		fs.event(t, "speak_invited", fay.ID)
		fs.do(t, "decline_speak", nil)
	})

	t.Run("a link lets someone without an account sign up into a closed room", func(t *testing.T) {
		closed := createRoom(t, eve, client.RoomSpec{Title: "Invite only", Type: "closed"})
		es := join(t, eve, closed.ID)
		link, err := eve.InviteToRoom(ctx, closed.ID, nil, "", true)
		if err != nil || link.LinkCode() == "" {
			t.Fatalf("link %+v %v", link, err)
		}
		var info struct {
			RoomID string `json:"room_id"`
		}
		if err := ts.guest().Do(ctx, "GET", "/api/v1/invites/"+link.LinkCode(), nil, &info); err != nil || info.RoomID != closed.ID {
			t.Fatalf("the link's invite %+v %v", info, err)
		}
		c, sess, err := ts.guest().SignUp(ctx, "newcomer", password, link.LinkCode())
		if err != nil {
			t.Fatal(err)
		}
		if sess.RoomID != closed.ID {
			t.Fatalf("sign-up lands in %q, want the room", sess.RoomID)
		}
		ns := join(t, &user{Client: c, ID: sess.User.ID, Name: "newcomer"}, closed.ID)
		if roleOf(ns.state, sess.User.ID) != "speaker" {
			t.Fatalf("the newcomer joined as a %s", roleOf(ns.state, sess.User.ID))
		}
		es.event(t, "joined_stage", sess.User.ID)
	})
}

// TestPings checks that people on stage ping their followers into a room.
func TestPings(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := ctxT(t)
	ada := ts.admin
	us := ts.users("bob", "cyd", "dan")
	bob, cyd, dan := us[0], us[1], us[2]
	follow(t, bob, ada)
	follow(t, dan, cyd)
	follow(t, dan, bob)
	rm := createRoom(t, ada, client.RoomSpec{Title: "Come listen", Type: "open"})
	join(t, ada, rm.ID)
	bobs := userSocket(t, bob)

	t.Run("a speaker pings a follower, who is notified live", func(t *testing.T) {
		if err := ada.PingIntoRoom(ctx, rm.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		if d := notification(t, bobs, "ping"); d.RoomID != rm.ID || d.RoomTitle != rm.Title || d.From.ID != ada.ID {
			t.Fatalf("ping %+v", d)
		}
		if ns := kinds(t, bob, "ping"); len(ns) != 1 {
			t.Fatalf("stored pings %+v", ns)
		}
	})

	t.Run("only followers can be pinged", func(t *testing.T) {
		err := ada.PingIntoRoom(ctx, rm.ID, "cyd")
		wantStatus(t, "pinging someone who does not follow you", err, 403, "forbidden")
	})

	t.Run("listeners cannot ping", func(t *testing.T) {
		join(t, cyd, rm.ID)
		err := cyd.PingIntoRoom(ctx, rm.ID, "dan")
		wantStatus(t, "a listener's ping", err, 403, "forbidden")
	})

	t.Run("a moderator's ping lets a follower into a closed room", func(t *testing.T) {
		closed := createRoom(t, bob, client.RoomSpec{Title: "Closed, but pinged", Type: "closed"})
		join(t, bob, closed.ID)
		_, err := dan.JoinRoom(ctx, closed.ID)
		wantStatus(t, "dan before the ping", err, 404, "not_found")
		if err := bob.PingIntoRoom(ctx, closed.ID, "dan"); err != nil {
			t.Fatal(err)
		}
		join(t, dan, closed.ID)
	})
}
