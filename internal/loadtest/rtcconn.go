package loadtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
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

// rtcConn is one participant's media connection: a UDP socket of its own, ICE
// with the server's one candidate, DTLS-SRTP. After connect, only the socket and
// the SRTP keys are kept.
type rtcConn struct {
	id      *identity
	udp     *net.UDPConn
	local   *net.UDPAddr
	ufrag   string
	pwd     string
	offer   *offer
	tiebrk  uint64
	iceOK   atomic.Bool // a check of ours succeeded
	nomin   atomic.Bool // the server nominated our pair (full ICE server)
	detach  atomic.Bool // the DTLS conn must not touch the socket any more
	profile srtp.ProtectionProfile
	keys    srtp.SessionKeys
}

func newRTCConn(id *identity) (*rtcConn, error) {
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = udp.SetReadBuffer(256 << 10)
	var b [16]byte
	_, _ = rand.Read(b[:])
	c := &rtcConn{
		id: id, udp: udp, local: udp.LocalAddr().(*net.UDPAddr),
		ufrag: fmt.Sprintf("%x", b[:4]), pwd: fmt.Sprintf("%x", b[4:]),
		tiebrk: binary.BigEndian.Uint64(b[8:]),
	}
	return c, nil
}

// answer returns the SDP answer to the server's offer.
func (c *rtcConn) answer(sdp string, micSSRC uint32) (string, error) {
	o, err := parseOffer(sdp)
	if err != nil {
		return "", err
	}
	if !o.server.IP.IsLoopback() {
		return "", fmt.Errorf("the server's candidate %s is not on loopback: the load test runs on one machine", o.server)
	}
	c.offer = o
	return buildAnswer(o, answerParams{ufrag: c.ufrag, pwd: c.pwd, fingerprint: c.id.fingerprint, local: c.local, micSSRC: micSSRC}), nil
}

// connect runs ICE and the DTLS handshake, then keeps the SRTP keys. The socket is
// then left to the caller (reads go through its file descriptor).
func (c *rtcConn) connect(ctx context.Context) error {
	if err := c.ice(ctx); err != nil {
		return err
	}
	return c.handshake(ctx)
}

// ice sends connectivity checks to the server's candidate and answers the
// server's own, until the pair is nominated: by our check's success with a lite
// server (we are controlling), by the server's USE-CANDIDATE with a full one.
func (c *rtcConn) ice(ctx context.Context) error {
	buf := make([]byte, 1500)
	next := time.Now()
	for !(c.offer.lite && c.iceOK.Load() || !c.offer.lite && c.nomin.Load()) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ICE: %w", err)
		}
		if time.Now().After(next) {
			if err := c.sendCheck(); err != nil {
				return err
			}
			next = time.Now().Add(100 * time.Millisecond)
		}
		_ = c.udp.SetReadDeadline(next)
		n, _, err := c.udp.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if stun.IsMessage(buf[:n]) {
			c.handleSTUN(buf[:n])
		}
	}
	return c.udp.SetReadDeadline(time.Time{})
}

// sendCheck sends one ICE connectivity check (RFC 8445 §7.2.2) to the server, also
// used as a consent freshness check (RFC 7675) once connected.
func (c *rtcConn) sendCheck() error {
	m := stun.New()
	m.Type = stun.BindingRequest
	_ = m.NewTransactionID()
	m.WriteHeader() // before MESSAGE-INTEGRITY: the HMAC covers the header
	m.Add(stun.AttrUsername, []byte(c.offer.ufrag+":"+c.ufrag))
	var prio [4]byte
	binary.BigEndian.PutUint32(prio[:], 1853824767) // prflx, local preference 65535, component 1
	m.Add(attrPriority, prio[:])
	var tb [8]byte
	binary.BigEndian.PutUint64(tb[:], c.tiebrk)
	if c.offer.lite {
		m.Add(attrICEControlling, tb[:])
		m.Add(attrUseCandidate, nil)
	} else {
		m.Add(attrICEControlled, tb[:])
	}
	if err := stun.NewShortTermIntegrity(c.offer.pwd).AddTo(m); err != nil {
		return err
	}
	if err := stun.Fingerprint.AddTo(m); err != nil {
		return err
	}
	_, err := c.udp.WriteToUDP(m.Raw, c.offer.server)
	return err
}

// handleSTUN answers the server's checks and notes the success of ours.
func (c *rtcConn) handleSTUN(b []byte) {
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if m.Decode() != nil {
		return
	}
	if debugSTUN {
		println("stun", m.String(), m.Contains(attrUseCandidate))
	}
	switch m.Type {
	case stun.BindingSuccess:
		if stun.NewShortTermIntegrity(c.offer.pwd).Check(m) == nil {
			c.iceOK.Store(true)
		}
	case stun.BindingRequest:
		if stun.NewShortTermIntegrity(c.pwd).Check(m) != nil {
			return
		}
		if m.Contains(attrUseCandidate) {
			c.nomin.Store(true)
		}
		resp, err := stun.Build(stun.BindingSuccess, stun.NewTransactionIDSetter(m.TransactionID),
			&stun.XORMappedAddress{IP: c.offer.server.IP, Port: c.offer.server.Port}, // the address we saw it from
			stun.NewShortTermIntegrity(c.pwd), stun.Fingerprint)
		if err == nil {
			_, _ = c.udp.WriteToUDP(resp.Raw, c.offer.server)
		}
	}
}

// handshake runs the DTLS client handshake (we answered setup:active) and derives
// the SRTP keys (RFC 5764 §4.2), then drops the DTLS connection without a word to
// the server: its last flight is already acknowledged by the server's Finished.
func (c *rtcConn) handshake(ctx context.Context) error {
	pc := &dtlsPacketConn{c: c}
	conn, err := dtls.Client(pc, c.offer.server, &dtls.Config{
		Certificates:       []tls.Certificate{c.id.cert},
		InsecureSkipVerify: true, // self-signed: the fingerprint from the offer is checked instead
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			want := strings.TrimSpace(c.offer.fingerprint)
			if len(raw) == 0 || !strings.EqualFold(want, "sha-256 "+fingerprintOf(raw[0])) {
				return fmt.Errorf("the server's certificate does not match its fingerprint")
			}
			return nil
		},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80},
		ExtendedMasterSecret:   dtls.RequireExtendedMasterSecret,
		FlightInterval:         250 * time.Millisecond,
	})
	if err != nil {
		return err
	}
	defer func() {
		// Wake the DTLS reader and keep every later read through the Go runtime
		// failing at once: from now on only the epoll loop reads this socket.
		c.detach.Store(true)
		_ = c.udp.SetReadDeadline(time.Unix(1, 0))
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
		c.profile = srtp.ProtectionProfileAeadAes128Gcm
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		c.profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return fmt.Errorf("DTLS: SRTP profile %v", sel)
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return fmt.Errorf("DTLS: no connection state")
	}
	cfg := srtp.Config{Profile: c.profile}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, true); err != nil {
		return fmt.Errorf("SRTP keys: %w", err)
	}
	c.keys = cfg.Keys
	return nil
}

// decryptContext returns an SRTP context for what the server sends.
func (c *rtcConn) decryptContext() (*srtp.Context, error) {
	return srtp.CreateContext(c.keys.RemoteMasterKey, c.keys.RemoteMasterSalt, c.profile)
}

// encryptContext returns an SRTP context for what we send.
func (c *rtcConn) encryptContext() (*srtp.Context, error) {
	return srtp.CreateContext(c.keys.LocalMasterKey, c.keys.LocalMasterSalt, c.profile)
}

// fd returns the socket's file descriptor, for the epoll receive loop.
func (c *rtcConn) fd() (int, error) {
	rc, err := c.udp.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	err = rc.Control(func(f uintptr) { fd = int(f) })
	return fd, err
}

func (c *rtcConn) close() { _ = c.udp.Close() }

// dtlsPacketConn gives the DTLS handshake the socket, answering STUN on the way
// and dropping SRTP that comes before the keys.
type dtlsPacketConn struct {
	c  *rtcConn
	mu sync.Mutex
}

var errDetached = net.ErrClosed

var debugSTUN = false

func (p *dtlsPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		if p.c.detach.Load() {
			return 0, nil, errDetached
		}
		n, addr, err := p.c.udp.ReadFromUDP(b)
		if err != nil {
			if p.c.detach.Load() {
				return 0, nil, errDetached
			}
			return 0, nil, err
		}
		switch {
		case n > 0 && b[0] < 2 && stun.IsMessage(b[:n]):
			p.c.handleSTUN(b[:n])
		case n > 0 && b[0] >= 20 && b[0] <= 63: // DTLS (RFC 7983 §7)
			return n, addr, nil
		}
	}
}

func (p *dtlsPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if p.c.detach.Load() {
		return len(b), nil // the close_notify of a conn we merely drop
	}
	return p.c.udp.WriteTo(b, addr)
}

func (p *dtlsPacketConn) Close() error                       { return nil }
func (p *dtlsPacketConn) LocalAddr() net.Addr                { return p.c.local }
func (p *dtlsPacketConn) SetDeadline(t time.Time) error      { return nil }
func (p *dtlsPacketConn) SetReadDeadline(t time.Time) error  { return nil }
func (p *dtlsPacketConn) SetWriteDeadline(t time.Time) error { return nil }
