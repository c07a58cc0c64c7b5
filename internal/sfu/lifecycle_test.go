package sfu

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/townhall/townhall/internal/sfu/sfutest"
)

func TestMutedSpeakerIsNotHeardAfterSetAllowedReturns(t *testing.T) {
	e, reg := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	sp := join(t, e, f, "speaker", sfutest.Options{})
	ctrl := join(t, e, f, "control", sfutest.Options{})
	intruder := join(t, e, f, "intruder", sfutest.Options{})
	listeners := []*participant{join(t, e, f, "l1", sfutest.Options{}), join(t, e, f, "l2", sfutest.Options{}), ctrl, intruder}
	f.SetAllowed("speaker", true)
	f.SetAllowed("control", true)
	s := startSpeaking(t, sp, 1, 30)
	c := startSpeaking(t, ctrl, 2, 30)
	x := startSpeaking(t, intruder, 3, 0) // the loudest of all, and never allowed

	for _, l := range listeners[:2] {
		waitFor(t, 10*time.Second, l.id+" hears the speaker and the control", func() bool {
			heard := slotsHeard(l.client)
			return strings.Contains(string(heard), "\x01") && strings.Contains(string(heard), "\x02")
		})
	}
	x.halt()
	if n := counterValue(t, reg, "townhall_rtp_dropped_unauthorized_total"); n == 0 {
		t.Fatalf("the intruder's packets were not counted as unauthorized drops")
	}

	dropped := counterValue(t, reg, "townhall_rtp_dropped_unauthorized_total")
	f.SetAllowed("speaker", false)
	// The packet being written as SetAllowed returned may have been forwarded; any
	// later one was sent after the barrier.
	last := s.sent.Load() + 1

	waitFor(t, 10*time.Second, "the server drops 25 packets of the muted speaker", func() bool {
		return counterValue(t, reg, "townhall_rtp_dropped_unauthorized_total") >= dropped+25
	})
	flush := c.sent.Load() + 10
	for _, l := range listeners[:2] {
		waitFor(t, 10*time.Second, l.id+" hears 10 more packets of the control", func() bool {
			for slot := 0; slot < f.Slots(); slot++ {
				for _, p := range l.client.Received(slot) {
					if idx, n, _ := payloadFrom(p.Payload); idx == 2 && n >= flush {
						return true
					}
				}
			}
			return false
		})
	}
	for _, l := range listeners {
		for slot := 0; slot < f.Slots(); slot++ {
			for _, p := range l.client.Received(slot) {
				idx, n, _ := payloadFrom(p.Payload)
				if idx == 1 && n > last {
					t.Errorf("%s heard packet %d of the muted speaker, sent after SetAllowed returned (last allowed: %d)", l.id, n, last)
				}
				if idx == 3 {
					t.Fatalf("%s heard the intruder, who was never allowed", l.id)
				}
			}
		}
	}
}

func TestClosingFreesEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	e, reg := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	a := join(t, e, f, "a", sfutest.Options{})
	b := join(t, e, f, "b", sfutest.Options{})
	f.SetAllowed("a", true)
	s := startSpeaking(t, a, 1, 20)
	waitFor(t, 10*time.Second, "b hears a", func() bool { return slotsHeard(b.client)[0] == 1 })

	if err := a.peer.Close(); err != nil {
		t.Fatalf("close a: %v", err)
	}
	s.halt()
	f.assignMu.RLock()
	inSlot := slicesIndex(f.sel.slots, a.peer.m) >= 0 || f.sel.alt == a.peer.m
	f.assignMu.RUnlock()
	if inSlot {
		t.Errorf("a is still in a slot after its Peer closed")
	}
	if rxs := *f.rxs.Load(); len(rxs) != 1 || rxs[0].m.id != "b" {
		t.Errorf("receivers after a closed: %d, want only b", len(rxs))
	}
	if got := counterValue(t, reg, "townhall_sfu_peers"); got != 1 {
		t.Errorf("peers gauge: %v, want 1", got)
	}
	f.mu.Lock()
	_, kept := f.members["a"]
	f.mu.Unlock()
	if !kept {
		t.Errorf("a's permission was dropped with its Peer; it should wait for a new Peer")
	}
	f.SetAllowed("a", false)
	f.mu.Lock()
	_, kept = f.members["a"]
	f.mu.Unlock()
	if kept {
		t.Errorf("a is still a member after it left and was disallowed")
	}

	_ = b.peer.Close()
	_ = a.client.Close()
	_ = b.client.Close()
	f.Close()
	if err := e.Close(); err != nil {
		t.Errorf("engine close: %v", err)
	}
	if got := counterValue(t, reg, "townhall_sfu_peers"); got != 0 {
		t.Errorf("peers gauge after close: %v", got)
	}
	waitFor(t, 15*time.Second, "goroutines back to the baseline", func() bool {
		return runtime.NumGoroutine() <= base
	})
	t.Logf("goroutines: %d at the start, %d at the end", base, runtime.NumGoroutine())
}

// slicesIndex is slices.Index for members (kept local: tests read locked fields).
func slicesIndex(s []*member, m *member) int {
	for i, x := range s {
		if x == m {
			return i
		}
	}
	return -1
}

func TestPeerIsClosedWhenItsClientVanishes(t *testing.T) {
	e, reg := newTestEngine(t, func(c *Config) { c.DisconnectTimeout = time.Second })
	f := newTestForwarder(t, e)
	a := join(t, e, f, "a", sfutest.Options{})
	b := join(t, e, f, "b", sfutest.Options{})
	f.SetAllowed("b", true)
	startSpeaking(t, b, 2, 20)
	waitFor(t, 10*time.Second, "a hears b", func() bool { return slotsHeard(a.client)[0] == 2 })

	if err := b.client.Vanish(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.peer.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("the Peer of a vanished client is still open (state %s)", b.peer.State())
	}
	waitFor(t, 5*time.Second, "onState(closed)", func() bool { return b.sawState(StateClosed) })
	if got := b.peer.State(); got != StateClosed {
		t.Errorf("state %s, want closed", got)
	}
	if rxs := *f.rxs.Load(); len(rxs) != 1 || rxs[0].m.id != "a" {
		t.Errorf("receivers: %d, want only a", len(rxs))
	}
	if got := counterValue(t, reg, "townhall_sfu_peers"); got != 1 {
		t.Errorf("peers gauge: %v, want 1", got)
	}
}

func TestPeerThatNeverConnectsIsClosed(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.ConnectTimeout = 300 * time.Millisecond })
	f := newTestForwarder(t, e)
	p, err := e.NewPeer("a", f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Offer(testContext(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("a Peer without an answer is still open")
	}
	if _, err := e.NewPeer("a", f, nil, nil); err != nil {
		t.Errorf("a new Peer for the same participant: %v", err)
	}
}

func TestSignalingOutOfOrderIsRefused(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	ctx := testContext(t)
	p, err := e.NewPeer("a", f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	client, err := sfutest.New(sfutest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	cand := webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"}
	fakeAnswer := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: "v=0\r\n"}

	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	check("an answer before the offer", p.SetAnswer(fakeAnswer), ErrOutOfOrder)
	check("a candidate before the offer", p.AddCandidate(cand), ErrOutOfOrder)
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Offer(ctx)
	check("a second offer", err, ErrOutOfOrder)
	check("a candidate before the answer", p.AddCandidate(cand), ErrOutOfOrder)
	answer, err := client.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetAnswer(answer); err != nil {
		t.Fatalf("the answer: %v", err)
	}
	check("a second answer", p.SetAnswer(answer), ErrOutOfOrder)
	check("a huge candidate", p.AddCandidate(webrtc.ICECandidateInit{Candidate: strings.Repeat("x", 2000)}), ErrBadCandidate)
	check("a garbage candidate", p.AddCandidate(webrtc.ICECandidateInit{Candidate: "candidate:garbage"}), ErrBadCandidate)
	_, err = e.NewPeer("a", f, nil, nil)
	check("a second Peer for one participant", err, ErrDuplicatePeer)
	select {
	case <-client.Connected():
	case <-time.After(10 * time.Second):
		t.Fatal("no connection")
	}

	if err := p.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	check("an answer after close", p.SetAnswer(answer), ErrClosed)
	check("a candidate after close", p.AddCandidate(cand), ErrClosed)
	_, err = p.Offer(ctx)
	check("an offer after close", err, ErrClosed)
	f.Close()
	_, err = e.NewPeer("b", f, nil, nil)
	check("a Peer in a closed room", err, ErrClosed)
}

func TestTrickledClientOverICETCP(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	sp := join(t, e, f, "speaker", sfutest.Options{})
	l := join(t, e, f, "tcp-listener", sfutest.Options{Trickle: true, TCP: true})
	f.SetAllowed("speaker", true)
	startSpeaking(t, sp, 1, 30)
	waitFor(t, 10*time.Second, "the TCP listener hears the speaker", func() bool {
		return len(heard(l.client, 0)) >= 25
	})
	checkContinuous(t, l.id, 0, l.client.Received(0))
	proto, port := selectedPath(t, l.peer)
	if proto != webrtc.ICEProtocolTCP || port != e.TCPAddr().Port {
		t.Errorf("the listener's media goes over %s port %d, want TCP port %d", proto, port, e.TCPAddr().Port)
	}
}

func TestOnStateMayCloseThePeer(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	ctx := testContext(t)
	var p *Peer
	var states []State
	p, err := e.NewPeer("a", f, nil, func(s State) {
		states = append(states, s) // onState calls are never concurrent
		if s == StateConnecting {
			_ = p.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := sfutest.New(sfutest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := client.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if got := fmt.Sprint(states); got != "[connecting closed]" {
		t.Errorf("states %s, want [connecting closed]", got)
	}
}
