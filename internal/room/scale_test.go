package room_test

import (
	"fmt"
	"runtime"
	"testing"

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
			runtime.KeepAlive(r)
		})
	}
}
