package testwait_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/testwait"
)

// recorder is a testing.TB that records a failure instead of ending the test.
type recorder struct {
	testing.TB
	failed atomic.Bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed.Store(true)
	r.msg = format
}

func TestUntil(t *testing.T) {
	tests := []struct {
		name   string
		after  int // cond holds from its nth check on; 0: never
		failed bool
	}{
		{"a condition that holds at once returns at once", 1, false},
		{"a condition that comes to hold returns then", 5, false},
		{"a condition that never holds fails after the timeout", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			n := 0
			testwait.Until(r, 200*time.Millisecond, "the thing", func() bool {
				n++
				return tt.after > 0 && n >= tt.after
			}, func() string { return "detail" })
			if r.failed.Load() != tt.failed {
				t.Fatalf("failed %v after %d checks, want %v", r.failed.Load(), n, tt.failed)
			}
		})
	}
}
