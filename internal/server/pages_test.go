package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/testwait"
)

// pageView is what GET /api/v1/i/{code} answers, as far as these tests read it.
type pageView struct {
	Code    string `json:"code"`
	Status  string `json:"status"`
	Expired bool   `json:"expired"`
	Public  bool   `json:"public"`
	Message string `json:"message"`
	ToStage bool   `json:"to_stage"`
	ToName  string `json:"to_name"`
	From    struct {
		Username string `json:"username"`
	} `json:"from"`
	To *struct {
		Username string `json:"username"`
	} `json:"to"`
	Room *struct {
		ID            string `json:"id"`
		Title         string `json:"title"`
		State         string `json:"state"`
		ListenerCount int    `json:"listener_count"`
		Stage         []struct {
			Username string `json:"username"`
			Role     string `json:"role"`
		} `json:"stage"`
	} `json:"room"`
	Thread []struct {
		Side   string `json:"side"`
		Kind   string `json:"kind"`
		Text   string `json:"text"`
		Author struct {
			Username    string `json:"username"`
			DisplayName string `json:"display_name"`
			Guest       bool   `json:"guest"`
		} `json:"author"`
		For *struct {
			Username string `json:"username"`
		} `json:"for"`
	} `json:"thread"`
	You struct {
		Side string   `json:"side"`
		Key  bool     `json:"key"`
		Can  []string `json:"can"`
	} `json:"you"`
}

// linkInvitation is the part of POST /rooms/{id}/invitations about a link.
type linkInvitation struct {
	ID         string `json:"id"`
	Link       string `json:"link"`
	Invitation struct {
		Code       string `json:"code"`
		URL        string `json:"url"`
		InviteeURL string `json:"invitee_url"`
	} `json:"invitation"`
	Recipients []struct {
		Code string `json:"code"`
		User struct {
			Username string `json:"username"`
		} `json:"user"`
	} `json:"recipients"`
}

// keyOf is the key in an invitee's link (/i/{code}#k=KEY).
func keyOf(t *testing.T, inviteeURL string) string {
	t.Helper()
	_, k, ok := strings.Cut(inviteeURL, "#k=")
	if !ok || k == "" {
		t.Fatalf("no key in %q", inviteeURL)
	}
	return k
}

func page(t *testing.T, c *client.Client, code string) pageView {
	t.Helper()
	var v pageView
	if err := c.Do(context.Background(), "GET", "/api/v1/i/"+code, nil, &v); err != nil {
		t.Fatalf("page %s: %v", code, err)
	}
	return v
}

// inviteByLink invites someone without an account into roomID.
func inviteByLink(t *testing.T, u *user, roomID, name, message string, public bool) linkInvitation {
	t.Helper()
	var inv linkInvitation
	err := u.Do(context.Background(), "POST", "/api/v1/rooms/"+roomID+"/invitations",
		map[string]any{"usernames": []string{}, "link": true, "name": name, "message": message, "public": public}, &inv)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestInvitationPages walks the page of an invitation to a conversation through
// its story over HTTP: someone without an account reads it with the link's key,
// asks, is answered, signs up from it, has their office answer, accepts and lands
// on stage; and around it, who may read what, and what a page refuses.
func TestInvitationPages(t *testing.T) {
	ts := startServer(t, "sqlite", withConfig(behindProxy))
	ctx := context.Background()
	ada := ts.user("ada")
	office := ts.user("office")
	roomID := createRoom(t, ada, client.RoomSpec{Title: "The future of libraries", Description: "An hour on stage", Type: "open", AllowGuests: true}).ID
	adaSock := join(t, ada, roomID)
	inv := inviteByLink(t, ada, roomID, "Jane Doe", "Would you talk about libraries with me?", true)
	code, key := inv.Invitation.Code, keyOf(t, inv.Invitation.InviteeURL)
	if inv.Link == "" || !strings.Contains(inv.Invitation.InviteeURL, "/i/"+code+"#k=") {
		t.Fatalf("invitation %+v", inv)
	}
	anon := ts.guest()
	holder := ts.guest().WithHeader("Townhall-Invitation-Key", key)
	var jane *user

	t.Run("the link's holder sees the room, who is on stage, the message, and may decline or ask", func(t *testing.T) {
		v := page(t, holder, code)
		if v.Room == nil || v.Room.Title != "The future of libraries" || v.Room.State != "live" || len(v.Room.Stage) != 1 ||
			v.Room.Stage[0].Username != "ada" || v.Message != "Would you talk about libraries with me?" || v.ToName != "Jane Doe" ||
			v.From.Username != "ada" || !v.ToStage {
			t.Fatalf("page %+v", v)
		}
		if v.You.Side != "invitee" || !v.You.Key || strings.Join(v.You.Can, ",") != "signup,login,decline,question" {
			t.Fatalf("you %+v", v.You)
		}
		if v.Status != "seen" {
			t.Fatalf("status %q after the invitee opened it, want seen", v.Status)
		}
	})
	t.Run("a public invitation is read by anyone, who may do nothing there", func(t *testing.T) {
		v := page(t, anon, code)
		if v.You.Side != "reader" || len(v.You.Can) != 0 || v.Status != "seen" {
			t.Fatalf("a reader sees %+v", v)
		}
	})
	t.Run("the page answers 304 to its ETag while nothing changed", func(t *testing.T) {
		get := func(etag string) *http.Response {
			req, _ := http.NewRequest("GET", ts.url+"/api/v1/i/"+code, nil)
			if etag != "" {
				req.Header.Set("If-None-Match", etag)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		first := get("")
		etag := first.Header.Get("ETag")
		if first.StatusCode != 200 || etag == "" {
			t.Fatalf("first: %d, ETag %q", first.StatusCode, etag)
		}
		if again := get(etag); again.StatusCode != http.StatusNotModified {
			t.Fatalf("again: %d, want 304", again.StatusCode)
		}
	})
	t.Run("accepting needs an account", func(t *testing.T) {
		err := holder.Do(ctx, "POST", "/api/v1/i/"+code+"/answer", map[string]string{"answer": "accept"}, nil)
		wantStatus(t, "accepting without an account", err, 401, "unauthenticated")
	})
	t.Run("the holder asks a question without an account; the inviter is told and replies", func(t *testing.T) {
		err := from(holder, "10.1.0.1").Do(ctx, "POST", "/api/v1/i/"+code+"/answer",
			map[string]string{"answer": "question", "name": "Office of Jane Doe", "text": "What exactly is proposed?"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		waitNotification(t, ada, "invitation_answer", "What exactly is proposed?")
		if err := ada.Do(ctx, "POST", "/api/v1/i/"+code+"/reply", map[string]string{"text": "An hour on the future of libraries."}, nil); err != nil {
			t.Fatal(err)
		}
		v := page(t, anon, code)
		if v.Status != "question" || len(v.Thread) != 2 || !v.Thread[0].Author.Guest || v.Thread[0].Author.DisplayName != "Office of Jane Doe" ||
			v.Thread[1].Side != "inviter" || v.Thread[1].Author.Username != "ada" {
			t.Fatalf("thread %+v", v.Thread)
		}
	})
	t.Run("only the other side answers, and only the inviter's side replies", func(t *testing.T) {
		err := ada.Do(ctx, "POST", "/api/v1/i/"+code+"/answer", map[string]string{"answer": "question", "text": "me?"}, nil)
		wantStatus(t, "the inviter answering", err, 422, "invalid_field")
		err = anon.Do(ctx, "POST", "/api/v1/i/"+code+"/answer", map[string]string{"answer": "question", "name": "x", "text": "me?"}, nil)
		wantStatus(t, "a reader answering", err, 403, "forbidden")
		err = holder.Do(ctx, "POST", "/api/v1/i/"+code+"/reply", map[string]string{"text": "me?"}, nil)
		wantStatus(t, "the invitee replying", err, 403, "forbidden")
	})
	t.Run("the holder signs up from the page, which becomes theirs", func(t *testing.T) {
		var out struct {
			Token string `json:"token"`
			User  struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		err := holder.Do(ctx, "POST", "/api/v1/i/"+code+"/signup",
			map[string]any{"username": "jane", "display_name": "Jane Doe", "password": password}, &out)
		if err != nil {
			t.Fatal(err)
		}
		jane = &user{Client: client.New(ts.url).WithToken(out.Token), ID: out.User.ID, Name: "jane"}
		v := page(t, jane.Client, code)
		if v.To == nil || v.To.Username != "jane" || v.You.Side != "invitee" || v.You.Key ||
			strings.Join(v.You.Can, ",") != "accept,decline,question" {
			t.Fatalf("after sign-up: %+v", v)
		}
		err = holder.Do(ctx, "POST", "/api/v1/i/"+code+"/answer", map[string]string{"answer": "question", "name": "x", "text": "y"}, nil)
		wantStatus(t, "the key after the page was claimed", err, 409, "conflict")
		if _, _, err := client.New(ts.url).SignUp(ctx, "sneaky", password, strings.TrimPrefix(inv.Link[strings.Index(inv.Link, "/join/"):], "/join/")); err == nil {
			t.Fatal("the page's sign-up code made a second account")
		}
	})
	t.Run("a delegate with the invitations scope answers for the invitee, shown as for them, by the delegate", func(t *testing.T) {
		if err := jane.Do(ctx, "PUT", "/api/v1/me/delegates/office", map[string]any{"scopes": []string{"invitations"}}, nil); err != nil {
			t.Fatal(err)
		}
		acting := office.Client.WithHeader("Townhall-Acting-As", "jane")
		err := acting.Do(ctx, "POST", "/api/v1/i/"+code+"/answer",
			map[string]string{"answer": "question", "text": "Interesting, we must first understand what is proposed."}, nil)
		if err != nil {
			t.Fatal(err)
		}
		v := page(t, anon, code)
		last := v.Thread[len(v.Thread)-1]
		if last.Author.Username != "office" || last.For == nil || last.For.Username != "jane" || last.Side != "invitee" {
			t.Fatalf("the delegate's post %+v", last)
		}
		var sent struct {
			Sent []pageView `json:"sent"`
		}
		if err := ada.Do(ctx, "GET", "/api/v1/i", nil, &sent); err != nil {
			t.Fatal(err)
		}
		if len(sent.Sent) != 1 || sent.Sent[0].Message == "" || len(sent.Sent[0].Thread) != 3 {
			t.Fatalf("ada's sent list %+v", sent.Sent)
		}
	})
	t.Run("the invitee accepts and lands on stage, as the answer says", func(t *testing.T) {
		var out struct {
			ToStage bool   `json:"to_stage"`
			RoomID  string `json:"room_id"`
		}
		if err := jane.Do(ctx, "POST", "/api/v1/i/"+code+"/answer", map[string]string{"answer": "accept"}, &out); err != nil {
			t.Fatal(err)
		}
		if !out.ToStage || out.RoomID != roomID {
			t.Fatalf("accept: %+v", out)
		}
		s := join(t, jane, roomID)
		if !containsID(stageIDs(s.state), jane.ID) {
			t.Fatalf("jane is not on stage: %+v", s.state)
		}
		adaSock.waitFor(t, "jane on stage", ev("joined_stage", jane.ID))
		if v := page(t, anon, code); v.Status != "accepted" {
			t.Fatalf("status %q", v.Status)
		}
	})
	t.Run("a public invitation is listed on the room and on the inviter's profile; a private one is not", func(t *testing.T) {
		private := inviteByLink(t, ada, roomID, "", "psst", false)
		var list struct {
			Invitations []pageView `json:"invitations"`
		}
		if err := anon.Do(ctx, "GET", "/api/v1/rooms/"+roomID+"/public-invitations", nil, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Invitations) != 1 || list.Invitations[0].Code != code {
			t.Fatalf("the room's public invitations %+v", list.Invitations)
		}
		if err := office.Do(ctx, "GET", "/api/v1/users/ada/public-invitations", nil, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Invitations) != 1 || list.Invitations[0].Code != code {
			t.Fatalf("ada's public invitations %+v", list.Invitations)
		}
		err := anon.Do(ctx, "GET", "/api/v1/i/"+private.Invitation.Code, nil, nil)
		wantStatus(t, "a private invitation without its key", err, 404, "not_found")
		if err := ada.Do(ctx, "PATCH", "/api/v1/i/"+private.Invitation.Code, map[string]bool{"public": true}, nil); err != nil {
			t.Fatal(err)
		}
		if err := anon.Do(ctx, "GET", "/api/v1/i/"+private.Invitation.Code, nil, nil); err != nil {
			t.Fatalf("once public: %v", err)
		}
	})
	t.Run("an invitation to a closed room cannot be public", func(t *testing.T) {
		closed := createRoom(t, office, client.RoomSpec{Title: "Backroom", Type: "closed"}).ID
		join(t, office, closed)
		err := office.Do(ctx, "POST", "/api/v1/rooms/"+closed+"/invitations",
			map[string]any{"usernames": []string{}, "link": true, "public": true}, nil)
		wantStatus(t, "a public invitation to a closed room", err, 409, "conflict")
	})
	t.Run("a declined invitation takes no more questions", func(t *testing.T) {
		other := inviteByLink(t, ada, roomID, "Sam", "", false)
		k := ts.guest().WithHeader("Townhall-Invitation-Key", keyOf(t, other.Invitation.InviteeURL))
		if err := from(k, "10.1.0.2").Do(ctx, "POST", "/api/v1/i/"+other.Invitation.Code+"/answer", map[string]string{"answer": "decline"}, nil); err != nil {
			t.Fatal(err)
		}
		err := from(k, "10.1.0.2").Do(ctx, "POST", "/api/v1/i/"+other.Invitation.Code+"/answer",
			map[string]string{"answer": "question", "name": "Sam", "text": "Still?"}, nil)
		wantStatus(t, "a question after declining", err, 409, "conflict")
		waitNotification(t, ada, "invitation_answer", "")
	})
	t.Run("what someone without an account writes is bounded and text", func(t *testing.T) {
		other := inviteByLink(t, ada, roomID, "Max", "", false)
		k := from(ts.guest().WithHeader("Townhall-Invitation-Key", keyOf(t, other.Invitation.InviteeURL)), "10.1.0.3")
		path := "/api/v1/i/" + other.Invitation.Code + "/answer"
		for name, c := range map[string]struct {
			body   any
			status int
			code   string
		}{
			"a question over 280 characters": {map[string]string{"answer": "question", "name": "Max", "text": strings.Repeat("é", 281)}, 422, "invalid_field"},
			"a name over 50 characters":      {map[string]string{"answer": "question", "name": strings.Repeat("n", 51), "text": "hi"}, 422, "invalid_field"},
			"control characters":             {map[string]string{"answer": "question", "name": "Max", "text": "a\x07b"}, 422, "invalid_field"},
			"a question without a name":      {map[string]string{"answer": "question", "text": "hi"}, 422, "invalid_field"},
			"a body over 4 KiB":              {map[string]string{"answer": "question", "name": "Max", "text": strings.Repeat("x", 5000)}, 413, "too_large"},
			"an unknown field":               {map[string]string{"answer": "question", "name": "Max", "text": "hi", "html": "<b>"}, 400, "bad_request"},
		} {
			err := k.Do(ctx, "POST", path, c.body, nil)
			var e *client.Error
			if !asErr(err, &e) || e.Status != c.status || e.Code != c.code {
				t.Errorf("%s: %v, want %d %s", name, err, c.status, c.code)
			}
		}
	})
	t.Run("answers without an account are limited per address", func(t *testing.T) {
		var last error
		for i := range 8 {
			other := inviteByLink(t, ada, roomID, "", "", false)
			k := from(ts.guest().WithHeader("Townhall-Invitation-Key", keyOf(t, other.Invitation.InviteeURL)), "10.1.0.9")
			last = k.Do(ctx, "POST", "/api/v1/i/"+other.Invitation.Code+"/answer",
				map[string]string{"answer": "question", "name": "Spam", "text": "spam " + string(rune('a'+i))}, nil)
			if last != nil {
				break
			}
		}
		wantStatus(t, "the sixth answer from one address", last, 429, "rate_limited")
	})
	t.Run("an invitation whose room ended takes no more answers", func(t *testing.T) {
		done := createRoom(t, office, client.RoomSpec{Title: "Short", Type: "open"}).ID
		s := join(t, office, done)
		other := inviteByLink(t, office, done, "", "", false)
		if err := s.Send(ctx, map[string]any{"type": "end"}); err != nil {
			t.Fatal(err)
		}
		testwait.Until(t, patience, "the room over", func() bool {
			return page(t, office.Client, other.Invitation.Code).Expired
		})
		k := from(ts.guest().WithHeader("Townhall-Invitation-Key", keyOf(t, other.Invitation.InviteeURL)), "10.1.0.4")
		err := k.Do(ctx, "POST", "/api/v1/i/"+other.Invitation.Code+"/answer", map[string]string{"answer": "decline"}, nil)
		wantStatus(t, "declining an expired invitation", err, 409, "conflict")
	})
	t.Run("an invitation by name has its page, and the old answer endpoint writes to its thread", func(t *testing.T) {
		bob := ts.user("bob")
		var sent linkInvitation
		err := ada.Do(ctx, "POST", "/api/v1/rooms/"+roomID+"/invitations", map[string]any{"usernames": []string{"bob"}, "message": "Join?"}, &sent)
		if err != nil {
			t.Fatal(err)
		}
		if len(sent.Recipients) != 1 || sent.Recipients[0].Code == "" {
			t.Fatalf("recipients %+v", sent.Recipients)
		}
		if err := bob.AnswerInvitation(ctx, sent.ID, "question", "When?"); err != nil {
			t.Fatal(err)
		}
		v := page(t, bob.Client, sent.Recipients[0].Code)
		if v.Status != "question" || len(v.Thread) != 1 || v.Thread[0].Author.Username != "bob" {
			t.Fatalf("bob's page %+v", v)
		}
		err = ts.guest().Do(ctx, "GET", "/api/v1/i/"+sent.Recipients[0].Code, nil, nil)
		wantStatus(t, "a private invitation to a stranger", err, 404, "not_found")
	})
	t.Run("the sign-up link of an invitation makes its page the new account's, accepted", func(t *testing.T) {
		other := inviteByLink(t, ada, roomID, "Lee", "", false)
		signupCode := other.Link[strings.Index(other.Link, "/join/")+len("/join/"):]
		c, _, err := client.New(ts.url).SignUp(ctx, "lee", password, signupCode)
		if err != nil {
			t.Fatal(err)
		}
		v := page(t, c, other.Invitation.Code)
		if v.Status != "accepted" || v.To == nil || v.To.Username != "lee" {
			t.Fatalf("lee's page %+v", v)
		}
	})
}

// waitNotification waits until u has a notification of kind whose data holds text.
func waitNotification(t *testing.T, u *user, kind, text string) client.Notification {
	t.Helper()
	var found client.Notification
	testwait.Until(t, patience, u.Name+"'s "+kind+" notification", func() bool {
		list, err := u.Notifications(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range list {
			if n.Kind == kind && strings.Contains(string(n.Data), text) {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

func containsID(list []string, id string) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}

// TestEventInvitationPage: an invitation to a scheduled event through a link has
// its page too: its holder sees the event, signs up from it and accepts, and is
// then one of the event's invitees, to speak since a host invited them.
func TestEventInvitationPage(t *testing.T) {
	ts := startServer(t, "sqlite")
	ctx := context.Background()
	ada := ts.user("ada")
	var ev struct {
		ID string `json:"id"`
	}
	starts := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	err := ada.Do(ctx, "POST", "/api/v1/events", map[string]any{"name": "Reading night", "description": "Bring a book",
		"starts_at": starts.Format(time.RFC3339), "time_zone": "Europe/Paris"}, &ev)
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		Invitation struct {
			Code       string `json:"code"`
			InviteeURL string `json:"invitee_url"`
		} `json:"invitation"`
	}
	err = ada.Do(ctx, "POST", "/api/v1/events/"+ev.ID+"/invitations",
		map[string]any{"usernames": []string{}, "link": true, "name": "Jane", "message": "Read with us?", "public": true}, &inv)
	if err != nil {
		t.Fatal(err)
	}
	holder := ts.guest().WithHeader("Townhall-Invitation-Key", keyOf(t, inv.Invitation.InviteeURL))
	var v struct {
		Event struct {
			Name     string    `json:"name"`
			StartsAt time.Time `json:"starts_at"`
			TimeZone string    `json:"time_zone"`
		} `json:"event"`
		ToStage bool `json:"to_stage"`
	}
	if err := holder.Do(ctx, "GET", "/api/v1/i/"+inv.Invitation.Code, nil, &v); err != nil {
		t.Fatal(err)
	}
	if v.Event.Name != "Reading night" || !v.Event.StartsAt.Equal(starts) || v.Event.TimeZone != "Europe/Paris" || !v.ToStage {
		t.Fatalf("page %+v", v)
	}
	var out struct {
		Token      string `json:"token"`
		Invitation struct {
			Status  string `json:"status"`
			ToStage bool   `json:"to_stage"`
			EventID string `json:"event_id"`
		} `json:"invitation"`
	}
	err = holder.Do(ctx, "POST", "/api/v1/i/"+inv.Invitation.Code+"/signup",
		map[string]any{"username": "jane", "password": password, "accept": true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Invitation.Status != "accepted" || !out.Invitation.ToStage || out.Invitation.EventID != ev.ID {
		t.Fatalf("sign-up: %+v", out)
	}
	jane := client.New(ts.url).WithToken(out.Token)
	var mine struct {
		Invitations []struct {
			EventID string `json:"event_id"`
			Status  string `json:"status"`
			ToStage bool   `json:"to_stage"`
		} `json:"invitations"`
	}
	if err := jane.Do(ctx, "GET", "/api/v1/me/event-invitations", nil, &mine); err != nil {
		t.Fatal(err)
	}
	if len(mine.Invitations) != 1 || mine.Invitations[0].Status != "accepted" || !mine.Invitations[0].ToStage {
		t.Fatalf("jane's event invitations %+v", mine.Invitations)
	}
	waitNotification(t, ada, "event_invitation_answer", "")
}
