package loadtest

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	f := Floor{FloorUs: 2.5, GeneratorUs: 1.5} // 4 µs a packet, both sides
	tests := []struct {
		name  string
		cores int
		pps   float64
		want  float64
	}{
		{"two cores and 150 packets a listener-second make 3,333 listeners", 2, 150, 2 / (4e-6 * 150)},
		{"half the packets (40 ms) make twice the listeners", 2, 75, 2 / (4e-6 * 75)},
		{"no packets make no ceiling", 2, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ceilingOf(f, tt.cores, tt.pps).Listeners; math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("ceiling %.3f, want %.3f", got, tt.want)
			}
		})
	}
}

func TestEstimatePPS(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want float64
	}{
		{"three speakers all talking in 20 ms packets send 150 a second", Config{Speakers: 3, Talk: TalkAll}, 150},
		{"five speakers fill only the three slots", Config{Speakers: 5, Talk: TalkAll}, 150},
		{"speakers taking turns fill one slot", Config{Speakers: 3, Talk: TalkTurns}, 50},
		{"40 ms packets halve it", Config{Speakers: 3, Talk: TalkAll, ListenerPtime: 40 * time.Millisecond}, 75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := estimatePPS(tt.cfg); got != tt.want {
				t.Fatalf("%g packets a second, want %g", got, tt.want)
			}
		})
	}
}

func TestLadder(t *testing.T) {
	step := func(talk string, frac, loss, p99 float64) *Result {
		return &Result{Talk: talk, ListenersRequested: 10, ListenersJoined: 10, LossPct: loss,
			LatencyMs: Quantiles{P99: p99}, Ceiling: &Ceiling{Listeners: 10 / frac}, LoadFraction: frac}
	}
	tests := []struct {
		name    string
		results []*Result
		want    []string
	}{
		{"the highest clean step is named, and the first that was not",
			[]*Result{step(TalkAll, 0.4, 0, 10), step(TalkAll, 0.6, 0.1, 40), step(TalkAll, 0.8, 0.6, 30), step(TalkAll, 0.9, 3, 100)},
			[]string{"talk all: clean up to 60 % of the ceiling; not at 80 %"}},
		{"a p99 over 50 ms is not clean even without loss",
			[]*Result{step(TalkTurns, 0.4, 0, 51)},
			[]string{"talk turns: no step clean (the lowest was 40 % of the ceiling)"}},
		{"every step clean",
			[]*Result{step(TalkTurns, 0.4, 0, 5), step(TalkTurns, 0.9, 0.2, 20)},
			[]string{"talk turns: clean at every step, up to 90 % of the ceiling"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteLadder(&b, tt.results)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Fatalf("got %q, want it to say %q", b.String(), w)
				}
			}
		})
	}
}
