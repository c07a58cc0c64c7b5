package loadtest

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Talk modes: who speaks when.
const (
	TalkAll   = "all"   // every speaker talks all the time
	TalkTurns = "turns" // one speaker at a time, in turns of TurnLength
)

// Config is one load test.
type Config struct {
	URL       string        // the server, http://host:port
	Token     string        // session token of the account that hosts (see setupRoom)
	Invite    string        // or an invite code to sign the host up with
	Speakers  int           // speakers on stage (default 3)
	Listeners int           // guest listeners
	JoinRate  float64       // listeners starting to join per second
	Duration  time.Duration // the measured steady state, after everyone joined
	Talk      string        // TalkAll or TalkTurns
	Turn      time.Duration // length of one turn with TalkTurns

	// Settle is the pause between the last join and the measurement.
	Settle time.Duration
	// JoinTimeout bounds one listener's join, from the socket to the first packet.
	JoinTimeout time.Duration
	// Receivers is the number of the generator's shared UDP sockets, each read by
	// one goroutine with recvmmsg; 0 chooses (ReceiverSockets).
	Receivers int
	// FloorSockets, when not 0, measures the Floor with that many sockets first.
	FloorSockets int
	// ReactEvery, when not 0, has every listener send a reaction once per
	// ReactEvery once everyone joined, spread evenly over it (the cost of the
	// backchannel: compare a run with it to one without).
	ReactEvery time.Duration
	// ReactPhase, when not 0 (with ReactEvery), alternates phases of this length
	// without and with reactions through the measured window, and reports the
	// server's CPU in each (phases.go).
	ReactPhase time.Duration
	// Load, when not 0, sets Listeners to this fraction of the machine's
	// ceiling (ceiling.go), from a floor measured first; ListenerPtime is the
	// server's --listener-ptime, for the packets a listener is expected to get.
	Load          float64
	ListenerPtime time.Duration
	// SchedBatch runs the generator's threads in the SCHED_BATCH policy, so that
	// they do not preempt a server on the same box (batchScheduling).
	SchedBatch bool
}

// DefaultConfig returns the defaults of `townhall loadtest`.
func DefaultConfig() Config {
	return Config{
		URL:         "http://127.0.0.1:8080",
		Speakers:    3,
		Listeners:   100,
		JoinRate:    50,
		Duration:    30 * time.Second,
		Talk:        TalkAll,
		Turn:        2 * time.Second,
		Settle:      2 * time.Second,
		JoinTimeout: 30 * time.Second,
		SchedBatch:  true,
	}
}

// ReceiverSockets is Receivers, or when it is 0 one socket per 250 participants,
// from 1 to 4: each socket's reader is a goroutine woken for every burst of
// packets, and with a small audience those wake-ups are most of the generator's
// CPU.
func (c Config) ReceiverSockets() int {
	if c.Receivers > 0 {
		return c.Receivers
	}
	return min(max((c.Speakers+c.Listeners+249)/250, 1), 4)
}

// URLs are the servers of c.URL, which may name several nodes of a cluster
// separated by commas: the first makes the room and takes the speakers (through
// the join API), each listener asks the join API of each in turn and opens its
// socket on the node it names, and the
// server figures are the sums over all of them.
func (c Config) URLs() []string {
	var out []string
	for _, u := range strings.Split(c.URL, ",") {
		out = append(out, strings.TrimSpace(u))
	}
	return out
}

// Validate checks c.
func (c Config) Validate() error {
	for _, s := range c.URLs() {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--url %q: want http://host:port, or several separated by commas", c.URL)
		}
	}
	switch {
	case c.Speakers < 1 || c.Speakers > 200:
		return fmt.Errorf("--speakers %d: want 1 to 200", c.Speakers)
	case c.Listeners < 0 || c.Listeners > 20000:
		return fmt.Errorf("--listeners %d: want 0 to 20000", c.Listeners)
	case c.JoinRate <= 0:
		return fmt.Errorf("--join-rate must be positive")
	case c.Duration <= 0:
		return fmt.Errorf("--duration must be positive")
	case c.Talk != TalkAll && c.Talk != TalkTurns:
		return fmt.Errorf("--talk %q: want %s or %s", c.Talk, TalkAll, TalkTurns)
	case c.ReactEvery < 0 || (c.ReactEvery > 0 && c.ReactEvery < 400*time.Millisecond):
		return fmt.Errorf("--react-every %s: want 0 (none) or at least 400ms (the server takes 3 a second)", c.ReactEvery)
	case c.ReactPhase != 0 && (c.ReactEvery == 0 || c.ReactPhase < 2*phaseGuard || c.Duration < 2*c.ReactPhase):
		return fmt.Errorf("--react-phase %s: want it with --react-every, at least %s, and at most half of --duration", c.ReactPhase, 2*phaseGuard)
	case c.Load < 0 || c.Load > 2:
		return fmt.Errorf("--load %g: want a fraction of the ceiling, 0 (off) to 2", c.Load)
	case c.ListenerPtime < 0:
		return fmt.Errorf("--listener-ptime must not be negative")
	case c.Turn <= 0 || c.Receivers < 0 || c.JoinTimeout <= 0 || c.Settle < 0:
		return fmt.Errorf("bad timing or receiver settings")
	}
	return nil
}
