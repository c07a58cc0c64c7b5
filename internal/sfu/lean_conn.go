package sfu

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
)

// The states of a leanConn.
const (
	leanNew          int32 = iota // waiting for the nomination and the handshake
	leanConnected                 // keyed, and heard from lately
	leanDisconnected              // keyed, but silent for leanSilentAfter
	leanClosed
)

// leanConn is one Peer's connection on the lean transport: its ICE credentials,
// the selected pair, the SRTP keys. Once connected it holds no goroutine, timer
// or buffer of its own.
//
// Media goes to the selected pair only. The client's first nomination selects a
// pair, over which only the DTLS handshake goes until it is done; a later
// nomination over UDP from another address moves the media there only once that
// address has answered a check of ours (see pathProbe). And media stops when the
// selected pair has brought nothing authenticated for Config.ConsentTimeout (RFC
// 7675).
type leanConn struct {
	t     *leanTransport
	p     *Peer
	ufrag string
	pwd   string
	key   stun.MessageIntegrity // pwd as the short-term credential's key
	ssrcs []uint32              // of each slot
	sess  uint64                // SDP session ID

	state     atomic.Int32
	lastSeen  atomic.Int64 // Unix ns of the last packet from the client
	consentAt atomic.Int64 // Unix ns of the last authenticated packet over the selected pair
	noConsent atomic.Bool  // consent expired: nothing is sent (RFC 7675 §5.1)
	out       atomic.Pointer[srtpSender]
	udpTo     atomic.Pointer[netip.AddrPort] // the selected UDP pair, nil over TCP
	link      atomic.Pointer[tcpLink]        // the selected ICE-TCP connection

	mu          sync.Mutex // guards the fields below
	answered    bool
	remoteFP    string // the client's certificate fingerprint, "sha-256 AB:..."
	dtlsClient  bool   // the client answered setup:passive: we connect
	micLevelID  uint8
	remoteUfrag string                // the client's ICE credentials, for our checks
	remoteKey   stun.MessageIntegrity // the client's ice-pwd as the key
	tieBreaker  uint64                // of our checks' ICE-CONTROLLED (RFC 8445 §7.1.3)
	udpAP       netip.AddrPort
	nominated   packetPath // the selected pair: a *udpPath or a tcpPath
	probe       *pathProbe // a nominated address that has yet to answer
	hs          *handshake // from the nomination to dtlsLinger after the handshake
	hsStarted   bool       // the handshake's goroutine runs

	inMu    sync.Mutex    // guards the inbound (microphone) SRTP
	in      *srtpReceiver // made on the first packet: a listener never needs one
	profile srtp.ProtectionProfile
	inKey   []byte
	inSalt  []byte
}

func newLeanConn(t *leanTransport, p *Peer, slots int) (*leanConn, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	c := &leanConn{t: t, p: p, ufrag: iceString(8), pwd: iceString(24), ssrcs: make([]uint32, slots),
		sess: binary.BigEndian.Uint64(b[:]) >> 2}
	c.key = stun.NewShortTermIntegrity(c.pwd)
	_, _ = rand.Read(b[:])
	c.tieBreaker = binary.BigEndian.Uint64(b[:])
	for i := range c.ssrcs {
		_, _ = rand.Read(b[:4])
		c.ssrcs[i] = binary.BigEndian.Uint32(b[:])
	}
	if err := t.register(c); err != nil {
		return nil, err
	}
	return c, nil
}

// iceString returns n random ice-chars (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/").
func iceString(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

func fingerprintOf(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// offer returns the SDP offer: ICE-lite, the shared candidates, K sendonly slot
// m-lines with an SSRC each and one recvonly microphone m-line, all bundled, the
// same media as the pion transport offers (RFC 8829 §5.2).
func (c *leanConn) offer() string {
	var b strings.Builder
	k := len(c.ssrcs)
	mids := make([]string, k+1)
	for i := range mids {
		mids[i] = strconv.Itoa(i)
	}
	fmt.Fprintf(&b, "v=0\r\no=- %d 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", c.sess)
	b.WriteString("a=ice-lite\r\na=msid-semantic:WMS *\r\n")
	b.WriteString("a=fingerprint:" + c.t.fp + "\r\n")
	b.WriteString("a=group:BUNDLE " + strings.Join(mids, " ") + "\r\n")
	for i, mid := range mids {
		fmt.Fprintf(&b, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n", opusPayloadType)
		b.WriteString("a=setup:actpass\r\na=mid:" + mid + "\r\n")
		b.WriteString("a=ice-ufrag:" + c.ufrag + "\r\na=ice-pwd:" + c.pwd + "\r\n")
		b.WriteString("a=rtcp-mux\r\na=rtcp-rsize\r\n")
		fmt.Fprintf(&b, "a=rtpmap:%d opus/%d/2\r\na=fmtp:%d %s\r\n", opusPayloadType, opusClockRate, opusPayloadType, opusCapability().SDPFmtpLine)
		b.WriteString("a=extmap:1 " + AudioLevelURI + "\r\n")
		if i < k {
			name := "slot" + mid
			fmt.Fprintf(&b, "a=ssrc:%d cname:%s\r\na=ssrc:%d msid:%s %s\r\n", c.ssrcs[i], name, c.ssrcs[i], name, name)
			b.WriteString("a=msid:" + name + " " + name + "\r\na=sendonly\r\n")
		} else {
			b.WriteString("a=recvonly\r\n")
		}
		if i == 0 {
			for _, cand := range c.t.cands {
				b.WriteString("a=" + cand + "\r\n")
			}
			b.WriteString("a=end-of-candidates\r\n")
		}
	}
	return b.String()
}

// setAnswer takes what the lean transport needs from a validated answer: the
// client's fingerprint and DTLS role, and the audio level extension IDs.
func (c *leanConn) setAnswer(text string) error {
	var s sdp.SessionDescription
	if err := s.UnmarshalString(text); err != nil {
		return fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	fp, _ := s.Attribute("fingerprint")
	setup, _ := s.Attribute("setup")
	ufrag, _ := s.Attribute("ice-ufrag")
	pwd, _ := s.Attribute("ice-pwd")
	k := len(c.ssrcs)
	levelIDs := make([]uint8, k+1)
	for i, md := range s.MediaDescriptions {
		if v, ok := md.Attribute("fingerprint"); ok && (i == 0 || fp == "") {
			fp = v // the bundle's transport is the first section's
		}
		if v, ok := md.Attribute("setup"); ok && i == 0 {
			setup = v
		}
		if v, ok := md.Attribute("ice-ufrag"); ok && (i == 0 || ufrag == "") {
			ufrag = v
		}
		if v, ok := md.Attribute("ice-pwd"); ok && (i == 0 || pwd == "") {
			pwd = v
		}
		opus := false
		for _, f := range md.MediaName.Formats {
			opus = opus || f == strconv.Itoa(opusPayloadType)
		}
		if !opus && md.MediaName.Port.Value != 0 {
			return fmt.Errorf("%w: media section %d does not take Opus as payload type %d", ErrBadAnswer, i, opusPayloadType)
		}
		for _, a := range md.Attributes {
			if a.Key != "extmap" || !strings.Contains(a.Value, AudioLevelURI) {
				continue
			}
			idDir, _, _ := strings.Cut(a.Value, " ")
			idStr, _, _ := strings.Cut(idDir, "/")
			if id, err := strconv.Atoi(idStr); err == nil && id > 0 && id < 256 && i <= k {
				levelIDs[i] = uint8(id)
			}
		}
	}
	hash, value, _ := strings.Cut(strings.TrimSpace(fp), " ")
	if !strings.EqualFold(hash, "sha-256") {
		return fmt.Errorf("%w: fingerprint hash %q, want sha-256", ErrBadAnswer, hash)
	}
	for i := range k {
		c.p.rx.slots[i].levelID.Store(uint32(levelIDs[i]))
	}
	c.mu.Lock()
	// A clone: ToUpper returns its argument when it is upper case already, and a
	// substring keeps the parser's copy of the whole answer alive (~3 KiB a peer).
	c.remoteFP = strings.Clone(strings.ToUpper(value))
	c.dtlsClient = strings.TrimSpace(setup) == "passive"
	c.micLevelID = levelIDs[k]
	if ufrag, pwd = strings.TrimSpace(ufrag), strings.TrimSpace(pwd); ufrag != "" && pwd != "" {
		c.remoteUfrag = strings.Clone(ufrag)
		c.remoteKey = stun.NewShortTermIntegrity(pwd)
	}
	c.answered = true
	c.startHandshakeLocked()
	probe := c.probeRequestLocked(time.Now().UnixNano()) // a nomination that came before the answer
	var to netip.AddrPort
	if probe != nil {
		to = c.probe.to
	}
	c.mu.Unlock()
	if probe != nil {
		_ = c.t.udp.WriteTo(probe, to)
	}
	return nil
}

// touch notes that the client was heard from.
func (c *leanConn) touch() { c.lastSeen.Store(time.Now().UnixNano()) }

// linkClosed forgets an ICE-TCP connection that went away.
func (c *leanConn) linkClosed(l *tcpLink) {
	c.link.CompareAndSwap(l, nil)
}

// startHandshakeLocked starts the DTLS handshake once both the answer and a
// nominated pair are there. Records that come after the nomination but before
// the answer (the client's ICE may beat its answer through signaling) wait in the
// handshake's inbox instead of costing the client a retransmission.
func (c *leanConn) startHandshakeLocked() {
	if c.nominated == nil || c.hsStarted || c.out.Load() != nil || c.state.Load() == leanClosed {
		return
	}
	if c.hs == nil {
		c.hs = &handshake{c: c, inbox: make(chan []byte, 16), closed: make(chan struct{})}
	}
	if !c.answered {
		return
	}
	c.hsStarted = true
	go c.handshake(c.hs, c.remoteFP, c.dtlsClient)
}

// handshake is the DTLS of one connection while it is needed: a queue of the
// records that came for it.
type handshake struct {
	c      *leanConn
	inbox  chan []byte
	closed chan struct{}
	once   sync.Once
}

func (h *handshake) close() { h.once.Do(func() { close(h.closed) }) }

// dtlsIn hands a DTLS record to the handshake, if one runs.
func (c *leanConn) dtlsIn(b []byte) {
	c.mu.Lock()
	hs := c.hs
	c.mu.Unlock()
	if hs == nil {
		return
	}
	select {
	case hs.inbox <- append([]byte(nil), b...):
	default:
	}
}

// handshake runs DTLS (RFC 5763: the fingerprint of the answer authenticates the
// client's self-signed certificate) and keeps the SRTP keys (RFC 5764 §4.2).
func (c *leanConn) handshake(hs *handshake, remoteFP string, client bool) {
	opts := []dtls.Option{
		dtls.WithCertificates(c.t.cert),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithInsecureSkipVerify(true), // self-signed: checked against the answer's fingerprint
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || fingerprintOf(raw[0]) != remoteFP {
				return fmt.Errorf("the client's certificate does not match its fingerprint")
			}
			return nil
		}),
		dtls.WithFlightInterval(500 * time.Millisecond),
		dtls.WithLoggerFactory(pionLogs{log: c.t.log}),
	}
	pc := newDTLSPacketConn(hs)
	var conn *dtls.Conn
	var err error
	if client {
		copts := make([]dtls.ClientOption, len(opts))
		for i, o := range opts {
			copts[i] = o
		}
		conn, err = dtls.ClientWithOptions(pc, pc.LocalAddr(), copts...)
	} else {
		sopts := []dtls.ServerOption{dtls.WithClientAuth(dtls.RequireAnyClientCert)}
		for _, o := range opts {
			sopts = append(sopts, o)
		}
		conn, err = dtls.ServerWithOptions(pc, pc.LocalAddr(), sopts...)
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.t.cfg.ConnectTimeout)
		err = conn.HandshakeContext(ctx)
		cancel()
	}
	if err == nil {
		err = c.keep(conn, client)
	}
	if err != nil {
		c.t.log.Debug("DTLS handshake failed", "participant", c.p.id, "err", err)
		hs.close()
		if conn != nil {
			_ = conn.Close()
		}
		c.mu.Lock()
		if c.hs == hs {
			c.hs = nil
		}
		c.mu.Unlock()
		if c.state.Load() != leanClosed {
			_ = c.p.Close()
		}
		return
	}
	c.touch()
	if c.state.CompareAndSwap(leanNew, leanConnected) {
		c.p.mediaFlows()
	}
	// The client may miss our last flight and send its own again: answer it for a
	// while, then drop the DTLS connection without a word (it is not closed: a
	// close_notify would end the client's connection).
	select {
	case <-time.After(dtlsLinger):
	case <-hs.closed:
	}
	hs.close()
	_ = conn.Close()
	c.mu.Lock()
	if c.hs == hs {
		c.hs = nil
	}
	c.mu.Unlock()
}

// keep derives the SRTP keys of a finished handshake.
func (c *leanConn) keep(conn *dtls.Conn, client bool) error {
	sel, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return fmt.Errorf("no SRTP profile negotiated")
	}
	var profile srtp.ProtectionProfile
	switch sel {
	case dtls.SRTP_AEAD_AES_128_GCM:
		profile = srtp.ProtectionProfileAeadAes128Gcm
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return fmt.Errorf("SRTP profile %v", sel)
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return fmt.Errorf("no DTLS state")
	}
	keys := srtp.Config{Profile: profile}
	if err := keys.ExtractSessionKeysFromDTLS(&state, client); err != nil {
		return err
	}
	out, err := newSRTPSender(profile, keys.Keys.LocalMasterKey, keys.Keys.LocalMasterSalt)
	if err != nil {
		return err
	}
	c.inMu.Lock()
	c.profile, c.inKey, c.inSalt = profile, keys.Keys.RemoteMasterKey, keys.Keys.RemoteMasterSalt
	c.inMu.Unlock()
	c.consentAt.Store(time.Now().UnixNano()) // the handshake went both ways over the selected pair
	c.out.Store(out)
	return nil
}

// check is the janitor's look at c: a probe to send again; silent too long, or
// without consent, or back.
func (c *leanConn) check(now int64) {
	c.reprobe(now)
	s := c.state.Load()
	if s != leanConnected && s != leanDisconnected {
		return
	}
	lost := now-c.consentAt.Load() > int64(c.t.cfg.ConsentTimeout)
	if c.noConsent.Swap(lost) != lost && lost {
		c.t.met.consentExpired.Inc()
		c.t.log.Info("consent expired: no authenticated packet from the client's address, media stopped",
			"participant", c.participant(), "after", c.t.cfg.ConsentTimeout)
	}
	down := lost || now-c.lastSeen.Load() > int64(leanSilentAfter)
	switch {
	case down && c.state.CompareAndSwap(leanConnected, leanDisconnected):
		c.p.mediaStopped()
	case !down && c.state.CompareAndSwap(leanDisconnected, leanConnected):
		c.p.mediaFlows()
	}
}

// connected says whether media flows.
func (c *leanConn) connected() bool { return c.state.Load() == leanConnected }

// close forgets the connection.
func (c *leanConn) close() {
	c.state.Store(leanClosed)
	c.mu.Lock()
	c.dropProbeLocked()
	hs := c.hs
	c.t.unregister(c, c.udpAP)
	c.mu.Unlock()
	if hs != nil {
		hs.close()
	}
	if l := c.link.Load(); l != nil {
		_ = l.conn.Close()
	}
}

// receiveRTP authenticates and decrypts one packet of the client's microphone,
// received at now over path, renews consent if path is the selected pair, and
// hands the packet to the Forwarder. A replayed packet is dropped and counted.
func (c *leanConn) receiveRTP(b []byte, path packetPath, now int64, scratch *rtpPacket) {
	if s := c.state.Load(); s != leanConnected && s != leanDisconnected {
		return
	}
	c.inMu.Lock()
	if c.in == nil {
		in, err := newSRTPReceiver(c.profile, c.inKey, c.inSalt)
		if err != nil {
			c.inMu.Unlock()
			return
		}
		c.in = in
	}
	plain, err := c.in.open(b)
	c.inMu.Unlock()
	if err != nil {
		if errors.Is(err, errSRTPReplayed) {
			c.t.met.droppedReplayed.Inc()
		}
		return
	}
	c.heard(path, now)
	c.mu.Lock()
	levelID := c.micLevelID
	c.mu.Unlock()
	c.p.f.receive(c.p.m, plain, levelID, scratch)
}

// writeSlot encrypts the packet (hdr, payload) of slot s and queues it on b, or
// writes it to the ICE-TCP connection. It allocates nothing.
func (c *leanConn) writeSlot(b *sendBatch, s *slotStream, slot int, hdr *rtp.Header, payload []byte) bool {
	out := c.out.Load()
	if out == nil || c.noConsent.Load() {
		return true // not keyed yet, or no consent: like pion's unbound track, swallow it
	}
	hdr.SSRC = c.ssrcs[slot]
	hdr.PayloadType = opusPayloadType
	to := c.udpTo.Load()
	var buf []byte
	if to != nil && b != nil {
		buf = b.buf()
	} else {
		bp := tcpBufs.Get().(*[]byte)
		defer tcpBufs.Put(bp)
		buf = (*bp)[:0]
	}
	n, err := hdr.MarshalTo(buf[:cap(buf)])
	if err != nil || n+len(payload)+out.overhead() > cap(buf) {
		return false
	}
	pkt := append(buf[:n], payload...)
	pkt, err = out.protect(pkt, n, hdr.SSRC, hdr.SequenceNumber, s.rolloverCount(hdr.SequenceNumber), &s.iv)
	if err != nil {
		return false
	}
	switch {
	case to != nil && b != nil:
		b.add(pkt, *to)
	case to != nil:
		err = c.t.udp.WriteTo(pkt, *to)
	default:
		l := c.link.Load()
		if l == nil {
			return false
		}
		err = l.write(pkt)
	}
	return err == nil
}

// tcpBufs are the packet buffers of writes that do not go through a batch.
var tcpBufs = sync.Pool{New: func() any { b := make([]byte, 1500); return &b }}

// dtlsPacketConn is the net.PacketConn of one DTLS handshake: records in from
// the transport's readers, records out over the nominated pair. pion/dtls stops
// its reader with a read deadline in the past (when the handshake's context
// ends), so read deadlines are kept.
type dtlsPacketConn struct {
	hs       *handshake
	deadline atomic.Int64 // Unix ns of the read deadline, 0: none
	wake     chan struct{}
}

func newDTLSPacketConn(hs *handshake) *dtlsPacketConn {
	return &dtlsPacketConn{hs: hs, wake: make(chan struct{}, 1)}
}

func (p *dtlsPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		if d := p.deadline.Load(); d != 0 && time.Now().UnixNano() >= d {
			return 0, nil, os.ErrDeadlineExceeded
		}
		var timeout <-chan time.Time
		if d := p.deadline.Load(); d != 0 {
			t := time.NewTimer(time.Duration(d - time.Now().UnixNano()))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case rec := <-p.hs.inbox:
			return copy(b, rec), p.LocalAddr(), nil
		case <-p.hs.closed:
			return 0, nil, net.ErrClosed
		case <-p.wake:
		case <-timeout:
		}
	}
}

func (p *dtlsPacketConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		p.deadline.Store(0)
	} else {
		p.deadline.Store(max(t.UnixNano(), 1))
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

func (p *dtlsPacketConn) SetDeadline(t time.Time) error { return p.SetReadDeadline(t) }

func (p *dtlsPacketConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-p.hs.closed:
		return len(b), nil // the close_notify of a connection we drop silently
	default:
	}
	c := p.hs.c
	c.mu.Lock()
	path := c.nominated
	c.mu.Unlock()
	if path == nil {
		return 0, net.ErrClosed
	}
	if err := path.write(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *dtlsPacketConn) Close() error                     { return nil }
func (p *dtlsPacketConn) LocalAddr() net.Addr              { return &net.UDPAddr{} }
func (p *dtlsPacketConn) SetWriteDeadline(time.Time) error { return nil }
