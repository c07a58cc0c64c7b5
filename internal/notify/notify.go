// Package notify decides whether a notification reaches its user: the kinds each
// user muted, and the cap on pings one sender may send per hour (against abuse).
// Delivery itself (store and push over the user socket) is the live hub's Notify;
// Service wraps it so that every notice passes the same gate.
package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/townhall/townhall/internal/errcode"
)

// The notification kinds. The first three are sent by the live hub, whose
// constants share these values.
const (
	KindInvitation            = "invitation"              // invited to a conversation
	KindInvitationAnswer      = "invitation_answer"       // an invitee answered
	KindPing                  = "ping"                    // pinged into a room
	KindNewFollower           = "new_follower"            // someone follows you
	KindMadeModerator         = "made_moderator"          // you are a moderator in a room now
	KindEventInvitation       = "event_invitation"        // invited to a scheduled event
	KindEventInvitationAnswer = "event_invitation_answer" // an invitee of your event answered
	KindEventReminder         = "event_reminder"          // an event you follow starts soon
	KindEventLive             = "event_live"              // an event you follow is live
	KindEventUpdated          = "event_updated"           // an event you follow changed
	KindEventCancelled        = "event_cancelled"         // an event you follow is cancelled
	KindClubRequest           = "club_request"            // someone asks to join your club
	KindClubRequestDecided    = "club_request_decided"    // your request to join a club was decided
	KindInvitationReply       = "invitation_reply"        // the inviter answered your question
	KindSpeaking              = "speaking"                // someone you follow is speaking in a room
)

// Kinds lists every notification kind, the ones a user may mute.
func Kinds() []string {
	return []string{KindInvitation, KindInvitationAnswer, KindPing, KindNewFollower, KindMadeModerator,
		KindEventInvitation, KindEventInvitationAnswer, KindEventReminder, KindEventLive, KindEventUpdated,
		KindEventCancelled, KindClubRequest, KindClubRequestDecided, KindInvitationReply, KindSpeaking}
}

// DefaultPingsPerHour is the default cap on pings one sender sends per hour.
const DefaultPingsPerHour = 30

// Errors of the gate.
var (
	// ErrMuted tells the sender that the user muted this kind: the notice is
	// dropped, and the action that caused it still succeeds.
	ErrMuted = errors.New("notify: the user muted this kind")
	// ErrPingLimit refuses a ping over the sender's hourly cap.
	ErrPingLimit = errcode.New(errcode.RateLimited, "you sent as many pings as allowed this hour")
	// ErrUnknownKind refuses to mute a kind that does not exist.
	ErrUnknownKind = errcode.New(errcode.InvalidField, "unknown notification kind")
)

// Store keeps the kinds each user muted.
type Store interface {
	// MutedKinds lists the kinds userID muted, sorted.
	MutedKinds(ctx context.Context, userID string) ([]string, error)
	// SetMutedKinds replaces the kinds userID muted. ErrNotFound for an unknown user.
	SetMutedKinds(ctx context.Context, userID string, kinds []string) error
}

// Sender stores a notification and pushes it to the user's sockets: *live.Hub.
type Sender interface {
	Notify(ctx context.Context, user, kind string, data any) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, user, kind string, data any) error

// Notify calls f.
func (f SenderFunc) Notify(ctx context.Context, user, kind string, data any) error {
	return f(ctx, user, kind, data)
}

// Options configure a Service.
type Options struct {
	Store  Store
	Sender Sender
	// PingsPerHour caps the pings one sender sends in any hour; 0 means
	// DefaultPingsPerHour.
	PingsPerHour int
	Now          func() time.Time
	// PingLimiter, when set, counts the pings instead of this process: the
	// cluster's limiter, a token bucket of PingsPerHour an hour per sender.
	PingLimiter interface {
		WaitN(key string, n int) time.Duration
	}
}

// Service is the notification gate.
type Service struct {
	opts Options

	mu    sync.Mutex
	pings map[string][]time.Time // sender → times of their pings in the last hour, oldest first
}

// New returns the gate.
func New(opts Options) *Service {
	if opts.PingsPerHour <= 0 {
		opts.PingsPerHour = DefaultPingsPerHour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts, pings: map[string][]time.Time{}}
}

// Allow decides whether a notice of kind from sender ("" for the system) may reach
// user: ErrPingLimit when a ping is over its sender's cap (the ping is refused),
// ErrMuted when user muted the kind (drop the notice, nothing more), nil to
// deliver. An allowed ping counts against its sender's cap.
func (s *Service) Allow(ctx context.Context, user, kind, sender string) error {
	if kind == KindPing && sender != "" {
		if err := s.countPing(sender); err != nil {
			return err
		}
	}
	muted, err := s.opts.Store.MutedKinds(ctx, user)
	if err != nil {
		return err
	}
	if slices.Contains(muted, kind) {
		return ErrMuted
	}
	return nil
}

// countPing records a ping of sender, or refuses it over the cap.
func (s *Service) countPing(sender string) error {
	if s.opts.PingLimiter != nil {
		if s.opts.PingLimiter.WaitN(sender, 1) > 0 {
			return ErrPingLimit
		}
		return nil
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Forget pings older than an hour, of every sender once the map grows.
	if len(s.pings) > 10_000 {
		for k, list := range s.pings {
			if now.Sub(list[len(list)-1]) >= time.Hour {
				delete(s.pings, k)
			}
		}
	}
	list := s.pings[sender]
	i := 0
	for i < len(list) && now.Sub(list[i]) >= time.Hour {
		i++
	}
	list = list[i:]
	if len(list) >= s.opts.PingsPerHour {
		s.pings[sender] = list
		return ErrPingLimit
	}
	s.pings[sender] = append(list, now)
	return nil
}

// Notify sends a notice of kind to user through the gate: a muted kind is
// dropped without error; a ping over its cap is ErrPingLimit.
func (s *Service) Notify(ctx context.Context, user, kind, sender string, data any) error {
	switch err := s.Allow(ctx, user, kind, sender); {
	case errors.Is(err, ErrMuted):
		return nil
	case err != nil:
		return err
	}
	return s.opts.Sender.Notify(ctx, user, kind, data)
}

// Muted lists the kinds user muted.
func (s *Service) Muted(ctx context.Context, user string) ([]string, error) {
	list, err := s.opts.Store.MutedKinds(ctx, user)
	if list == nil {
		list = []string{}
	}
	return list, err
}

// SetMuted replaces the kinds user muted; each must be one of Kinds.
func (s *Service) SetMuted(ctx context.Context, user string, kinds []string) ([]string, error) {
	var out []string
	for _, k := range kinds {
		if !slices.Contains(Kinds(), k) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownKind, k)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	if err := s.opts.Store.SetMutedKinds(ctx, user, out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

type onceKey struct{}

// Once returns a context under which every notice sent is identified by key and
// its user and kind: a notice sent again under the same key (a node that took
// over a job another one died doing) is not stored or pushed a second time.
func Once(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, onceKey{}, key)
}

// OnceKey returns the key Once set on ctx, if any.
func OnceKey(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(onceKey{}).(string)
	return k, ok
}
