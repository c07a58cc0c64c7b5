package loadtest

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/townhall/townhall/internal/udpbatch"
)

// udpMux is the generator's network: a few UDP sockets bound to the unspecified
// address, shared by every participant. Each participant has a loopback address of
// its own (127.1.x.y), so that the server sees one 5-tuple per participant, and the
// mux tells packets apart by the destination address the kernel reports
// (IP_PKTINFO). Reading is one recvmmsg per burst of up to 64 packets, whoever they
// are for: the cost per packet is the kernel's copy and the SRTP decryption.
type udpMux struct {
	socks []*muxSock
	parts []atomic.Pointer[participant] // by participant index
	win   *window
	wg    sync.WaitGroup
}

type muxSock struct {
	m    *udpMux
	conn *net.UDPConn
	rc   syscall.RawConn
	port int
	wmu  sync.Mutex       // guards w
	w    *udpbatch.Writer // one datagram at a time, raw like the reads
	hist histogram
}

// maxParticipants bounds the address plan 127.1.0.1 to 127.1.250.250... (x.y
// with x < 250, y in 1..250).
const maxParticipants = 250 * 250

// addrOf returns the loopback address of participant i.
func addrOf(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 1 + byte(i/(250*250)), byte(i / 250 % 250), byte(1 + i%250)})
}

// indexOf is the inverse of addrOf, -1 for another address.
func indexOf(a [4]byte) int {
	if a[0] != 127 || a[1] != 1 || a[3] == 0 || a[3] > 250 || a[2] >= 250 {
		return -1
	}
	return int(a[2])*250 + int(a[3]) - 1
}

// rcvBufBytes is asked for each socket: a burst of the server's fan-out lands in
// them at once.
const rcvBufBytes = 8 << 20

func newUDPMux(sockets, participants int, win *window) (*udpMux, error) {
	if participants > maxParticipants {
		return nil, fmt.Errorf("at most %d participants", maxParticipants)
	}
	m := &udpMux{parts: make([]atomic.Pointer[participant], participants), win: win}
	for range sockets {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
		if err != nil {
			m.close()
			return nil, err
		}
		rc, err := conn.SyscallConn()
		s := &muxSock{m: m, conn: conn, rc: rc, w: udpbatch.NewWriter(1), port: conn.LocalAddr().(*net.UDPAddr).Port}
		if err == nil {
			_ = rc.Control(func(fd uintptr) {
				// Root may go past net.core.rmem_max; others get what it allows.
				if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBufBytes) != nil {
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBufBytes)
				}
				err = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			})
		}
		if err != nil {
			_ = conn.Close()
			m.close()
			return nil, err
		}
		m.socks = append(m.socks, s)
		m.wg.Add(1)
		go s.read()
	}
	return m, nil
}

// attach gives participant i its address and socket.
func (m *udpMux) attach(i int, p *participant) {
	p.idx = i
	p.sock = m.socks[i%len(m.socks)]
	p.local = netip.AddrPortFrom(addrOf(i), uint16(p.sock.port))
	m.parts[i].Store(p)
}

// close stops the readers.
func (m *udpMux) close() {
	for _, s := range m.socks {
		_ = s.conn.Close()
	}
	m.wg.Wait()
}

// latency merges the sockets' latency histograms (after close).
func (m *udpMux) latency() *histogram {
	h := &histogram{}
	for _, s := range m.socks {
		h.merge(&s.hist)
	}
	return h
}

// writeFrom sends b to dst from the address of p.
func (s *muxSock) writeFrom(p *participant, b []byte, dst *net.UDPAddr) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.w.AddFrom(b, dst.AddrPort(), p.local.Addr()); err != nil {
		return err
	}
	return s.w.Flush(s.rc)
}

const readBatch = 64

// read is the socket's reader: recvmmsg through the runtime's poller, no
// allocation per packet.
func (s *muxSock) read() {
	defer s.m.wg.Done()
	r := udpbatch.NewReader(readBatch, 1500, 64)
	for {
		n, err := r.Read(s.rc)
		if err != nil {
			return // closed
		}
		for i := range n {
			b, _, oob := r.Datagram(i)
			dst, ok := pktinfoDst(oob)
			if !ok {
				continue
			}
			idx := indexOf(dst)
			if idx < 0 || idx >= len(s.m.parts) {
				continue
			}
			if p := s.m.parts[idx].Load(); p != nil {
				p.handle(s, b)
			}
		}
	}
}

// pktinfoDst finds the header destination address in an IP_PKTINFO control
// message (struct in_pktinfo: ifindex, spec_dst, addr).
func pktinfoDst(oob []byte) ([4]byte, bool) {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			break
		}
		if h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && l >= unix.SizeofCmsghdr+12 {
			var a [4]byte
			copy(a[:], oob[unix.SizeofCmsghdr+8:unix.SizeofCmsghdr+12])
			return a, true
		}
		oob = oob[(l+7)&^7:]
	}
	return [4]byte{}, false
}
