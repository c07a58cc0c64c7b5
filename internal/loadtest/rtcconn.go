package loadtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
)

// identity is the DTLS certificate shared by all the generator's participants.
type identity struct {
	cert        tls.Certificate
	fingerprint string // "sha-256 AB:CD:..."
}

func newIdentity() (*identity, error) {
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, err
	}
	return &identity{cert: cert, fingerprint: "sha-256 " + fingerprintOf(cert.Certificate[0])}, nil
}

func fingerprintOf(der []byte) string {
	sum := sha256.Sum256(der)
	hex := make([]string, len(sum))
	for i, b := range sum {
		hex[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hex, ":")
}

// STUN attributes of ICE (RFC 8445 §16.1).
const (
	attrPriority       stun.AttrType = 0x0024
	attrUseCandidate   stun.AttrType = 0x0025
	attrICEControlled  stun.AttrType = 0x8029
	attrICEControlling stun.AttrType = 0x802A
)

// payload layout of every packet a speaker sends (the rest is padding up to the
// Opus-like size): an Opus TOC byte of a 20 ms frame, code 0 (one frame: so a
// server that joins listeners' frames, --listener-ptime, joins these too), then
// the frame: magic, speaker number, the speaker's own sequence number, and the
// send time in Unix nanoseconds.
const (
	payloadTOC    = 31 << 3 // CELT-only, fullband, 20 ms, mono; code 0 (RFC 6716 §3.1)
	payloadMagic0 = 'T'
	payloadMagic1 = 'H'
	payloadSize   = 80
)

func putPayload(b []byte, speaker int, seq uint32, sent int64) {
	b[0], b[1], b[2], b[3] = payloadTOC, payloadMagic0, payloadMagic1, byte(speaker)
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint64(b[8:], uint64(sent))
}

// readFrame reads one frame of a payload (its bytes after the TOC).
func readFrame(b []byte) (speaker int, seq uint32, sent int64, ok bool) {
	if len(b) < 15 || b[0] != payloadMagic0 || b[1] != payloadMagic1 {
		return 0, 0, 0, false
	}
	return int(b[2]), binary.BigEndian.Uint32(b[3:]), int64(binary.BigEndian.Uint64(b[7:])), true
}

// maxFrames is the most frames a payload carries: three 20 ms frames in a
// 60 ms packet (--listener-ptime 60ms).
const maxFrames = 3

// payloadFrames puts the frames of an Opus payload in out: one for code 0,
// each of a code-3 packet's (a server joined them, RFC 6716 §3.2.5). ok is
// false if the payload is neither, or malformed.
func payloadFrames(b []byte, out *[maxFrames][]byte) (n int, ok bool) {
	if len(b) < 1 {
		return 0, false
	}
	switch b[0] & 3 {
	case 0:
		out[0] = b[1:]
		return 1, true
	case 3:
	default:
		return 0, false
	}
	if len(b) < 2 {
		return 0, false
	}
	m, vbr, padded := int(b[1]&0x3F), b[1]&0x80 != 0, b[1]&0x40 != 0
	rest := b[2:]
	if m == 0 || m > maxFrames || padded {
		return 0, false // the server never pads, nor joins more than three
	}
	var lens [maxFrames]int
	if vbr {
		used := 0
		for i := range m - 1 {
			if len(rest) < 1 {
				return 0, false
			}
			n := int(rest[0])
			rest = rest[1:]
			if n >= 252 {
				if len(rest) < 1 {
					return 0, false
				}
				n += 4 * int(rest[0])
				rest = rest[1:]
			}
			lens[i] = n
			used += n
		}
		if used > len(rest) {
			return 0, false
		}
		lens[m-1] = len(rest) - used
	} else {
		if len(rest)%m != 0 {
			return 0, false
		}
		for i := range m {
			lens[i] = len(rest) / m
		}
	}
	for i := range m {
		out[i] = rest[:lens[i]]
		rest = rest[lens[i]:]
	}
	return m, true
}

// window is the measured steady state: packets count when sent in [from, to).
type window struct {
	from, to atomic.Int64 // Unix ns; from = MaxInt64 until the measurement starts
}

func (w *window) contains(sent int64) bool {
	return sent >= w.from.Load() && sent < w.to.Load()
}

// participant is one media connection of the generator: an address on the mux,
// ICE with the server's one candidate, DTLS-SRTP. After the handshake only the
// SRTP keys and a few counters are kept.
type participant struct {
	id        *identity
	mux       *udpMux
	idx       int
	sock      *muxSock
	local     netip.AddrPort
	speaker   bool  // speakers' packets are not measured
	joinStart int64 // Unix ns: when it started to join

	ufrag, pwd string
	tiebrk     uint64
	offer      *offer
	server     *net.UDPAddr

	iceOK  atomic.Bool // a check of ours succeeded
	nomin  atomic.Bool // the server nominated our pair (full ICE server)
	iceNow chan struct{}

	inbox   chan []byte   // DTLS records during the handshake
	hsDone  chan struct{} // closed when the handshake is over: DTLS is dropped
	hsOnce  sync.Once
	profile srtp.ProtectionProfile
	keys    srtp.SessionKeys
	srtp    atomic.Pointer[srtpOpener] // set once keyed: SRTP is read from then on

	firstAt  atomic.Int64 // Unix ns of the first audio packet (0: none yet)
	received atomic.Int64 // packets sent in the window and received
	bad      atomic.Int64 // packets that did not decrypt or parse
}

func newParticipant(id *identity, m *udpMux, i int) *participant {
	var b [16]byte
	_, _ = rand.Read(b[:])
	p := &participant{
		id: id, mux: m, ufrag: fmt.Sprintf("%x", b[:4]), pwd: fmt.Sprintf("%x", b[4:]),
		tiebrk: binary.BigEndian.Uint64(b[8:]), iceNow: make(chan struct{}, 1),
		inbox: make(chan []byte, 16), hsDone: make(chan struct{}),
	}
	m.attach(i, p)
	return p
}

// answer returns the SDP answer to the server's offer.
func (p *participant) answer(sdp string, micSSRC uint32) (string, error) {
	o, err := parseOffer(sdp)
	if err != nil {
		return "", err
	}
	if !o.server.IP.IsLoopback() {
		return "", fmt.Errorf("the server's candidate %s is not on loopback: the load test runs on one machine", o.server)
	}
	p.offer, p.server = o, o.server
	local := net.UDPAddrFromAddrPort(p.local)
	return buildAnswer(o, answerParams{ufrag: p.ufrag, pwd: p.pwd, fingerprint: p.id.fingerprint, local: local, micSSRC: micSSRC}), nil
}

// connect runs ICE and the DTLS handshake, and keeps the SRTP keys.
func (p *participant) connect(ctx context.Context) error {
	if err := p.ice(ctx); err != nil {
		return err
	}
	return p.handshake(ctx)
}

// iceDone says whether the pair is nominated: by our check's success with a lite
// server (we are controlling), by the server's USE-CANDIDATE with a full one.
func (p *participant) iceDone() bool {
	if p.offer.lite {
		return p.iceOK.Load()
	}
	return p.nomin.Load()
}

// ice sends connectivity checks to the server's candidate every 100 ms until the
// pair is nominated; the mux's reader answers the server's checks meanwhile.
func (p *participant) ice(ctx context.Context) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !p.iceDone() {
		if err := p.sendCheck(); err != nil {
			return err
		}
		select {
		case <-p.iceNow:
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("ICE: %w", ctx.Err())
		}
	}
	return nil
}

// sendCheck sends one ICE connectivity check (RFC 8445 §7.2.2) to the server, also
// used as a consent freshness check (RFC 7675) once connected.
func (p *participant) sendCheck() error {
	m := stun.New()
	m.Type = stun.BindingRequest
	_ = m.NewTransactionID()
	m.WriteHeader() // before MESSAGE-INTEGRITY: the HMAC covers the header
	m.Add(stun.AttrUsername, []byte(p.offer.ufrag+":"+p.ufrag))
	var prio [4]byte
	binary.BigEndian.PutUint32(prio[:], 1853824767) // prflx, local preference 65535, component 1
	m.Add(attrPriority, prio[:])
	var tb [8]byte
	binary.BigEndian.PutUint64(tb[:], p.tiebrk)
	if p.offer.lite {
		m.Add(attrICEControlling, tb[:])
		m.Add(attrUseCandidate, nil)
	} else {
		m.Add(attrICEControlled, tb[:])
	}
	if err := stun.NewShortTermIntegrity(p.offer.pwd).AddTo(m); err != nil {
		return err
	}
	if err := stun.Fingerprint.AddTo(m); err != nil {
		return err
	}
	return p.sock.writeFrom(p, m.Raw, p.server)
}

// handle takes one packet for p from the mux's reader.
func (p *participant) handle(s *muxSock, b []byte) {
	switch {
	case len(b) == 0:
	case b[0] < 2: // STUN: the server's checks and the answers to ours
		p.handleSTUN(b)
	case b[0] >= 20 && b[0] <= 63: // DTLS (RFC 7983 §7)
		select {
		case <-p.hsDone:
		case p.inbox <- append([]byte(nil), b...):
		default:
		}
	case b[0] < 128 || b[0] > 191 || len(b) < 2:
	case b[1] >= 192 && b[1] <= 223: // RTCP (RFC 5761 §4)
	default:
		p.handleRTP(s, b)
	}
}

// handleRTP counts one audio packet: decrypted, read, timed.
func (p *participant) handleRTP(s *muxSock, b []byte) {
	o := p.srtp.Load()
	if o == nil || p.speaker {
		return
	}
	payload, err := o.open(b)
	if err != nil {
		p.bad.Add(1)
		return
	}
	now := time.Now().UnixNano()
	// A frame counts as a packet sent: with --listener-ptime a packet carries
	// two or three of them.
	var frames [maxFrames][]byte
	n, ok := payloadFrames(payload, &frames)
	for _, f := range frames[:n] {
		_, _, sent, fine := readFrame(f)
		if !fine {
			ok = false
			break
		}
		if p.mux.win.contains(sent) {
			p.received.Add(1)
			s.hist.add(time.Duration(now - sent))
		}
	}
	if !ok {
		p.bad.Add(1)
		return
	}
	if p.firstAt.Load() == 0 {
		p.firstAt.Store(now)
	}
}

// handleSTUN answers the server's checks and notes the success of ours.
func (p *participant) handleSTUN(b []byte) {
	if p.offer == nil {
		return
	}
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if m.Decode() != nil {
		return
	}
	switch m.Type {
	case stun.BindingSuccess:
		if stun.NewShortTermIntegrity(p.offer.pwd).Check(m) == nil {
			p.iceOK.Store(true)
		}
	case stun.BindingRequest:
		if stun.NewShortTermIntegrity(p.pwd).Check(m) != nil {
			return
		}
		if m.Contains(attrUseCandidate) {
			p.nomin.Store(true)
		}
		resp, err := stun.Build(stun.BindingSuccess, stun.NewTransactionIDSetter(m.TransactionID),
			&stun.XORMappedAddress{IP: p.server.IP, Port: p.server.Port}, // where it came from
			stun.NewShortTermIntegrity(p.pwd), stun.Fingerprint)
		if err == nil {
			_ = p.sock.writeFrom(p, resp.Raw, p.server)
		}
	default:
		return
	}
	select {
	case p.iceNow <- struct{}{}:
	default:
	}
}

// handshake runs the DTLS client handshake (we answered setup:active) and derives
// the SRTP keys (RFC 5764 §4.2), then drops the DTLS connection without a word to
// the server: our last flight is acknowledged by the server's Finished.
func (p *participant) handshake(ctx context.Context) error {
	pc := &dtlsPacketConn{p: p, wake: make(chan struct{}, 1)}
	conn, err := dtls.ClientWithOptions(pc, p.server,
		dtls.WithCertificates(p.id.cert),
		dtls.WithInsecureSkipVerify(true), // self-signed: the fingerprint from the offer is checked instead
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			want := strings.TrimSpace(p.offer.fingerprint)
			if len(raw) == 0 || !strings.EqualFold(want, "sha-256 "+fingerprintOf(raw[0])) {
				return fmt.Errorf("the server's certificate does not match its fingerprint")
			}
			return nil
		}),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithFlightInterval(250*time.Millisecond),
	)
	if err != nil {
		return err
	}
	defer func() {
		p.hsOnce.Do(func() { close(p.hsDone) })
		_ = conn.Close()
	}()
	if err := conn.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("DTLS: %w", err)
	}
	sel, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return fmt.Errorf("DTLS: no SRTP profile negotiated")
	}
	switch sel {
	case dtls.SRTP_AEAD_AES_128_GCM:
		p.profile = srtp.ProtectionProfileAeadAes128Gcm
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		p.profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return fmt.Errorf("DTLS: SRTP profile %v", sel)
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return fmt.Errorf("DTLS: no connection state")
	}
	cfg := srtp.Config{Profile: p.profile}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, true); err != nil {
		return fmt.Errorf("SRTP keys: %w", err)
	}
	p.keys = cfg.Keys
	o, err := newSRTPOpener(p.profile, p.keys.RemoteMasterKey, p.keys.RemoteMasterSalt)
	if err != nil {
		return err
	}
	p.srtp.Store(o)
	return nil
}

// encryptContext returns an SRTP context for what we send.
func (p *participant) encryptContext() (*srtp.Context, error) {
	return srtp.CreateContext(p.keys.LocalMasterKey, p.keys.LocalMasterSalt, p.profile)
}

// detach makes the mux forget p (it leaves).
func (p *participant) detach() {
	p.mux.parts[p.idx].CompareAndSwap(p, nil)
}

// dtlsPacketConn gives the DTLS handshake p's records, and sends its own from p's
// address. pion/dtls stops its reader with a read deadline in the past when the
// handshake's context ends, so read deadlines are kept.
type dtlsPacketConn struct {
	p        *participant
	deadline atomic.Int64 // Unix ns, 0: none
	wake     chan struct{}
}

func (c *dtlsPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		if d := c.deadline.Load(); d != 0 && time.Now().UnixNano() >= d {
			return 0, nil, os.ErrDeadlineExceeded
		}
		var timeout <-chan time.Time
		if d := c.deadline.Load(); d != 0 {
			t := time.NewTimer(time.Duration(d - time.Now().UnixNano()))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case rec := <-c.p.inbox:
			return copy(b, rec), c.p.server, nil
		case <-c.p.hsDone:
			return 0, nil, net.ErrClosed
		case <-c.wake:
		case <-timeout:
		}
	}
}

func (c *dtlsPacketConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		c.deadline.Store(0)
	} else {
		c.deadline.Store(max(t.UnixNano(), 1))
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

func (c *dtlsPacketConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *dtlsPacketConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-c.p.hsDone:
		return len(b), nil // the close_notify of a conn we merely drop
	default:
	}
	if err := c.p.sock.writeFrom(c.p, b, c.p.server); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *dtlsPacketConn) Close() error                     { return nil }
func (c *dtlsPacketConn) LocalAddr() net.Addr              { return net.UDPAddrFromAddrPort(c.p.local) }
func (c *dtlsPacketConn) SetWriteDeadline(time.Time) error { return nil }
