package sfu

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// writerFunc is a slotWriter made of a function, for fakes.
type writerFunc func(slot int, hdr *rtp.Header, payload []byte) error

func (f writerFunc) WriteSlot(slot int, hdr *rtp.Header, payload []byte) error {
	return f(slot, hdr, payload)
}

// delivery is one packet a fake receiver got: in which slot, from which speaker.
type delivery struct {
	slot int
	from byte
}

// recorder is a fake receiver that remembers what it got.
type recorder struct {
	mu  sync.Mutex
	got []delivery
}

func (r *recorder) WriteSlot(slot int, _ *rtp.Header, payload []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, delivery{slot, payload[1]})
	return nil
}

func (r *recorder) take() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// newBareForwarder is a Forwarder without an Engine: fake receivers, no pion.
func newBareForwarder(t testing.TB, k int) *Forwarder {
	t.Helper()
	f := newForwarder(k, newMetrics(nil))
	t.Cleanup(f.Close)
	return f
}

// attach joins id to f with w as its transport, connected.
func attach(t testing.TB, f *Forwarder, id string, w slotWriter) *member {
	t.Helper()
	m, err := f.join(id)
	if err != nil {
		t.Fatal(err)
	}
	f.connect(m, newReceiver(m, w, f.slots))
	return m
}

// packet is an RTP packet of speaker idx at an RFC 6464 level, with audio level ID 1.
func packet(idx byte, seq uint16, level uint8) []byte {
	b := []byte{
		0x90, 111, 0, 0, 0, 0, 0, 0, 0, 0, 0, idx, // V=2, X, PT 111, seq, ts, SSRC
		0xBE, 0xDE, 0, 1, 0x10, level, 0, 0, // one-byte block: ID 1, 1 octet
		31 << 3, idx, 1, 2, 3, 4, 5, 6, // Opus TOC, speaker, filler
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*960)
	return b
}

func TestForwarderRoutesAroundEachSpeaker(t *testing.T) {
	f := newBareForwarder(t, 2)
	recs := map[string]*recorder{}
	ms := map[string]*member{}
	for _, id := range []string{"a", "b", "c", "listener"} {
		recs[id] = &recorder{}
		ms[id] = attach(t, f, id, recs[id])
	}
	for _, id := range []string{"a", "b", "c"} {
		f.SetAllowed(id, true)
	}
	var p rtpPacket
	send := func(id string, idx byte, level uint8) {
		for seq := uint16(1); seq <= 3; seq++ {
			f.receive(ms[id], packet(idx, seq, level), 1, &p)
		}
	}
	send("a", 1, 10)
	send("b", 2, 20)
	send("c", 3, 30)
	send("listener", 4, 0)
	f.rerank(false)
	for _, r := range recs {
		r.take()
	}

	send("a", 1, 10) // slot 0, for everyone but a
	send("c", 3, 30) // the alternate: a and b hear it in their own slots
	send("listener", 4, 0)
	want := map[string][]delivery{
		"a":        {{0, 3}, {0, 3}, {0, 3}},
		"b":        {{0, 1}, {0, 1}, {0, 1}, {1, 3}, {1, 3}, {1, 3}},
		"c":        {{0, 1}, {0, 1}, {0, 1}},
		"listener": {{0, 1}, {0, 1}, {0, 1}},
	}
	for id, r := range recs {
		if got := r.take(); fmt.Sprint(got) != fmt.Sprint(want[id]) {
			t.Errorf("%s got %v, want %v", id, got, want[id])
		}
	}
	if got := testCounter(f.metrics.droppedUnauthorized); got != 6 {
		t.Errorf("unauthorized drops: %v, want 6", got)
	}
}

func TestSetAllowedWaitsForThePacketInFlight(t *testing.T) {
	f := newBareForwarder(t, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var after int // packets written once SetAllowed returned
	var barrierDone bool
	var writes atomic.Int32
	blocking := writerFunc(func(int, *rtp.Header, []byte) error {
		if writes.Add(1) == 2 { // the second packet blocks in the transport
			once.Do(func() {
				close(entered)
				<-release
			})
		}
		mu.Lock()
		if barrierDone {
			after++
		}
		mu.Unlock()
		return nil
	})
	a := attach(t, f, "a", &recorder{})
	attach(t, f, "b", blocking)
	f.SetAllowed("a", true)
	var p rtpPacket
	f.receive(a, packet(1, 1, 10), 1, &p) // takes the free slot at once
	f.rerank(false)

	go f.receive(a, packet(1, 2, 10), 1, &p)
	<-entered // the packet is being written to b
	returned := make(chan struct{})
	go func() {
		f.SetAllowed("a", false)
		mu.Lock()
		barrierDone = true
		mu.Unlock()
		close(returned)
	}()
	// Wait until SetAllowed waits on the gate: then a reader cannot enter.
	waitFor(t, 5*time.Second, "SetAllowed to wait for the packet", func() bool {
		if a.gate.TryRLock() {
			a.gate.RUnlock()
			return false
		}
		return true
	})
	select {
	case <-returned:
		t.Fatal("SetAllowed returned while a packet of the speaker was being forwarded")
	default:
	}
	close(release)
	<-returned
	var q rtpPacket
	for seq := uint16(3); seq < 10; seq++ {
		f.receive(a, packet(1, seq, 10), 1, &q)
	}
	mu.Lock()
	defer mu.Unlock()
	if after != 0 {
		t.Errorf("%d packets forwarded after SetAllowed(false) returned", after)
	}
}

func TestForwardDoesNotAllocate(t *testing.T) {
	for _, frames := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("with %d ms packets for listeners, a packet allocates nothing", 20*frames), func(t *testing.T) {
			f, speaker, buf := benchForwarder(t, 10)
			f.joins = newFrameJoiners(f.slots, frames)
			var p rtpPacket
			seq := uint16(100)
			if n := allocsPerRun(200, func() {
				seq++
				binary.BigEndian.PutUint16(buf[2:], seq)
				binary.BigEndian.PutUint32(buf[4:], uint32(seq)*960)
				f.receive(speaker, buf, 1, &p)
			}); n != 0 {
				t.Errorf("%v allocations per packet", n)
			}
		})
	}
}

// discard is a transport that sends nothing, to measure the forwarder alone.
type discard struct{}

func (discard) WriteSlot(int, *rtp.Header, []byte) error { return nil }

// benchForwarder is a room of n receivers and one speaker in slot 0.
func benchForwarder(t testing.TB, n int) (*Forwarder, *member, []byte) {
	f := newBareForwarder(t, 3)
	speaker := attach(t, f, "speaker", discard{})
	for i := range n {
		attach(t, f, fmt.Sprintf("r%d", i), discard{})
	}
	f.SetAllowed("speaker", true)
	buf := packet(1, 1, 20)
	buf = append(buf, make([]byte, 60-8)...) // a 60-byte Opus frame
	var p rtpPacket
	f.receive(speaker, buf, 1, &p)
	f.rerank(false)
	f.receive(speaker, buf, 1, &p) // every slot stream set up
	return f, speaker, buf
}

// BenchmarkForward measures the forwarder's own cost of one inbound packet fanned out
// to N receivers: parse, barrier, rewrite per receiver, write to a transport that
// does nothing. ns/receiver-packet is the figure to compare with pion's ~20 µs of
// encrypt and send per packet per listener.
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("receivers=%d", n), func(b *testing.B) {
			f, speaker, buf := benchForwarder(b, n)
			var p rtpPacket
			seq := uint16(2)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				seq++
				binary.BigEndian.PutUint16(buf[2:], seq)
				binary.BigEndian.PutUint32(buf[4:], uint32(seq)*960)
				f.receive(speaker, buf, 1, &p)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/receiver-packet")
		})
	}
}

func TestFirstPacketTakesAFreeSlot(t *testing.T) {
	f := newBareForwarder(t, 2)
	a := attach(t, f, "a", &recorder{})
	b := &recorder{}
	attach(t, f, "b", b)
	f.SetAllowed("a", true)
	var p rtpPacket
	f.receive(a, packet(1, 1, 10), 1, &p)
	if got := b.take(); len(got) != 1 || got[0].from != 1 {
		t.Fatalf("b got %v from a's first packet, want it, in a slot", got)
	}
	f.receive(a, packet(1, 2, 127), 1, &p) // silence, and still in its slot
	if got := b.take(); len(got) != 1 {
		t.Fatalf("b got %v from a's second packet", got)
	}
}

// TestSeqStart checks the test knob Config.SeqStart: a receiver's streams start
// at it, and go on through the wrap one by one.
func TestSeqStart(t *testing.T) {
	f := newForwarder(1, newMetrics(nil))
	f.seqStart = 65534
	t.Cleanup(f.Close)
	var got []uint16
	w := writerFunc(func(_ int, hdr *rtp.Header, _ []byte) error {
		got = append(got, hdr.SequenceNumber)
		return nil
	})
	spk := attach(t, f, "speaker", &recorder{})
	attach(t, f, "listener", w)
	f.SetAllowed("speaker", true)
	var p rtpPacket
	f.receive(spk, packet(1, 100, 10), 1, &p)
	f.rerank(false)
	got = got[:0]
	for seq := uint16(101); seq <= 104; seq++ {
		f.receive(spk, packet(1, seq, 10), 1, &p)
	}
	if want := []uint16{65535, 0, 1, 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sequence numbers %v, want %v", got, want)
	}
}
