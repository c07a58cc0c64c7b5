package sfu

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

func TestICETCPConnectionsPerIPAreBounded(t *testing.T) {
	tests := []struct {
		name  string
		bound int
		open  int
	}{
		{"a second connection from an address allowed one is closed at once", 1, 2},
		{"connections past a bound of three are closed at once, the first three kept", 3, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, reg := newLeanEngineReg(t, func(c *Config) { c.TCPPerIP = tt.bound })
			var conns []*net.TCPConn
			for i := range tt.open {
				conn, err := dialICETCP(t, e)
				switch {
				case err != nil && i < tt.bound:
					t.Fatalf("connection %d within the bound: %v", i+1, err)
				case err != nil:
					// Reset before the dial returned: closed at once too.
				default:
					conns = append(conns, conn)
				}
			}
			for i, conn := range conns[tt.bound:] {
				if err := closedWithin(conn, 2*time.Second); err != nil {
					t.Errorf("a connection past the bound (%d): %v", i+1, err)
				}
			}
			// The server took them in order: the first ones were kept.
			for i, conn := range conns[:tt.bound] {
				if err := closedWithin(conn, 50*time.Millisecond); err == nil {
					t.Errorf("connection %d within the bound was closed", i+1)
				}
			}
			if got := counterValue(t, reg, "townhall_sfu_tcp_refused_total"); got != float64(tt.open-tt.bound) {
				t.Errorf("refused %v, want %d", got, tt.open-tt.bound)
			}

			// One closes: one more is welcome.
			_ = conns[0].Close()
			waitFor(t, 5*time.Second, "the server forgets the closed connection", func() bool {
				e.lean.mu.RLock()
				defer e.lean.mu.RUnlock()
				return e.lean.tcpPerIP[netip.MustParseAddr("127.0.0.1")] == tt.bound-1
			})
			conn, err := dialICETCP(t, e)
			if err != nil || closedWithin(conn, 50*time.Millisecond) == nil {
				t.Errorf("a connection within the bound again was closed (%v)", err)
			}
		})
	}
}

// dialICETCP opens a TCP connection to e's ICE-TCP port, closed when t ends.
func dialICETCP(t *testing.T, e *Engine) (*net.TCPConn, error) {
	t.Helper()
	conn, err := net.DialTCP("tcp4", nil, e.TCPAddr())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, nil
}

// closedWithin returns nil if the server closes conn within d, without sending
// anything, and an error saying what happened otherwise.
func closedWithin(conn *net.TCPConn, d time.Duration) error {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	n, err := conn.Read(make([]byte, 1))
	switch {
	case n > 0:
		return fmt.Errorf("the server sent %d bytes", n)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("still open after %s", d)
	case err == nil:
		return errors.New("read nothing and no error")
	}
	return nil // EOF, or a reset
}
