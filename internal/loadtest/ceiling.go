package loadtest

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// The machine's ceiling (docs/benchmarks.md): how many listeners this machine
// could serve if the server paid only the kernel's and the cipher's cost per
// packet sent (the Floor) and the generator only theirs per packet received,
// both on its cores at once:
//
//	ceiling = cores ÷ ((server floor + generator floor) × packets per listener-second)
//
// measured in the same run as the load it divides, so that a figure from a
// machine whose system calls cost twice as much reads the same. A load test
// run at a fraction of it (--load) shows how close to the machine's own limit
// the server stays clean.

// Ceiling is a run's ceiling and what it was computed from.
type Ceiling struct {
	Cores            int     `json:"cores"`
	ServerFloorUs    float64 `json:"server_floor_us"`    // Floor.FloorUs: a packet sent
	GeneratorFloorUs float64 `json:"generator_floor_us"` // Floor.GeneratorUs: a packet received
	// PacketsPerListenerSec is what each listener received per second: in a
	// result, as measured; for --load, as expected before the run (estimatePPS).
	PacketsPerListenerSec float64 `json:"packets_per_listener_s"`
	Listeners             float64 `json:"listeners"`
}

// ceilingOf computes the ceiling of f for listeners receiving pps packets a second.
func ceilingOf(f Floor, cores int, pps float64) Ceiling {
	c := Ceiling{Cores: cores, ServerFloorUs: f.FloorUs, GeneratorFloorUs: f.GeneratorUs, PacketsPerListenerSec: pps}
	if per := (c.ServerFloorUs + c.GeneratorFloorUs) * 1e-6 * pps; per > 0 {
		c.Listeners = float64(cores) / per
	}
	return c
}

// estimatePPS is the packets a listener of cfg receives per second: one per
// ptime per slot with a speaker in it (3 slots; one speaker at a time in turns).
func estimatePPS(cfg Config) float64 {
	ptime := cfg.ListenerPtime
	if ptime <= 0 {
		ptime = 20 * time.Millisecond
	}
	slots := min(cfg.Speakers, 3)
	if cfg.Talk == TalkTurns {
		slots = 1
	}
	return float64(slots) * float64(time.Second) / float64(ptime)
}

// loadListeners is how many listeners make cfg.Load of the ceiling of f.
func loadListeners(cfg Config, f Floor) int {
	c := ceilingOf(f, runtime.NumCPU(), estimatePPS(cfg))
	return max(int(cfg.Load*c.Listeners+0.5), 1)
}

// setCeiling fills the result's ceiling from its floor and the packets each
// listener was sent (what the speakers sent in the window: not what arrived,
// which a loss would make look like a lighter load), on cores, and its load as
// a fraction of it.
func (r *Result) setCeiling(cores int) {
	if r.Floor == nil || r.ListenersJoined == 0 || r.DurationSeconds <= 0 {
		return
	}
	// The speakers send 20 ms frames, counted one by one at the listeners; on
	// the wire, a listener's packet joins ListenerPtime of them.
	frames := float64(max(r.ListenerPtimeMs, 20)) / 20
	pps := float64(r.PacketsExpected) / float64(r.ListenersJoined) / r.DurationSeconds / frames
	c := ceilingOf(*r.Floor, cores, pps)
	if c.Listeners <= 0 {
		return
	}
	r.Ceiling = &c
	r.LoadFraction = float64(r.ListenersJoined) / c.Listeners
}

// Clean is the bar a step of the ladder must pass: loss under 0.5 %, p99 under
// 50 ms, every listener joined.
func (r *Result) Clean() bool {
	return r.ListenersJoined == r.ListenersRequested && r.JoinFailures == 0 && r.LossPct < 0.5 && r.LatencyMs.P99 < 50
}

// writeCeiling prints the ceiling rows of the table.
func (r *Result) writeCeiling(row func(name, format string, args ...any)) {
	if c := r.Ceiling; c != nil {
		row("ceiling", "%.0f listeners: %d cores ÷ ((server floor %.2f + generator floor %.2f) µs × %.0f packets per listener-second)",
			c.Listeners, c.Cores, c.ServerFloorUs, c.GeneratorFloorUs, c.PacketsPerListenerSec)
		clean := "clean"
		if !r.Clean() {
			clean = "not clean (loss ≥ 0.5 %, p99 ≥ 50 ms or a join failed)"
		}
		row("load", "%.0f %% of the ceiling, %s", 100*r.LoadFraction, clean)
	}
}

// WriteLadder prints, per talk mode, the highest fraction of the ceiling at
// which a run among results was clean.
func WriteLadder(w io.Writer, results []*Result) {
	for _, talk := range []string{TalkAll, TalkTurns} {
		best, worst := -1.0, -1.0
		for _, r := range results {
			if r.Talk != talk || r.Ceiling == nil {
				continue
			}
			if r.Clean() {
				best = max(best, r.LoadFraction)
			} else if worst < 0 || r.LoadFraction < worst {
				worst = r.LoadFraction
			}
		}
		switch {
		case best < 0 && worst < 0:
			continue
		case best < 0:
			fmt.Fprintf(w, "- talk %s: no step clean (the lowest was %.0f %% of the ceiling)\n", talk, 100*worst)
		case worst < 0:
			fmt.Fprintf(w, "- talk %s: clean at every step, up to %.0f %% of the ceiling\n", talk, 100*best)
		default:
			fmt.Fprintf(w, "- talk %s: clean up to %.0f %% of the ceiling; not at %.0f %%\n", talk, 100*best, 100*worst)
		}
	}
}
