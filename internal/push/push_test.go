package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/ids"
	"github.com/townhall/townhall/internal/push"
	"github.com/townhall/townhall/internal/push/pushtest"
	"github.com/townhall/townhall/internal/store"
	"github.com/townhall/townhall/internal/store/storetest"
)

func newService(t *testing.T) (*push.Service, *store.DB, account.User) {
	t.Helper()
	db := storetest.Open(t, store.SQLite)
	u, err := db.CreateUser(t.Context(), account.User{ID: ids.New(), Username: "ada", DisplayName: "Ada",
		PasswordHash: "x", CreatedAt: time.Now()}, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	secret, err := db.Secret(t.Context(), "vapid")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := push.KeysFrom(secret)
	if err != nil {
		t.Fatal(err)
	}
	return push.New(push.Options{Store: db, Keys: keys, Subscriber: "https://townhall.test",
		Kinds: []string{"invitation", "ping"}, AllowPrivate: true}), db, u
}

func subscription(e *pushtest.Endpoint) push.Subscription {
	s := e.Subscription()
	keys := s["keys"].(map[string]string)
	return push.Subscription{Endpoint: s["endpoint"].(string), P256dh: keys["p256dh"], Auth: keys["auth"]}
}

func TestPush(t *testing.T) {
	t.Run("the same secret gives the same VAPID keys, another gives others", func(t *testing.T) {
		a, _ := push.KeysFrom([]byte("0123456789abcdef0123456789abcdef"))
		b, _ := push.KeysFrom([]byte("0123456789abcdef0123456789abcdef"))
		c, _ := push.KeysFrom([]byte("another secret, another key pair"))
		if a.PublicKey() != b.PublicKey() || a.PublicKey() == c.PublicKey() || len(a.PublicKey()) != 87 {
			t.Fatalf("keys %s %s %s", a.PublicKey(), b.PublicKey(), c.PublicKey())
		}
	})
	t.Run("a push of a kind the user opted into is encrypted for the subscription and decrypts to the payload", func(t *testing.T) {
		s, _, u := newService(t)
		e := pushtest.New(t)
		if err := s.Subscribe(t.Context(), u.ID, subscription(e)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetKinds(t.Context(), u.ID, []string{"invitation"}); err != nil {
			t.Fatal(err)
		}
		want := push.Payload{ID: ids.New(), Kind: "invitation", Title: "Ada invites you", Body: "Libraries", URL: "/i/x"}
		if err := s.Send(t.Context(), push.Message{UserID: u.ID, Payload: want}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		p, err := e.Next(ctx)
		if err != nil || p.Err != nil {
			t.Fatalf("push %+v, %v", p, err)
		}
		var got push.Payload
		if err := json.Unmarshal(p.Plaintext, &got); err != nil || got != want {
			t.Fatalf("payload %s (%v), want %+v", p.Plaintext, err, want)
		}
		if p.VAPIDKey != s.PublicKey() || p.TTL == "" {
			t.Fatalf("vapid key %s, want %s; TTL %q", p.VAPIDKey, s.PublicKey(), p.TTL)
		}
	})
	t.Run("a kind the user did not opt into is not pushed", func(t *testing.T) {
		s, _, u := newService(t)
		e := pushtest.New(t)
		must(t, s.Subscribe(t.Context(), u.ID, subscription(e)))
		must(t, s.Send(t.Context(), push.Message{UserID: u.ID, Payload: push.Payload{Kind: "ping"}}))
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		if p, err := e.Next(ctx); err == nil {
			t.Fatalf("pushed %+v", p)
		}
	})
	t.Run("a subscription the push service says is gone is deleted", func(t *testing.T) {
		for _, status := range []int{http.StatusGone, http.StatusNotFound} {
			s, db, u := newService(t)
			e := pushtest.New(t)
			e.Answer(status)
			must(t, s.Subscribe(t.Context(), u.ID, subscription(e)))
			_, err := s.SetKinds(t.Context(), u.ID, []string{"ping"})
			must(t, err)
			must(t, s.Send(t.Context(), push.Message{UserID: u.ID, Payload: push.Payload{Kind: "ping"}}))
			if subs, _ := db.PushSubscriptions(t.Context(), u.ID); len(subs) != 0 {
				t.Fatalf("after %d, the subscription is still there: %+v", status, subs)
			}
		}
	})
	t.Run("bad subscriptions and unknown kinds are refused", func(t *testing.T) {
		s, _, u := newService(t)
		good := subscription(pushtest.New(t))
		for name, sub := range map[string]push.Subscription{
			"ftp endpoint": {Endpoint: "ftp://x/y", P256dh: good.P256dh, Auth: good.Auth},
			"no host":      {Endpoint: "https:///x", P256dh: good.P256dh, Auth: good.Auth},
			"bad p256dh":   {Endpoint: good.Endpoint, P256dh: "AAAA", Auth: good.Auth},
			"short auth":   {Endpoint: good.Endpoint, P256dh: good.P256dh, Auth: "AAAA"},
			"garbage auth": {Endpoint: good.Endpoint, P256dh: good.P256dh, Auth: "!!!"},
			"user in URL":  {Endpoint: "https://a:b@push.example/x", P256dh: good.P256dh, Auth: good.Auth},
		} {
			if err := s.Subscribe(t.Context(), u.ID, sub); !errorsIs(err, push.ErrBadSubscription) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := s.SetKinds(t.Context(), u.ID, []string{"nope"}); !errorsIs(err, push.ErrUnknownKind) {
			t.Errorf("unknown kind: %v", err)
		}
		got, err := s.SetKinds(t.Context(), u.ID, []string{"ping", "invitation", "ping"})
		if err != nil || !slices.Equal(got, []string{"invitation", "ping"}) {
			t.Errorf("kinds %v %v", got, err)
		}
	})
	t.Run("the default client does not connect to loopback", func(t *testing.T) {
		db := storetest.Open(t, store.SQLite)
		u, err := db.CreateUser(t.Context(), account.User{ID: ids.New(), Username: "bob", DisplayName: "Bob",
			PasswordHash: "x", CreatedAt: time.Now()}, "", time.Now())
		must(t, err)
		keys, _ := push.KeysFrom(make([]byte, 32))
		s := push.New(push.Options{Store: db, Keys: keys, Subscriber: "https://townhall.test", Kinds: []string{"ping"}})
		e := pushtest.New(t)
		sub := subscription(e)
		// Stored as a browser would give it (https), pointing at loopback.
		sub.Endpoint = "https://127.0.0.1:1/push"
		must(t, s.Subscribe(t.Context(), u.ID, sub))
		_, err = s.SetKinds(t.Context(), u.ID, []string{"ping"})
		must(t, err)
		if err := s.Send(t.Context(), push.Message{UserID: u.ID, Payload: push.Payload{Kind: "ping"}}); err == nil {
			t.Fatal("a push to loopback went through")
		}
	})
	t.Run("queued pushes are sent by Run", func(t *testing.T) {
		s, _, u := newService(t)
		e := pushtest.New(t)
		must(t, s.Subscribe(t.Context(), u.ID, subscription(e)))
		_, err := s.SetKinds(t.Context(), u.ID, []string{"ping"})
		must(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		s.Enqueue(push.Message{UserID: u.ID, Payload: push.Payload{Kind: "ping", Title: "hi"}})
		wctx, wcancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer wcancel()
		if p, err := e.Next(wctx); err != nil || p.Err != nil {
			t.Fatalf("push %+v %v", p, err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errorsIs(err, target error) bool { return err != nil && errors.Is(err, target) }
