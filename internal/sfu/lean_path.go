package sfu

import (
	"net/netip"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
)

// Where a lean connection's media goes: the pair the client nominated first, or
// an address it nominated later that answered a check of ours, while the client
// keeps its consent (RFC 7675). See docs/security.md.

// onPath says whether path is the selected pair: packets authenticated over it
// renew consent. (A UDP packet reaches c only from its selected address, or from
// the one it had before moving to ICE-TCP.)
func (c *leanConn) onPath(path packetPath) bool {
	switch p := path.(type) {
	case *udpPath:
		return c.link.Load() == nil
	case tcpPath:
		return c.link.Load() == p.l
	}
	return false
}

// heard renews consent (RFC 7675) if path is the selected pair: an authenticated
// packet came over it at now.
func (c *leanConn) heard(path packetPath, now int64) {
	if c.onPath(path) {
		c.consentAt.Store(now)
	}
}

// nominate handles the client's USE-CANDIDATE over path (RFC 8445 §7.3.1.5; a
// lite agent takes the nomination of the controlling client). The first one
// selects the pair, over which nothing but the DTLS handshake goes until it is
// done, a round trip that only the client can complete. A later one over an
// ICE-TCP connection selects it at once: TCP's own handshake proved that the
// address answers. A later one over UDP from another address only starts a check
// of ours to it, and the media moves when the address answers (probeAnswered): a
// nomination proves only that its sender knows the credentials, and the holder of
// a connection could send one with anyone's address as its source.
func (c *leanConn) nominate(path packetPath) {
	var probe []byte
	var to netip.AddrPort
	c.mu.Lock()
	switch p := path.(type) {
	case *udpPath:
		switch {
		case c.state.Load() == leanClosed:
		case c.nominated == nil:
			c.selectLocked(path)
		case c.udpAP == p.to && c.link.Load() == nil:
			c.dropProbeLocked() // back to the selected pair: forget a move under way
		default:
			probe, to = c.probeLocked(p.to, time.Now().UnixNano()), p.to
		}
	case tcpPath:
		if c.state.Load() != leanClosed && c.link.Load() != p.l {
			c.selectLocked(path)
		}
	}
	c.mu.Unlock()
	if probe != nil {
		_ = c.t.udp.WriteTo(probe, to)
	}
}

// selectLocked makes path the selected pair: the DTLS handshake and then the media
// go over it. c.mu is held.
func (c *leanConn) selectLocked(path packetPath) {
	switch p := path.(type) {
	case *udpPath:
		old := c.udpAP
		c.udpAP = p.to
		c.t.route(c, old, p.to)
		to := p.to
		c.udpTo.Store(&to)
		c.link.Store(nil)
		path = &udpPath{t: c.t, to: p.to} // p is its reader's, reused for the next packet
	case tcpPath:
		p.l.cmu.Lock()
		p.l.c = c
		p.l.cmu.Unlock()
		c.link.Store(p.l)
		c.udpTo.Store(nil)
	}
	c.dropProbeLocked()
	c.nominated = path
	c.consentAt.Store(time.Now().UnixNano())
	c.noConsent.Store(false)
	c.startHandshakeLocked()
}

// pathProbe is the check the lean transport sends to an address the client
// nominated after the first, before the media may move there. A lite agent sends
// no checks to find a pair (RFC 8445 §2.5), but this one proves what a
// nomination cannot: that the address is the client's and takes what is sent to
// it. The request carries the client's credentials, and only the client, at that
// address, learns its transaction ID to answer it.
type pathProbe struct {
	to   netip.AddrPort
	tx   [stun.TransactionIDSize]byte
	req  []byte // the request, for retransmissions
	sent int    // how many times it was sent
	at   int64  // Unix ns of the last send
}

// A probe is sent again every probeEvery until it has been sent probeTries times;
// then it is dropped, and the client's next nomination starts another.
const (
	probeEvery = 500 * time.Millisecond
	probeTries = 5
	// probePriority is the PRIORITY of our checks (RFC 8445 §7.1.1): that of a
	// peer-reflexive candidate of ours, as the client's agent will learn it.
	probePriority = 110<<24 | 65535<<8 | 255
)

// probeLocked starts a probe of to, unless one is under way to it, and returns
// the request to send, if any.
func (c *leanConn) probeLocked(to netip.AddrPort, now int64) []byte {
	if c.probe != nil && c.probe.to == to {
		return nil // the janitor sends it again
	}
	c.dropProbeLocked()
	c.probe = &pathProbe{to: to}
	return c.probeRequestLocked(now)
}

// probeRequestLocked makes the request of the probe under way, if it has none and
// the answer has given the client's credentials (its ICE may beat its answer), and
// returns it.
func (c *leanConn) probeRequestLocked(now int64) []byte {
	pr := c.probe
	if pr == nil || pr.req != nil || c.remoteUfrag == "" {
		return nil
	}
	m, err := stun.Build(stun.BindingRequest, stun.TransactionID,
		stun.NewUsername(c.remoteUfrag+":"+c.ufrag), ice.AttrControlled(c.tieBreaker),
		ice.PriorityAttr(probePriority), c.remoteKey, stun.Fingerprint)
	if err != nil {
		c.probe = nil
		return nil
	}
	pr.tx, pr.req, pr.sent, pr.at = m.TransactionID, m.Raw, 1, now
	c.t.addProbe(pr.tx, c)
	return pr.req
}

// dropProbeLocked forgets the probe under way, if any.
func (c *leanConn) dropProbeLocked() {
	if c.probe != nil {
		if c.probe.req != nil {
			c.t.dropProbe(c.probe.tx, c)
		}
		c.probe = nil
	}
}

// reprobe sends the probe under way again, or gives it up; the janitor calls it.
func (c *leanConn) reprobe(now int64) {
	var req []byte
	var to netip.AddrPort
	c.mu.Lock()
	switch pr := c.probe; {
	case pr == nil || pr.req == nil || now-pr.at < int64(probeEvery):
	case pr.sent >= probeTries:
		c.dropProbeLocked()
	default:
		pr.sent++
		pr.at = now
		req, to = pr.req, pr.to
	}
	c.mu.Unlock()
	if req != nil {
		_ = c.t.udp.WriteTo(req, to)
	}
}

// probeAnswered takes a binding success response with the transaction ID of c's
// probe: if it came from the probed address and carries the client's
// MESSAGE-INTEGRITY, the media moves to that address.
func (c *leanConn) probeAnswered(m *stun.Message, path packetPath) {
	p, ok := path.(*udpPath)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pr := c.probe
	if pr == nil || pr.tx != m.TransactionID || pr.to != p.to || c.state.Load() == leanClosed {
		return
	}
	if c.remoteKey.Check(m) != nil || stun.Fingerprint.Check(m) != nil {
		return
	}
	c.touch()
	c.selectLocked(path)
	c.t.log.Debug("media moved to a new address that answered our check", "participant", c.participant(), "to", p.to)
}

// participant is the ID of c's participant, for logs.
func (c *leanConn) participant() string {
	if c.p == nil {
		return ""
	}
	return c.p.id
}
