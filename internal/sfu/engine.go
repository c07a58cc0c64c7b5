package sfu

import (
	"fmt"
	"github.com/townhall/townhall/internal/relay"
	"github.com/townhall/townhall/internal/shrink"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is the configuration of an Engine.
type Config struct {
	// UDPPort is the one UDP port of every peer (ICE over a UDP mux). 0 picks a
	// random port, for tests.
	UDPPort int
	// TCPPort is the one ICE-TCP port, for networks that block UDP. 0 picks a random
	// port.
	TCPPort int
	// PublicIPs replace the host's own addresses in ICE candidates, for a server
	// behind 1:1 NAT (a cloud VM with an elastic IP).
	PublicIPs []string
	// LoopbackOnly keeps everything on 127.0.0.1: listen there, gather only loopback
	// candidates, accept only loopback remotes, no mDNS. For tests.
	LoopbackOnly bool
	// Slots is K, the number of audio slots of every participant: how many speakers a
	// listener hears at once.
	Slots int
	// DisconnectTimeout is how long a peer may stay disconnected before it is
	// closed. It is disconnected after min(5 s, DisconnectTimeout) without a packet
	// on the pion transport, after 8 s on the lean one (a lite agent sends no checks
	// of its own: it hears the client's every 2.5 s, and its RTCP), or once its
	// consent expires (ConsentTimeout).
	DisconnectTimeout time.Duration
	// ConnectTimeout is how long a peer may take to connect after its offer before it
	// is closed.
	ConnectTimeout time.Duration
	// Transport is TransportLean (the default) or TransportPion.
	Transport string
	// ConsentTimeout is how long the lean transport keeps sending to a client from
	// whose address nothing authenticated came (a connectivity check signed with the
	// connection's password, an answer to a check of ours, SRTP that decrypts): RFC
	// 7675's 30 s. Then it stops, and the Peer is disconnected. The pion transport
	// keeps consent by itself.
	ConsentTimeout time.Duration
	// TCPPerIP bounds the ICE-TCP connections open at once from one IP address on
	// the lean transport: one more is closed as soon as it is accepted. 0: no bound.
	// Clients behind one NAT share it.
	TCPPerIP int
	// Relay, if set, is the node's relay to the other nodes of a cluster: the
	// Forwarders can then take part in rooms spread over nodes (SetRoute).
	Relay *relay.Relay
	// ListenerFrames is how many consecutive 20 ms Opus frames of a slot go in one
	// packet to the listeners (the receivers who may not be heard): 1 (or 0) sends
	// every 20 ms packet as it came, 2 or 3 join them into 40 or 60 ms Opus code-3
	// packets (joiner.go), which halves or thirds the packets per listener. Speakers
	// always get the 20 ms packets.
	ListenerFrames int
	// SeqStart, for tests only, starts every outbound slot stream's sequence
	// numbers at SeqStart rather than at random (RFC 3550 §5.1), so that a
	// test crosses the wrap at 65,535 within seconds. 0: random.
	SeqStart uint16
}

// The transports of an Engine.
const (
	// TransportLean is the Engine's own transport: ICE-lite, a DTLS handshake per
	// connection, then only SRTP, encrypted and sent in batches by one worker per
	// core (see leanTransport). IPv4 only.
	TransportLean = "lean"
	// TransportPion is one pion PeerConnection per participant.
	TransportPion = "pion"
)

// MaxSlots bounds Config.Slots: each slot is one m-line of every offer.
const MaxSlots = 16

// DefaultConfig returns the settings of `townhall serve`.
func DefaultConfig() Config {
	return Config{
		UDPPort:           7882,
		TCPPort:           7881,
		Slots:             3,
		DisconnectTimeout: 10 * time.Second,
		ConnectTimeout:    30 * time.Second,
		Transport:         TransportLean,
		ConsentTimeout:    30 * time.Second,
		TCPPerIP:          8,
	}
}

// Validate checks that the settings make sense.
func (c Config) Validate() error {
	switch {
	case c.UDPPort < 0 || c.UDPPort > 65535 || c.TCPPort < 0 || c.TCPPort > 65535:
		return fmt.Errorf("sfu: ports must be 0 to 65535 (UDP %d, TCP %d)", c.UDPPort, c.TCPPort)
	case c.Slots < 1 || c.Slots > MaxSlots:
		return fmt.Errorf("sfu: slots %d: want 1 to %d", c.Slots, MaxSlots)
	case c.DisconnectTimeout <= 0 || c.ConnectTimeout <= 0 || c.ConsentTimeout <= 0:
		return fmt.Errorf("sfu: timeouts must be positive")
	case c.TCPPerIP < 0:
		return fmt.Errorf("sfu: ICE-TCP connections per IP %d: want 0 (no bound) or more", c.TCPPerIP)
	case c.ListenerFrames < 0 || c.ListenerFrames > maxJoinFrames:
		return fmt.Errorf("sfu: listener frames %d: want 1 to %d", c.ListenerFrames, maxJoinFrames)
	case c.Transport != "" && c.Transport != TransportLean && c.Transport != TransportPion:
		return fmt.Errorf("sfu: transport %q: want %s or %s", c.Transport, TransportLean, TransportPion)
	}
	for _, ip := range c.PublicIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("sfu: public IP %q is not an IP address", ip)
		}
	}
	return nil
}

// Engine is the media server of one process: the shared UDP and TCP sockets, the
// codec and interceptor setup, and the open Peers and Forwarders.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	api     *webrtc.API
	udp     net.Addr
	tcp     *net.TCPAddr
	udpMux  ice.UDPMux
	tcpMux  ice.TCPMux
	lean    *leanTransport // instead of the above with TransportLean

	mu         sync.Mutex // guards peers, forwarders, closed
	peers      map[*Peer]struct{}
	forwarders map[*Forwarder]struct{}
	closed     bool
}

// NewEngine opens the UDP and TCP ports of cfg and returns the Engine. Metrics are
// registered on reg (none if nil); log may be nil.
func NewEngine(cfg Config, reg *prometheus.Registry, log *slog.Logger) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{
		cfg:        cfg,
		log:        log,
		metrics:    newMetrics(reg),
		peers:      make(map[*Peer]struct{}),
		forwarders: make(map[*Forwarder]struct{}),
	}
	if cfg.Transport == "" || cfg.Transport == TransportLean {
		t, err := newLeanTransport(cfg, log, e.metrics)
		if err != nil {
			return nil, err
		}
		e.lean, e.udp, e.tcp = t, t.udpAddr, t.tcpAddr
		return e, nil
	}
	logs := pionLogs{log: log}
	if err := e.listen(logs); err != nil {
		return nil, err
	}
	api, err := e.newAPI(logs)
	if err != nil {
		e.closeSockets()
		return nil, err
	}
	e.api = api
	return e, nil
}

// udpBufferBytes is the socket buffer asked for the shared UDP port: one inbound
// packet fans out to every listener in a burst.
const udpBufferBytes = 4 << 20

// listen opens the shared ports: loopback only for tests, else every interface.
func (e *Engine) listen(logs pionLogs) error {
	var ip net.IP // all addresses, IPv4 and IPv6
	if e.cfg.LoopbackOnly {
		ip = net.IPv4(127, 0, 0, 1)
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: e.cfg.UDPPort})
		if err != nil {
			return fmt.Errorf("sfu: udp: %w", err)
		}
		_ = conn.SetReadBuffer(udpBufferBytes)
		_ = conn.SetWriteBuffer(udpBufferBytes)
		e.udp = conn.LocalAddr()
		e.udpMux = webrtc.NewICEUDPMux(logs.NewLogger("udpmux"), conn)
	} else {
		// One socket per interface address, all on the same port: a mux on the
		// unspecified address cannot tell which local address a packet came to.
		mux, err := ice.NewMultiUDPMuxFromPort(e.cfg.UDPPort,
			ice.UDPMuxFromPortWithLogger(logs.NewLogger("udpmux")),
			ice.UDPMuxFromPortWithReadBufferSize(udpBufferBytes),
			ice.UDPMuxFromPortWithWriteBufferSize(udpBufferBytes))
		if err != nil {
			return fmt.Errorf("sfu: udp: %w", err)
		}
		e.udpMux = mux
		if addrs := mux.GetListenAddresses(); len(addrs) > 0 {
			e.udp = addrs[0]
		}
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: e.cfg.TCPPort})
	if err != nil {
		_ = e.udpMux.Close()
		return fmt.Errorf("sfu: tcp: %w", err)
	}
	e.tcp = ln.Addr().(*net.TCPAddr)
	e.tcpMux = webrtc.NewICETCPMux(logs.NewLogger("tcpmux"), ln, tcpReadBufferPackets)
	return nil
}

// tcpReadBufferPackets is how many packets each ICE-TCP connection buffers.
const tcpReadBufferPackets = 32

// newAPI builds the pion API every Peer is made from.
func (e *Engine) newAPI(logs pionLogs) (*webrtc.API, error) {
	me, err := newMediaEngine()
	if err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	// Interceptors, only what audio needs. Each runs on every packet of every stream.
	//
	// - RTCP sender and receiver reports (RFC 3550 §6.4): a few atomic counters per
	//   packet and one ticker goroutine per PeerConnection sending a report a second.
	//   Browsers use the sender reports to map RTP time to wall-clock time, and our
	//   receiver reports tell speakers' encoders about loss (Opus then spends bits on
	//   in-band FEC).
	// - No NACK: the responder keeps a copy of every packet sent (a 1024-packet ring
	//   per outbound stream, K per listener, plus a copy per packet) and the generator
	//   a timer per inbound stream, to resend 20 ms of audio that would usually come
	//   too late for the jitter buffer. Opus in-band FEC covers single losses instead.
	// - No TWCC: a transport-wide sequence number on every outbound packet (one more
	//   header extension and a lock per packet) and feedback to parse, for a bandwidth
	//   estimate that 32 kbit/s of audio has no use for.
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}

	se := webrtc.SettingEngine{}
	se.LoggerFactory = logs
	se.SetICEUDPMux(e.udpMux)
	se.SetICETCPMux(e.tcpMux)
	// A server never needs mDNS: its candidates carry real (or public) addresses.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	iceDisconnected := min(5*time.Second, e.cfg.DisconnectTimeout)
	se.SetICETimeouts(iceDisconnected, e.cfg.DisconnectTimeout, min(2*time.Second, iceDisconnected/3))
	if e.cfg.LoopbackOnly {
		// Verified on this kind of machine: without the loopback candidate ICE never
		// leaves "new"; the filters keep the whole path on 127.0.0.1.
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{
			webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6,
		})
	}
	if len(e.cfg.PublicIPs) > 0 {
		// SetNAT1To1IPs is deprecated in pion v4.2: a host candidate rewrite rule does
		// the same (replace the private address with the public one).
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        e.cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return nil, fmt.Errorf("sfu: public IPs: %w", err)
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}

// opusCapability is the one codec: Opus (RFC 7587) at 48 kHz, in-band FEC and DTX on.
func opusCapability() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   opusClockRate,
		Channels:    2, // RFC 7587 §7: always 2 in SDP, whatever is sent
		SDPFmtpLine: "minptime=10;useinbandfec=1;usedtx=1",
	}
}

// opusPayloadType is the payload type offered for Opus, the one browsers use.
const opusPayloadType = 111

// newMediaEngine registers Opus only and the RFC 6464 audio level extension.
func newMediaEngine() (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: opusCapability(),
		PayloadType:        opusPayloadType,
	}, webrtc.RTPCodecTypeAudio)
	if err != nil {
		return nil, fmt.Errorf("sfu: register opus: %w", err)
	}
	err = me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio)
	if err != nil {
		return nil, fmt.Errorf("sfu: register audio level: %w", err)
	}
	return me, nil
}

// UDPAddr returns the address of the shared UDP port (the first one if the Engine
// listens on several interfaces).
func (e *Engine) UDPAddr() net.Addr { return e.udp }

// TCPAddr returns the address of the ICE-TCP port.
func (e *Engine) TCPAddr() *net.TCPAddr { return e.tcp }

// Slots returns K, the number of slots of every participant.
func (e *Engine) Slots() int { return e.cfg.Slots }

// NewForwarder returns the Forwarder of a new live room.
func (e *Engine) NewForwarder() (*Forwarder, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	f := newForwarder(e.cfg.Slots, e.metrics)
	f.seqStart = e.cfg.SeqStart
	f.joins = newFrameJoiners(e.cfg.Slots, e.cfg.ListenerFrames)
	if e.cfg.Relay != nil {
		f.setRelay(e.cfg.Relay)
	}
	f.release = e.releaseForwarder
	f.start()
	e.forwarders[f] = struct{}{}
	e.metrics.forwarders.Inc()
	return f, nil
}

func (e *Engine) releaseForwarder(f *Forwarder) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.forwarders[f]; ok {
		delete(e.forwarders, f)
		e.metrics.forwarders.Dec()
	}
}

// Close closes every Peer and Forwarder, then the shared ports.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	peers := make([]*Peer, 0, len(e.peers))
	for p := range e.peers {
		peers = append(peers, p)
	}
	forwarders := make([]*Forwarder, 0, len(e.forwarders))
	for f := range e.forwarders {
		forwarders = append(forwarders, f)
	}
	e.mu.Unlock()

	for _, p := range peers {
		p.Close()
	}
	for _, f := range forwarders {
		f.Close()
	}
	return e.closeSockets()
}

func (e *Engine) closeSockets() error {
	if e.lean != nil {
		return e.lean.close()
	}
	errU := e.udpMux.Close()
	errT := e.tcpMux.Close()
	if errU != nil {
		return errU
	}
	return errT
}

// Compact lets the engine's tables, its forwarders' and its transport's, start
// small again after a crowd left: Go maps keep the size of their peak.
func (e *Engine) Compact() {
	e.mu.Lock()
	e.peers = shrink.Map(e.peers)
	e.forwarders = shrink.Map(e.forwarders)
	fwds := make([]*Forwarder, 0, len(e.forwarders))
	for f := range e.forwarders {
		fwds = append(fwds, f)
	}
	e.mu.Unlock()
	for _, f := range fwds {
		f.mu.Lock()
		f.members = shrink.Map(f.members)
		f.mu.Unlock()
	}
	if t := e.lean; t != nil {
		t.mu.Lock()
		t.byUfrag, t.byAddr, t.probes = shrink.Map(t.byUfrag), shrink.Map(t.byAddr), shrink.Map(t.probes)
		t.tcps, t.tcpPerIP = shrink.Map(t.tcps), shrink.Map(t.tcpPerIP)
		t.mu.Unlock()
	}
}
