package sfu

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// State is where a Peer's connection stands, as the room layer sees it.
type State int

// The states of a Peer. A Peer goes New → Connecting → Connected, may go
// Disconnected and back to Connected, and ends Closed, exactly once.
const (
	StateNew          State = iota // created, not yet connecting
	StateConnecting                // answer applied, ICE and DTLS under way
	StateConnected                 // media flows
	StateDisconnected              // connectivity lost; closed unless it is back within DisconnectTimeout
	StateClosed                    // closed by Close, a timeout, ICE failure or the client
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// phase is the signaling step a Peer is at.
type phase int

const (
	phaseNew      phase = iota // no offer yet
	phaseOffering              // Offer running
	phaseOffered               // offer out, waiting for the answer
	phaseAnswered              // answer applied: candidates welcome
	phaseClosed
)

// Peer is the media connection of one participant in one room: a PeerConnection
// whose offer, made by the server, has K sendonly audio m-lines (the slots, mids
// "0" to "K-1", each its own SSRC) and one recvonly audio m-line for the
// participant's microphone (mid "K"). It is negotiated once and never again: going
// on stage or off it is the client's replaceTrack on its microphone sender and the
// room layer's Forwarder.SetAllowed, never a new offer.
type Peer struct {
	id          string
	e           *Engine
	f           *Forwarder
	m           *member
	rx          *receiver
	pc          *webrtc.PeerConnection // the pion transport
	lean        *leanConn              // or the lean one
	mic         *webrtc.RTPTransceiver
	onCandidate func(webrtc.ICECandidateInit)
	onState     func(State)
	reading     atomic.Bool // the microphone's read loop has started

	mu         sync.Mutex // guards the fields below
	phase      phase
	state      State
	timer      *time.Timer
	candidates int     // remote candidates so far
	pending    []State // changes not yet told to onState
	notifying  bool    // a goroutine is telling onState

	closeOnce sync.Once
	done      chan struct{}
}

// NewPeer makes the media connection of participant id in room. onCandidate gets
// the server's late ICE candidates (in practice none: the offer holds them all) and
// is never called before Offer has returned; onState gets every change of State,
// ending with StateClosed. Both run on pion's goroutines and must not block; either
// may be nil. onState may call Close. A participant has at most one open Peer per Forwarder.
func (e *Engine) NewPeer(id string, room *Forwarder, onCandidate func(webrtc.ICECandidateInit), onState func(State)) (*Peer, error) {
	if id == "" || room == nil {
		return nil, fmt.Errorf("sfu: NewPeer needs an ID and a Forwarder")
	}
	if onCandidate == nil {
		onCandidate = func(webrtc.ICECandidateInit) {}
	}
	if onState == nil {
		onState = func(State) {}
	}
	m, err := room.join(id)
	if err != nil {
		return nil, err
	}
	p := &Peer{id: id, e: e, f: room, m: m, onCandidate: onCandidate, onState: onState, done: make(chan struct{})}
	build := p.build
	if e.lean != nil {
		build = p.buildLean
	}
	if err := build(); err != nil {
		room.leave(m)
		p.closeTransport()
		return nil, err
	}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		room.leave(m)
		p.closeTransport()
		return nil, ErrClosed
	}
	e.peers[p] = struct{}{}
	e.metrics.peers.Inc()
	e.mu.Unlock()

	p.mu.Lock()
	p.timer = time.AfterFunc(e.cfg.ConnectTimeout, p.timeout)
	p.mu.Unlock()
	return p, nil
}

// build makes the PeerConnection, its K slot senders and its microphone receiver.
func (p *Peer) build() error {
	pc, err := p.e.api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return fmt.Errorf("sfu: new peer connection: %w", err)
	}
	p.pc = pc
	k := p.f.slots
	tracks := make(pionSlots, k)
	p.rx = newReceiver(p.m, tracks, k)
	for i := range tracks {
		tracks[i] = newSlotTrack(i, &p.rx.slots[i].levelID)
		tr, err := pc.AddTransceiverFromTrack(tracks[i], webrtc.RTPTransceiverInit{
			Direction: webrtc.RTPTransceiverDirectionSendonly,
		})
		if err != nil {
			return fmt.Errorf("sfu: slot %d: %w", i, err)
		}
		go drainRTCP(tr.Sender().Read)
	}
	p.mic, err = pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{
		Direction: webrtc.RTPTransceiverDirectionRecvonly,
	})
	if err != nil {
		return fmt.Errorf("sfu: microphone: %w", err)
	}
	go drainRTCP(p.mic.Receiver().Read)

	pc.OnICECandidate(p.handleCandidate)
	pc.OnConnectionStateChange(p.handleState)
	pc.OnTrack(p.handleTrack)
	return nil
}

// buildLean makes the Peer's connection on the lean transport.
func (p *Peer) buildLean() error {
	k := p.f.slots
	p.rx = newReceiver(p.m, nil, k)
	c, err := newLeanConn(p.e.lean, p, k)
	if err != nil {
		return err
	}
	p.lean = c
	p.rx.lean = c
	return nil
}

// closeTransport closes the PeerConnection or the lean connection.
func (p *Peer) closeTransport() error {
	switch {
	case p.lean != nil:
		p.lean.close()
	case p.pc != nil:
		return p.pc.Close()
	}
	return nil
}

// drainRTCP reads and drops the RTCP of one sender or receiver until it closes. The
// interceptors have seen it by then; unread, it would fill a 100 kB buffer per SSRC.
func drainRTCP(read func([]byte) (int, interceptor.Attributes, error)) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := read(buf); err != nil {
			return
		}
	}
}

// ID returns the participant ID.
func (p *Peer) ID() string { return p.id }

// State returns the current State.
func (p *Peer) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Done is closed once the Peer is closed, for whatever reason, and has left its
// Forwarder.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Offer returns the server's offer, with all its ICE candidates (gathering on the
// shared ports is immediate). It is called once; ctx bounds the wait for gathering.
func (p *Peer) Offer(ctx context.Context) (webrtc.SessionDescription, error) {
	if err := p.step(phaseNew, phaseOffering); err != nil {
		return webrtc.SessionDescription{}, err
	}
	if p.lean != nil {
		sdp := p.lean.offer()
		if err := p.step(phaseOffering, phaseOffered); err != nil {
			return webrtc.SessionDescription{}, err
		}
		return webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}, nil
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-p.done:
		return webrtc.SessionDescription{}, ErrClosed
	case <-ctx.Done():
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: gathering candidates: %w", ctx.Err())
	}
	if err := p.step(phaseOffering, phaseOffered); err != nil {
		return webrtc.SessionDescription{}, err
	}
	return *p.pc.LocalDescription(), nil
}

// SetAnswer applies the client's answer, after checking it (see MaxAnswerBytes). It
// must follow Offer, once. A refused answer leaves the Peer waiting for a good one.
func (p *Peer) SetAnswer(answer webrtc.SessionDescription) error {
	if err := p.step(phaseOffered, phaseAnswered); err != nil {
		return err
	}
	n, err := validateAnswer(answer, p.f.slots+1)
	switch {
	case err != nil:
	case p.lean != nil:
		err = p.lean.setAnswer(answer.SDP)
	default:
		if err = p.pc.SetRemoteDescription(answer); err != nil {
			err = fmt.Errorf("%w: %v", ErrBadAnswer, err)
		}
	}
	if err != nil {
		_ = p.step(phaseAnswered, phaseOffered)
		return err
	}
	p.mu.Lock()
	p.candidates = n
	p.mu.Unlock()
	p.setState(StateConnecting)
	return nil
}

// AddCandidate adds one ICE candidate trickled by the client, after the answer. An
// empty candidate marks the end of the client's candidates.
func (p *Peer) AddCandidate(c webrtc.ICECandidateInit) error {
	if err := validateCandidate(c); err != nil {
		return err
	}
	p.mu.Lock()
	switch {
	case p.phase == phaseClosed:
		p.mu.Unlock()
		return ErrClosed
	case p.phase != phaseAnswered:
		p.mu.Unlock()
		return fmt.Errorf("%w: a candidate before the answer", ErrOutOfOrder)
	case p.candidates >= MaxRemoteCandidates:
		p.mu.Unlock()
		return fmt.Errorf("%w: more than %d candidates", ErrBadCandidate, MaxRemoteCandidates)
	}
	p.candidates++
	p.mu.Unlock()
	if p.lean != nil {
		// A lite agent sends no checks, so it needs no remote candidates; a
		// malformed one is refused all the same.
		if c.Candidate != "" {
			if _, err := ice.UnmarshalCandidate(c.Candidate); err != nil {
				return fmt.Errorf("%w: %v", ErrBadCandidate, err)
			}
		}
		return nil
	}
	if err := p.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %v", ErrBadCandidate, err)
	}
	return nil
}

// step moves the signaling phase from want to next, or says why it cannot.
func (p *Peer) step(want, next phase) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.phase == phaseClosed:
		return ErrClosed
	case p.phase != want:
		return fmt.Errorf("%w: %s", ErrOutOfOrder, outOfOrder(p.phase, want))
	}
	p.phase = next
	return nil
}

// outOfOrder names a signaling mistake for an error message.
func outOfOrder(have, want phase) string {
	switch {
	case want == phaseNew:
		return "a second offer: the connection is negotiated once"
	case want == phaseOffered && have < phaseOffered:
		return "an answer before the offer"
	case want == phaseOffered:
		return "a second answer"
	}
	return "a signaling step in the wrong state"
}

// Close closes the connection and removes the participant from its Forwarder's
// slots and receivers. It is idempotent and safe from any goroutine.
func (p *Peer) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.phase = phaseClosed
		if p.timer != nil {
			p.timer.Stop()
		}
		p.mu.Unlock()

		p.f.leave(p.m)
		err = p.closeTransport()

		p.e.mu.Lock()
		if _, ok := p.e.peers[p]; ok {
			delete(p.e.peers, p)
			p.e.metrics.peers.Dec()
		}
		p.e.mu.Unlock()
		p.setState(StateClosed)
		close(p.done)
	})
	return err
}

// handleCandidate passes the server's candidates gathered after Offer to the room
// layer; those gathered before are in the offer.
func (p *Peer) handleCandidate(c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	p.mu.Lock()
	late := p.phase >= phaseOffered && p.phase != phaseClosed
	p.mu.Unlock()
	if late {
		p.onCandidate(c.ToJSON())
	}
}

// handleState follows the PeerConnection. pion calls it on a new goroutine per
// change, so it reads the current state instead of trusting the order of calls.
func (p *Peer) handleState(webrtc.PeerConnectionState) {
	switch p.pc.ConnectionState() {
	case webrtc.PeerConnectionStateConnected:
		p.mediaFlows()
	case webrtc.PeerConnectionStateDisconnected:
		p.mediaStopped()
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		_ = p.Close()
	}
}

// mediaFlows is the transport's news that it is connected (again): the Peer
// receives its slots, and stops counting down to its close.
func (p *Peer) mediaFlows() {
	p.mu.Lock()
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	p.f.connect(p.m, p.rx)
	p.setState(StateConnected)
}

// mediaStopped is the transport's news that the client went silent: the Peer closes
// unless it comes back within DisconnectTimeout.
func (p *Peer) mediaStopped() {
	p.mu.Lock()
	if p.timer != nil && p.phase != phaseClosed {
		p.timer.Stop()
		p.timer = time.AfterFunc(p.e.cfg.DisconnectTimeout, p.timeout)
	}
	p.mu.Unlock()
	p.setState(StateDisconnected)
}

// connected says whether the transport is connected.
func (p *Peer) connected() bool {
	if p.lean != nil {
		return p.lean.connected()
	}
	return p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}

// timeout closes the Peer unless it is connected.
func (p *Peer) timeout() {
	if !p.connected() {
		p.e.log.Info("closing a media connection that is not connected in time", "participant", p.id)
		_ = p.Close()
	}
}

// setState records s and tells onState, once per change, in order, and nothing
// after Closed. onState runs with no lock held, so it may call back into the Peer
// (Close, typically): a change made meanwhile is queued and told after it returns.
func (p *Peer) setState(s State) {
	p.mu.Lock()
	if p.state == s || p.state == StateClosed || s != StateClosed && p.phase == phaseClosed ||
		s == StateConnecting && p.state != StateNew {
		p.mu.Unlock()
		return
	}
	p.state = s
	p.pending = append(p.pending, s)
	if p.notifying {
		p.mu.Unlock()
		return
	}
	p.notifying = true
	for len(p.pending) > 0 {
		next := p.pending[0]
		p.pending = p.pending[1:]
		p.mu.Unlock()
		p.onState(next)
		p.mu.Lock()
	}
	p.notifying = false
	p.mu.Unlock()
}

// handleTrack runs the read loop of the participant's microphone: each packet is
// read into one reused buffer and handed to the Forwarder.
func (p *Peer) handleTrack(track *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	if r != p.mic.Receiver() || track.Kind() != webrtc.RTPCodecTypeAudio || !p.reading.CompareAndSwap(false, true) {
		return
	}
	var levelID uint8
	for _, h := range r.GetParameters().HeaderExtensions {
		if h.URI == AudioLevelURI && h.ID > 0 && h.ID < 256 {
			levelID = uint8(h.ID)
		}
	}
	buf := make([]byte, 1500)
	var pkt rtpPacket
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			p.e.log.Debug("microphone read loop ends", "participant", p.id, "err", err)
			return
		}
		p.f.receive(p.m, buf[:n], levelID, &pkt)
	}
}
