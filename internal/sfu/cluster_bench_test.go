package sfu

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/relay"
)

// BenchmarkForwardLeanEdge is BenchmarkForwardLean on an edge of a room spread
// over nodes: each packet is a slot stream's, as the owner relayed it (opened,
// parsed, re-based per upstream), fanned out to N receivers. Against
// BenchmarkForwardLean of the same N it is what an edge pays more per
// listener-packet than the room's owner does for its own listeners.
//
//	go test -run '^$' -bench 'ForwardLean(Edge)?$' -benchmem ./internal/sfu/
func BenchmarkForwardLeanEdge(b *testing.B) {
	for _, n := range []int{100, 1000, 3000} {
		b.Run(fmt.Sprintf("receivers=%d", n), func(b *testing.B) {
			r := newLeanRoom(b, n)
			rl, err := relay.Listen(relay.Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Secret: clusterSecret,
				Handle: func(*relay.Packet, netip.AddrPort) {}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = rl.Close() })
			const room = "ztt6vfee4sinosfdrkrdroyu3q"
			r.f.setRelay(rl)
			r.f.SetRoute(&Route{Room: room, Epoch: 1})
			s := &RelayScratch{pkt: rtpPacket{fan: r.fan}}
			rp := relay.Packet{Kind: relay.Slot, Epoch: 1, Slot: 0, Level: 0x90, Room: []byte(room), Speaker: []byte("someone")}
			buf := packet(1, 1, 20)
			buf = append(buf, make([]byte, 80-8)...) // an 80-byte Opus frame
			work := make([]byte, len(buf))
			seq := uint16(1)
			deliver := func() {
				seq++
				binary.BigEndian.PutUint16(buf[2:], seq)
				binary.BigEndian.PutUint32(buf[4:], uint32(seq)*960)
				rp.RTP = work[:copy(work, buf)]
				r.f.ReceiveRelay(&rp, s)
			}
			deliver()
			b.ReportAllocs()
			cpu0, d0 := processCPU(), r.drained.Load()
			b.ResetTimer()
			for range b.N {
				deliver()
			}
			b.StopTimer()
			want := d0 + int64(b.N)*int64(n)
			tick := time.NewTicker(10 * time.Millisecond)
			for prev := int64(-1); r.drained.Load() < want && r.drained.Load() != prev; <-tick.C {
				prev = r.drained.Load()
			}
			tick.Stop()
			r.stop()
			cpu := processCPU() - cpu0
			sent := float64(b.N) * float64(n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/sent, "ns/receiver-packet")
			b.ReportMetric((float64(cpu)-float64(r.drainNs.Load()))/sent, "cpu-ns/receiver-packet")
		})
	}
}
