package udpbatch

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func listenSocket(t *testing.T) *Socket {
	t.Helper()
	s, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// readSocket reads until want datagrams came, or fails the test after 5 s.
func readSocket(t *testing.T, s *Socket, r *Reader, want int) (got []string, from []netip.AddrPort) {
	t.Helper()
	type result struct {
		got  []string
		from []netip.AddrPort
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		for len(res.got) < want {
			n, err := r.Read(s)
			if err != nil {
				res.err = err
				break
			}
			for i := range n {
				b, a, _ := r.Datagram(i)
				res.got = append(res.got, string(b))
				res.from = append(res.from, a)
			}
		}
		done <- res
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("read after %d of %d datagrams: %v", len(res.got), want, res.err)
		}
		return res.got, res.from
	case <-time.After(5 * time.Second):
		_ = s.Close() // ends the reader
		<-done
		t.Fatalf("no %d datagrams within 5 s", want)
		return nil, nil
	}
}

func TestSocketSendsAndReceives(t *testing.T) {
	cases := []struct {
		name    string
		packets int
		batch   int
	}{
		{"one datagram goes out with WriteTo and comes back", 1, 0},
		{"a batch goes out in one flush", 8, 8},
		{"more datagrams than a read's batch come back in several reads", 40, 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := listenSocket(t), listenSocket(t)
			var want []string
			if tc.batch == 0 {
				if err := src.WriteTo([]byte("solo"), dst.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				want = []string{"solo"}
			} else {
				w := NewWriter(tc.batch)
				for i := range tc.packets {
					want = append(want, fmt.Sprintf("datagram %d", i))
					_ = w.Add([]byte(want[i]), dst.LocalAddr())
					if w.Full() {
						if err := w.Flush(src); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := w.Flush(src); err != nil {
					t.Fatal(err)
				}
			}
			got, from := readSocket(t, dst, NewReader(16, 64, 0), len(want))
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("got %q, want %q", got, want)
			}
			for _, a := range from {
				if a != src.LocalAddr() {
					t.Fatalf("from %v, want %v", a, src.LocalAddr())
				}
			}
		})
	}
}

func TestSocketRefusals(t *testing.T) {
	s := listenSocket(t)
	cases := []struct {
		name string
		err  error
	}{
		{"a socket is not opened on an IPv6 address", func() error {
			_, err := Listen(netip.MustParseAddrPort("[::1]:0"))
			return err
		}()},
		{"WriteTo refuses an IPv6 destination", s.WriteTo([]byte("x"), netip.MustParseAddrPort("[::1]:9"))},
		{"WriteTo refuses an empty datagram", s.WriteTo(nil, netip.MustParseAddrPort("127.0.0.1:9"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, ErrNotIPv4) {
				t.Fatalf("err %v, want ErrNotIPv4", tc.err)
			}
		})
	}
	t.Run("a port in use is an error", func(t *testing.T) {
		if _, err := Listen(s.LocalAddr()); err == nil {
			t.Fatal("a second socket on the same port")
		}
	})
}

func TestSocketClose(t *testing.T) {
	t.Run("a read waiting for a datagram returns when the socket closes", func(t *testing.T) {
		s := listenSocket(t)
		done := make(chan error, 1)
		go func() {
			_, err := NewReader(4, 64, 0).Read(s)
			done <- err
		}()
		// The read may not be waiting yet: Close must end it either way.
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Read: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the read still waits 5 s after Close")
		}
	})
	t.Run("every call on a closed socket says so", func(t *testing.T) {
		s := listenSocket(t)
		_ = s.Close()
		w := NewWriter(1)
		_ = w.Add([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9"))
		_, rerr := NewReader(1, 64, 0).Read(s)
		for name, err := range map[string]error{
			"Read":    rerr,
			"Flush":   w.Flush(s),
			"WriteTo": s.WriteTo([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9")),
			"Control": s.Control(func(uintptr) {}),
			"Close":   s.Close(),
		} {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s: %v, want net.ErrClosed", name, err)
			}
		}
	})
	t.Run("writers racing a close all return", func(t *testing.T) {
		s, dst := listenSocket(t), listenSocket(t)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := NewWriter(8)
				for {
					for range 8 {
						_ = w.Add([]byte("racing"), dst.LocalAddr())
					}
					if err := w.Flush(s); err != nil {
						return
					}
				}
			}()
		}
		_ = s.Close()
		wg.Wait()
	})
}

// TestSocketIsWatchedForArrivalsOnly checks the point of Socket: the socket is in
// one epoll instance, its own, which asks for readability (EPOLLIN) alone, so
// the runtime's poller is never woken by the release of a datagram sent.
func TestSocketIsWatchedForArrivalsOnly(t *testing.T) {
	s := listenSocket(t)
	var sock int
	_ = s.Control(func(fd uintptr) { sock = int(fd) })
	entries, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Fatal(err)
	}
	var masks []uint64
	for _, e := range entries {
		b, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			// tfd:        7 events:       19 data: ... (the mask in hex)
			f := strings.Fields(line)
			if len(f) >= 4 && f[0] == "tfd:" && f[1] == strconv.Itoa(sock) && f[2] == "events:" {
				m, err := strconv.ParseUint(f[3], 16, 32)
				if err != nil {
					t.Fatalf("fdinfo line %q: %v", line, err)
				}
				masks = append(masks, m)
			}
		}
	}
	if len(masks) != 1 || masks[0]&unix.EPOLLIN == 0 || masks[0]&unix.EPOLLOUT != 0 {
		t.Fatalf("the socket is in %d epoll instances with event masks %x, want one with EPOLLIN and without EPOLLOUT", len(masks), masks)
	}
}
