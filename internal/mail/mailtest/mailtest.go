// Package mailtest is a small SMTP server on loopback for tests: the mail
// server townhall talks to, which is not ours. It speaks enough of SMTP (RFC
// 5321), STARTTLS (RFC 3207) and AUTH PLAIN (RFC 4954, RFC 4616) for a client to
// deliver, and records what it was given.
package mailtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options shape a Server.
type Options struct {
	// TLS offers STARTTLS, with a certificate for 127.0.0.1 that RootCAs trusts.
	TLS bool
	// User and Password, when set, are the only login taken; mail needs it.
	User, Password string
}

// Message is one mail the server took.
type Message struct {
	From   string   // the envelope sender (MAIL FROM)
	To     []string // the envelope recipients (RCPT TO)
	Data   []byte   // the message, dot-unstuffed, lines ending in CRLF
	TLS    bool     // it came over STARTTLS
	AuthAs string   // the user it logged in as, "" if it did not
}

// Server is a running test mail server.
type Server struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string
	// Messages receives every message taken, in order.
	Messages chan Message

	opts   Options
	ln     net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{} // open sessions, closed when the test ends
	closed bool
	cert   tls.Certificate
	pool   *x509.CertPool
	wg     sync.WaitGroup
}

// Start runs a server on a random port of 127.0.0.1 until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), Messages: make(chan Message, 16), opts: opts, ln: ln,
		conns: map[net.Conn]struct{}{}}
	if opts.TLS {
		s.cert, s.pool = selfSigned(t)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// RootCAs trusts the server's certificate (with Options.TLS).
func (s *Server) RootCAs() *x509.CertPool { return s.pool }

func (s *Server) serve() {
	defer s.wg.Done()
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			s.session(c)
		}()
	}
}

// session is one client's conversation.
func (s *Server) session(c net.Conn) {
	var (
		r   = bufio.NewReader(c)
		msg Message
		tls bool
	)
	reply := func(line string) bool {
		_, err := c.Write([]byte(line + "\r\n"))
		return err == nil
	}
	if !reply("220 mailtest ESMTP") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"250-mailtest", "250-8BITMIME"}
			if s.opts.TLS && !tls {
				ext = append(ext, "250-STARTTLS")
			}
			if s.opts.User != "" {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext[len(ext)-1] = "250 " + ext[len(ext)-1][4:]
			if !reply(strings.Join(ext, "\r\n")) {
				return
			}
		case "STARTTLS":
			if !s.opts.TLS || tls {
				reply("503 no")
				continue
			}
			reply("220 go ahead")
			tc := tlsServer(c, s.cert)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, r, tls, msg = tc, bufio.NewReader(tc), true, Message{}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 ||
				parts[1] != s.opts.User || parts[2] != s.opts.Password {
				reply("535 authentication failed")
				continue
			}
			msg.AuthAs = parts[1]
			reply("235 ok")
		case "MAIL":
			if s.opts.User != "" && msg.AuthAs == "" {
				reply("530 authentication required")
				continue
			}
			msg.From = addrOf(arg)
			reply("250 ok")
		case "RCPT":
			msg.To = append(msg.To, addrOf(arg))
			reply("250 ok")
		case "DATA":
			if msg.From == "" || len(msg.To) == 0 {
				reply("503 no sender or recipient")
				continue
			}
			reply("354 end with a dot")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // dot-unstuffing, RFC 5321 section 4.5.2
			}
			msg.Data, msg.TLS = []byte(data.String()), tls
			select {
			case s.Messages <- msg:
				reply("250 queued")
			default: // the test reads none of them: refuse rather than hang
				reply("452 too many messages unread")
			}
			msg = Message{AuthAs: msg.AuthAs}
		case "RSET":
			msg = Message{AuthAs: msg.AuthAs}
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// addrOf reads the address of "FROM:<a@b>" or "TO:<a@b> ...".
func addrOf(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	a, _, _ := strings.Cut(rest, ">")
	return a
}

func tlsServer(c net.Conn, cert tls.Certificate) *tls.Conn {
	return tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
