// Package sfutest is the client side of internal/sfu for tests: a pion WebRTC client
// on loopback that answers the server's offer the way a browser does, sends
// Opus-shaped RTP with an RFC 6464 audio level on its microphone, and records what
// arrives in each of its slots.
//
// It does not import sfu, so that sfu's own tests can use it.
package sfutest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// audioLevelURI is RFC 6464's header extension (https://www.rfc-editor.org/rfc/rfc6464).
const audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// Packet is one RTP packet received in a slot.
type Packet struct {
	Seq      uint16
	TS       uint32
	SSRC     uint32
	Marker   bool
	Payload  []byte
	HasLevel bool
	Level    uint8 // RFC 6464 level, 0 loudest to 127 silence
	At       time.Time
}

// Options change how a Client connects.
type Options struct {
	// Trickle answers without candidates: take them from Candidates and pass them
	// to the server one by one.
	Trickle bool
	// TCP connects over ICE-TCP only (the client's candidates are active TCP ones).
	TCP bool
}

// Client is one participant's browser, played by pion.
type Client struct {
	opts      Options
	pc        *webrtc.PeerConnection
	udp       net.PacketConn // the client's own socket, closed by Vanish
	tap       *tapConn       // udp as the client's ICE agent uses it
	mic       *webrtc.TrackLocalStaticRTP
	connected chan struct{}
	gathered  <-chan struct{}
	readers   sync.WaitGroup

	sendMu  sync.Mutex
	levelID uint8
	seq     uint16
	ts      uint32

	mu     sync.Mutex
	closed bool
	slots  [][]Packet
	slotOf map[*webrtc.RTPReceiver]int
	cands  []webrtc.ICECandidateInit
}

// New returns a Client on loopback.
func New(opts Options) (*Client, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1;usedtx=1",
		},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: audioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	logs := &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled}
	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	c := &Client{opts: opts, connected: make(chan struct{}), slotOf: make(map[*webrtc.RTPReceiver]int)}
	if opts.TCP {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return nil, err
		}
		c.udp = conn
		c.tap = &tapConn{UDPConn: conn}
		se.SetICEUDPMux(webrtc.NewICEUDPMux(logs.NewLogger("udpmux"), c.tap))
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		if c.udp != nil {
			_ = c.udp.Close()
		}
		return nil, err
	}
	c.pc = pc
	c.mic, err = webrtc.NewTrackLocalStaticRTP(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "mic")
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	var once sync.Once
	pc.OnConnectionStateChange(func(webrtc.PeerConnectionState) {
		if pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(c.connected) })
		}
	})
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			c.mu.Lock()
			c.cands = append(c.cands, cand.ToJSON())
			c.mu.Unlock()
		}
	})
	pc.OnTrack(c.read)
	return c, nil
}

// Answer applies the server's offer and returns the answer: the K sendonly m-lines
// become the client's slots, in order, and the recvonly one its microphone. Unless
// Options.Trickle, the answer holds all the client's candidates.
func (c *Client) Answer(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if err := c.pc.SetRemoteDescription(offer); err != nil {
		return webrtc.SessionDescription{}, err
	}
	trs := c.pc.GetTransceivers()
	if len(trs) < 2 {
		return webrtc.SessionDescription{}, fmt.Errorf("sfutest: %d m-lines in the offer", len(trs))
	}
	c.mu.Lock()
	c.slots = make([][]Packet, len(trs)-1)
	for i, tr := range trs[:len(trs)-1] {
		c.slotOf[tr.Receiver()] = i
	}
	c.mu.Unlock()
	sender, err := c.pc.AddTrack(c.mic) // takes the recvonly m-line, as a browser's replaceTrack would
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	if trs[len(trs)-1].Sender() != sender {
		return webrtc.SessionDescription{}, errors.New("sfutest: the microphone did not take the last m-line")
	}
	go func() { // the server's receiver reports, unread, would fill a buffer
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	c.gathered = webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(answer); err != nil {
		return webrtc.SessionDescription{}, err
	}
	for _, h := range sender.GetParameters().HeaderExtensions {
		if h.URI == audioLevelURI {
			c.sendMu.Lock()
			c.levelID = uint8(h.ID)
			c.sendMu.Unlock()
		}
	}
	if c.opts.Trickle {
		return answer, nil
	}
	select {
	case <-c.gathered:
	case <-ctx.Done():
		return webrtc.SessionDescription{}, ctx.Err()
	}
	return *c.pc.LocalDescription(), nil
}

// Candidates waits for the client's candidate gathering to finish and returns them.
func (c *Client) Candidates(ctx context.Context) ([]webrtc.ICECandidateInit, error) {
	if c.gathered == nil {
		return nil, errors.New("sfutest: Candidates before Answer")
	}
	select {
	case <-c.gathered:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]webrtc.ICECandidateInit(nil), c.cands...), nil
}

// AddCandidate adds a candidate of the server.
func (c *Client) AddCandidate(cand webrtc.ICECandidateInit) error {
	return c.pc.AddICECandidate(cand)
}

// Connected is closed once the connection is up.
func (c *Client) Connected() <-chan struct{} { return c.connected }

// Send sends one 20 ms Opus packet with the given payload and RFC 6464 level.
func (c *Client) Send(payload []byte, level uint8) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	pkt := &rtp.Packet{
		Header:  rtp.Header{Version: 2, SequenceNumber: c.seq, Timestamp: c.ts},
		Payload: payload,
	}
	if c.levelID != 0 {
		if err := pkt.Header.SetExtension(c.levelID, []byte{level & 0x7F}); err != nil {
			return err
		}
	}
	c.seq++
	c.ts += 960
	return c.mic.WriteRTP(pkt)
}

// read records the packets of one slot.
func (c *Client) read(track *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	c.mu.Lock()
	slot, ok := c.slotOf[r]
	if !ok || c.closed {
		c.mu.Unlock()
		return
	}
	c.readers.Add(1) // under mu, so never concurrently with the Wait of Close
	c.mu.Unlock()
	defer c.readers.Done()
	var levelID uint8
	for _, h := range r.GetParameters().HeaderExtensions {
		if h.URI == audioLevelURI {
			levelID = uint8(h.ID)
		}
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		got := Packet{
			Seq: pkt.SequenceNumber, TS: pkt.Timestamp, SSRC: pkt.SSRC, Marker: pkt.Marker,
			Payload: append([]byte(nil), pkt.Payload...), At: time.Now(),
		}
		if b := pkt.Header.GetExtension(levelID); levelID != 0 && len(b) > 0 {
			got.HasLevel, got.Level = true, b[0]&0x7F
		}
		c.mu.Lock()
		c.slots[slot] = append(c.slots[slot], got)
		c.mu.Unlock()
	}
}

// Received returns a copy of the packets received so far in a slot.
func (c *Client) Received(slot int) []Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if slot < 0 || slot >= len(c.slots) {
		return nil
	}
	return append([]Packet(nil), c.slots[slot]...)
}

// Slots returns how many slots the offer had.
func (c *Client) Slots() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.slots)
}

// Vanish closes the client's socket without a word, as when a phone loses its
// network: the server hears nothing more, not even a DTLS close. UDP only.
func (c *Client) Vanish() error {
	if c.udp == nil {
		return errors.New("sfutest: Vanish needs UDP")
	}
	return c.udp.Close()
}

// StopSending drops everything the client sends from now on (its checks, its RTP,
// its DTLS), while it still receives: an uplink that failed, or a client that
// went away leaving its address to someone else. UDP only.
func (c *Client) StopSending() error {
	if c.tap == nil {
		return errors.New("sfutest: StopSending needs UDP")
	}
	c.tap.mute.Store(true)
	return nil
}

// MediaDatagrams returns how many SRTP and SRTCP datagrams (RFC 7983: first byte
// 128 to 191) have reached the client's socket, whether or not its WebRTC stack
// accepted them. UDP only: 0 over TCP.
func (c *Client) MediaDatagrams() int64 {
	if c.tap == nil {
		return 0
	}
	return c.tap.media.Load()
}

// ResendRTP sends again, from the client's socket to where it went, an SRTP packet
// the client sent, as it went on the wire: back 0 is the last one, 1 the one
// before, up to 255. It is what anyone on the path could replay. UDP only.
func (c *Client) ResendRTP(back int) error {
	if c.tap == nil {
		return errors.New("sfutest: ResendRTP needs UDP")
	}
	c.tap.mu.Lock()
	if back < 0 || back >= min(c.tap.n, len(c.tap.sent)) {
		c.tap.mu.Unlock()
		return fmt.Errorf("sfutest: %d RTP packets sent, none %d back", c.tap.n, back)
	}
	s := c.tap.sent[(c.tap.n-1-back)%len(c.tap.sent)]
	c.tap.mu.Unlock()
	_, err := c.tap.UDPConn.WriteTo(s.pkt, s.to)
	return err
}

// tapConn is the client's UDP socket with a tap: it counts the media that
// arrives, keeps copies of the last RTP packets sent, and can drop every write.
// (pion's mux takes its own path around ReadFrom and WriteTo only for a bare
// *net.UDPConn.)
type tapConn struct {
	*net.UDPConn
	mute  atomic.Bool
	media atomic.Int64

	mu   sync.Mutex
	sent [256]sentPacket // a ring of the last RTP packets written
	n    int             // RTP packets written so far
}

type sentPacket struct {
	pkt []byte
	to  net.Addr
}

func (t *tapConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := t.UDPConn.ReadFrom(b)
	if n > 0 && b[0] >= 128 && b[0] <= 191 {
		t.media.Add(1)
	}
	return n, from, err
}

func (t *tapConn) WriteTo(b []byte, to net.Addr) (int, error) {
	if t.mute.Load() {
		return len(b), nil // lost on the way
	}
	if len(b) > 1 && b[0] >= 128 && b[0] <= 191 && (b[1] < 192 || b[1] > 223) { // RTP, not RTCP (RFC 5761 §4)
		t.mu.Lock()
		t.sent[t.n%len(t.sent)] = sentPacket{pkt: append([]byte(nil), b...), to: to}
		t.n++
		t.mu.Unlock()
	}
	return t.UDPConn.WriteTo(b, to)
}

// Close closes the connection and waits for its read loops.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	err := c.pc.Close()
	c.readers.Wait()
	if c.udp != nil {
		_ = c.udp.Close()
	}
	return err
}

// PeerState is the state of the client's peer connection: a server that closes
// the connection (a removed participant) shows as closed, failed or disconnected.
func (c *Client) PeerState() webrtc.PeerConnectionState { return c.pc.ConnectionState() }
