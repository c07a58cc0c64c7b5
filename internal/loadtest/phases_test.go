package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestPhases(t *testing.T) {
	var cpu atomic.Int64 // the server's CPU-seconds, as its /metrics says
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "process_cpu_seconds_total %d\nprocess_resident_memory_bytes 1\n", cpu.Load())
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	urls := []string{srv.URL}
	t0 := time.Now()
	p := newPhases(6*time.Second, t0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// Each step: the CPU the server has used so far, then a step of the phases at
	// a moment of the window.
	for _, s := range []struct {
		name    string
		cpu     int64
		at      time.Duration
		on      bool       // reacting after the step
		counted [2]float64 // CPU-seconds counted after the step: without, with
	}{
		{"the first phase is without reactions, and its guard is not counted", 7, time.Second, false, [2]float64{0, 0}},
		{"the end of the guard starts the count", 10, phaseGuard, false, [2]float64{0, 0}},
		{"the end of the phase counts it and starts the reactions", 13, 6 * time.Second, true, [2]float64{3, 0}},
		{"what the guard of the second phase costs is left out", 20, 6*time.Second + phaseGuard, true, [2]float64{3, 0}},
		{"the end of the second phase counts it as with reactions", 24, 12 * time.Second, false, [2]float64{3, 4}},
	} {
		t.Run(s.name, func(t *testing.T) {
			cpu.Store(s.cpu)
			if err := p.step(ctx, http.DefaultClient, urls, at(s.at)); err != nil {
				t.Fatal(err)
			}
			if p.on.Load() != s.on || p.cpu != s.counted {
				t.Fatalf("reacting %v, counted %v; want %v, %v", p.on.Load(), p.cpu, s.on, s.counted)
			}
		})
	}
	t.Run("the next step is due at the end of the guard, then at the end of the phase", func(t *testing.T) {
		if got, want := p.next(), at(12*time.Second+phaseGuard); !got.Equal(want) {
			t.Fatalf("next %v after the start, want %v", got.Sub(t0), want.Sub(t0))
		}
	})
	t.Run("the window ending in a guard adds nothing", func(t *testing.T) {
		cpu.Store(30)
		if err := p.close(ctx, http.DefaultClient, urls); err != nil {
			t.Fatal(err)
		}
		if p.cpu != [2]float64{3, 4} {
			t.Fatalf("counted %v", p.cpu)
		}
	})
	t.Run("the report compares the two kinds of phase per second", func(t *testing.T) {
		p.secs = [2]float64{10, 10} // the seconds are the scrapes' own clock: set for the figures
		res := &Result{}
		p.report(res)
		if r := res.ReactPhases; r == nil || r.QuietCPUCores != 0.3 || r.ReactCPUCores != 0.4 || r.MorePct < 33.3 || r.MorePct > 33.4 {
			t.Fatalf("report %+v", res.ReactPhases)
		}
	})
}

func TestReactPhaseIsChecked(t *testing.T) {
	for _, tt := range []struct {
		name              string
		every, phase, dur time.Duration
		valid             bool
	}{
		{"phases with reactions and room for two are taken", time.Second, 6 * time.Second, 60 * time.Second, true},
		{"phases without reactions are refused", 0, 6 * time.Second, 60 * time.Second, false},
		{"a phase shorter than two guards is refused", time.Second, phaseGuard, 60 * time.Second, false},
		{"a window shorter than two phases is refused", time.Second, 6 * time.Second, 10 * time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.ReactEvery, c.ReactPhase, c.Duration = tt.every, tt.phase, tt.dur
			if err := c.Validate(); (err == nil) != tt.valid {
				t.Fatalf("Validate() = %v, want valid %v", err, tt.valid)
			}
		})
	}
}
