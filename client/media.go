package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// The errors of Media.
var (
	// ErrSecondOffer is returned by Handle for an offer after the first: the server
	// negotiates a room socket's audio once (a reconnection is a new socket and
	// needs a new Media).
	ErrSecondOffer = errors.New("townhall: a second audio offer on one socket")
	// ErrBadOffer is returned by Handle for an offer that is not the server's
	// audio offer: K sendonly slots and one recvonly microphone m-line.
	ErrBadOffer = errors.New("townhall: not a townhall audio offer")
	// ErrNoOffer is returned by what needs the offer (a candidate, Play) when the
	// server has not sent it.
	ErrNoOffer = errors.New("townhall: no audio offer yet")
	// ErrMediaClosed is returned by Media's methods after Close, and by Play when
	// the connection has failed.
	ErrMediaClosed = errors.New("townhall: audio connection closed")
)

// AudioLevelURI is the RTP header extension of RFC 6464 (client-to-mixer audio
// level). townhall's server gives a slot only to packets that carry it.
//
// https://www.rfc-editor.org/rfc/rfc6464
const AudioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// MediaOptions configure the audio of a room socket.
type MediaOptions struct {
	// LoopbackOnly gathers only 127.0.0.1 candidates, accepts only loopback
	// remotes and sends no mDNS, to match a server run with --rtc-loopback-only
	// (tests, a demo on one machine).
	LoopbackOnly bool
	// RecordPath, if set, records each slot to its own Ogg Opus file: slot 0 to
	// RecordPath, slot i to SlotPath(RecordPath, i). A slot's file is created when
	// its first packet arrives: a slot nobody spoke in leaves no file. Close
	// finishes the files.
	RecordPath string
	// Recording, if set, is where the slots are counted and recorded instead
	// (RecordPath is then unused): the Medias of the successive sockets of one
	// stay in a room pass the same one, so that each slot's file goes on across
	// reconnections. Close leaves it open for the next Media.
	Recording *Recording
	// OnActiveSpeakers, if set, is called by Handle with each active_speakers
	// message. It must not block.
	OnActiveSpeakers func([]ActiveSlot)
}

// ActiveSlot is one slot of an active_speakers message: who is heard in it and how
// loud (0 to 1).
type ActiveSlot struct {
	Slot     int     `json:"slot"`
	UserID   string  `json:"user_id"`
	Level    float64 `json:"level"`
	Speaking bool    `json:"speaking"`
}

// Media is the audio of one room socket, played by a pion PeerConnection: it
// answers the server's offer, sends a microphone (Play) and receives the K slots,
// the loudest speakers of the room, recording each and counting what arrives.
//
// Media does not read the socket: its reader passes every message to Handle, which
// takes the audio ones (offer, candidate, active_speakers) and says so.
//
//	m, err := client.NewMedia(sock, client.MediaOptions{RecordPath: "out.ogg"})
//	defer m.Close()
//	for msg := range sock.Messages() {
//		if ok, err := m.Handle(ctx, msg); ok {
//			...
//		}
//	}
//
// Locks, in the order they are taken: Media.mu, then Recording.mu, then a
// slotRecorder's mu.
type Media struct {
	sock   *Socket
	opts   MediaOptions
	pc     *webrtc.PeerConnection
	mic    *webrtc.TrackLocalStaticRTP
	rec    *Recording // opts.Recording, or the Media's own
	ownRec bool       // rec is the Media's own: Close finishes it

	connected chan struct{} // closed once ICE and DTLS are up
	broken    chan struct{} // closed when the connection failed or closed
	answered  chan struct{} // closed once the server took the answer
	kick      chan struct{} // a candidate is waiting to be sent
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // every goroutine Media starts

	mu       sync.Mutex // guards the fields below
	closed   bool
	offered  bool
	pending  []webrtc.ICECandidateInit // gathered, not yet sent
	slots    []slotTap
	slotOf   map[*webrtc.RTPReceiver]slotTap
	levelID  uint8 // the audio level extension's ID on the microphone, 0 if none
	active   []ActiveSlot
	trickErr error // the first refused candidate

	play player // the microphone's RTP state, owned by Play
}

// NewMedia prepares the audio of the room socket s; nothing is sent until the
// server's offer comes to Handle. Close it when done.
func NewMedia(s *Socket, opts MediaOptions) (*Media, error) {
	api, err := newMediaAPI(opts)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("townhall: audio: %w", err)
	}
	mic, err := webrtc.NewTrackLocalStaticRTP(opusCapability(), "mic", "townhall")
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("townhall: audio: %w", err)
	}
	m := &Media{
		sock: s, opts: opts, pc: pc, mic: mic, rec: opts.Recording,
		connected: make(chan struct{}), broken: make(chan struct{}), answered: make(chan struct{}),
		kick: make(chan struct{}, 1), done: make(chan struct{}),
		slotOf: make(map[*webrtc.RTPReceiver]slotTap),
	}
	if m.rec == nil {
		m.rec, m.ownRec = NewRecording(opts.RecordPath), true
	}
	var upOnce, downOnce sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			upOnce.Do(func() { close(m.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			downOnce.Do(func() { close(m.broken) })
		}
	})
	pc.OnICECandidate(m.gathered)
	pc.OnTrack(m.receive)
	m.wg.Add(1)
	go m.trickle()
	return m, nil
}

// opusCapability is what townhall's server offers: Opus (RFC 7587) at 48 kHz; the
// SDP always says 2 channels, whatever is sent.
func opusCapability() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
}

// newMediaAPI builds the pion API of one Media: Opus and the audio level extension
// only, RTCP reports, and the network settings of opts.
func newMediaAPI(opts MediaOptions) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCapability(), PayloadType: 111},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("townhall: audio: %w", err)
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("townhall: audio: %w", err)
	}
	ir := &interceptor.Registry{}
	// Sender and receiver reports (RFC 3550 §6.4) only: no NACK or TWCC for audio.
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("townhall: audio: %w", err)
	}
	se := webrtc.SettingEngine{
		LoggerFactory: &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled},
	}
	// The server's candidates carry real addresses: mDNS would only add multicast
	// traffic.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if opts.LoopbackOnly {
		// As the server's --rtc-loopback-only: without the loopback candidate ICE
		// never leaves "new" on a machine whose only path to the server is 127.0.0.1;
		// the filters keep the whole path there.
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}

// audioMessage holds the fields of the audio messages of the room socket.
type audioMessage struct {
	SDP       string           `json:"sdp"`
	Candidate *candidateFields `json:"candidate"`
	Slots     []ActiveSlot     `json:"slots"`
}

// candidateFields is a trickled ICE candidate as the room socket carries it (RFC
// 8839 §5.1's candidate-attribute, and the m-line it belongs to). The server
// refuses unknown fields, so pion's ICECandidateInit (with usernameFragment) is
// not sent as is.
type candidateFields struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

// Handle takes the audio messages of the room socket: the server's offer (which it
// answers, then trickles its candidates), the server's candidates, and
// active_speakers. It reports whether msg was one of them; err says what went wrong
// with it. Other messages are left to the caller.
func (m *Media) Handle(ctx context.Context, msg Message) (bool, error) {
	switch msg.Type {
	case "offer", "candidate", "active_speakers":
	default:
		return false, nil
	}
	var a audioMessage
	if err := json.Unmarshal(msg.Raw, &a); err != nil {
		return true, fmt.Errorf("townhall: %s message: %w", msg.Type, err)
	}
	switch msg.Type {
	case "offer":
		return true, m.answer(ctx, a.SDP)
	case "candidate":
		if a.Candidate == nil {
			return true, errors.New("townhall: candidate message without a candidate")
		}
		select {
		case <-m.answered:
		default:
			return true, ErrNoOffer
		}
		return true, m.pc.AddICECandidate(webrtc.ICECandidateInit{
			Candidate: a.Candidate.Candidate, SDPMid: a.Candidate.SDPMid, SDPMLineIndex: a.Candidate.SDPMLineIndex,
		})
	default:
		m.activeSpeakers(a.Slots, time.Now())
		return true, nil
	}
}

// answer applies the server's offer and sends the answer: the K sendonly m-lines
// become the slots, in order, and the recvonly one carries the microphone.
func (m *Media) answer(ctx context.Context, sdp string) error {
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return ErrMediaClosed
	case m.offered:
		m.mu.Unlock()
		return ErrSecondOffer
	}
	m.offered = true
	m.mu.Unlock()

	if err := m.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	trs := m.pc.GetTransceivers()
	if len(trs) < 2 {
		return fmt.Errorf("%w: %d m-lines, want slots and a microphone", ErrBadOffer, len(trs))
	}
	k := len(trs) - 1
	for i, tr := range trs {
		if tr.Kind() != webrtc.RTPCodecTypeAudio || tr.Mid() != strconv.Itoa(i) {
			return fmt.Errorf("%w: m-line %d is %s with mid %q", ErrBadOffer, i, tr.Kind(), tr.Mid())
		}
		if i < k && tr.Direction() != webrtc.RTPTransceiverDirectionRecvonly {
			return fmt.Errorf("%w: slot %d is %s, want sendonly on the server's side", ErrBadOffer, i, tr.Direction())
		}
	}
	sender, err := m.pc.AddTrack(m.mic) // takes the recvonly m-line, as a browser's replaceTrack would
	if err != nil {
		return fmt.Errorf("townhall: audio: %w", err)
	}
	if trs[k].Sender() != sender {
		return fmt.Errorf("%w: the microphone did not take the last m-line", ErrBadOffer)
	}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrMediaClosed
	}
	m.slots = m.rec.attach(k)
	for i, tr := range trs[:k] {
		m.slotOf[tr.Receiver()] = m.slots[i]
	}
	// The server sends who is heard now right after the snapshot, before the
	// offer: it holds until the next change, which may be long in coming.
	now := time.Now()
	for _, a := range m.active {
		if a.Slot >= 0 && a.Slot < k {
			m.slots[a.Slot].occupy(a.UserID, a.Speaking, now)
		}
	}
	// RTCP comes to every sender and receiver; unread it would fill their buffers.
	m.wg.Add(1 + k)
	go m.drain(sender.Read)
	for _, tr := range trs[:k] {
		go m.drain(tr.Receiver().Read)
	}
	m.mu.Unlock()

	answer, err := m.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("townhall: audio answer: %w", err)
	}
	if err := m.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("townhall: audio answer: %w", err)
	}
	for _, h := range sender.GetParameters().HeaderExtensions {
		if h.URI == AudioLevelURI {
			m.mu.Lock()
			m.levelID = uint8(h.ID)
			m.mu.Unlock()
		}
	}
	if err := m.sock.Command(ctx, "answer", map[string]any{"sdp": answer.SDP}); err != nil {
		return fmt.Errorf("townhall: the server refused the audio answer: %w", err)
	}
	close(m.answered)
	return nil
}

// drain reads and drops RTCP until the connection closes.
func (m *Media) drain(read func([]byte) (int, interceptor.Attributes, error)) {
	defer m.wg.Done()
	buf := make([]byte, 1500)
	for {
		if _, _, err := read(buf); err != nil {
			return
		}
	}
}

// gathered queues a local candidate for trickle (pion calls it with nil when
// gathering is complete: nothing to send then).
func (m *Media) gathered(c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	m.mu.Lock()
	m.pending = append(m.pending, c.ToJSON())
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// candidateTimeout bounds the wait for the server's ok to one candidate.
const candidateTimeout = 10 * time.Second

// trickle sends the gathered candidates, once the server has the answer (it takes
// no candidate before), until Close.
func (m *Media) trickle() {
	defer m.wg.Done()
	select {
	case <-m.answered:
	case <-m.done:
		return
	}
	for {
		m.mu.Lock()
		batch := m.pending
		m.pending = nil
		m.mu.Unlock()
		for _, c := range batch {
			if err := m.sendCandidate(c); err != nil {
				m.mu.Lock()
				if m.trickErr == nil {
					m.trickErr = err
				}
				m.mu.Unlock()
			}
		}
		select {
		case <-m.kick:
		case <-m.done:
			return
		}
	}
}

// sendCandidate sends one candidate and waits for the server's ok, or Close.
func (m *Media) sendCandidate(c webrtc.ICECandidateInit) error {
	ctx, cancel := context.WithTimeout(context.Background(), candidateTimeout)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-m.done:
			cancel()
		case <-stop:
		}
	}()
	return m.sock.Command(ctx, "candidate", map[string]any{
		"candidate": candidateFields{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex},
	})
}

// Connected is closed once the audio connection is up (ICE and DTLS).
func (m *Media) Connected() <-chan struct{} { return m.connected }

// Broken is closed when the audio connection has failed or closed.
func (m *Media) Broken() <-chan struct{} { return m.broken }

// WaitConnected waits until the audio connection is up, it fails, or ctx is done.
func (m *Media) WaitConnected(ctx context.Context) error {
	select {
	case <-m.connected:
		return nil
	case <-m.broken:
		return ErrMediaClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err reports the first candidate the server refused, if any: the connection may
// still come up on another one.
func (m *Media) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.trickErr
}

// Slots returns K, the number of slots of the server's offer (0 before it).
func (m *Media) Slots() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.slots)
}

// ActiveSpeakers returns the last active_speakers report.
func (m *Media) ActiveSpeakers() []ActiveSlot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]ActiveSlot(nil), m.active...)
}

// activeSpeakers notes who the server says is in each slot.
func (m *Media) activeSpeakers(slots []ActiveSlot, now time.Time) {
	m.mu.Lock()
	m.active = append(m.active[:0], slots...)
	for _, s := range slots {
		if s.Slot >= 0 && s.Slot < len(m.slots) {
			m.slots[s.Slot].occupy(s.UserID, s.Speaking, now)
		}
	}
	m.mu.Unlock()
	if f := m.opts.OnActiveSpeakers; f != nil {
		f(append([]ActiveSlot(nil), slots...))
	}
}

// Close ends the audio connection, waits for Media's goroutines and finishes the
// recordings (not a MediaOptions.Recording: the next Media goes on with it).
// Stats still answer after it.
func (m *Media) Close() error {
	var err error
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		now := time.Now()
		for _, s := range m.slots {
			s.detach(now)
		}
		m.mu.Unlock()
		close(m.done)
		err = m.pc.Close()
		m.wg.Wait()
		if m.ownRec {
			err = errors.Join(err, m.rec.Close())
		}
	})
	return err
}
