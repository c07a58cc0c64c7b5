package sfu

import (
	"bufio"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/townhall/townhall/internal/sfu/sfutest"
)

// These tests hold a real lean connection with a pion client, and play the rest
// (a third party, a client's new address) with bare UDP sockets on 127.0.0.1.

// newLeanEngine is newTestEngine on the lean transport, whatever SFU_TEST_TRANSPORT
// says: what these tests check is the lean transport's own (pion's keeps its own
// consent and checks its pairs both ways).
func newLeanEngine(t *testing.T, change func(*Config)) *Engine {
	t.Helper()
	e, _ := newLeanEngineReg(t, change)
	return e
}

func newLeanEngineReg(t *testing.T, change func(*Config)) (*Engine, *prometheus.Registry) {
	t.Helper()
	return newTestEngine(t, func(c *Config) {
		c.Transport = TransportLean
		if change != nil {
			change(c)
		}
	})
}

// iceCredentials returns the first ice-ufrag and ice-pwd of an SDP.
func iceCredentials(t *testing.T, sdp string) (ufrag, pwd string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(sdp))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok && ufrag == "" {
			ufrag = v
		}
		if v, ok := strings.CutPrefix(line, "a=ice-pwd:"); ok && pwd == "" {
			pwd = v
		}
	}
	if ufrag == "" || pwd == "" {
		t.Fatalf("no ICE credentials in the SDP")
	}
	return ufrag, pwd
}

// nomination is a connectivity check with USE-CANDIDATE for p's connection, as
// its client's ICE agent would send it: whoever holds the connection knows all
// it takes.
func nomination(t *testing.T, p *participant) []byte {
	t.Helper()
	ufrag, _ := iceCredentials(t, p.answer.SDP)
	m, err := stun.Build(stun.BindingRequest, stun.TransactionID,
		stun.NewUsername(p.peer.lean.ufrag+":"+ufrag), ice.AttrControlling(1), ice.PriorityAttr(1),
		ice.UseCandidate(), stun.NewShortTermIntegrity(p.peer.lean.pwd), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

// addressHolder is a UDP socket on 127.0.0.1 that records what reaches it and,
// given the client's ICE password, answers the binding requests signed with it,
// as the client's ICE agent would from a new address. Without it, it answers
// nothing: a third party whose address someone else names.
type addressHolder struct {
	conn    *net.UDPConn
	pwd     string
	mu      sync.Mutex
	media   int // datagrams of SRTP or SRTCP (RFC 7983: first byte 128 to 191)
	checks  int // binding requests
	answers int // binding success responses
	other   int
	done    chan struct{}
}

func newAddressHolder(t *testing.T, clientPwd string) *addressHolder {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	h := &addressHolder{conn: conn, pwd: clientPwd, done: make(chan struct{})}
	go h.read()
	t.Cleanup(func() {
		_ = conn.Close()
		<-h.done
	})
	return h
}

func (h *addressHolder) addr() netip.AddrPort { return h.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (h *addressHolder) read() {
	defer close(h.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := h.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		h.mu.Lock()
		switch {
		case n > 0 && b[0] >= 128 && b[0] <= 191:
			h.media++
		case stun.IsMessage(b):
			m := &stun.Message{Raw: append([]byte(nil), b...)}
			if m.Decode() != nil {
				h.other++
				break
			}
			switch m.Type {
			case stun.BindingRequest:
				h.checks++
				if h.pwd != "" && stun.NewShortTermIntegrity(h.pwd).Check(m) == nil {
					_, _ = h.conn.WriteToUDPAddrPort(h.answer(m, from), from)
				}
			case stun.BindingSuccess:
				h.answers++
			default:
				h.other++
			}
		default:
			h.other++
		}
		h.mu.Unlock()
	}
}

// answer is the binding success response to req from from (RFC 8445 §7.3.1.2).
func (h *addressHolder) answer(req *stun.Message, from netip.AddrPort) []byte {
	m, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())},
		stun.NewShortTermIntegrity(h.pwd), stun.Fingerprint)
	if err != nil {
		return nil
	}
	return m.Raw
}

func (h *addressHolder) counts() (media, checks, answers, other int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.media, h.checks, h.answers, h.other
}

// sendTo sends b from the holder's address to the engine's UDP port.
func (h *addressHolder) sendTo(t *testing.T, e *Engine, b []byte) {
	t.Helper()
	if _, err := h.conn.WriteToUDPAddrPort(b, e.UDPAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
}

// forgedSRTP is an RTP packet that p's connection accepts as its client's own
// SRTP: sealed with the keys the handshake gave the client (which its holder has).
func forgedSRTP(t *testing.T, p *participant, seq uint16) []byte {
	t.Helper()
	c := p.peer.lean
	c.inMu.Lock()
	key, salt, profile := c.inKey, c.inSalt, c.profile
	c.inMu.Unlock()
	ctx, err := srtp.CreateContext(key, salt, profile)
	if err != nil {
		t.Fatal(err)
	}
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: opusPayloadType, SequenceNumber: seq,
		Timestamp: uint32(seq) * 960, SSRC: 0xF0F0}, Payload: testPayload(9, uint32(seq))}
	plain, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ctx.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// selectedUDP returns the address p's media goes to on the lean transport.
func selectedUDP(p *participant) netip.AddrPort {
	if to := p.peer.lean.udpTo.Load(); to != nil {
		return *to
	}
	return netip.AddrPort{}
}

// speakerAndListener is a room on a lean engine where a listener hears a speaker.
func speakerAndListener(t *testing.T, change func(*Config)) (*Engine, *participant, *participant) {
	t.Helper()
	e := newLeanEngine(t, change)
	f := newTestForwarder(t, e)
	sp := join(t, e, f, "speaker", sfutest.Options{})
	l := join(t, e, f, "listener", sfutest.Options{})
	f.SetAllowed("speaker", true)
	startSpeaking(t, sp, 1, 30)
	waitFor(t, 10*time.Second, "the listener hears the speaker", func() bool { return len(heard(l.client, 0)) >= 25 })
	return e, sp, l
}

func TestSpoofedNominationDoesNotMoveTheMedia(t *testing.T) {
	tests := []struct {
		name      string
		forgeSRTP bool // the nomination's sender then sends SRTP from the same address
	}{
		{"a nomination from an address that never answers leaves the media where it was", false},
		{"a nomination and authenticated SRTP from an address that never answers leave the media where it was", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, l := speakerAndListener(t, nil)
			real := selectedUDP(l)
			victim := newAddressHolder(t, "") // never answers
			victim.sendTo(t, e, nomination(t, l))
			waitFor(t, 5*time.Second, "the server answers the nomination", func() bool {
				_, _, answers, _ := victim.counts()
				return answers == 1
			})
			if tt.forgeSRTP {
				for seq := range uint16(10) {
					victim.sendTo(t, e, forgedSRTP(t, l, 40000+seq))
				}
			}

			heardBefore := len(heard(l.client, 0))
			waitFor(t, 10*time.Second, "the listener hears 50 more packets at its own address", func() bool {
				return len(heard(l.client, 0)) >= heardBefore+50
			})
			media, checks, _, other := victim.counts()
			if media != 0 || other != 0 {
				t.Errorf("the third party received %d media datagrams and %d others", media, other)
			}
			if checks > probeTries {
				t.Errorf("the third party received %d checks, want at most %d", checks, probeTries)
			}
			if got := selectedUDP(l); got != real {
				t.Errorf("the listener's media goes to %v, want its own address %v", got, real)
			}
		})
	}
}

func TestNominatedAddressGetsTheMediaOnceItAnswers(t *testing.T) {
	e, _, l := speakerAndListener(t, nil)
	_, clientPwd := iceCredentials(t, l.answer.SDP)
	moved := newAddressHolder(t, clientPwd) // the client, from a new address
	moved.sendTo(t, e, nomination(t, l))
	waitFor(t, 10*time.Second, "the new address receives 25 media datagrams", func() bool {
		media, _, _, _ := moved.counts()
		return media >= 25
	})
	if got := selectedUDP(l); got != moved.addr() {
		t.Errorf("the listener's media goes to %v, want its new address %v", got, moved.addr())
	}
	if _, checks, _, _ := moved.counts(); checks < 1 {
		t.Errorf("the new address got the media without being checked")
	}
}

func TestMediaStopsWhenConsentExpires(t *testing.T) {
	tests := []struct {
		name   string
		silent string // the participant whose client stops sending
	}{
		{"a listener whose client stops sending stops receiving", "l1"},
		{"a speaker whose client stops sending stops receiving", "s2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, reg := newLeanEngineReg(t, func(c *Config) {
				c.ConsentTimeout = 3 * time.Second // more than the 2 s between a pion client's checks
				c.DisconnectTimeout = time.Minute  // consent, not the disconnection, stops the media
			})
			f := newTestForwarder(t, e)
			ps := map[string]*participant{}
			for _, id := range []string{"s1", "s2", "s3", "l1"} {
				ps[id] = join(t, e, f, id, sfutest.Options{})
			}
			for i, id := range []string{"s1", "s2", "s3"} {
				f.SetAllowed(id, true)
				startSpeaking(t, ps[id], byte(i+1), 30)
			}
			silent, control := ps[tt.silent], ps["s1"] // s1 hears s3, and its SRTP keeps its consent
			waitFor(t, 10*time.Second, tt.silent+" receives media", func() bool { return silent.client.MediaDatagrams() >= 50 })

			if err := silent.client.StopSending(); err != nil {
				t.Fatal(err)
			}
			// Quiet: the silent client's socket got nothing while the control heard
			// 25 packets of s3 (half a second).
			mark, from := silent.client.MediaDatagrams(), heardFrom(control.client, 3)
			waitFor(t, 10*time.Second, tt.silent+" receives nothing while s1 hears half a second of s3", func() bool {
				if n := silent.client.MediaDatagrams(); n != mark {
					mark, from = n, heardFrom(control.client, 3)
					return false
				}
				return heardFrom(control.client, 3) >= from+25
			})
			if got := silent.peer.State(); got != StateDisconnected {
				t.Errorf("%s: state %s, want disconnected", tt.silent, got)
			}
			if !silent.peer.lean.noConsent.Load() || control.peer.lean.noConsent.Load() {
				t.Errorf("consent lost: %s %v, s1 %v; want %[1]s's only", tt.silent,
					silent.peer.lean.noConsent.Load(), control.peer.lean.noConsent.Load())
			}
			if n := counterValue(t, reg, "townhall_sfu_consent_expired_total"); n < 1 {
				t.Errorf("consent expired %v times, want at least once", n)
			}
		})
	}
}

// heardFrom counts the packets of speaker idx that c received, in any slot.
func heardFrom(c *sfutest.Client, idx byte) int {
	n := 0
	for slot := range c.Slots() {
		for _, p := range c.Received(slot) {
			if i, _, ok := payloadFrom(p.Payload); ok && i == idx {
				n++
			}
		}
	}
	return n
}

// TestNominationBeforeTheAnswerIsCheckedOnceItComes: the client's ICE may beat its
// answer, which holds the credentials a check of ours needs. A second nomination
// that comes first waits for the answer, then is checked.
func TestNominationBeforeTheAnswerIsCheckedOnceItComes(t *testing.T) {
	e := newLeanEngine(t, nil)
	f := newTestForwarder(t, e)
	ctx := testContext(t)
	client, err := sfutest.New(sfutest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	peer, err := e.NewPeer("a", f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	offer, err := peer.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := client.Answer(ctx, offer) // the client's ICE starts; the server has no answer yet
	if err != nil {
		t.Fatal(err)
	}
	p := &participant{id: "a", peer: peer, client: client, answer: answer}
	waitFor(t, 10*time.Second, "the client's first nomination selects its address", func() bool {
		return selectedUDP(p).IsValid()
	})
	first := selectedUDP(p)
	_, clientPwd := iceCredentials(t, answer.SDP)
	moved := newAddressHolder(t, clientPwd)
	moved.sendTo(t, e, nomination(t, p))
	waitFor(t, 5*time.Second, "the server answers the second nomination", func() bool {
		_, _, answers, _ := moved.counts()
		return answers == 1
	})
	peer.lean.mu.Lock()
	waiting := peer.lean.probe != nil && peer.lean.probe.to == moved.addr() && peer.lean.probe.req == nil
	peer.lean.mu.Unlock()
	if !waiting || selectedUDP(p) != first {
		t.Fatalf("before the answer: a probe waiting %v, selected %v (first %v)", waiting, selectedUDP(p), first)
	}

	if err := peer.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the second address, checked once the answer came, is selected", func() bool {
		return selectedUDP(p) == moved.addr()
	})
	if _, checks, _, _ := moved.counts(); checks < 1 {
		t.Errorf("the second address was selected without being checked")
	}
}
