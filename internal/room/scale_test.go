package room_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/room"
)

// BenchmarkAudience measures what the audience costs a room's state machine, on
// its owner: the memory per listener held, and a listener's join and leave (one
// op each of the room goroutine) in a room that already holds n. The figures of
// docs/scaling.md's plan for a million listeners come from here:
//
//	go test -run '^$' -bench Audience -benchtime 20000x ./internal/room
func BenchmarkAudience(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("listeners=%d", n), func(b *testing.B) {
			r := room.New(config(guests))
			if _, err := r.Apply(creator, room.Join{Now: t0}); err != nil {
				b.Fatal(err)
			}
			heap := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			user := func(i int) string { return fmt.Sprintf("guest_%026d", i) }
			before := heap()
			for i := range n {
				if _, err := r.Apply(user(i), room.Join{Guest: true, Now: t0, Browser: user(i), Addr: "203.0.113.7"}); err != nil {
					b.Fatal(err)
				}
			}
			perListener := float64(heap()-before) / float64(n)
			b.ResetTimer()
			for i := range b.N {
				u := user(n + i)
				if _, err := r.Apply(u, room.Join{Guest: true, Now: t0, Browser: u, Addr: "203.0.113.7"}); err != nil {
					b.Fatal(err)
				}
				if _, err := r.Apply(u, room.Leave{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(perListener, "B/listener")
			// A join's snapshot lists the first 500 listeners, whatever n is.
			start := time.Now()
			const snaps = 200
			for range snaps {
				if s := r.SnapshotUpTo(500); s.ListenerCount != n || len(s.Listeners) != min(n, 500) {
					b.Fatalf("%d listeners counted, %d listed", s.ListenerCount, len(s.Listeners))
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/snaps, "ns/snapshot")
			runtime.KeepAlive(r)
		})
	}
}

func TestSnapshotUpTo(t *testing.T) {
	r := room.New(config(nil))
	apply := func(actor string, cmd room.Command) {
		t.Helper()
		if _, err := r.Apply(actor, cmd); err != nil {
			t.Fatalf("%.6s %T: %v", actor, cmd, err)
		}
	}
	apply(creator, room.Join{Now: t0})
	for _, u := range []string{ann, bob, cat, dan} {
		apply(u, room.Join{Now: t0})
	}
	apply(bob, room.Leave{})                        // out of the middle
	apply(creator, room.InviteToSpeak{Target: ann}) // ann, first, goes on stage
	apply(ann, room.AcceptSpeak{Now: t0})           //
	apply(ann, room.StepDown{})                     // and back, last
	apply(bob, room.Join{Now: t0})                  // bob comes back, after her
	for _, tt := range []struct {
		name string
		n    int
		want []string
	}{
		{"all listeners are listed in the order they entered the audience", -1, []string{cat, dan, ann, bob}},
		{"the first n are listed", 2, []string{cat, dan}},
		{"more than there are lists them all", 10, []string{cat, dan, ann, bob}},
		{"none may be asked for", 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := r.SnapshotUpTo(tt.n)
			var got []string
			for _, p := range s.Listeners {
				got = append(got, p.UserID)
			}
			if !slices.Equal(got, tt.want) || s.ListenerCount != 4 {
				t.Fatalf("listed %.6s of %d, want %.6s of 4", got, s.ListenerCount, tt.want)
			}
		})
	}
}
