package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Limiter is a token bucket per key shared by every node: the limits bucket, one
// key per limiter and key (forgotten an hour after its last use), changed with
// compare-and-set. It answers as golang.org/x/time/rate would for one process.
type Limiter struct {
	c        *Cluster
	name     string
	rate     float64 // tokens a second
	burst    float64
	fallback interface {
		WaitN(key string, n int) time.Duration
	}
}

// Limiter returns the cluster-wide limiter called name: perSecond tokens a
// second, burst at most. When the cluster cannot answer, fallback (this node's
// own limiter) decides instead.
func (c *Cluster) Limiter(name string, perSecond float64, burst int, fallback interface {
	WaitN(key string, n int) time.Duration
}) *Limiter {
	return &Limiter{c: c, name: name, rate: perSecond, burst: float64(max(burst, 1)), fallback: fallback}
}

type bucketState struct {
	Tokens float64 `json:"t"`
	At     int64   `json:"at"` // unix ms of Tokens
}

// WaitN returns 0 if key may go ahead now (and takes n tokens, n capped at the
// burst), or how long it must wait before it may.
func (l *Limiter) WaitN(key string, n int) time.Duration {
	need := math.Min(float64(n), l.burst)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	k := counterKey(l.name + "\x00" + key)
	for range 10 {
		now := time.Now()
		st := bucketState{Tokens: l.burst, At: now.UnixMilli()}
		var rev uint64
		e, err := l.c.limits.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		case err != nil:
			return l.fallback.WaitN(key, n)
		default:
			rev = e.Revision()
			if json.Unmarshal(e.Value(), &st) != nil {
				st = bucketState{Tokens: l.burst, At: now.UnixMilli()}
			}
			elapsed := math.Max(0, float64(now.UnixMilli()-st.At)/1000)
			st.Tokens = math.Min(l.burst, st.Tokens+elapsed*l.rate)
			st.At = now.UnixMilli()
		}
		if st.Tokens < need {
			return time.Duration((need - st.Tokens) / l.rate * float64(time.Second))
		}
		st.Tokens -= need
		b, _ := json.Marshal(st)
		if rev == 0 {
			_, err = l.c.limits.Create(ctx, k, b)
		} else {
			_, err = l.c.limits.Update(ctx, k, b, rev)
		}
		switch {
		case err == nil:
			return 0
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // another node took a token meanwhile
		default:
			return l.fallback.WaitN(key, n)
		}
	}
	return l.fallback.WaitN(key, n)
}
