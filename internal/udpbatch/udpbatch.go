// Package udpbatch reads and writes batches of IPv4 UDP datagrams with
// recvmmsg(2) and sendmmsg(2), as raw system calls on a non-blocking socket
// through the runtime's poller, allocating nothing per datagram; and Socket, a
// UDP socket that the poller watches for arrivals only.
//
// Raw, because a media server's sockets are busy in bursts: a fan-out is a few
// hundred microseconds of sendmmsg every few milliseconds. A goroutine in a
// normal system call (syscall.Syscall) tells the runtime it may block: if the
// call lasts more than 20 µs, sysmon hands its P to another thread, and every
// system call made while sysmon sleeps soundly wakes it to poll every 20 µs
// again. On a two-core VM that polling thread cost about a sixth of the whole
// server's CPU at 500 listeners (docs/benchmarks.md). These calls cannot block
// (the sockets are non-blocking: Go's net package makes them so), so they need
// none of it; when the socket has nothing to read or no room to write, the
// runtime's poller waits for it as for any read or write.
package udpbatch

import (
	"errors"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DontFragment sets the don't-fragment bit on every datagram the socket of rc
// sends, whatever path MTU the kernel has learnt (IP_PMTUDISC_PROBE: media
// packets are far below any MTU). A datagram that may be fragmented needs an IP
// ID from the kernel's hashed generator; one with DF carries 0, which saves
// about a tenth of the kernel's cost per packet sent (BenchmarkForwardLean).
func DontFragment(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE)
	})
	return errors.Join(err, serr)
}

// batch is the datagrams and their addresses, shared by Reader and Writer.
type batch struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
}

func newBatch(n int) batch {
	b := batch{
		hdrs:  make([]unix.Mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet4, n),
	}
	for i := range b.hdrs {
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Namelen = unix.SizeofSockaddrInet4
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
	}
	return b
}

// mmsg makes the system call trap (SYS_RECVMMSG or SYS_SENDMMSG) on hdrs.
func mmsg(trap, fd uintptr, hdrs []unix.Mmsghdr, flags uintptr) (int, syscall.Errno) {
	n, _, errno := unix.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), flags, 0, 0)
	return int(n), errno
}

// Reader reads up to its batch size of datagrams with one recvmmsg.
type Reader struct {
	batch
	bufs [][]byte
	oobs [][]byte
	n    int
	err  error
	read func(fd uintptr) bool
}

// NewReader returns a Reader of batch datagrams of up to size bytes each, with
// up to oob bytes of control messages each (0 for none).
func NewReader(batch, size, oob int) *Reader {
	r := &Reader{batch: newBatch(batch), bufs: make([][]byte, batch), oobs: make([][]byte, batch)}
	for i := range r.hdrs {
		r.bufs[i] = make([]byte, size)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
		if oob > 0 {
			r.oobs[i] = make([]byte, oob)
			r.hdrs[i].Hdr.Control = &r.oobs[i][0]
		}
	}
	r.read = r.recvmmsg
	return r
}

// Read waits until the socket of rc has datagrams and reads as many as the batch
// holds; it returns how many. The error is rc's (net.ErrClosed once the socket is
// closed) or the system call's.
func (r *Reader) Read(rc syscall.RawConn) (int, error) {
	r.n, r.err = 0, nil
	if err := rc.Read(r.read); err != nil {
		return 0, err
	}
	return r.n, r.err
}

func (r *Reader) recvmmsg(fd uintptr) bool {
	for i := range r.hdrs {
		h := &r.hdrs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet4
		h.SetControllen(len(r.oobs[i]))
		h.Flags = 0
	}
	for {
		n, errno := mmsg(unix.SYS_RECVMMSG, fd, r.hdrs, unix.MSG_DONTWAIT)
		switch errno {
		case 0:
			r.n = n
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // the poller waits for the next datagram
		default:
			r.err = errno
			return true
		}
	}
}

// Datagram returns datagram i of the last Read: its bytes, its sender and its
// control messages. They are valid until the next Read.
func (r *Reader) Datagram(i int) (b []byte, from netip.AddrPort, oob []byte) {
	h := &r.hdrs[i]
	from = addrPort(&r.names[i], h.Hdr.Namelen)
	return r.bufs[i][:h.Len], from, r.oobs[i][:h.Hdr.Controllen]
}

func addrPort(sa *unix.RawSockaddrInet4, n uint32) netip.AddrPort {
	if n < unix.SizeofSockaddrInet4 || sa.Family != unix.AF_INET {
		return netip.AddrPort{}
	}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
}

// Writer queues datagrams and writes them with sendmmsg.
type Writer struct {
	batch
	oobs    [][]byte // an IP_PKTINFO control message per datagram, for AddFrom
	n, sent int
	write   func(fd uintptr) bool
}

// pktinfoSpace is the room of one IP_PKTINFO control message.
var pktinfoSpace = unix.CmsgSpace(unix.SizeofInet4Pktinfo)

// NewWriter returns a Writer of up to batch datagrams.
func NewWriter(batch int) *Writer {
	w := &Writer{batch: newBatch(batch), oobs: make([][]byte, batch)}
	for i := range w.oobs {
		w.oobs[i] = make([]byte, pktinfoSpace)
		h := (*unix.Cmsghdr)(unsafe.Pointer(&w.oobs[i][0]))
		h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
	}
	w.write = w.sendmmsg
	return w
}

// ErrNotIPv4 is Add's answer for a destination that is not an IPv4 address.
var ErrNotIPv4 = errors.New("udpbatch: not an IPv4 destination")

// Add queues b for to. b must stay unchanged until the next Flush. It returns
// ErrNotIPv4 (and queues nothing) for an address that is not IPv4 or an empty b,
// and panics when the batch is full: call Flush when Full says so.
func (w *Writer) Add(b []byte, to netip.AddrPort) error {
	return w.AddFrom(b, to, netip.Addr{})
}

// AddFrom is Add from the local address from (IP_PKTINFO), for a socket bound to
// the unspecified address; an invalid from lets the kernel choose, as Add does.
func (w *Writer) AddFrom(b []byte, to netip.AddrPort, from netip.Addr) error {
	a := to.Addr().Unmap()
	from = from.Unmap()
	if !a.Is4() || len(b) == 0 || (from.IsValid() && !from.Is4()) {
		return ErrNotIPv4
	}
	h := &w.hdrs[w.n].Hdr
	if from.IsValid() {
		pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&w.oobs[w.n][unix.CmsgLen(0)]))
		pi.Spec_dst = from.As4()
		h.Control = &w.oobs[w.n][0]
		h.SetControllen(pktinfoSpace)
	} else {
		h.Control = nil
		h.SetControllen(0)
	}
	sa := &w.names[w.n]
	sa.Family = unix.AF_INET
	sa.Addr = a.As4()
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(to.Port()>>8), byte(to.Port()) // network byte order
	w.iovs[w.n].Base = &b[0]
	w.iovs[w.n].SetLen(len(b))
	w.n++
	return nil
}

// Len is the number of datagrams queued.
func (w *Writer) Len() int { return w.n }

// Full says whether the batch is full.
func (w *Writer) Full() bool { return w.n == len(w.hdrs) }

// Flush writes the queued datagrams to the socket of rc and empties the batch. A
// datagram the kernel refuses is skipped (UDP: it is lost, as on the wire); the
// error is rc's (net.ErrClosed once the socket is closed).
func (w *Writer) Flush(rc syscall.RawConn) error {
	var err error
	if w.n > 0 {
		w.sent = 0
		err = rc.Write(w.write)
	}
	for i := range w.n {
		w.iovs[i].Base = nil // keep no datagram reachable from the batch
	}
	w.n = 0
	return err
}

func (w *Writer) sendmmsg(fd uintptr) bool {
	for w.sent < w.n {
		k, errno := mmsg(unix.SYS_SENDMMSG, fd, w.hdrs[w.sent:w.n], 0)
		switch {
		case errno == unix.EAGAIN:
			return false // the poller waits for room in the send buffer
		case errno == unix.EINTR:
		case errno != 0 || k == 0:
			w.sent++ // refused: skip it
		default:
			w.sent += k
		}
	}
	return true
}
