package relay

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var secret = []byte("a secret of the cluster, 32 byte")

// got is a packet as a test keeps it (a Packet's slices die with the call).
type got struct {
	h    Header
	rtp  []byte
	from netip.AddrPort
}

// listen opens a relay on loopback whose packets go to the returned channel.
func listen(t *testing.T, key []byte) (*Relay, chan got, *prometheus.Registry) {
	t.Helper()
	ch := make(chan got, 1024)
	reg := prometheus.NewRegistry()
	r, err := Listen(Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Secret: key, Registry: reg,
		Handle: func(p *Packet, from netip.AddrPort) {
			ch <- got{h: Header{Kind: p.Kind, Epoch: p.Epoch, Room: string(p.Room), Slot: p.Slot, Level: p.Level,
				Speaker: string(p.Speaker), Target: string(p.Target)}, rtp: bytes.Clone(p.RTP), from: from}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, ch, reg
}

func next(t *testing.T, ch chan got) got {
	t.Helper()
	select {
	case g := <-ch:
		return g
	case <-time.After(5 * time.Second):
		t.Fatal("no packet came")
	}
	return got{}
}

// nothing checks that no packet comes while a later marker packet does.
func nothingBefore(t *testing.T, ch chan got, marker string) {
	t.Helper()
	if g := next(t, ch); g.h.Room != marker {
		t.Fatalf("got a packet of room %q before the marker", g.h.Room)
	}
}

func TestRelay(t *testing.T) {
	a, _, _ := listen(t, secret)
	b, bch, breg := listen(t, secret)
	batch := a.NewBatch()
	rtp := []byte{0x80, 0x6f, 0x12, 0x34, 0, 0, 0x03, 0xc0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5}

	cases := []struct {
		name string
		h    Header
	}{
		{"a speaker's uplink arrives with its header and packet intact", Header{Kind: Uplink, Epoch: 7, Room: "r7fabc", Level: 0x80 | 30, Speaker: "bob"}},
		{"a slot stream arrives with its slot and speaker", Header{Kind: Slot, Epoch: 7, Room: "r7fabc", Slot: 2, Level: 12, Speaker: "ada"}},
		{"an alternate stream names who hears it", Header{Kind: Alt, Epoch: 9, Room: "r7fabc", Slot: 1, Speaker: "cyd", Target: "ada"}},
		{"a subscription arrives, without RTP", Header{Kind: Subscribe, Epoch: 9, Room: "r7fabc"}},
		{"the longest IDs fit", Header{Kind: Slot, Epoch: 1 << 60, Room: string(bytes.Repeat([]byte("r"), 64)),
			Speaker: string(bytes.Repeat([]byte("s"), 64)), Target: string(bytes.Repeat([]byte("t"), 64))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := rtp
			if tc.h.Kind == Subscribe {
				payload = nil
			}
			if err := batch.Add(b.Addr(), &tc.h, payload); err != nil {
				t.Fatal(err)
			}
			batch.Flush()
			g := next(t, bch)
			if g.h != tc.h || !bytes.Equal(g.rtp, payload) || g.from != a.Addr() {
				t.Fatalf("got %+v %x from %s, want %+v %x from %s", g.h, g.rtp, g.from, tc.h, rtp, a.Addr())
			}
		})
	}

	t.Run("a sender's header it cannot seal is refused", func(t *testing.T) {
		for _, h := range []Header{
			{Kind: 0, Room: "r"}, {Kind: 5, Room: "r"}, {Kind: Slot},
			{Kind: Slot, Room: string(bytes.Repeat([]byte("r"), 65))},
		} {
			if err := batch.Add(b.Addr(), &h, rtp); err == nil {
				t.Fatalf("%+v was sealed", h)
			}
		}
		if err := batch.Add(b.Addr(), &Header{Kind: Slot, Room: "r"}, make([]byte, maxRTPLen+1)); err != ErrTooBig {
			t.Fatalf("a jumbo packet: %v", err)
		}
	})

	t.Run("a packet sealed with another secret does not open", func(t *testing.T) {
		stranger, _, _ := listen(t, []byte("another secret, not the cluster's"))
		sb := stranger.NewBatch()
		_ = sb.Add(b.Addr(), &Header{Kind: Slot, Room: "forged"}, rtp)
		sb.Flush()
		_ = batch.Add(b.Addr(), &Header{Kind: Slot, Room: "marker"}, rtp)
		batch.Flush()
		nothingBefore(t, bch, "marker")
		if n := testutil.ToFloat64(b.m.unauthentic); n != 1 {
			t.Fatalf("%v unauthentic packets counted, want 1", n)
		}
	})

	t.Run("a packet whose clear header was changed on the way does not open, nor does a replayed one", func(t *testing.T) {
		// Catch what a sends with a plain socket, then play it to b changed,
		// and again unchanged, twice.
		spy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = spy.Close() })
		_ = batch.Add(netip.MustParseAddrPort(spy.LocalAddr().String()), &Header{Kind: Slot, Epoch: 3, Room: "r", Speaker: "ada"}, rtp)
		batch.Flush()
		buf := make([]byte, 2048)
		_ = spy.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := spy.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		caught := buf[:n]
		to := net.UDPAddrFromAddrPort(b.Addr())
		changed := bytes.Clone(caught)
		changed[offSlot] = 5 // another slot
		for _, d := range [][]byte{changed, caught, caught} {
			if _, err := spy.WriteToUDP(d, to); err != nil {
				t.Fatal(err)
			}
		}
		if g := next(t, bch); g.h.Slot != 0 || g.h.Speaker != "ada" {
			t.Fatalf("got %+v", g.h)
		}
		_ = batch.Add(b.Addr(), &Header{Kind: Slot, Room: "marker"}, rtp)
		batch.Flush()
		nothingBefore(t, bch, "marker")
		if n := testutil.ToFloat64(b.m.unauthentic); n != 2 {
			t.Fatalf("%v unauthentic packets counted, want 2", n)
		}
		if n := testutil.ToFloat64(b.m.replayed); n != 1 {
			t.Fatalf("%v replayed packets counted, want 1", n)
		}
	})

	t.Run("what one node sends another counts the same on both sides", func(t *testing.T) {
		for i := range 100 {
			_ = batch.Add(b.Addr(), &Header{Kind: Slot, Room: "count", Slot: uint8(i % 3)}, rtp)
		}
		batch.Flush()
		for range 100 {
			next(t, bch)
		}
		sent := testutil.ToFloat64(a.m.outPackets.WithLabelValues(b.Addr().String()))
		recv := testutil.ToFloat64(b.m.inPackets.WithLabelValues(a.Addr().String()))
		// b also received the spy's one good packet, from another address.
		if sent != recv || sent < 100 {
			t.Fatalf("a sent %v, b received %v", sent, recv)
		}
		if n, err := testutil.GatherAndCount(breg, "townhall_relay_lost_packets_total"); err != nil || n == 0 {
			t.Fatalf("no loss metric: %d %v", n, err)
		}
		if lost := testutil.ToFloat64(b.m.lost.WithLabelValues(a.Addr().String())); lost != 0 {
			t.Fatalf("%v packets lost on loopback", lost)
		}
	})
}

// TestLossAndReplays checks the receiving side's bookkeeping of one source: what
// never came is lost once the window has moved past it, what comes late within
// the window is not, and what comes twice is dropped.
func TestLossAndReplays(t *testing.T) {
	cases := []struct {
		name     string
		seqs     []uint64
		lost     float64
		replayed float64
	}{
		{"packets in order lose nothing", []uint64{1, 2, 3, 4, 5}, 0, 0},
		{"a packet that came late within the window is not lost", []uint64{1, 3, 2, 4}, 0, 0},
		{"a packet that never came is lost once the window moved past it", seqRange(1, 100, 5), 1, 0},
		{"a packet that never came is not counted while the window still waits for it", seqRange(1, 50, 5), 0, 0},
		{"a packet that came twice is dropped the second time", []uint64{1, 2, 2, 3}, 0, 1},
		{"a packet older than the window is dropped", append(seqRange(2, 100), 1), 0, 1},
		// 2-999 and 1001-1036 left the window; 1037-1099 are still in it.
		{"a long gap loses everything that left the window", []uint64{1, 1000, 1100}, 998 + 36, 0},
		{"the first packet of a source loses nothing before it", []uint64{500, 501}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Relay{m: newMetrics(nil), in: map[netip.AddrPort]*peerIn{}}
			from := netip.MustParseAddrPort("127.0.0.2:9")
			for _, s := range tc.seqs {
				r.fresh(from, &Packet{Sender: 1, Seq: s}, 100)
			}
			if lost := testutil.ToFloat64(r.m.lost.WithLabelValues(from.String())); lost != tc.lost {
				t.Errorf("lost %v, want %v", lost, tc.lost)
			}
			if rep := testutil.ToFloat64(r.m.replayed); rep != tc.replayed {
				t.Errorf("replayed %v, want %v", rep, tc.replayed)
			}
		})
	}
}

// seqRange returns from..to, without the numbers in skip.
func seqRange(from, to uint64, skip ...uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		keep := true
		for _, k := range skip {
			keep = keep && s != k
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

func TestKeys(t *testing.T) {
	k := NewKeys(secret)
	t.Run("the same room and epoch give the same key on two nodes", func(t *testing.T) {
		a, _ := k.getString("r", 1)
		other, _ := NewKeys(secret).getString("r", 1)
		var n [nonceLen]byte
		sealed := a.Seal(nil, n[:], []byte("hello"), nil)
		if out, err := other.Open(nil, n[:], sealed, nil); err != nil || string(out) != "hello" {
			t.Fatalf("opened %q, %v", out, err)
		}
	})
	t.Run("another epoch's key does not open a packet", func(t *testing.T) {
		a, _ := k.getString("r", 1)
		b, _ := k.getString("r", 2)
		var n [nonceLen]byte
		if _, err := b.Open(nil, n[:], a.Seal(nil, n[:], []byte("hello"), nil), nil); err == nil {
			t.Fatal("epoch 2 opened epoch 1's packet")
		}
	})
	t.Run("a room keeps its newest epochs only", func(t *testing.T) {
		for e := range uint64(10) {
			_, _ = k.getString("busy", e)
		}
		if got := k.rooms["busy"].epochs; len(got) != keptEpochs || got[0] != 6 {
			t.Fatalf("kept %v", got)
		}
		k.Forget("busy")
		if _, ok := k.rooms["busy"]; ok {
			t.Fatal("a forgotten room keeps its keys")
		}
	})
}

// FuzzReceive feeds the receiving side anything: it never panics, and nothing
// that is not sealed under the secret reaches the handler.
func FuzzReceive(f *testing.F) {
	var sealed []byte
	{
		r := &Relay{keys: NewKeys(secret), m: newMetrics(nil), out: map[netip.AddrPort]*peerOut{}}
		h := Header{Kind: Alt, Epoch: 3, Room: "room", Slot: 1, Level: 0x85, Speaker: "s", Target: "t"}
		buf, _ := appendHeader(nil, &h, 7, 1)
		aead, _ := r.keys.getString("room", 3)
		var n [nonceLen]byte
		nonce(&n, 7, 1)
		sealed = aead.Seal(buf, n[:], []byte{0x80, 0x6f, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa}, buf)
	}
	f.Add(sealed)
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Add(bytes.Repeat([]byte{1}, 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		handled := 0
		r := &Relay{keys: NewKeys(secret), m: newMetrics(nil), in: map[netip.AddrPort]*peerIn{},
			handle: func(p *Packet, _ netip.AddrPort) {
				handled++
				if len(p.Room) == 0 || len(p.Room) > maxIDLen {
					t.Fatalf("a room ID of %d bytes", len(p.Room))
				}
			}}
		var p Packet
		var n [nonceLen]byte
		r.receive(bytes.Clone(data), netip.MustParseAddrPort("127.0.0.1:1"), &p, &n)
		if handled > 0 && !bytes.Equal(data, sealed) {
			// Only a packet sealed under the secret opens; the fuzzer cannot
			// forge one, so only the seed itself may get through.
			t.Fatalf("%x opened", data)
		}
	})
}
