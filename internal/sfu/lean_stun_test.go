package sfu

import (
	"net"
	"testing"

	"github.com/pion/stun/v4"
)

// recordPath is a packetPath that keeps what is written to it.
type recordPath struct {
	ip      net.IP
	port    int
	written [][]byte
}

func (p *recordPath) conn() *leanConn { return nil }
func (p *recordPath) write(b []byte) error {
	p.written = append(p.written, append([]byte(nil), b...))
	return nil
}
func (p *recordPath) mapped(x *stun.XORMappedAddress) { x.IP, x.Port = p.ip, p.port }

// stunRig is a lean transport with one connection that expects checks.
func stunRig(t *testing.T) (*leanTransport, *leanConn) {
	t.Helper()
	lt := testLeanTransport(t)
	c := &leanConn{t: lt, ufrag: "srvufrag", pwd: "server-password-24-chars"}
	c.key = stun.NewShortTermIntegrity(c.pwd)
	lt.mu.Lock()
	lt.byUfrag[c.ufrag] = c
	lt.mu.Unlock()
	return lt, c
}

func bindingRequest(t testing.TB, username, pwd string) *stun.Message {
	t.Helper()
	m, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewUsername(username),
		stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLeanAnswersConnectivityChecks(t *testing.T) {
	lt, c := stunRig(t)
	tests := []struct {
		name     string
		username string
		pwd      string
		answered bool
	}{
		{"a check with our ufrag and password is answered", "srvufrag:client", c.pwd, true},
		{"a check signed with another password is dropped", "srvufrag:client", "not-the-password-at-all", false},
		{"a check for a ufrag we never gave out is dropped", "someone:client", c.pwd, false},
		{"a username without the colon is dropped", "srvufrag", c.pwd, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := bindingRequest(t, tt.username, tt.pwd)
			path := &recordPath{ip: net.IPv4(127, 1, 2, 3).To4(), port: 40000}
			lt.handleSTUN(req.Raw, path)
			if !tt.answered {
				if len(path.written) != 0 {
					t.Fatalf("answered %d times", len(path.written))
				}
				return
			}
			if len(path.written) != 1 {
				t.Fatalf("answered %d times, want once", len(path.written))
			}
			resp := &stun.Message{Raw: path.written[0]}
			if err := resp.Decode(); err != nil {
				t.Fatal(err)
			}
			var xor stun.XORMappedAddress
			switch {
			case resp.Type != stun.BindingSuccess || resp.TransactionID != req.TransactionID:
				t.Fatalf("answer %v, transaction %x; want a binding success for %x", resp.Type, resp.TransactionID, req.TransactionID)
			case stun.NewShortTermIntegrity(c.pwd).Check(resp) != nil || stun.Fingerprint.Check(resp) != nil:
				t.Fatal("the answer's integrity or fingerprint does not check")
			case xor.GetFrom(resp) != nil || !xor.IP.Equal(path.ip) || xor.Port != path.port:
				t.Fatalf("mapped address %v, want %v:%d", xor, path.ip, path.port)
			}
		})
	}
}

func TestLeanConnectivityCheckDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates in sync.Pool")
	}
	lt, c := stunRig(t)
	req := bindingRequest(t, "srvufrag:client", c.pwd)
	path := &countPath{ip: net.IPv4(127, 1, 2, 3).To4(), port: 40000}
	lt.handleSTUN(req.Raw, path) // fills the pool
	if n := allocsPerRun(100, func() { lt.handleSTUN(req.Raw, path) }); n != 0 {
		t.Errorf("%v allocations per answered check", n)
	}
	if path.n != 102 {
		t.Fatalf("%d of 102 checks answered", path.n)
	}
}

// countPath is a packetPath that counts what is written to it.
type countPath struct {
	ip   net.IP
	port int
	n    int
}

func (p *countPath) conn() *leanConn                 { return nil }
func (p *countPath) write([]byte) error              { p.n++; return nil }
func (p *countPath) mapped(x *stun.XORMappedAddress) { x.IP, x.Port = p.ip, p.port }
