package relay

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/townhall/townhall/internal/udpbatch"
)

// Config configures a Relay.
type Config struct {
	// Addr is where the relay listens (an IPv4 address; port 0 picks one).
	Addr netip.AddrPort
	// Secret is the cluster's shared secret the keys derive from (at least 16
	// bytes); every node of the cluster must have the same.
	Secret []byte
	// Handle is given every packet that opens, on the relay's reading
	// goroutine; p and its slices are valid only during the call.
	Handle func(p *Packet, from netip.AddrPort)
	// Registry, if not nil, gets the relay's metrics.
	Registry prometheus.Registerer
}

// Relay is a node's relay socket: it sends sealed packets to other nodes and
// hands over those it receives.
type Relay struct {
	sock   *udpbatch.Socket
	keys   *Keys
	handle func(*Packet, netip.AddrPort)
	sender uint32
	m      *metrics

	mu    sync.RWMutex // guards out and in
	out   map[netip.AddrPort]*peerOut
	in    map[netip.AddrPort]*peerIn
	done  chan struct{}
	close sync.Once
}

// peerOut is what a relay keeps of one destination.
type peerOut struct {
	seq     atomic.Uint64
	packets prometheus.Counter
	bytes   prometheus.Counter
}

// peerIn is what a relay keeps of one source: the last sender and the highest
// sequence number seen from it, with a window of the 64 before, to drop replays
// and count what never came. The reading goroutine alone uses it.
type peerIn struct {
	sender  uint32
	high    uint64
	window  uint64 // bit i: high-i was received
	packets prometheus.Counter
	bytes   prometheus.Counter
	lost    prometheus.Counter
}

// Listen opens a relay.
func Listen(cfg Config) (*Relay, error) {
	if len(cfg.Secret) < 16 {
		return nil, errors.New("relay: the secret is shorter than 16 bytes")
	}
	if cfg.Handle == nil {
		return nil, errors.New("relay: no handler")
	}
	sock, err := udpbatch.Listen(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	_ = sock.SetReadBuffer(4 << 20)
	_ = sock.SetWriteBuffer(4 << 20)
	var s [4]byte
	_, _ = rand.Read(s[:])
	r := &Relay{sock: sock, keys: NewKeys(cfg.Secret), handle: cfg.Handle, sender: binary.BigEndian.Uint32(s[:]),
		m: newMetrics(cfg.Registry), out: map[netip.AddrPort]*peerOut{}, in: map[netip.AddrPort]*peerIn{},
		done: make(chan struct{})}
	go r.read()
	return r, nil
}

// Addr is the address the relay listens on.
func (r *Relay) Addr() netip.AddrPort { return r.sock.LocalAddr() }

// Keys are the relay's keys (for Forget).
func (r *Relay) Keys() *Keys { return r.keys }

// Close closes the socket and waits for the reading goroutine.
func (r *Relay) Close() error {
	var err error
	r.close.Do(func() {
		err = r.sock.Close()
		<-r.done
	})
	return err
}

// StaleCounter is townhall_relay_dropped_stale_total.
func (r *Relay) StaleCounter() prometheus.Counter { return r.m.stale }

// CountStale counts a packet its receiver dropped because it was of an older
// epoch than the room's (townhall_relay_dropped_stale_total).
func (r *Relay) CountStale() { r.m.stale.Inc() }

// readBatch is how many datagrams one recvmmsg reads.
const readBatch = 32

func (r *Relay) read() {
	defer close(r.done)
	rd := udpbatch.NewReader(readBatch, maxPacket, 0)
	var p Packet
	var n [nonceLen]byte
	for {
		k, err := rd.Read(r.sock)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		for i := range k {
			b, from, _ := rd.Datagram(i)
			r.receive(b, from, &p, &n)
		}
	}
}

// receive opens one datagram and hands it over.
func (r *Relay) receive(b []byte, from netip.AddrPort, p *Packet, n *[nonceLen]byte) {
	hl, err := parseHeader(b, p)
	if err != nil {
		r.m.malformed.Inc()
		return
	}
	aead, err := r.keys.get(p.Room, p.Epoch)
	if err != nil {
		r.m.malformed.Inc()
		return
	}
	nonce(n, p.Sender, p.Seq)
	rtp, err := aead.Open(b[hl:hl], n[:], b[hl:], b[:hl])
	if err != nil {
		r.m.unauthentic.Inc()
		return
	}
	if !r.fresh(from, p, len(b)) {
		return
	}
	p.RTP = rtp
	r.handle(p, from)
}

// fresh accounts for p from from and reports whether it is new (not a replay).
func (r *Relay) fresh(from netip.AddrPort, p *Packet, size int) bool {
	r.mu.RLock()
	pi := r.in[from]
	r.mu.RUnlock()
	if pi == nil {
		peer := from.String()
		pi = &peerIn{packets: r.m.inPackets.WithLabelValues(peer), bytes: r.m.inBytes.WithLabelValues(peer),
			lost: r.m.lost.WithLabelValues(peer)}
		r.mu.Lock()
		r.in[from] = pi
		r.mu.Unlock()
	}
	switch {
	case pi.sender != p.Sender || pi.high == 0:
		// A new sender at this address (a restarted process): start over, as if
		// everything before this packet had come.
		pi.sender, pi.high, pi.window = p.Sender, p.Seq, ^uint64(0)
	case p.Seq > pi.high:
		// The window moves up by gap: the packets that leave it unreceived
		// are lost.
		gap := p.Seq - pi.high
		if gap >= 64 {
			pi.lost.Add(float64(64 - bits.OnesCount64(pi.window) + int(min(gap-64, 1<<20))))
			pi.window = 0
		} else {
			leaving := pi.window >> (64 - gap)
			pi.lost.Add(float64(int(gap) - bits.OnesCount64(leaving)))
			pi.window <<= gap
		}
		pi.window |= 1
		pi.high = p.Seq
	default:
		back := pi.high - p.Seq
		if back >= 64 || pi.window&(1<<back) != 0 {
			r.m.replayed.Inc()
			return false
		}
		pi.window |= 1 << back // late, but within the window: not lost
	}
	pi.packets.Inc()
	pi.bytes.Add(float64(size))
	return true
}

// peer returns the state of destination to.
func (r *Relay) peer(to netip.AddrPort) *peerOut {
	r.mu.RLock()
	po := r.out[to]
	r.mu.RUnlock()
	if po != nil {
		return po
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if po = r.out[to]; po == nil {
		peer := to.String()
		po = &peerOut{packets: r.m.outPackets.WithLabelValues(peer), bytes: r.m.outBytes.WithLabelValues(peer)}
		r.out[to] = po
	}
	return po
}

// Batch collects sealed packets and writes them with one sendmmsg. A Batch is
// one goroutine's: make one per sending goroutine.
type Batch struct {
	r    *Relay
	w    *udpbatch.Writer
	bufs [][]byte
	n    [nonceLen]byte
}

// batchSize is how many packets a Batch holds before it writes them.
const batchSize = 32

// NewBatch returns a Batch of r.
func (r *Relay) NewBatch() *Batch {
	b := &Batch{r: r, w: udpbatch.NewWriter(batchSize), bufs: make([][]byte, batchSize)}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, 0, maxPacket)
	}
	return b
}

// Add seals the RTP packet rtp under h and queues it for to; it writes the batch
// when full. rtp is copied: the caller may reuse it at once.
func (b *Batch) Add(to netip.AddrPort, h *Header, rtp []byte) error {
	if len(rtp) > maxRTPLen {
		return ErrTooBig
	}
	aead, err := b.r.keys.getString(h.Room, h.Epoch)
	if err != nil {
		return err
	}
	buf := b.bufs[b.w.Len()][:0]
	buf, err = appendHeader(buf, h, b.r.sender, 0)
	if err != nil {
		return err
	}
	// The sequence number is taken only for a packet that goes: a gap at the
	// receiver is a loss.
	po := b.r.peer(to)
	seq := po.seq.Add(1)
	binary.BigEndian.PutUint64(buf[offSeq:], seq)
	hl := len(buf)
	nonce(&b.n, b.r.sender, seq)
	buf = aead.Seal(buf, b.n[:], rtp, buf[:hl])
	if err := b.w.Add(buf, to); err != nil {
		return err
	}
	po.packets.Inc()
	po.bytes.Add(float64(len(buf)))
	if b.w.Full() {
		b.Flush()
	}
	return nil
}

// Flush writes what is queued.
func (b *Batch) Flush() { _ = b.w.Flush(b.r.sock) }

// Keys derives the key of each room and epoch from the shared secret, and keeps
// the latest few epochs of each room.
type Keys struct {
	secret []byte
	mu     sync.RWMutex
	rooms  map[string]*roomKeys
}

// roomKeys are a room's keys, newest last.
type roomKeys struct {
	epochs []uint64
	aeads  []cipher.AEAD
}

// keptEpochs is how many epochs of a room keep their key.
const keptEpochs = 4

// NewKeys returns the keys of secret.
func NewKeys(secret []byte) *Keys {
	return &Keys{secret: secret, rooms: map[string]*roomKeys{}}
}

// get returns the AEAD of room and epoch, room given as bytes (no allocation
// once made).
func (k *Keys) get(room []byte, epoch uint64) (cipher.AEAD, error) {
	k.mu.RLock()
	rk := k.rooms[string(room)]
	if rk != nil {
		for i, e := range rk.epochs {
			if e == epoch {
				a := rk.aeads[i]
				k.mu.RUnlock()
				return a, nil
			}
		}
	}
	k.mu.RUnlock()
	return k.make(string(room), epoch)
}

func (k *Keys) getString(room string, epoch uint64) (cipher.AEAD, error) {
	k.mu.RLock()
	rk := k.rooms[room]
	if rk != nil {
		for i, e := range rk.epochs {
			if e == epoch {
				a := rk.aeads[i]
				k.mu.RUnlock()
				return a, nil
			}
		}
	}
	k.mu.RUnlock()
	return k.make(room, epoch)
}

// make derives the key of room and epoch and keeps it, forgetting the room's
// oldest when it keeps too many.
func (k *Keys) make(room string, epoch uint64) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, k.secret, nil, "townhall relay "+room+" "+strconv.FormatUint(epoch, 10), 16)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	rk := k.rooms[room]
	if rk == nil {
		rk = &roomKeys{}
		k.rooms[room] = rk
	}
	for i, e := range rk.epochs {
		if e == epoch {
			return rk.aeads[i], nil
		}
	}
	rk.epochs = append(rk.epochs, epoch)
	rk.aeads = append(rk.aeads, aead)
	if len(rk.epochs) > keptEpochs {
		// Drop the oldest epoch, not the first made.
		old := 0
		for i, e := range rk.epochs {
			if e < rk.epochs[old] {
				old = i
			}
		}
		rk.epochs = append(rk.epochs[:old], rk.epochs[old+1:]...)
		rk.aeads = append(rk.aeads[:old], rk.aeads[old+1:]...)
	}
	return aead, nil
}

// Forget drops a room's keys (it ended here).
func (k *Keys) Forget(room string) {
	k.mu.Lock()
	delete(k.rooms, room)
	k.mu.Unlock()
}

type metrics struct {
	outPackets, outBytes, inPackets, inBytes, lost *prometheus.CounterVec
	malformed, unauthentic, replayed, stale        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"peer"})
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		outPackets:  vec("townhall_relay_sent_packets_total", "Relay packets sent to another node, by its relay address."),
		outBytes:    vec("townhall_relay_sent_bytes_total", "Relay bytes sent to another node, by its relay address."),
		inPackets:   vec("townhall_relay_received_packets_total", "Relay packets received from another node, by its relay address."),
		inBytes:     vec("townhall_relay_received_bytes_total", "Relay bytes received from another node, by its relay address."),
		lost:        vec("townhall_relay_lost_packets_total", "Relay packets another node sent here that never came (gaps in its sequence numbers)."),
		malformed:   counter("townhall_relay_dropped_malformed_total", "Relay packets dropped because they do not parse."),
		unauthentic: counter("townhall_relay_dropped_unauthentic_total", "Relay packets dropped because they do not open under their room's and epoch's key."),
		replayed:    counter("townhall_relay_dropped_replayed_total", "Relay packets dropped because they came before (or are older than the 64-packet window)."),
		stale:       counter("townhall_relay_dropped_stale_total", "Relay packets dropped because they are of an older epoch than the room's owner now."),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.outPackets, m.outBytes, m.inPackets, m.inBytes, m.lost,
			m.malformed, m.unauthentic, m.replayed, m.stale} {
			reg.MustRegister(c)
		}
	}
	return m
}
