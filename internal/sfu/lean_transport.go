package sfu

import (
	"bytes"
	"crypto/sha1"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/stun/v4"
	"golang.org/x/sys/unix"

	"github.com/townhall/townhall/internal/udpbatch"
)

// leanTransport is the Engine's own WebRTC transport, used instead of pion's
// PeerConnection (Config.Transport "lean"). It is the server half of WebRTC as
// media servers such as mediasoup and Janus keep it: an ICE-lite agent (RFC 8445
// §2.5) on one shared UDP port and one ICE-TCP port (RFC 6544, passive only), a
// DTLS handshake per connection (pion/dtls) whose only product is the SRTP keys
// (RFC 5764), then SRTP alone. A connected participant costs an entry in two maps
// and a leanConn of a few hundred bytes: no goroutine, no timer, no buffer.
//
// What a client may not do with its own connection (docs/security.md): move its
// media to an address that has not answered us (leanConn.nominate), keep it
// coming without consent (RFC 7675), have a replayed packet forwarded again
// (srtpReceiver), or hold more than Config.TCPPerIP ICE-TCP connections.
//
// Packets in: one goroutine per UDP socket (and one per ICE-TCP connection) reads,
// tells STUN, DTLS and SRTP apart by their first byte (RFC 7983 §7) and hands
// microphone RTP to the Forwarder on the same goroutine. Packets out: the fan-out
// is sharded over the fanPool's workers, each of which encrypts into its own
// sendBatch and writes it with one sendmmsg per 64 packets.
//
// Locks, in order: leanConn.mu, then leanTransport.mu (a connection that selects a
// pair or probes an address updates the transport's maps); neither is held while
// calling into a Peer or the Forwarder.
type leanTransport struct {
	cfg  Config
	log  *slog.Logger
	met  *metrics
	fan  *fanPool
	cert tls.Certificate
	fp   string // "sha-256 AB:..." of cert

	udp     *udpbatch.Socket // watched by the runtime's poller for arrivals only
	udpAddr *net.UDPAddr
	tcp     *net.TCPListener
	tcpAddr *net.TCPAddr
	cands   []string // the candidate attributes of every offer, without "a="

	mu       sync.RWMutex
	byUfrag  map[string]*leanConn
	byAddr   map[netip.AddrPort]*leanConn // UDP remote address of a selected pair
	probes   map[[stun.TransactionIDSize]byte]*leanConn
	tcps     map[*tcpLink]struct{}
	tcpPerIP map[netip.Addr]int // open ICE-TCP connections by remote address
	closed   bool

	done chan struct{}
	wg   sync.WaitGroup
}

// Timings of the lean transport. A lite agent sends no checks to find a pair (it
// sends one only to an address a client moves to: see pathProbe): it learns that a
// client is alive from the client's own checks (browsers send one every 2.5 s on
// the selected pair, pion every 2 s) and from its RTP and RTCP, and keeps its
// consent to receive (Config.ConsentTimeout) from the checks and the RTP.
const (
	leanSilentAfter  = 8 * time.Second // no packet for this long: disconnected (browsers check every 2.5 s, RTCP every 5)
	leanJanitorEvery = 500 * time.Millisecond
	dtlsLinger       = 2 * time.Second // the DTLS conn is kept this long after the handshake, for retransmissions
)

func newLeanTransport(cfg Config, log *slog.Logger, met *metrics) (*leanTransport, error) {
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, fmt.Errorf("sfu: certificate: %w", err)
	}
	t := &leanTransport{
		cfg: cfg, log: log, met: met, cert: cert, fp: "sha-256 " + fingerprintOf(cert.Certificate[0]),
		byUfrag: map[string]*leanConn{}, byAddr: map[netip.AddrPort]*leanConn{},
		probes: map[[stun.TransactionIDSize]byte]*leanConn{},
		tcps:   map[*tcpLink]struct{}{}, tcpPerIP: map[netip.Addr]int{},
		done: make(chan struct{}),
	}
	ip := net.IPv4zero
	if cfg.LoopbackOnly {
		ip = net.IPv4(127, 0, 0, 1)
	}
	// IPv4 only: one socket on the unspecified address, whose replies leave by
	// the route to the client. (A host with several addresses on one network
	// should announce the one clients reach with PublicIPs.)
	t.udp, err = udpbatch.Listen(netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip.To4())), uint16(cfg.UDPPort)))
	if err != nil {
		return nil, fmt.Errorf("sfu: udp: %w", err)
	}
	_ = t.udp.SetReadBuffer(udpBufferBytes)
	_ = t.udp.SetWriteBuffer(udpBufferBytes)
	// The kernel's arrival time of each packet tells how long it queued.
	_ = t.udp.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) })
	_ = udpbatch.DontFragment(t.udp) // the load test's floor measures the same
	t.udpAddr = net.UDPAddrFromAddrPort(t.udp.LocalAddr())
	t.tcp, err = net.ListenTCP("tcp4", &net.TCPAddr{IP: ip, Port: cfg.TCPPort})
	if err != nil {
		_ = t.udp.Close()
		return nil, fmt.Errorf("sfu: tcp: %w", err)
	}
	t.tcpAddr = t.tcp.Addr().(*net.TCPAddr)
	t.cands = t.candidates()
	t.fan = newFanPool(t)
	t.wg.Add(3)
	go t.readUDP()
	go t.acceptTCP()
	go t.janitor()
	return t, nil
}

// candidates returns the host candidates of every offer: the shared UDP port and
// the passive ICE-TCP port on each announced address (RFC 8839 §5.1).
func (t *leanTransport) candidates() []string {
	var ips []string
	switch {
	case len(t.cfg.PublicIPs) > 0:
		ips = t.cfg.PublicIPs
	case t.cfg.LoopbackOnly:
		ips = []string{"127.0.0.1"}
	default:
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				ips = append(ips, n.IP.String())
			}
		}
		if len(ips) == 0 {
			ips = []string{"127.0.0.1"}
		}
	}
	var out []string
	for i, ip := range ips {
		if net.ParseIP(ip).To4() == nil {
			continue // IPv4 only (see newLeanTransport)
		}
		// Priorities (RFC 8445 §5.1.2.1): host type 126; UDP before TCP.
		out = append(out,
			fmt.Sprintf("candidate:%d 1 udp %d %s %d typ host", 1+2*i, 2130706431-i, ip, t.udpAddr.Port),
			fmt.Sprintf("candidate:%d 1 tcp %d %s %d typ host tcptype passive", 2+2*i, 1671430143-i, ip, t.tcpAddr.Port))
	}
	return out
}

// register makes c reachable by its ICE username fragment.
func (t *leanTransport) register(c *leanConn) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if _, dup := t.byUfrag[c.ufrag]; dup {
		return fmt.Errorf("sfu: ICE ufrag collision")
	}
	t.byUfrag[c.ufrag] = c
	return nil
}

// unregister forgets c, whose UDP address (selected pair) is at, if any: route
// keeps at most that one for it. c.mu is held, so that no route adds another.
func (t *leanTransport) unregister(c *leanConn, at netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byUfrag[c.ufrag] == c {
		delete(t.byUfrag, c.ufrag)
	}
	if at.IsValid() && t.byAddr[at] == c {
		delete(t.byAddr, at)
	}
}

// addProbe makes c the connection that answers to the check with ID tx take.
func (t *leanTransport) addProbe(tx [stun.TransactionIDSize]byte, c *leanConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byUfrag[c.ufrag] == c {
		t.probes[tx] = c
	}
}

// dropProbe forgets the check with ID tx of c.
func (t *leanTransport) dropProbe(tx [stun.TransactionIDSize]byte, c *leanConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.probes[tx] == c {
		delete(t.probes, tx)
	}
}

// route makes a the UDP address of c (its selected pair), replacing an older one.
func (t *leanTransport) route(c *leanConn, old, a netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byUfrag[c.ufrag] != c {
		return // closed meanwhile
	}
	if old.IsValid() && t.byAddr[old] == c {
		delete(t.byAddr, old)
	}
	t.byAddr[a] = c
}

func (t *leanTransport) byAddress(a netip.AddrPort) *leanConn {
	t.mu.RLock()
	c := t.byAddr[a]
	t.mu.RUnlock()
	return c
}

// readBatch is how many datagrams one recvmmsg reads at most.
const readBatch = 16

// readUDP is the goroutine of the shared UDP port.
func (t *leanTransport) readUDP() {
	defer t.wg.Done()
	var scratch rtpPacket
	scratch.fan = t.fan.newCtx()
	path := &udpPath{t: t} // one for every datagram: no allocation per packet
	r := udpbatch.NewReader(readBatch, 1500, 64)
	for {
		n, err := r.Read(t.udp)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		for i := range n {
			b, from, oob := r.Datagram(i)
			scratch.arrived = arrivalTime(oob)
			path.to = from
			t.handle(b, path, &scratch)
		}
	}
}

// arrivalTime reads the SO_TIMESTAMPNS control message: when the kernel received
// the packet, in Unix ns (0 if absent).
func arrivalTime(oob []byte) int64 {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= unix.SizeofCmsghdr+16 {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[unix.SizeofCmsghdr]))
			return ts.Nano()
		}
		oob = oob[(l+7)&^7:]
	}
	return 0
}

// maxQueueDelay is how long a speaker's packet may wait in the server's socket
// before it is dropped unforwarded: an overloaded server loses late audio, which
// a listener's jitter buffer would discard anyway, instead of queueing seconds of
// it for everyone.
const maxQueueDelay = 100 * time.Millisecond

// handle demultiplexes one packet that came over path (RFC 7983 §7).
func (t *leanTransport) handle(b []byte, path packetPath, scratch *rtpPacket) {
	if len(b) == 0 {
		return
	}
	switch {
	case b[0] < 4:
		t.handleSTUN(b, path)
	case b[0] >= 20 && b[0] <= 63:
		if c := path.conn(); c != nil {
			c.dtlsIn(b)
		}
	case b[0] >= 128 && b[0] <= 191:
		if c := path.conn(); c != nil {
			now := time.Now().UnixNano()
			c.lastSeen.Store(now)
			if len(b) > 1 && (b[1] < 192 || b[1] > 223) { // not RTCP (RFC 5761 §4)
				if scratch.arrived != 0 {
					waited := now - scratch.arrived
					t.met.queueDelay.Observe(float64(max(waited, 0)) / 1e9)
					if waited > int64(maxQueueDelay) {
						t.met.droppedLate.Inc()
						return
					}
				}
				c.receiveRTP(b, path, now, scratch)
			}
		}
	}
}

// STUN attributes of ICE (RFC 8445 §16.1).
const (
	attrUseCandidate  stun.AttrType = 0x0025
	attrICEControlled stun.AttrType = 0x8029
)

// handleSTUN answers a connectivity check (RFC 8445 §7.3), renews consent if it
// came over the selected pair and, on USE-CANDIDATE, nominates the pair it came
// over: the client, always controlling, picks (§7.3.1.5). A binding success
// response is the answer to one of our probes (see pathProbe).
func (t *leanTransport) handleSTUN(b []byte, path packetPath) {
	s := stunScratchPool.Get().(*stunScratch)
	defer stunScratchPool.Put(s)
	m := &s.req
	if cap(m.Raw) < len(b)+sha1.Size { // MESSAGE-INTEGRITY's check appends its HMAC to Raw
		m.Raw = make([]byte, 0, max(len(b)+sha1.Size, 512))
	}
	m.Raw = append(m.Raw[:0], b...)
	if m.Decode() != nil {
		return
	}
	if m.Type == stun.BindingSuccess {
		t.mu.RLock()
		c := t.probes[m.TransactionID]
		t.mu.RUnlock()
		if c != nil {
			c.probeAnswered(m, path)
		}
		return
	}
	if m.Type != stun.BindingRequest {
		return
	}
	user, err := m.Get(stun.AttrUsername)
	if err != nil {
		return
	}
	ours, _, ok := bytes.Cut(user, []byte{':'})
	if !ok {
		return
	}
	t.mu.RLock()
	c := t.byUfrag[string(ours)] // no allocation: the conversion is only a map key
	t.mu.RUnlock()
	if c == nil || c.key.Check(m) != nil || stun.Fingerprint.Check(m) != nil {
		return // RFC 8445 §7.3.1.1 would answer 400/401; a silent drop costs less
	}
	if m.Contains(attrICEControlled) {
		return // a lite agent is always controlled: the client must control (§6.1.1)
	}
	r := &s.resp
	r.Reset()
	r.Type = stun.BindingSuccess
	r.TransactionID = m.TransactionID
	r.WriteHeader()
	path.mapped(&s.xor)
	if s.xor.AddTo(r) != nil || c.key.AddTo(r) != nil || stun.Fingerprint.AddTo(r) != nil {
		return
	}
	_ = path.write(r.Raw)
	now := time.Now().UnixNano()
	c.lastSeen.Store(now)
	if m.Contains(attrUseCandidate) {
		c.nominate(path)
	}
	if path.conn() == c {
		c.heard(path, now)
	}
}

// stunScratch is what handleSTUN needs for one check. Every listener's client
// checks its connection every few seconds (RFC 7675 consent), so at thousands of
// listeners a fresh request, response, username and address per check were
// megabytes of garbage a second, and a garbage collection every few seconds.
type stunScratch struct {
	req, resp stun.Message
	xor       stun.XORMappedAddress
}

var stunScratchPool = sync.Pool{New: func() any { return new(stunScratch) }}

// janitor marks silent connections disconnected and tells their Peers.
func (t *leanTransport) janitor() {
	defer t.wg.Done()
	tick := time.NewTicker(leanJanitorEvery)
	defer tick.Stop()
	var conns []*leanConn
	for {
		select {
		case <-t.done:
			return
		case <-tick.C:
		}
		conns = conns[:0]
		t.mu.RLock()
		for _, c := range t.byUfrag {
			conns = append(conns, c)
		}
		t.mu.RUnlock()
		now := time.Now().UnixNano()
		for _, c := range conns {
			c.check(now)
		}
		clear(conns)
	}
}

// close stops the transport (its connections are closed by their Peers first).
func (t *leanTransport) close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	links := make([]*tcpLink, 0, len(t.tcps))
	for l := range t.tcps {
		links = append(links, l)
	}
	t.mu.Unlock()
	close(t.done)
	errU := t.udp.Close()
	errT := t.tcp.Close()
	for _, l := range links {
		_ = l.conn.Close()
	}
	t.wg.Wait()
	t.fan.close()
	if errU != nil {
		return errU
	}
	return errT
}

// packetPath is where a packet came from and how to answer it: a UDP address on
// the shared socket, or an ICE-TCP connection.
type packetPath interface {
	conn() *leanConn // the connection whose nominated pair this is, if any
	write(b []byte) error
	mapped(*stun.XORMappedAddress)
}

// udpPath is a UDP address on the shared socket. Its reader reuses one for every
// datagram; whoever keeps one makes a copy.
type udpPath struct {
	t  *leanTransport
	to netip.AddrPort
}

func (p *udpPath) conn() *leanConn      { return p.t.byAddress(p.to) }
func (p *udpPath) write(b []byte) error { return p.t.udp.WriteTo(b, p.to) }
func (p *udpPath) mapped(x *stun.XORMappedAddress) {
	x.IP, x.Port = p.to.Addr().AsSlice(), int(p.to.Port())
}

// tcpLink is one ICE-TCP connection: RFC 4571 framing (a 16-bit length before
// each packet), read by its own goroutine, written under a lock.
type tcpLink struct {
	t    *leanTransport
	conn *net.TCPConn
	ip   netip.Addr // the remote's, counted against Config.TCPPerIP
	wmu  sync.Mutex
	wbuf []byte
	c    *leanConn // set once nominated; read and written on the link's goroutine, read by conn()
	cmu  sync.Mutex
}

func (l *tcpLink) conn_() *leanConn { l.cmu.Lock(); defer l.cmu.Unlock(); return l.c }

type tcpPath struct{ l *tcpLink }

func (p tcpPath) conn() *leanConn { return p.l.conn_() }
func (p tcpPath) write(b []byte) error {
	return p.l.write(b)
}
func (p tcpPath) mapped(x *stun.XORMappedAddress) {
	a := p.l.conn.RemoteAddr().(*net.TCPAddr)
	x.IP, x.Port = a.IP, a.Port
}

// tcpWriteTimeout bounds one framed write: a client that does not read its TCP
// connection loses packets instead of stalling a fan-out worker.
const tcpWriteTimeout = 50 * time.Millisecond

func (l *tcpLink) write(b []byte) error {
	if len(b) > 0xFFFF {
		return fmt.Errorf("sfu: a %d-byte packet does not fit RFC 4571 framing", len(b))
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.wbuf = binary.BigEndian.AppendUint16(l.wbuf[:0], uint16(len(b)))
	l.wbuf = append(l.wbuf, b...)
	_ = l.conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	_, err := l.conn.Write(l.wbuf)
	return err
}

func (t *leanTransport) acceptTCP() {
	defer t.wg.Done()
	for {
		conn, err := t.tcp.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ip := conn.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
		l := &tcpLink{t: t, conn: conn, ip: ip}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = conn.Close()
			return
		}
		if t.cfg.TCPPerIP > 0 && t.tcpPerIP[ip] >= t.cfg.TCPPerIP {
			t.mu.Unlock()
			t.met.tcpRefused.Inc()
			_ = conn.SetLinger(0) // a reset: no TIME_WAIT kept for whoever opens too many
			_ = conn.Close()
			continue
		}
		t.tcps[l] = struct{}{}
		t.tcpPerIP[ip]++
		t.mu.Unlock()
		t.wg.Add(1)
		go l.read()
	}
}

// tcpFirstPacketTimeout bounds the wait for the first check on a new connection.
const tcpFirstPacketTimeout = 10 * time.Second

func (l *tcpLink) read() {
	defer l.t.wg.Done()
	defer func() {
		l.t.mu.Lock()
		delete(l.t.tcps, l)
		if l.t.tcpPerIP[l.ip]--; l.t.tcpPerIP[l.ip] <= 0 {
			delete(l.t.tcpPerIP, l.ip)
		}
		l.t.mu.Unlock()
		_ = l.conn.Close()
		if c := l.conn_(); c != nil {
			c.linkClosed(l)
		}
	}()
	buf := make([]byte, 0xFFFF)
	var scratch rtpPacket
	_ = l.conn.SetReadDeadline(time.Now().Add(tcpFirstPacketTimeout))
	for {
		if _, err := io.ReadFull(l.conn, buf[:2]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(buf))
		if _, err := io.ReadFull(l.conn, buf[:n]); err != nil {
			return
		}
		if l.conn_() == nil && (n == 0 || buf[0] >= 4) {
			return // RFC 6544 §7.2: the first packet on a passive connection is a check
		}
		if l.conn_() != nil {
			_ = l.conn.SetReadDeadline(time.Time{})
		}
		if scratch.fan == nil && n > 0 && buf[0] >= 128 {
			scratch.fan = l.t.fan.newCtx() // a speaker over TCP fans out from here
		}
		l.t.handle(buf[:n], tcpPath{l}, &scratch)
	}
}
