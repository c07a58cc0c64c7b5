package live

import (
	"testing"
	"time"
)

// TestJoinLogRemembersTwentySeconds checks the join memory of routing (issue
// 14): the joins this node sent to a node count against it for 20 s.
func TestJoinLogRemembersTwentySeconds(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		sent  []time.Duration // after t0, to node "a"
		other int             // joins sent to node "b" at t0
		at    time.Duration   // when "a" is asked about
		want  int
	}{
		{name: "a join sent a moment ago counts", sent: []time.Duration{0}, at: time.Second, want: 1},
		{name: "a join sent 19 s ago still counts", sent: []time.Duration{0}, at: 19 * time.Second, want: 1},
		{name: "a join sent exactly 20 s ago still counts", sent: []time.Duration{0}, at: 20 * time.Second, want: 1},
		{name: "a join sent more than 20 s ago no longer counts", sent: []time.Duration{0}, at: 20*time.Second + time.Millisecond, want: 0},
		{name: "a storm's joins fade one by one as they age", sent: []time.Duration{0, 5 * time.Second, 10 * time.Second, 15 * time.Second},
			at: 26 * time.Second, want: 2},
		{name: "joins sent to another node do not count", other: 3, at: time.Second, want: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var j joinLog
			for _, d := range c.sent {
				j.add("a", t0.Add(d))
			}
			for range c.other {
				j.add("b", t0)
			}
			if got := j.recent("a", t0.Add(c.at)); got != c.want {
				t.Fatalf("recent joins %d, want %d", got, c.want)
			}
			if got := j.recent("b", t0.Add(c.at)); c.other > 0 && got != c.other {
				t.Fatalf("the other node's recent joins %d, want %d", got, c.other)
			}
		})
	}
}
