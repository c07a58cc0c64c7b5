// Package mail sends townhall's e-mail (for now, the password reset links an
// admin sends to an account's address) through one SMTP server: a submission
// port with a login, or a relay on the same machine. It speaks SMTP (RFC 5321)
// with the standard library's net/smtp, upgrading the connection with STARTTLS
// (RFC 3207) whenever the server offers it. Without STARTTLS it sends only to a
// server on loopback: a link that resets a password never crosses a network in
// clear, and a login never goes in clear at all (smtp.PlainAuth).
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// Config says how to reach the mail server and whom mail comes from.
type Config struct {
	// Addr is the server's host:port: a submission port (587) of a provider, or
	// a local relay (127.0.0.1:25).
	Addr string
	// User and Password log in with AUTH PLAIN (RFC 4616) after STARTTLS, or to
	// a server on loopback; "" for no login.
	User, Password string
	// From is the sender, an address with or without a name:
	// "Townhall <noreply@example.org>".
	From string
	// TLS configures STARTTLS; nil checks the server's certificate against the
	// system's roots, for Addr's host.
	TLS *tls.Config
	// Timeout bounds one Send, connection and all (default 30 s).
	Timeout time.Duration
	// Now dates the messages (default time.Now).
	Now func() time.Time
	// Dial connects to Addr (default: a net.Dialer's DialContext).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Sender sends mail as Config says. It keeps no connection: each Send dials.
type Sender struct {
	cfg  Config
	host string
	from *mail.Address
}

// Errors of sending.
var (
	// ErrNoTLS: the server, not on loopback, does not offer STARTTLS.
	ErrNoTLS = errors.New("mail: the mail server does not offer STARTTLS, and it is not on this machine")
	// ErrBadMessage: a recipient that is not one bare address, or a subject
	// with a line break.
	ErrBadMessage = errors.New("mail: bad recipient or subject")
)

// New checks cfg and returns its Sender.
func New(cfg Config) (*Sender, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("mail: server address %q: want host:port", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dial == nil {
		cfg.Dial = new(net.Dialer).DialContext
	}
	return &Sender{cfg: cfg, host: host, from: from}, nil
}

// Message is one plain-text mail to one recipient.
type Message struct {
	To      string // one bare address
	Subject string
	Text    string // the body; lines end with \n
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m to the server, which takes it on from there: nil once the
// server accepted the message (RFC 5321, section 4.1.1.4), not once it arrived.
func (s *Sender) Send(ctx context.Context, m Message) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Name != "" || to.Address != m.To || strings.ContainsAny(m.Subject, "\r\n") {
		return ErrBadMessage
	}
	body, err := s.compose(to, m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	conn, err := s.cfg.Dial(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) }) // a cancel ends a stuck exchange
	defer stop()
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: %w", err)
	}
	defer c.Close()
	if err := s.deliver(c, to.Address, body); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}

// deliver runs the SMTP exchange of one message on c.
func (s *Sender) deliver(c *smtp.Client, to string, body []byte) error {
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.cfg.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	} else if !loopback(s.host) {
		return ErrNoTLS
	}
	if s.cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, s.cfg.Password, s.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose writes m as an RFC 5322 message: UTF-8 text, quoted-printable (RFC
// 2045), the subject encoded as RFC 2047 says.
func (s *Sender) compose(to *mail.Address, m Message) ([]byte, error) {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	var b bytes.Buffer
	for _, h := range [][2]string{
		{"From", s.from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Date", s.cfg.Now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id) + "@" + domain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
	} {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
