package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/push"
	"github.com/townhall/townhall/internal/push/pushtest"
	"github.com/townhall/townhall/internal/server"
	"github.com/townhall/townhall/internal/servertest"
	"github.com/townhall/townhall/internal/testwait"
)

// TestPushOfAnInvitation: a browser's subscription is stored; an invitation to a
// conversation produces a push that the push service (a test endpoint on
// loopback) decrypts, with the subscription's keys, to the expected payload; a
// subscription the push service says is gone is deleted.
func TestPushOfAnInvitation(t *testing.T) {
	ts := startServer(t, "sqlite", servertest.WithServerOptions(server.WithPushOptions(func(o *push.Options) { o.AllowPrivate = true })))
	ctx := context.Background()
	ada, bob := ts.user("ada"), ts.user("bob")
	endpoint := pushtest.New(t)
	var settings struct {
		PublicKey string   `json:"public_key"`
		Kinds     []string `json:"kinds"`
		All       []string `json:"all"`
	}
	if err := bob.Do(ctx, "GET", "/api/v1/push", nil, &settings); err != nil {
		t.Fatal(err)
	}
	if settings.PublicKey == "" || len(settings.Kinds) != 0 || len(settings.All) == 0 {
		t.Fatalf("settings %+v", settings)
	}
	if err := bob.Do(ctx, "POST", "/api/v1/push/subscriptions", endpoint.Subscription(), nil); err != nil {
		t.Fatal(err)
	}
	if n := countPushes(t, bob); n != 1 {
		t.Fatalf("%d subscriptions stored", n)
	}
	if err := bob.Do(ctx, "PUT", "/api/v1/push/kinds", map[string]any{"kinds": []string{"invitation", "invitation_reply"}}, nil); err != nil {
		t.Fatal(err)
	}
	roomID := createRoom(t, ada, client.RoomSpec{Title: "Pushed", Type: "open"}).ID
	join(t, ada, roomID)
	var sent linkInvitation
	err := ada.Do(ctx, "POST", "/api/v1/rooms/"+roomID+"/invitations", map[string]any{"usernames": []string{"bob"}, "message": "Come talk"}, &sent)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	p, err := endpoint.Next(wctx)
	if err != nil || p.Err != nil {
		t.Fatalf("push %+v: %v", p, err)
	}
	var got push.Payload
	if err := json.Unmarshal(p.Plaintext, &got); err != nil {
		t.Fatalf("payload %q: %v", p.Plaintext, err)
	}
	if got.Kind != "invitation" || got.Title != "ada invites you to talk" || got.Body != "Pushed\nCome talk" ||
		got.URL != "/invitations/"+sent.ID || got.ID == "" || p.VAPIDKey != settings.PublicKey {
		t.Fatalf("payload %+v (VAPID key %s)", got, p.VAPIDKey)
	}

	t.Run("a reply to a question is pushed with a link to the page", func(t *testing.T) {
		if err := bob.AnswerInvitation(ctx, sent.ID, "question", "When?"); err != nil {
			t.Fatal(err)
		}
		code := sent.Recipients[0].Code
		if err := ada.Do(ctx, "POST", "/api/v1/i/"+code+"/reply", map[string]string{"text": "Now!"}, nil); err != nil {
			t.Fatal(err)
		}
		p, err := endpoint.Next(wctx)
		if err != nil || p.Err != nil {
			t.Fatalf("push %+v: %v", p, err)
		}
		var got push.Payload
		_ = json.Unmarshal(p.Plaintext, &got)
		if got.Kind != "invitation_reply" || got.URL != "/i/"+code || !strings.HasPrefix(got.Body, "Now!") {
			t.Fatalf("payload %+v", got)
		}
	})
	t.Run("someone bob follows comes on stage: that is pushed, if bob wants it", func(t *testing.T) {
		cy := ts.user("cyd")
		follow(t, bob, cy)
		if err := bob.Do(ctx, "PUT", "/api/v1/push/kinds", map[string]any{"kinds": []string{"invitation", "speaking"}}, nil); err != nil {
			t.Fatal(err)
		}
		room := createRoom(t, cy, client.RoomSpec{Title: "Cy talks", Type: "open"}).ID
		join(t, cy, room)
		p, err := endpoint.Next(wctx)
		if err != nil || p.Err != nil {
			t.Fatalf("push %+v: %v", p, err)
		}
		var got push.Payload
		_ = json.Unmarshal(p.Plaintext, &got)
		if got.Kind != "speaking" || got.Title != "cyd is speaking" || got.Body != "Cy talks" || got.URL != "/rooms/"+room {
			t.Fatalf("payload %+v", got)
		}
	})
	t.Run("a subscription the push service says is gone is deleted", func(t *testing.T) {
		endpoint.Answer(http.StatusGone)
		if err := ada.Do(ctx, "POST", "/api/v1/rooms/"+roomID+"/invitations", map[string]any{"usernames": []string{"bob"}}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := endpoint.Next(wctx); err != nil {
			t.Fatal(err)
		}
		testwait.Until(t, patience, "the subscription deleted", func() bool { return countPushes(t, bob) == 0 })
	})
}

// countPushes counts u's stored push subscriptions.
func countPushes(t *testing.T, u *user) int {
	t.Helper()
	var out struct {
		Subscriptions int `json:"subscriptions"`
	}
	if err := u.Do(context.Background(), "GET", "/api/v1/push", nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Subscriptions
}
