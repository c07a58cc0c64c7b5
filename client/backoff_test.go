package client_test

import (
	"testing"
	"time"

	"github.com/townhall/townhall/client"
)

func TestBackoffCeilingDoublesUpToItsMax(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name    string
		backoff client.Backoff
		attempt int
		want    time.Duration
	}{
		{"the first retry waits at most 300 ms by default", client.Backoff{}, 0, 300 * ms},
		{"the second at most 600 ms", client.Backoff{}, 1, 600 * ms},
		{"the third at most 1.2 s", client.Backoff{}, 2, 1200 * ms},
		{"the fourth reaches the 2 s cap", client.Backoff{}, 3, 2000 * ms},
		{"later ones stay at the cap", client.Backoff{}, 50, 2000 * ms},
		{"a Backoff of its own doubles from its first", client.Backoff{First: 10 * ms, Max: time.Second}, 3, 80 * ms},
		{"a max below the first is the first", client.Backoff{First: 10 * ms, Max: ms}, 4, 10 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.backoff.Ceiling(tt.attempt); got != tt.want {
				t.Fatalf("Ceiling(%d) = %s, want %s", tt.attempt, got, tt.want)
			}
		})
	}
}

// TestBackoffSpreadsRetries: the clients a node drops at once draw their waits
// uniformly under the ceiling, so that they come back spread over it rather than
// together.
func TestBackoffSpreadsRetries(t *testing.T) {
	const (
		clients = 10_000
		buckets = 10
	)
	for _, attempt := range []int{0, 1, 3} {
		ceiling := client.Backoff{}.Ceiling(attempt)
		t.Run("retry "+ceiling.String()+": every slice of the ceiling gets a fair share", func(t *testing.T) {
			var count [buckets]int
			for range clients {
				d := client.Backoff{}.Delay(attempt)
				if d < 0 || d >= ceiling {
					t.Fatalf("a wait of %s, outside [0, %s)", d, ceiling)
				}
				count[int(d*buckets/ceiling)]++
			}
			// A fair share is 1,000 (σ ≈ 30): ±20% is far out of chance's reach.
			for i, n := range count {
				if n < clients/buckets*8/10 || n > clients/buckets*12/10 {
					t.Fatalf("slice %d of %d holds %d of %d waits: %v", i, buckets, n, clients, count)
				}
			}
		})
	}
}
