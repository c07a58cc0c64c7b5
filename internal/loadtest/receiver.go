package loadtest

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"golang.org/x/sys/unix"
)

// payload layout of every packet a speaker sends (the rest is padding up to the
// Opus-like size): magic, speaker number, the speaker's own sequence number, and
// the send time in Unix nanoseconds.
const (
	payloadMagic0 = 'T'
	payloadMagic1 = 'H'
	payloadSize   = 80
)

func putPayload(b []byte, speaker int, seq uint32, sent int64) {
	b[0], b[1], b[2] = payloadMagic0, payloadMagic1, byte(speaker)
	binary.BigEndian.PutUint32(b[3:], seq)
	binary.BigEndian.PutUint64(b[7:], uint64(sent))
}

func readPayload(b []byte) (speaker int, seq uint32, sent int64, ok bool) {
	if len(b) < 15 || b[0] != payloadMagic0 || b[1] != payloadMagic1 {
		return 0, 0, 0, false
	}
	return int(b[2]), binary.BigEndian.Uint32(b[3:]), int64(binary.BigEndian.Uint64(b[7:])), true
}

// window is the measured steady state: packets count when sent in [from, to).
type window struct {
	from, to atomic.Int64 // Unix ns; from = MaxInt64 until the measurement starts
}

func (w *window) contains(sent int64) bool {
	return sent >= w.from.Load() && sent < w.to.Load()
}

// participant is one media connection once connected: the socket, the SRTP
// context and counters, owned by the receive loop it is registered with.
type participant struct {
	conn      *rtcConn
	fd        int
	speaker   bool  // speakers' sockets are drained, not measured
	joinStart int64 // Unix ns: when it started to join

	// receive loop only
	srtp *srtp.Context
	hdr  rtp.Header
	buf  []byte

	firstAt  atomic.Int64 // Unix ns of the first audio packet (0: none yet)
	received atomic.Int64 // packets sent in the window and received
	bad      atomic.Int64 // packets that did not decrypt or parse
}

// receivers spreads participants' sockets over a few epoll loops, each drained by
// one goroutine locked to its own thread.
type receivers struct {
	win   *window
	byFD  []atomic.Pointer[participant] // indexed by file descriptor
	loops []*rxLoop
	next  atomic.Uint32
	wg    sync.WaitGroup
	stop  atomic.Bool
	once  sync.Once
}

type rxLoop struct {
	r    *receivers
	epfd int
	hist histogram // latency of packets in the window; read after stop
	buf  [1500]byte
}

func newReceivers(n int, win *window) (*receivers, error) {
	r := &receivers{win: win, byFD: make([]atomic.Pointer[participant], 1<<16)}
	for range n {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			r.close()
			return nil, err
		}
		l := &rxLoop{r: r, epfd: epfd}
		r.loops = append(r.loops, l)
		r.wg.Add(1)
		go l.run()
	}
	return r, nil
}

// add registers a connected participant.
func (r *receivers) add(p *participant) error {
	ctx, err := p.conn.decryptContext()
	if err != nil {
		return err
	}
	p.srtp = ctx
	if p.fd, err = p.conn.fd(); err != nil {
		return err
	}
	return r.addRaw(p)
}

// addRaw registers p.fd as it is.
func (r *receivers) addRaw(p *participant) error {
	fd := p.fd
	if fd >= len(r.byFD) {
		return errors.New("file descriptor out of range")
	}
	r.byFD[fd].Store(p)
	l := r.loops[int(r.next.Add(1))%len(r.loops)]
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	return unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// close stops the loops and waits for them.
func (r *receivers) close() {
	r.once.Do(func() {
		r.stop.Store(true)
		r.wg.Wait()
		for _, l := range r.loops {
			_ = unix.Close(l.epfd)
		}
	})
}

// latency merges the loops' histograms (after close).
func (r *receivers) latency() *histogram {
	h := &histogram{}
	for _, l := range r.loops {
		h.merge(&l.hist)
	}
	return h
}

func (l *rxLoop) run() {
	defer l.r.wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]unix.EpollEvent, 256)
	for !l.r.stop.Load() {
		n, err := unix.EpollWait(l.epfd, events, 100)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		for i := range n {
			if p := l.r.byFD[events[i].Fd].Load(); p != nil {
				l.drain(p)
			}
		}
	}
}

// drain reads what is queued on p's socket, a few packets at most per wake-up so
// that no socket starves the others.
func (l *rxLoop) drain(p *participant) {
	for range 4 {
		n, err := unix.Read(p.fd, l.buf[:])
		if err != nil || n <= 0 {
			return
		}
		l.handle(p, l.buf[:n])
	}
}

func (l *rxLoop) handle(p *participant, b []byte) {
	switch {
	case b[0] < 2: // STUN: the server's checks and the answers to our consent checks
		p.conn.handleSTUN(b)
		return
	case b[0] < 128 || b[0] > 191: // DTLS and anything else
		return
	case b[1] >= 192 && b[1] <= 223: // RTCP (RFC 5761 §4)
		return
	}
	if p.speaker {
		return
	}
	plain, err := p.srtp.DecryptRTP(b, b, &p.hdr)
	if err != nil {
		p.bad.Add(1)
		return
	}
	_, _, sent, ok := readPayload(plain[p.hdr.MarshalSize():])
	if !ok {
		p.bad.Add(1)
		return
	}
	now := time.Now().UnixNano()
	if p.firstAt.Load() == 0 {
		p.firstAt.Store(now)
	}
	if l.r.win.contains(sent) {
		p.received.Add(1)
		l.hist.add(time.Duration(now - sent))
	}
}
