// Package testwait waits, in tests, for a condition that no event announces (a
// counter reaching a value, a goroutine going away): it checks the condition on a
// ticker until it holds or a deadline passes. Where an event exists, wait on it.
package testwait

import (
	"testing"
	"time"
)

// Every is how often Until checks its condition.
const Every = 10 * time.Millisecond

// Until returns once cond holds, or fails tb after timeout, naming what it waited
// for and, if detail is given, what detail says then.
func Until(tb testing.TB, timeout time.Duration, what string, cond func() bool, detail ...func() string) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(Every)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			msg := ""
			for _, d := range detail {
				msg += ": " + d()
			}
			tb.Fatalf("%s: not within %s%s", what, timeout, msg)
			return // Fatalf ends the test's goroutine; a TB that does not, ends the wait
		case <-tick.C:
		}
	}
}
