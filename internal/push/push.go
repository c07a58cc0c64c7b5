// Package push sends notifications to the apps people closed: Web Push (RFC
// 8030) through the browser vendors' push services, the payload encrypted for
// each subscription (RFC 8291, aes128gcm) and the server identified by its VAPID
// key (RFC 8292). SherClockHolmes/webpush-go does the protocol.
//
// The VAPID key is derived from a secret the store keeps (every node of a
// cluster has the same one, so a subscription made through one node is pushed to
// by any). Each user opts in per notification kind; the kinds they muted never
// get this far (the notification gate drops them first).
package push

import (
	"context"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/townhall/townhall/internal/errcode"
)

// MaxSubscriptions is how many browsers one user may have subscribed; a new one
// beyond it replaces the oldest.
const MaxSubscriptions = 10

// Errors of push.
var (
	ErrBadSubscription = errcode.New(errcode.InvalidField, "not a push subscription this server can send to")
	ErrUnknownKind     = errcode.New(errcode.InvalidField, "unknown notification kind")
)

// Keys is the server's VAPID key pair (RFC 8292), P-256.
type Keys struct {
	private *ecdh.PrivateKey
}

// KeysFrom derives the VAPID key pair from a 32-byte secret: HKDF-SHA256 of it
// gives a scalar, and the next counter is tried in the (2^-32) case one is not a
// valid P-256 key. The same secret always gives the same keys, so the nodes of a
// cluster, which share the secret through the store, share the keys without a
// table of their own.
func KeysFrom(secret []byte) (Keys, error) {
	for i := range 16 {
		b, err := hkdf.Key(sha256.New, secret, nil, fmt.Sprintf("townhall vapid p-256 %d", i), 32)
		if err != nil {
			return Keys{}, err
		}
		if k, err := ecdh.P256().NewPrivateKey(b); err == nil {
			return Keys{private: k}, nil
		}
	}
	return Keys{}, errors.New("push: no valid VAPID key from the secret")
}

// PublicKey is the application server key browsers subscribe with: the
// uncompressed P-256 point, base64url without padding.
func (k Keys) PublicKey() string {
	return base64.RawURLEncoding.EncodeToString(k.private.PublicKey().Bytes())
}

// privateKey is the scalar, base64url, as webpush-go takes it.
func (k Keys) privateKey() string {
	return base64.RawURLEncoding.EncodeToString(k.private.Bytes())
}

// Payload is what a push carries to the service worker, which shows it.
type Payload struct {
	ID    string `json:"id"`   // the notification's
	Kind  string `json:"kind"` // its kind
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url"` // the page to open, a path of the app
}

// Message is one notification to push to a user.
type Message struct {
	UserID  string
	Payload Payload
}

// Options configure a Service.
type Options struct {
	Store Store
	Keys  Keys
	// Subscriber identifies the server to the push services (the JWT's sub): an
	// https URL or an e-mail address.
	Subscriber string
	// Kinds are the notification kinds one may opt into.
	Kinds []string
	// Client posts to the push services. Default: a client with a 10 s timeout
	// that connects only to public addresses (an endpoint is whatever a browser,
	// or someone pretending to be one, said).
	Client *http.Client
	// AllowPrivate lets endpoints be on loopback and private networks: tests.
	AllowPrivate bool
	// Queue is how many pushes may wait; more are dropped (and logged). Default 1024.
	Queue int
	// Workers send the pushes. Default 4.
	Workers int
	Log     *slog.Logger
	Now     func() time.Time
}

// Service stores subscriptions and sends pushes.
type Service struct {
	opts  Options
	queue chan Message
}

// New returns the service; Run sends what it queues.
func New(opts Options) *Service {
	if opts.Queue <= 0 {
		opts.Queue = 1024
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = publicClient(opts.AllowPrivate)
	}
	return &Service{opts: opts, queue: make(chan Message, opts.Queue)}
}

// publicClient posts with a timeout and, unless allowPrivate, refuses to
// connect anywhere but to public unicast addresses: the server must not be
// turned into a way to reach its own network.
func publicClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || !ip.IsGlobalUnicast() || ip.IsPrivate() {
				return fmt.Errorf("push: refusing to connect to %s", host)
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	tr.Proxy = nil
	return &http.Client{Timeout: 10 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// PublicKey is the key browsers subscribe with.
func (s *Service) PublicKey() string { return s.opts.Keys.PublicKey() }

// Subscribe stores a browser's subscription for user.
func (s *Service) Subscribe(ctx context.Context, user string, sub Subscription) error {
	if err := s.check(sub); err != nil {
		return err
	}
	sub.UserID, sub.CreatedAt = user, s.opts.Now().UTC().Truncate(time.Millisecond)
	return s.opts.Store.PutPushSubscription(ctx, sub, MaxSubscriptions)
}

// check refuses a subscription that cannot be pushed to: an endpoint that is not
// an https URL (http only with AllowPrivate, for tests), keys that are not a
// P-256 point and a 16-byte secret.
func (s *Service) check(sub Subscription) error {
	if len(sub.Endpoint) > 1000 {
		return fmt.Errorf("%w: the endpoint is too long", ErrBadSubscription)
	}
	u, err := url.Parse(sub.Endpoint)
	if err != nil || u.Host == "" || u.User != nil || !(u.Scheme == "https" || s.opts.AllowPrivate && u.Scheme == "http") {
		return fmt.Errorf("%w: the endpoint must be an https URL", ErrBadSubscription)
	}
	p, err := decodeKey(sub.P256dh)
	if err != nil {
		return fmt.Errorf("%w: p256dh: %v", ErrBadSubscription, err)
	}
	if _, err := ecdh.P256().NewPublicKey(p); err != nil {
		return fmt.Errorf("%w: p256dh is not a P-256 public key", ErrBadSubscription)
	}
	if a, err := decodeKey(sub.Auth); err != nil || len(a) != 16 {
		return fmt.Errorf("%w: auth must be 16 bytes", ErrBadSubscription)
	}
	return nil
}

// decodeKey reads base64url (padded or not), or standard base64.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// Unsubscribe forgets one of user's subscriptions.
func (s *Service) Unsubscribe(ctx context.Context, user, endpoint string) error {
	return s.opts.Store.DeletePushSubscription(ctx, user, endpoint)
}

// Count is how many browsers user subscribed.
func (s *Service) Count(ctx context.Context, user string) (int, error) {
	subs, err := s.opts.Store.PushSubscriptions(ctx, user)
	return len(subs), err
}

// Kinds lists the kinds user wants pushed.
func (s *Service) Kinds(ctx context.Context, user string) ([]string, error) {
	list, err := s.opts.Store.PushKinds(ctx, user)
	if list == nil {
		list = []string{}
	}
	return list, err
}

// SetKinds replaces the kinds user wants pushed; each must be one of Options.Kinds.
func (s *Service) SetKinds(ctx context.Context, user string, kinds []string) ([]string, error) {
	out := []string{}
	for _, k := range kinds {
		if !slices.Contains(s.opts.Kinds, k) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownKind, k)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out, s.opts.Store.SetPushKinds(ctx, user, out)
}

// Enqueue queues m to be pushed if its user wants its kind: it returns at once
// (a push service's latency must not slow the action that notified), and drops
// m when the queue is full.
func (s *Service) Enqueue(m Message) {
	select {
	case s.queue <- m:
	default:
		s.opts.Log.Warn("push queue full: a push is dropped", "user", m.UserID, "kind", m.Payload.Kind)
	}
}

// Run sends the queued pushes until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-s.queue:
					sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					if err := s.Send(sctx, m); err != nil && ctx.Err() == nil {
						s.opts.Log.Warn("push", "user", m.UserID, "kind", m.Payload.Kind, "err", err)
					}
					cancel()
				}
			}
		})
	}
	wg.Wait()
}

// Send pushes m to every subscription of its user, if they want its kind. A
// subscription the push service says is gone (404, 410) is deleted.
func (s *Service) Send(ctx context.Context, m Message) error {
	kinds, err := s.opts.Store.PushKinds(ctx, m.UserID)
	if err != nil || !slices.Contains(kinds, m.Payload.Kind) {
		return err
	}
	subs, err := s.opts.Store.PushSubscriptions(ctx, m.UserID)
	if err != nil || len(subs) == 0 {
		return err
	}
	body, err := json.Marshal(m.Payload)
	if err != nil {
		return err
	}
	var errs []error
	for _, sub := range subs {
		if err := s.sendOne(ctx, sub, body); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// MaxPayload bounds what one push carries, well under what a 4096-byte record
// holds once encrypted (RFC 8291 §4).
const MaxPayload = 3000

func (s *Service) sendOne(ctx context.Context, sub Subscription, body []byte) error {
	if len(body) > MaxPayload {
		return fmt.Errorf("push: payload of %d bytes", len(body))
	}
	resp, err := webpush.SendNotificationWithContext(ctx, body, &webpush.Subscription{
		Endpoint: sub.Endpoint, Keys: webpush.Keys{P256dh: sub.P256dh, Auth: sub.Auth},
	}, &webpush.Options{
		HTTPClient: s.opts.Client, Subscriber: s.opts.Subscriber, TTL: 24 * 60 * 60, Urgency: webpush.UrgencyNormal,
		VAPIDPublicKey: s.opts.Keys.PublicKey(), VAPIDPrivateKey: s.opts.Keys.privateKey(),
	})
	if err != nil {
		return fmt.Errorf("push to %s: %w", hostOf(sub.Endpoint), err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// RFC 8030 §7.3: the subscription expired or was revoked.
		return s.opts.Store.DeletePushSubscription(ctx, "", sub.Endpoint)
	case resp.StatusCode >= 300:
		return fmt.Errorf("push to %s: %s", hostOf(sub.Endpoint), resp.Status)
	}
	return nil
}

func hostOf(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil {
		return u.Host
	}
	return "?"
}
