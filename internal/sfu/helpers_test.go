package sfu

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/townhall/townhall/internal/sfu/sfutest"
	"github.com/townhall/townhall/internal/testwait"
)

// testLogger discards logs unless SFU_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SFU_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newTestEngine starts an Engine on loopback with random ports, on the transport
// named by SFU_TEST_TRANSPORT (default: the default one, lean).
func newTestEngine(t testing.TB, change func(*Config)) (*Engine, *prometheus.Registry) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.UDPPort, cfg.TCPPort, cfg.LoopbackOnly = 0, 0, true
	if tr := os.Getenv("SFU_TEST_TRANSPORT"); tr != "" {
		cfg.Transport = tr
	}
	if change != nil {
		change(&cfg)
	}
	reg := prometheus.NewRegistry()
	e, err := NewEngine(cfg, reg, testLogger())
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e, reg
}

// selectedPath returns the protocol and local port of a connected Peer's pair.
func selectedPath(t *testing.T, p *Peer) (webrtc.ICEProtocol, int) {
	t.Helper()
	if p.lean != nil {
		if l := p.lean.link.Load(); l != nil {
			return webrtc.ICEProtocolTCP, l.conn.LocalAddr().(*net.TCPAddr).Port
		}
		return webrtc.ICEProtocolUDP, p.e.lean.udpAddr.Port
	}
	pair, err := p.mic.Receiver().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("selected candidate pair: %v, %v", pair, err)
	}
	return pair.Local.Protocol, int(pair.Local.Port)
}

// newTestForwarder opens a room on e.
func newTestForwarder(t *testing.T, e *Engine) *Forwarder {
	t.Helper()
	f, err := e.NewForwarder()
	if err != nil {
		t.Fatalf("NewForwarder: %v", err)
	}
	t.Cleanup(f.Close)
	return f
}

// participant is one connected test participant: its server Peer and its client.
type participant struct {
	id     string
	peer   *Peer
	client *sfutest.Client
	answer webrtc.SessionDescription // the client's

	mu     sync.Mutex
	states []State
}

func (p *participant) sawState(s State) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, got := range p.states {
		if got == s {
			return true
		}
	}
	return false
}

// testContext is a context that ends with the test or after 20 s.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// offerAnswer runs signaling between a new Peer and a new client, without waiting
// for the connection.
func offerAnswer(t *testing.T, e *Engine, f *Forwarder, id string, opts sfutest.Options) *participant {
	t.Helper()
	ctx := testContext(t)
	client, err := sfutest.New(opts)
	if err != nil {
		t.Fatalf("sfutest.New: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	p := &participant{id: id, client: client}
	peer, err := e.NewPeer(id, f,
		func(c webrtc.ICECandidateInit) { _ = client.AddCandidate(c) },
		func(s State) {
			p.mu.Lock()
			p.states = append(p.states, s)
			p.mu.Unlock()
		})
	if err != nil {
		t.Fatalf("NewPeer(%s): %v", id, err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	p.peer = peer
	offer, err := peer.Offer(ctx)
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	answer, err := client.Answer(ctx, offer)
	if err != nil {
		t.Fatalf("client answer: %v", err)
	}
	if err := peer.SetAnswer(answer); err != nil {
		t.Fatalf("SetAnswer: %v", err)
	}
	p.answer = answer
	if opts.Trickle {
		cands, err := client.Candidates(ctx)
		if err != nil {
			t.Fatalf("client candidates: %v", err)
		}
		for _, c := range cands {
			if err := peer.AddCandidate(c); err != nil {
				t.Fatalf("AddCandidate(%s): %v", c.Candidate, err)
			}
		}
	}
	return p
}

// join connects a participant and waits until media can flow both ways.
func join(t *testing.T, e *Engine, f *Forwarder, id string, opts sfutest.Options) *participant {
	t.Helper()
	p := offerAnswer(t, e, f, id, opts)
	select {
	case <-p.client.Connected():
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: the client did not connect", id)
	}
	waitFor(t, 15*time.Second, id+" connected on the server", func() bool {
		return p.peer.State() == StateConnected && p.peer.m.rx.Load() != nil
	})
	return p
}

// waitFor waits until cond holds, or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, timeout, what, cond)
}

// speaker sends 20 ms packets from a client, at a level that can change, until the
// test ends. Each payload is Opus-shaped and names its speaker and its counter, so a
// listener can tell who it hears and which packet.
type speaker struct {
	idx   byte
	c     *sfutest.Client
	level atomic.Uint32
	sent  atomic.Uint32 // counter of the last packet whose write has returned
	stop  chan struct{}
	done  chan struct{}
}

// payloadSize is the size of a test payload: about a 24 kbit/s Opus frame.
const payloadSize = 60

// testPayload is packet counter n of speaker idx: an Opus TOC byte (config 31, CELT
// fullband 20 ms, mono, one frame: RFC 6716 §3.1), the speaker, the counter, filler.
func testPayload(idx byte, n uint32) []byte {
	b := make([]byte, payloadSize)
	b[0] = 31 << 3
	b[1] = idx
	binary.BigEndian.PutUint32(b[2:], n)
	for i := 6; i < len(b); i++ {
		b[i] = byte(int(idx)*7 + int(n) + i)
	}
	return b
}

// payloadFrom decodes testPayload.
func payloadFrom(b []byte) (idx byte, n uint32, ok bool) {
	if len(b) != payloadSize || b[0] != 31<<3 {
		return 0, 0, false
	}
	return b[1], binary.BigEndian.Uint32(b[2:]), true
}

// startSpeaking makes p send at level (RFC 6464: 0 loudest, 127 silence).
func startSpeaking(t *testing.T, p *participant, idx byte, level uint8) *speaker {
	t.Helper()
	s := &speaker{idx: idx, c: p.client, stop: make(chan struct{}), done: make(chan struct{})}
	s.level.Store(uint32(level))
	go func() {
		defer close(s.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for n := uint32(1); ; n++ {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			if err := s.c.Send(testPayload(idx, n), uint8(s.level.Load())); err != nil {
				return
			}
			s.sent.Store(n)
		}
	}()
	t.Cleanup(s.halt)
	return s
}

// halt stops the speaker and waits for its goroutine.
func (s *speaker) halt() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// heard returns the speakers heard in a slot of c, in order, one entry per packet.
func heard(c *sfutest.Client, slot int) []byte {
	var out []byte
	for _, p := range c.Received(slot) {
		if idx, _, ok := payloadFrom(p.Payload); ok {
			out = append(out, idx)
		}
	}
	return out
}

// counterValue reads a counter or gauge from reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return sum
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// testCounter reads a prometheus counter that is registered nowhere.
func testCounter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// allocsPerRun is testing.AllocsPerRun after a garbage collection. It counts the
// whole process's allocations: a collection that a test's setup left due and that
// starts inside the measured runs counts the runtime's own (its mark workers, the
// finalizers of the setup's garbage), a few hundred at once, as the code's.
func allocsPerRun(runs int, f func()) float64 {
	runtime.GC()
	return testing.AllocsPerRun(runs, f)
}
