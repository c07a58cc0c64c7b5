package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/townhall/townhall/internal/errcode"
)

// Limiter is a token bucket per key. WaitN returns 0 if key may go ahead now (and
// takes n tokens), or how long it must wait before it may; n is capped at the
// burst.
type Limiter interface {
	WaitN(key string, n int) time.Duration
}

// LimiterFactory makes the limiter called name: the cluster's, shared by every
// node, which falls back to local (this process's own) when the cluster cannot
// answer.
type LimiterFactory func(name string, perSecond float64, burst int, local Limiter) Limiter

// limited is a Limiter with the one-token form the handlers use.
type limited struct{ Limiter }

func (l limited) wait(key string) time.Duration         { return l.WaitN(key, 1) }
func (l limited) waitN(key string, n int) time.Duration { return l.WaitN(key, n) }

// keyedLimiter keeps one token bucket (golang.org/x/time/rate) per key: an IP, an
// account, a session. Idle buckets are dropped so the map stays bounded by the
// number of recently active keys.
type keyedLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	swept   time.Time
}

func newKeyedLimiter(perSecond float64, burst int, now func() time.Time) *keyedLimiter {
	if burst < 1 {
		burst = 1
	}
	return &keyedLimiter{limit: rate.Limit(perSecond), burst: burst, now: now, buckets: map[string]*rate.Limiter{}}
}

// idleAfter is how long a bucket must sit unused before it is full again, and so
// can be forgotten without changing any decision.
func (k *keyedLimiter) idleAfter() time.Duration {
	return time.Duration(float64(k.burst) / float64(k.limit) * float64(time.Second))
}

// WaitN returns 0 if the key may go ahead now (and takes n tokens), or how long it
// must wait before it may. n is capped at the burst, so that a request worth more
// than a full bucket still goes through on a full one.
func (k *keyedLimiter) WaitN(key string, n int) time.Duration {
	n = min(n, k.burst)
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.swept) > k.idleAfter() && len(k.buckets) > 0 {
		for key, b := range k.buckets {
			if b.TokensAt(now) >= float64(k.burst) {
				delete(k.buckets, key)
			}
		}
		k.swept = now
	}
	b, ok := k.buckets[key]
	if !ok {
		b = rate.NewLimiter(k.limit, k.burst)
		k.buckets[key] = b
	}
	res := b.ReserveN(now, n)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// retryAfter is a rate limit's refusal, for code that answers with an error:
// writeError sends it as tooMany does.
type retryAfter time.Duration

func (d retryAfter) Error() string {
	return "too many requests; retry after " + strconv.Itoa(int(math.Ceil(time.Duration(d).Seconds()))) + "s"
}

// tooMany answers 429 with Retry-After in whole seconds.
func tooMany(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	writeCode(w, errcode.RateLimited, retryAfter(d).Error())
}
