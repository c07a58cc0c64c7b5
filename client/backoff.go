package client

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces a RoomConn's attempts to reconnect with "full jitter": the wait
// before attempt n (from 0) is drawn uniformly between zero and a ceiling that
// starts at First and doubles up to Max. When a node goes away, the thousands of
// clients it served come back spread over the ceiling instead of all at once, and
// a client that keeps failing asks less and less often.
//
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
type Backoff struct {
	First time.Duration // the ceiling of the first wait
	Max   time.Duration // the highest ceiling
}

// The Backoff of a RoomConn whose options leave it zero.
const (
	DefaultBackoffFirst = 300 * time.Millisecond
	DefaultBackoffMax   = 2 * time.Second
)

// orDefault fills the zero fields of b with the defaults.
func (b Backoff) orDefault() Backoff {
	if b.First <= 0 {
		b.First = DefaultBackoffFirst
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.First {
		b.Max = b.First
	}
	return b
}

// Ceiling returns the longest wait before attempt n: First·2ⁿ, at most Max (zero
// fields take the defaults).
func (b Backoff) Ceiling(n int) time.Duration {
	b = b.orDefault()
	c := b.First
	for ; n > 0 && c < b.Max; n-- {
		c *= 2
	}
	return min(c, b.Max)
}

// Delay draws the wait before attempt n, uniformly in [0, Ceiling(n)).
func (b Backoff) Delay(n int) time.Duration {
	return rand.N(b.Ceiling(n))
}
