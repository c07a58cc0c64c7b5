package loadtest

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// The cost of reactions is a few per cent of the server's CPU, and two runs of
// the same room on a shared 2-core machine differ by ±10 %: a run with
// reactions against another without them measures the machine's drift as much
// as the reactions. With --react-phase the measured window alternates phases
// without and with reactions instead, so that both are measured in the same
// room, in the same run, interleaved, and the drift falls on both alike.

// phaseGuard is how long after a phase starts its CPU is not counted: longer
// than the server's slowest reactions tally (2 s, in a crowd), so that the last
// tally of reactions sent in one phase is not counted in the next, nor missing
// from its own.
const phaseGuard = 2500 * time.Millisecond

// phases alternates reacting (on) every phase through the window, starting
// without, and adds the server's CPU in each kind of phase after its guard.
type phases struct {
	every time.Duration
	on    atomic.Bool // the listeners react; read by react

	start     time.Time // the current phase began
	measuring bool      // the current phase's guard is over: cpu0 and at0 are its start
	cpu0      float64
	at0       time.Time
	cpu, secs [2]float64 // server CPU-seconds and seconds, [0] without reactions, [1] with
}

func newPhases(every time.Duration, now time.Time) *phases {
	return &phases{every: every, start: now}
}

// next is when step has something to do.
func (p *phases) next() time.Time {
	if !p.measuring {
		return p.start.Add(phaseGuard)
	}
	return p.start.Add(p.every)
}

// step reads the server's CPU when a guard ends and when a phase ends, and
// switches the reactions at the end of a phase.
func (p *phases) step(ctx context.Context, hc *http.Client, urls []string, now time.Time) error {
	if !p.measuring && !now.Before(p.start.Add(phaseGuard)) {
		s, err := scrapeAll(ctx, hc, urls)
		if err != nil {
			return err
		}
		p.cpu0, p.at0, p.measuring = s.cpu, s.at, true
	}
	if now.Before(p.start.Add(p.every)) {
		return nil
	}
	if err := p.close(ctx, hc, urls); err != nil {
		return err
	}
	p.on.Store(!p.on.Load())
	p.start, p.measuring = now, false
	return nil
}

// close adds the current phase's CPU since its guard ended, if it did.
func (p *phases) close(ctx context.Context, hc *http.Client, urls []string) error {
	if !p.measuring {
		return nil
	}
	s, err := scrapeAll(ctx, hc, urls)
	if err != nil {
		return err
	}
	i := 0
	if p.on.Load() {
		i = 1
	}
	p.cpu[i] += s.cpu - p.cpu0
	p.secs[i] += s.at.Sub(p.at0).Seconds()
	p.measuring = false
	return nil
}

// report puts the two kinds of phase into res.
func (p *phases) report(res *Result) {
	if p.secs[0] <= 0 || p.secs[1] <= 0 {
		return
	}
	quiet, reacting := p.cpu[0]/p.secs[0], p.cpu[1]/p.secs[1]
	res.ReactPhases = &ReactPhases{
		PhaseSeconds:    p.every.Seconds(),
		QuietSeconds:    p.secs[0],
		ReactingSeconds: p.secs[1],
		QuietCPUCores:   quiet,
		ReactCPUCores:   reacting,
	}
	if quiet > 0 {
		res.ReactPhases.MorePct = 100 * (reacting - quiet) / quiet
	}
}

// ReactPhases is the server's CPU in the phases of --react-phase.
type ReactPhases struct {
	PhaseSeconds    float64 `json:"phase_s"`
	QuietSeconds    float64 `json:"quiet_s"`    // measured without reactions (guards left out)
	ReactingSeconds float64 `json:"reacting_s"` // measured with them
	QuietCPUCores   float64 `json:"quiet_cpu_cores"`
	ReactCPUCores   float64 `json:"reacting_cpu_cores"`
	MorePct         float64 `json:"more_pct"` // reacting over quiet, in per cent
}
