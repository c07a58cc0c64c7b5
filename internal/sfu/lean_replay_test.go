package sfu

import (
	"encoding/binary"
	dto "github.com/prometheus/client_model/go"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pion/srtp/v3"

	"github.com/townhall/townhall/internal/sfu/sfutest"
	"github.com/townhall/townhall/internal/srtpgcm"
)

func TestReplayedSpeakerPacketIsForwardedOnce(t *testing.T) {
	e, reg := newLeanEngineReg(t, nil)
	f := newTestForwarder(t, e)
	sp := join(t, e, f, "speaker", sfutest.Options{})
	l := join(t, e, f, "listener", sfutest.Options{})
	f.SetAllowed("speaker", true)
	next := uint32(1)
	send := func(t *testing.T) {
		t.Helper()
		if err := sp.client.Send(testPayload(1, next), 30); err != nil {
			t.Fatal(err)
		}
		next++
	}
	for range 200 { // more than the replay window: the speaker's client keeps them all
		send(t)
	}
	// A new packet, sent after each replay, marks when the replay would have come.
	sendAndWait := func(t *testing.T) {
		t.Helper()
		send(t)
		waitFor(t, 5*time.Second, "the listener hears the new packet", func() bool {
			got := l.client.Received(0)
			if len(got) == 0 {
				return false
			}
			_, n, _ := payloadFrom(got[len(got)-1].Payload)
			return n == next-1
		})
	}
	sendAndWait(t) // everything sent before is in

	tests := []struct {
		name string
		back int // which of the speaker's packets: 0 the last
	}{
		{"the last packet sent again is dropped", 0},
		{"a packet inside the window sent again is dropped", 20},
		{"a packet older than the window is dropped", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			datagrams := l.client.MediaDatagrams()
			replays := counterValue(t, reg, "townhall_rtp_dropped_replayed_total")
			if err := sp.client.ResendRTP(tt.back); err != nil {
				t.Fatal(err)
			}
			sendAndWait(t)
			if got := l.client.MediaDatagrams() - datagrams; got != 1 {
				t.Errorf("the listener's socket got %d datagrams, want 1: the new packet alone", got)
			}
			if got := counterValue(t, reg, "townhall_rtp_dropped_replayed_total") - replays; got != 1 {
				t.Errorf("replays counted: %v, want 1", got)
			}
		})
	}
	seen := map[uint32]bool{}
	for _, p := range l.client.Received(0) {
		if _, n, ok := payloadFrom(p.Payload); ok {
			if seen[n] {
				t.Errorf("the listener got packet %d twice", n)
			}
			seen[n] = true
		}
	}
}

// TestLeanInboundSRTPDoesNotAllocate follows a speaker's datagram the way the UDP
// reader hands it over: demultiplexing, the SRTP open and replay check, consent,
// and the fan-out to lean receivers.
func TestLeanInboundSRTPDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates in channel and WaitGroup operations")
	}
	r := newLeanRoom(t, 50)
	key, salt := make([]byte, 16), make([]byte, 12)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	c := &leanConn{t: r.t, p: &Peer{f: r.f, m: r.speaker}, micLevelID: 1,
		profile: srtp.ProtectionProfileAeadAes128Gcm, inKey: key, inSalt: salt}
	c.state.Store(leanConnected)
	r.t.mu.Lock()
	r.t.byAddr[from] = c
	r.t.mu.Unlock()
	seal, err := srtpgcm.New(key, salt)
	if err != nil {
		t.Fatal(err)
	}
	var iv [12]byte
	template := packet(1, 0, 20)
	template = append(template, make([]byte, 80-8)...)
	buf := make([]byte, 1500)
	path := &udpPath{t: r.t, to: from}
	scratch := rtpPacket{fan: r.fan}
	seq := uint16(0)
	deliver := func() {
		seq++
		pkt := append(buf[:0], template...)
		binary.BigEndian.PutUint16(pkt[2:], seq)
		r.t.handle(seal.Seal(pkt, 20, 1, 0, seq, &iv), path, &scratch)
	}
	deliver()
	r.f.rerank(false)
	deliver()
	if n := allocsPerRun(50, deliver); n != 0 {
		t.Errorf("%v allocations per inbound SRTP packet", n)
	}
	if got := testCounter(r.f.metrics.forwardedPackets); got < 50*50 {
		t.Fatalf("%v packets forwarded, want the 50 receivers to get every one", got)
	}
}

// TestLeanUDPReaderDoesNotAllocate sends a speaker's SRTP to the lean transport's
// UDP port from a real socket: the reader goroutine's whole path, from recvmmsg to
// the fan-out, allocates nothing per datagram.
func TestLeanUDPReaderDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates in channel and WaitGroup operations")
	}
	r := newLeanRoom(t, 10)
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sock.Close() })
	key, salt := make([]byte, 16), make([]byte, 12)
	c := &leanConn{t: r.t, p: &Peer{f: r.f, m: r.speaker}, micLevelID: 1,
		profile: srtp.ProtectionProfileAeadAes128Gcm, inKey: key, inSalt: salt}
	c.state.Store(leanConnected)
	r.t.mu.Lock()
	r.t.byAddr[sock.LocalAddr().(*net.UDPAddr).AddrPort()] = c
	r.t.mu.Unlock()
	seal, err := srtpgcm.New(key, salt)
	if err != nil {
		t.Fatal(err)
	}
	var iv [12]byte
	template := append(packet(1, 0, 20), make([]byte, 80-8)...)
	buf := make([]byte, 1500)
	to := r.t.udp.LocalAddr()
	seq := uint16(0)
	send := func(n int) {
		for range n {
			seq++
			pkt := append(buf[:0], template...)
			binary.BigEndian.PutUint16(pkt[2:], seq)
			if _, err := sock.WriteToUDPAddrPort(seal.Seal(pkt, 20, 1, 0, seq, &iv), to); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The draining thread's count of what the receivers got tells the progress
	// without allocating.
	send(1)
	waitFor(t, 5*time.Second, "the first packet is read", func() bool { return c.lastSeen.Load() != 0 })
	r.f.rerank(false)
	send(1)
	waitFor(t, 5*time.Second, "the speaker is forwarded", func() bool { return r.drained.Load() >= 10 })

	const bursts, burst = 10, 50 // a burst fits the sockets' buffers
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range bursts {
		want := r.drained.Load() + burst*10
		send(burst)
		waitFor(t, 5*time.Second, "a burst reaches the receivers", func() bool { return r.drained.Load() >= want })
	}
	runtime.ReadMemStats(&after)
	// Each wait allocates its timer and ticker; per datagram there must be nothing.
	if perPacket := float64(after.Mallocs-before.Mallocs) / (bursts * burst); perPacket > 0.5 {
		t.Errorf("%.2f allocations per datagram read and fanned out", perPacket)
	}
	// Each packet's wait in the socket went into the lateness histogram.
	var m dto.Metric
	if err := r.t.met.queueDelay.Write(&m); err != nil {
		t.Fatal(err)
	}
	if n := m.GetHistogram().GetSampleCount(); n < bursts*burst {
		t.Errorf("the queue delay histogram counted %d packets, want at least %d", n, bursts*burst)
	}
}
