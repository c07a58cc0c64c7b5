package udpbatch

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket is an IPv4 UDP socket that the runtime's network poller watches for
// arriving datagrams only. It is a syscall.RawConn, so Reader and Writer work on
// it as on a *net.UDPConn's.
//
// Why: the runtime registers every socket for readability and writability, edge
// triggered, and every datagram sent ends with an edge of writability: the kernel
// releases its buffer (on loopback at once, on a NIC when the card is done), and
// the release wakes whoever polls the socket. A media server sends tens of
// thousands of datagrams a second, and each edge woke the runtime's idle poller
// thread, which found nothing to do and went back to sleep: 0.5-1.2 µs of CPU per
// datagram on threads other than the sender's, a third of what the kernel charges
// for sending it (docs/benchmarks.md). A Socket is watched through an epoll
// instance of its own that asks for readability only; the runtime's poller
// watches that instance, which wakes it for arrivals and ignores the releases.
// When a write finds the send buffer full (never on loopback, rarely on a NIC),
// it waits in poll(2).
type Socket struct {
	fd    int
	ep    *os.File // the epoll instance of fd's readability, in the runtime's poller
	epc   syscall.RawConn
	local netip.AddrPort

	// The read in progress: Read's f, whether it succeeded, and try, the
	// function the epoll file's RawConn calls (bound once: no allocation).
	readMu   sync.Mutex
	readF    func(fd uintptr) bool
	readDone bool
	try      func(uintptr) bool

	// ops is held for reading by every use of fd and for writing by Close, which
	// closes fd only when no call uses it any more.
	ops    sync.RWMutex
	closed atomic.Bool
}

// Listen opens a Socket bound to laddr (an IPv4 address; port 0 picks one).
func Listen(laddr netip.AddrPort) (*Socket, error) {
	a := laddr.Addr().Unmap()
	if !a.Is4() {
		return nil, ErrNotIPv4
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	s := &Socket{fd: fd}
	if err := s.init(a, laddr.Port()); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *Socket) init(a netip.Addr, port uint16) error {
	if err := unix.Bind(s.fd, &unix.SockaddrInet4{Addr: a.As4(), Port: int(port)}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return os.NewSyscallError("getsockname", err)
	}
	in4, ok := sa.(*unix.SockaddrInet4)
	if !ok {
		return errors.New("udpbatch: the socket's name is not IPv4")
	}
	s.local = netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port))
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(s.fd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		_ = unix.Close(epfd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	// Non-blocking, so that os.NewFile hands it to the runtime's poller.
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		return os.NewSyscallError("fcntl", err)
	}
	s.ep = os.NewFile(uintptr(epfd), "udpbatch-epoll")
	rc, err := s.ep.SyscallConn()
	if err != nil {
		_ = s.ep.Close()
		return err
	}
	s.epc = rc
	s.try = s.tryRead
	return nil
}

// LocalAddr is the address the socket is bound to.
func (s *Socket) LocalAddr() netip.AddrPort { return s.local }

// SetReadBuffer sets the size of the socket's receive buffer (SO_RCVBUF), as
// (*net.UDPConn).SetReadBuffer does.
func (s *Socket) SetReadBuffer(bytes int) error { return s.setInt(unix.SO_RCVBUF, bytes) }

// SetWriteBuffer sets the size of the socket's send buffer (SO_SNDBUF).
func (s *Socket) SetWriteBuffer(bytes int) error { return s.setInt(unix.SO_SNDBUF, bytes) }

func (s *Socket) setInt(opt, v int) error {
	var serr error
	err := s.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, v) })
	return errors.Join(err, os.NewSyscallError("setsockopt", serr))
}

// Control calls f with the socket's descriptor, which f must not keep.
func (s *Socket) Control(f func(fd uintptr)) error {
	s.ops.RLock()
	defer s.ops.RUnlock()
	if s.closed.Load() {
		return net.ErrClosed
	}
	f(uintptr(s.fd))
	return nil
}

// Read calls f with the descriptor until f returns true, waiting for a datagram
// to arrive each time f returns false (f found nothing to read). It returns
// net.ErrClosed once Close has begun. Reads are serialized.
func (s *Socket) Read(f func(fd uintptr) bool) error {
	s.ops.RLock()
	defer s.ops.RUnlock()
	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.readF, s.readDone = f, false
	// Every datagram that arrives wakes the epoll file's waiter (the epoll
	// instance passes each arrival on), so f is tried again after each.
	err := s.epc.Read(s.try)
	done := s.readDone
	s.readF = nil
	if err != nil || !done {
		return net.ErrClosed // the epoll file is closed: Close has begun
	}
	return nil
}

func (s *Socket) tryRead(uintptr) bool {
	if s.closed.Load() {
		return true
	}
	s.readDone = s.readF(uintptr(s.fd))
	return s.readDone
}

// Write calls f with the descriptor until f returns true, waiting for room in
// the send buffer each time f returns false. It returns net.ErrClosed once Close
// has begun.
func (s *Socket) Write(f func(fd uintptr) bool) error {
	s.ops.RLock()
	defer s.ops.RUnlock()
	for {
		if s.closed.Load() {
			return net.ErrClosed
		}
		if f(uintptr(s.fd)) {
			return nil
		}
		// A full send buffer: wait for room, looking at closed every 10 ms.
		pfd := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}
		if _, err := unix.Poll(pfd, 10); err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
	}
}

// WriteTo sends b to to as one datagram.
func (s *Socket) WriteTo(b []byte, to netip.AddrPort) error {
	a := to.Addr().Unmap()
	if !a.Is4() || len(b) == 0 {
		return ErrNotIPv4
	}
	sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(to.Port()>>8), byte(to.Port())
	var errno unix.Errno
	err := s.Write(func(fd uintptr) bool {
		_, _, errno = unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0,
			uintptr(unsafe.Pointer(&sa)), unix.SizeofSockaddrInet4)
		return errno != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return os.NewSyscallError("sendto", errno)
	}
	return nil
}

// Close closes the socket: calls waiting in Read or Write return net.ErrClosed,
// and the descriptor is closed once no call uses it.
func (s *Socket) Close() error {
	if s.closed.Swap(true) {
		return net.ErrClosed
	}
	err := s.ep.Close() // wakes a Read that waits
	s.ops.Lock()
	defer s.ops.Unlock()
	return errors.Join(err, unix.Close(s.fd))
}
