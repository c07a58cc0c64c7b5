package relay

import (
	"net/netip"
	"testing"
)

// BenchmarkSend is the sending side per packet: seal under the room's key and
// queue, a sendmmsg per 32 packets (to a relay that reads them).
func BenchmarkSend(b *testing.B) {
	dst, _, _ := listenDiscard(b)
	src, _, _ := listenDiscard(b)
	batch := src.NewBatch()
	h := Header{Kind: Slot, Epoch: 5, Room: "ztt6vfee4sinosfdrkrdroyu3q", Slot: 1, Level: 0x90, Speaker: "ehyan3oy2dpy62vuhyn4gscerq"}
	rtp := make([]byte, 12+80)
	rtp[0] = 0x80
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := batch.Add(dst.Addr(), &h, rtp); err != nil {
			b.Fatal(err)
		}
	}
	batch.Flush()
}

// BenchmarkOpen is the receiving side per packet without the socket: parse,
// find the key, open, check the sequence.
func BenchmarkOpen(b *testing.B) {
	r := &Relay{keys: NewKeys(secret), m: newMetrics(nil), in: map[netip.AddrPort]*peerIn{},
		handle: func(*Packet, netip.AddrPort) {}}
	h := Header{Kind: Slot, Epoch: 5, Room: "ztt6vfee4sinosfdrkrdroyu3q", Slot: 1, Level: 0x90, Speaker: "ehyan3oy2dpy62vuhyn4gscerq"}
	aead, _ := r.keys.getString(h.Room, h.Epoch)
	const n = 1024
	sealed := make([][]byte, n)
	for i := range sealed {
		buf, _ := appendHeader(nil, &h, 9, uint64(i+1))
		var nc [nonceLen]byte
		nonce(&nc, 9, uint64(i+1))
		sealed[i] = aead.Seal(buf, nc[:], make([]byte, 92), buf)
	}
	work := make([]byte, 2048)
	from := netip.MustParseAddrPort("127.0.0.1:5")
	var p Packet
	var nc [nonceLen]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%n == 0 && i > 0 {
			r.in = map[netip.AddrPort]*peerIn{} // a fresh source: the same sequence numbers again
		}
		s := sealed[i%n]
		r.receive(work[:copy(work, s)], from, &p, &nc)
	}
}

func listenDiscard(b *testing.B) (*Relay, chan got, any) {
	b.Helper()
	r, err := Listen(Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Secret: secret, Handle: func(*Packet, netip.AddrPort) {}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	return r, nil, nil
}
