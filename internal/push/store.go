package push

import (
	"context"
	"time"
)

// Subscription is one browser's push subscription (PushSubscription.toJSON()):
// where to post, and the keys to encrypt for (RFC 8291).
type Subscription struct {
	Endpoint  string
	UserID    string
	P256dh    string // the browser's P-256 public key, base64url (uncompressed point)
	Auth      string // its 16-byte authentication secret, base64url
	CreatedAt time.Time
}

// Store keeps the subscriptions and the kinds each user wants pushed.
type Store interface {
	// PutPushSubscription stores s (an endpoint is one browser's: storing it
	// again replaces it, whoever it was for) and keeps at most max of its user's,
	// the newest.
	PutPushSubscription(ctx context.Context, s Subscription, max int) error
	// DeletePushSubscription forgets an endpoint: userID's (any user's when
	// userID is ""). Deleting one that is not there is no error.
	DeletePushSubscription(ctx context.Context, userID, endpoint string) error
	// PushSubscriptions lists a user's subscriptions, newest first.
	PushSubscriptions(ctx context.Context, userID string) ([]Subscription, error)
	// PushKinds lists the kinds userID wants pushed, sorted.
	PushKinds(ctx context.Context, userID string) ([]string, error)
	// SetPushKinds replaces them. account.ErrNotFound for an unknown user.
	SetPushKinds(ctx context.Context, userID string, kinds []string) error
}
