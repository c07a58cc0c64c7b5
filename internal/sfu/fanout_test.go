package sfu

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestShardedFanOutWritesEveryReceiverOnce fans packets out to more receivers
// than fanShardMin, so that they are sharded over the workers, and checks that
// each packet is written to every receiver exactly once: with the cores idle,
// and with every core kept busy by spinning goroutines, so that the workers are
// often not scheduled in time.
func TestShardedFanOutWritesEveryReceiverOnce(t *testing.T) {
	tests := []struct {
		name     string
		spinners int
	}{
		{"with idle cores the workers write their shards", 0},
		{"with busy cores the workers still write every shard once", runtime.GOMAXPROCS(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := fanShardMin + 100
			r := newLeanRoom(t, n)
			buf := packet(1, 1, 20)
			buf = append(buf, make([]byte, 80-8)...)
			p := rtpPacket{fan: r.fan}
			r.f.receive(r.speaker, buf, 1, &p)
			r.f.rerank(false)
			var stop atomic.Bool
			var spin sync.WaitGroup
			var spins atomic.Int64
			for range tt.spinners {
				spin.Add(1)
				go func() { // keeps a core busy until the test ends
					defer spin.Done()
					n := int64(0)
					for !stop.Load() {
						n++
					}
					spins.Add(n)
				}()
			}
			defer func() { stop.Store(true); spin.Wait() }()
			rxs := *r.f.rxs.Load()
			if len(rxs) != n+1 { // the listeners and the speaker, who does not hear themself
				t.Fatalf("%d receivers, want %d", len(rxs), n+1)
			}
			for i := range 300 {
				binary.BigEndian.PutUint16(buf[2:], uint16(i+2))
				sent, failed := r.fan.run(r.speaker, r.speaker, 0, &p, time.Now().UnixNano(), rxs)
				if sent != n || failed != 0 {
					t.Fatalf("packet %d: written to %d receivers, %d failed, want %d and 0", i, sent, failed, n)
				}
			}
		})
	}
}
