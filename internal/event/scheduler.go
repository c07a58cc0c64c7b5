package event

import (
	"context"
	"log/slog"
	"time"

	"github.com/townhall/townhall/internal/notify"
)

// Clock is the Scheduler's time: the system clock in production, a fake one that
// tests advance by hand, so that no test sleeps.
type Clock interface {
	Now() time.Time
	// After sends the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real Clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Scheduler defaults.
const (
	// DefaultLead is how long before an event starts its reminder goes out.
	DefaultLead = 10 * time.Minute
	// DefaultLate is how long after its start an event not yet opened still gets
	// its reminder (the server may have been down at the time).
	DefaultLate = 5 * time.Minute
	// DefaultIdle is the longest the Scheduler sleeps without looking at the store.
	DefaultIdle = time.Hour
	// retryAfter is how soon the Scheduler tries again after a failure.
	retryAfter = time.Minute
	// batch is how many due events one store query returns.
	batch = 100
)

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	Clock Clock         // nil for SystemClock
	Lead  time.Duration // 0 for DefaultLead
	Late  time.Duration // 0 for DefaultLate
	Idle  time.Duration // 0 for DefaultIdle
	Log   *slog.Logger
	// AfterClaim, when set, runs between claiming a reminder and sending it: the
	// tests make a node stop there, to show that another node sends it.
	AfterClaim func(Event)
	// Claim is how long a claim on a reminder lasts: another scheduler sends a
	// reminder whose claim expired unsent. 0 for DefaultClaim.
	Claim time.Duration
}

// Scheduler sends each event's reminder shortly before it starts, once: due
// reminders are found in the store, and each one sent is recorded there first, so
// that a restart never sends it again. Run it as one goroutine.
type Scheduler struct {
	events *Service
	opts   SchedulerOptions
	wake   chan struct{}
}

// NewScheduler returns a Scheduler that reminds through events' store and notifier.
func NewScheduler(events *Service, opts SchedulerOptions) *Scheduler {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Lead <= 0 {
		opts.Lead = DefaultLead
	}
	if opts.Late <= 0 {
		opts.Late = DefaultLate
	}
	if opts.Idle <= 0 {
		opts.Idle = DefaultIdle
	}
	if opts.Claim <= 0 {
		opts.Claim = DefaultClaim
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{events: events, opts: opts, wake: make(chan struct{}, 1)}
}

// Wake makes a running Scheduler look at the store again now: an event was
// scheduled or moved. It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends reminders until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	for {
		next, err := s.Tick(ctx)
		now := s.opts.Clock.Now()
		wait := s.opts.Idle
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			s.opts.Log.Warn("event reminders", "err", err)
			wait = retryAfter
		case !next.IsZero():
			wait = min(max(next.Sub(now), 0), s.opts.Idle)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-s.opts.Clock.After(wait):
		}
	}
}

// Tick sends the reminders due now and returns when the next one falls due (the
// zero time if none is scheduled).
func (s *Scheduler) Tick(ctx context.Context) (next time.Time, err error) {
	now := s.opts.Clock.Now().UTC()
	from, to := now.Add(-s.opts.Late), now.Add(s.opts.Lead)
	for {
		due, err := s.events.opts.Store.DueEvents(ctx, ReminderSoon, now, from, to, batch)
		if err != nil {
			return time.Time{}, err
		}
		for _, e := range due {
			if err := s.remind(ctx, e, now); err != nil {
				return time.Time{}, err
			}
		}
		if len(due) < batch {
			break
		}
	}
	at, ok, err := s.events.opts.Store.NextDue(ctx, ReminderSoon, from)
	if err != nil || !ok {
		return time.Time{}, err
	}
	next = at.Add(-s.opts.Lead)
	if !next.After(now) {
		// Due but not sent: claimed by a scheduler that may have died (look
		// again when its claim runs out), or a failure (try again soon).
		next = now.Add(min(retryAfter, s.opts.Claim))
	}
	return next, nil
}

// DefaultClaim is how long a claimed reminder waits for its sender to finish
// before another scheduler (another node) takes it over.
const DefaultClaim = 30 * time.Second

// remind sends e's reminder to its subscribers, hosts and invitees, exactly once
// across every node that runs a Scheduler: it claims the reminder, sends it,
// and records it sent. A node that dies between the two leaves a claim that
// expires after SchedulerOptions.Claim; the next scheduler sends it then. Each notice of the
// reminder has an ID made of the reminder and its user (notify.Once), so that
// the notices the dead node did send are not stored or pushed twice.
func (s *Scheduler) remind(ctx context.Context, e Event, now time.Time) error {
	ok, err := s.events.opts.Store.ClaimReminder(ctx, e.ID, ReminderSoon, now, now.Add(s.opts.Claim))
	if err != nil || !ok {
		return err
	}
	if s.opts.AfterClaim != nil {
		s.opts.AfterClaim(e)
	}
	once := notify.Once(ctx, "reminder:"+ReminderSoon+":"+e.ID)
	if err := s.events.tell(once, e, notify.KindEventReminder, "", s.events.audience(ctx, e, true)); err != nil {
		s.opts.Log.Warn("event reminder", "event", e.ID, "err", err)
		return nil // the claim expires, and the reminder goes again: notify.Once keeps it single
	}
	return s.events.opts.Store.FinishReminder(ctx, e.ID, ReminderSoon)
}
