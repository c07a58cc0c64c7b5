package udpbatch

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func listen(t *testing.T) (*net.UDPConn, syscall.RawConn) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return c, rc
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// readAll reads until want datagrams came, within a deadline.
func readAll(t *testing.T, c *net.UDPConn, r *Reader, want int) (got []string, from []netip.AddrPort) {
	t.Helper()
	rc, _ := c.SyscallConn()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < want {
		n, err := r.Read(rc)
		if err != nil {
			t.Fatalf("read after %d of %d datagrams: %v", len(got), want, err)
		}
		for i := range n {
			b, a, _ := r.Datagram(i)
			got = append(got, string(b))
			from = append(from, a)
		}
	}
	return got, from
}

func TestWriterAndReader(t *testing.T) {
	cases := []struct {
		name    string
		packets int
		batch   int
		readN   int
	}{
		{"one datagram goes out and comes back", 1, 4, 4},
		{"a full batch goes out in one flush", 8, 8, 8},
		{"a batch larger than the reader's is read in several reads", 20, 32, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, wrc := listen(t)
			dstA, _ := listen(t)
			dstB, _ := listen(t)
			w := NewWriter(tc.batch)
			bufs := make([][]byte, tc.packets)
			for i := range tc.packets {
				bufs[i] = fmt.Appendf(nil, "packet %d", i)
				to := addrOf(dstA)
				if i%2 == 1 {
					to = addrOf(dstB)
				}
				if err := w.Add(bufs[i], to); err != nil {
					t.Fatal(err)
				}
			}
			if w.Len() != tc.packets || w.Full() != (tc.packets == tc.batch) {
				t.Fatalf("Len %d Full %v after %d of %d", w.Len(), w.Full(), tc.packets, tc.batch)
			}
			if err := w.Flush(wrc); err != nil {
				t.Fatal(err)
			}
			if w.Len() != 0 {
				t.Fatalf("Len %d after Flush", w.Len())
			}
			r := NewReader(tc.readN, 1500, 0)
			gotA, fromA := readAll(t, dstA, r, (tc.packets+1)/2)
			gotB, _ := readAll(t, dstB, r, tc.packets/2)
			for i := range tc.packets {
				got := gotA
				if i%2 == 1 {
					got = gotB
				}
				if want := fmt.Sprintf("packet %d", i); got[i/2] != want {
					t.Errorf("datagram %d: %q, want %q", i, got[i/2], want)
				}
			}
			for _, a := range fromA {
				if a != addrOf(src) {
					t.Errorf("sender %v, want %v", a, addrOf(src))
				}
			}
		})
	}
}

func TestWriterRefusesWhatItCannotSend(t *testing.T) {
	cases := []struct {
		name string
		to   netip.AddrPort
		from netip.Addr
		b    []byte
	}{
		{"an IPv6 destination", netip.MustParseAddrPort("[::1]:9"), netip.Addr{}, []byte("x")},
		{"an empty address", netip.AddrPort{}, netip.Addr{}, []byte("x")},
		{"an empty datagram", netip.MustParseAddrPort("127.0.0.1:9"), netip.Addr{}, nil},
		{"an IPv6 source", netip.MustParseAddrPort("127.0.0.1:9"), netip.IPv6Loopback(), []byte("x")},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused and nothing is queued", func(t *testing.T) {
			w := NewWriter(2)
			if err := w.AddFrom(tc.b, tc.to, tc.from); !errors.Is(err, ErrNotIPv4) {
				t.Fatalf("AddFrom: %v", err)
			}
			if w.Len() != 0 {
				t.Fatalf("Len %d", w.Len())
			}
		})
	}
	t.Run("an IPv4-mapped IPv6 destination is sent as IPv4", func(t *testing.T) {
		_, wrc := listen(t)
		dst, _ := listen(t)
		w := NewWriter(1)
		a := addrOf(dst)
		if err := w.Add([]byte("mapped"), netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(wrc); err != nil {
			t.Fatal(err)
		}
		if got, _ := readAll(t, dst, NewReader(1, 64, 0), 1); got[0] != "mapped" {
			t.Fatalf("got %q", got[0])
		}
	})
}

func TestWriterFromAnAddressOfItsOwn(t *testing.T) {
	cases := []struct {
		name string
		from netip.Addr
		want netip.Addr
	}{
		{"a datagram from a chosen loopback address leaves from it", netip.MustParseAddr("127.0.0.7"), netip.MustParseAddr("127.0.0.7")},
		{"an IPv4-mapped source is used as IPv4", netip.AddrFrom16(netip.MustParseAddr("127.0.0.9").As16()), netip.MustParseAddr("127.0.0.9")},
		{"no source lets the kernel choose", netip.Addr{}, netip.MustParseAddr("127.0.0.1")},
	}
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	wrc, _ := src.SyscallConn()
	dst, _ := listen(t)
	w := NewWriter(2)
	r := NewReader(1, 64, 0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := w.AddFrom([]byte(tc.name), addrOf(dst), tc.from); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(wrc); err != nil {
				t.Fatal(err)
			}
			got, from := readAll(t, dst, r, 1)
			if got[0] != tc.name || from[0].Addr() != tc.want {
				t.Fatalf("%q from %v, want from %v", got[0], from[0], tc.want)
			}
		})
	}
}

func TestReaderWaitsAndStops(t *testing.T) {
	t.Run("a read with nothing to read waits for the socket's deadline", func(t *testing.T) {
		c, rc := listen(t)
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := NewReader(4, 64, 0).Read(rc); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read: %v", err)
		}
	})
	t.Run("a read on a closed socket says so", func(t *testing.T) {
		c, rc := listen(t)
		_ = c.Close()
		if _, err := NewReader(4, 64, 0).Read(rc); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read: %v", err)
		}
	})
	t.Run("a flush on a closed socket says so", func(t *testing.T) {
		c, rc := listen(t)
		_ = c.Close()
		w := NewWriter(1)
		_ = w.Add([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9"))
		if err := w.Flush(rc); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Flush: %v", err)
		}
		if w.Len() != 0 {
			t.Fatalf("Len %d after Flush", w.Len())
		}
	})
	t.Run("a datagram longer than the buffer is cut to it", func(t *testing.T) {
		dst, _ := listen(t)
		src, _ := listen(t)
		if _, err := src.WriteToUDPAddrPort(bytes.Repeat([]byte("a"), 100), addrOf(dst)); err != nil {
			t.Fatal(err)
		}
		if got, _ := readAll(t, dst, NewReader(1, 10, 0), 1); got[0] != "aaaaaaaaaa" {
			t.Fatalf("got %q", got[0])
		}
	})
	t.Run("control messages come with their datagram", func(t *testing.T) {
		dst, drc := listen(t)
		src, _ := listen(t)
		var serr error
		_ = drc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
		})
		if serr != nil {
			t.Fatal(serr)
		}
		if _, err := src.WriteToUDPAddrPort([]byte("stamped"), addrOf(dst)); err != nil {
			t.Fatal(err)
		}
		r := NewReader(1, 64, 64)
		_ = dst.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := r.Read(drc); err != nil {
			t.Fatal(err)
		}
		_, _, oob := r.Datagram(0)
		msgs, err := syscall.ParseSocketControlMessage(oob)
		if err != nil || len(msgs) != 1 || msgs[0].Header.Type != syscall.SCM_TIMESTAMPNS {
			t.Fatalf("control messages %v, %v", msgs, err)
		}
	})
}

func TestNoAllocations(t *testing.T) {
	// Each case opens a sender and a receiver, and says how to send one datagram
	// on its own (nil: only batches).
	type pair struct {
		src, dst syscall.RawConn
		to       netip.AddrPort
		writeTo  func([]byte, netip.AddrPort) error
	}
	cases := []struct {
		name string
		open func(t *testing.T) pair
	}{
		{"a *net.UDPConn's batches written and read allocate nothing", func(t *testing.T) pair {
			_, wrc := listen(t)
			dst, drc := listen(t)
			_ = dst.SetReadDeadline(time.Now().Add(time.Minute))
			return pair{src: wrc, dst: drc, to: addrOf(dst)}
		}},
		{"a Socket's batches and single datagrams written and read allocate nothing", func(t *testing.T) pair {
			src, dst := listenSocket(t), listenSocket(t)
			return pair{src: src, dst: dst, to: dst.LocalAddr(), writeTo: src.WriteTo}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.open(t)
			w := NewWriter(4)
			r := NewReader(4, 64, 0)
			pkt := []byte("audio")
			batched := 4
			if p.writeTo != nil {
				batched = 3
			}
			allocs := testing.AllocsPerRun(100, func() {
				for range batched {
					_ = w.Add(pkt, p.to)
				}
				_ = w.Flush(p.src)
				if p.writeTo != nil {
					_ = p.writeTo(pkt, p.to)
				}
				for got := 0; got < 4; {
					n, err := r.Read(p.dst)
					if err != nil {
						t.Fatal(err)
					}
					got += n
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per 4 datagrams written and read", allocs)
			}
		})
	}
}

func TestDontFragment(t *testing.T) {
	_, rc := listen(t)
	if err := DontFragment(rc); err != nil {
		t.Fatal(err)
	}
	var mode int
	var gerr error
	_ = rc.Control(func(fd uintptr) { mode, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER) })
	if gerr != nil || mode != unix.IP_PMTUDISC_PROBE {
		t.Fatalf("IP_MTU_DISCOVER %d (%v), want IP_PMTUDISC_PROBE", mode, gerr)
	}
}
