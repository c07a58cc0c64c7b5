package udpbatch

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMain runs the draining process of BenchmarkSendmmsg when asked to by the
// environment (UDPBATCH_DRAIN=n), and the tests otherwise.
func TestMain(m *testing.M) {
	if n, err := strconv.Atoi(os.Getenv("UDPBATCH_DRAIN")); err == nil {
		os.Exit(drainProcess(n))
	}
	os.Exit(m.Run())
}

// drainProcess opens n loopback sockets, prints their ports on one line and reads
// them until its standard input closes.
func drainProcess(n int) int {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return 1
	}
	ports := make([]string, 0, n)
	for range n {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			err = unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
		}
		var sa unix.Sockaddr
		if err == nil {
			sa, err = unix.Getsockname(fd)
		}
		if err == nil {
			err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ports = append(ports, strconv.Itoa(sa.(*unix.SockaddrInet4).Port))
	}
	fmt.Println(strings.Join(ports, " "))
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 1500)
	for {
		k, _ := unix.EpollWait(epfd, events, -1)
		for i := range max(k, 0) {
			for {
				if _, err := unix.Read(int(events[i].Fd), buf); err != nil {
					break
				}
			}
		}
	}
}

// newDrain starts the draining process with n sockets and returns their
// addresses: another process, as listeners are, so that its reading costs this
// one nothing and wakes none of its threads.
func newDrain(b *testing.B, n int) []netip.AddrPort {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "UDPBATCH_DRAIN="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the draining process: %v", err)
	}
	var addrs []netip.AddrPort
	for _, f := range strings.Fields(line) {
		p, err := strconv.Atoi(f)
		if err != nil {
			b.Fatalf("the draining process said %q", line)
		}
		addrs = append(addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(p)))
	}
	if len(addrs) != n {
		b.Fatalf("the draining process has %d sockets, want %d", len(addrs), n)
	}
	return addrs
}

func cpuNs(clock int32) int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(clock, &ts)
	return ts.Nano()
}

// BenchmarkSendmmsg sends batches of 64 datagrams of 116 bytes (an SRTP packet
// of the load test) round-robin to 500 loopback sockets of another process, from
// a *net.UDPConn and from a Socket. cpu-ns/packet is the whole process's CPU,
// sender-ns/packet the sending thread's alone: their difference is what the sends
// cost the process's other threads (with a *net.UDPConn, the runtime's idle
// poller thread woken by the writability edge of every datagram sent).
func BenchmarkSendmmsg(b *testing.B) {
	const dsts, batch = 500, 64
	for _, kind := range []string{"net.UDPConn", "udpbatch.Socket"} {
		b.Run("socket="+kind, func(b *testing.B) {
			var rc syscall.RawConn
			switch kind {
			case "net.UDPConn":
				c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = c.Close() })
				rc, _ = c.SyscallConn()
			default:
				s, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = s.Close() })
				rc = s
			}
			if err := DontFragment(rc); err != nil {
				b.Fatal(err)
			}
			addrs := newDrain(b, dsts)
			w := NewWriter(batch)
			pkt := make([]byte, 116)
			pkt[0] = 0x80
			var sender int64
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			proc0, thread0 := cpuNs(unix.CLOCK_PROCESS_CPUTIME_ID), cpuNs(unix.CLOCK_THREAD_CPUTIME_ID)
			b.ResetTimer()
			for i := range b.N {
				_ = w.Add(pkt, addrs[i%dsts])
				if w.Full() {
					_ = w.Flush(rc)
				}
			}
			_ = w.Flush(rc)
			b.StopTimer()
			sender = cpuNs(unix.CLOCK_THREAD_CPUTIME_ID) - thread0
			proc := cpuNs(unix.CLOCK_PROCESS_CPUTIME_ID) - proc0
			b.ReportMetric(float64(proc)/float64(b.N), "cpu-ns/packet")
			b.ReportMetric(float64(sender)/float64(b.N), "sender-ns/packet")
		})
	}
}
