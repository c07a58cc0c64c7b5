package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/mail"
	"github.com/townhall/townhall/internal/mail/mailtest"
)

// received waits for the server's next message.
func received(t *testing.T, s *mailtest.Server) mailtest.Message {
	t.Helper()
	select {
	case m := <-s.Messages:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("the mail server got no message")
		return mailtest.Message{}
	}
}

// parsed reads a message as a mail reader would: its headers, its subject
// decoded, its body decoded.
func parsed(t *testing.T, data []byte) (netmail.Header, string, string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("encoding %q", m.Header.Get("Content-Transfer-Encoding"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header, subject, string(body)
}

func TestSend(t *testing.T) {
	long := strings.Repeat("word ", 40) + "\n.a line that starts with a dot\nhttps://example.org/reset/" + strings.Repeat("x", 80) + "\n"
	for _, c := range []struct {
		name      string
		opts      mailtest.Options
		user, pw  string
		wantTLS   bool
		wantLogin string
	}{
		{"a relay on loopback without STARTTLS takes the mail in clear", mailtest.Options{}, "", "", false, ""},
		{"a server that offers STARTTLS gets the mail encrypted", mailtest.Options{TLS: true}, "", "", true, ""},
		{"a login goes after STARTTLS", mailtest.Options{TLS: true, User: "town", Password: "s3cret"}, "town", "s3cret", true, "town"},
		{"a login to a relay on loopback may go in clear", mailtest.Options{User: "town", Password: "s3cret"}, "town", "s3cret", false, "town"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := mailtest.Start(t, c.opts)
			s, err := mail.New(mail.Config{Addr: srv.Addr, User: c.user, Password: c.pw, From: "Town Hall <noreply@town.example>",
				TLS: &tls.Config{RootCAs: srv.RootCAs(), ServerName: "127.0.0.1"}})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), mail.Message{To: "ada@example.org", Subject: "Réinitialiser: a new password", Text: long})
			if err != nil {
				t.Fatal(err)
			}
			m := received(t, srv)
			if m.From != "noreply@town.example" || len(m.To) != 1 || m.To[0] != "ada@example.org" || m.TLS != c.wantTLS || m.AuthAs != c.wantLogin {
				t.Fatalf("envelope %+v", m)
			}
			h, subject, body := parsed(t, m.Data)
			if subject != "Réinitialiser: a new password" || h.Get("To") != "<ada@example.org>" || !strings.Contains(h.Get("From"), "noreply@town.example") {
				t.Fatalf("headers %v, subject %q", h, subject)
			}
			if strings.ReplaceAll(body, "\r\n", "\n") != long {
				t.Fatalf("body %q, want %q", body, long)
			}
			for _, l := range bytes.Split(m.Data, []byte("\r\n")) {
				if len(l) > 78 {
					t.Fatalf("a line of %d characters: %q", len(l), l)
				}
			}
		})
	}
}

func TestSendRefuses(t *testing.T) {
	t.Run("a server on another host that offers no STARTTLS gets nothing", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		s, err := mail.New(mail.Config{Addr: "mail.example.org:587", From: "noreply@town.example",
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return new(net.Dialer).DialContext(ctx, network, srv.Addr)
			}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(t.Context(), mail.Message{To: "ada@example.org", Subject: "x", Text: "y"}); !errors.Is(err, mail.ErrNoTLS) {
			t.Fatalf("Send = %v, want ErrNoTLS", err)
		}
		select {
		case m := <-srv.Messages:
			t.Fatalf("the server got %s", m.Data)
		default:
		}
	})
	t.Run("a wrong login is refused by the server", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{TLS: true, User: "town", Password: "s3cret"})
		s, err := mail.New(mail.Config{Addr: srv.Addr, User: "town", Password: "wrong", From: "noreply@town.example",
			TLS: &tls.Config{RootCAs: srv.RootCAs(), ServerName: "127.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(t.Context(), mail.Message{To: "ada@example.org", Subject: "x", Text: "y"}); err == nil {
			t.Fatal("a wrong login sent the mail")
		}
	})
	t.Run("a certificate the client does not trust stops the mail", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{TLS: true})
		s, err := mail.New(mail.Config{Addr: srv.Addr, From: "noreply@town.example"}) // the system's roots
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(t.Context(), mail.Message{To: "ada@example.org", Subject: "x", Text: "y"}); err == nil {
			t.Fatal("the mail went to a server whose certificate nobody trusts")
		}
	})
	for _, c := range []struct{ name, to, subject string }{
		{"a recipient with a name", "Ada <ada@example.org>", "x"},
		{"two recipients", "a@example.org, b@example.org", "x"},
		{"a subject with a line break", "ada@example.org", "x\r\nBcc: eve@example.org"},
	} {
		t.Run(c.name+" is refused before any connection", func(t *testing.T) {
			s, err := mail.New(mail.Config{Addr: "127.0.0.1:1", From: "noreply@town.example"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(t.Context(), mail.Message{To: c.to, Subject: c.subject, Text: "y"}); !errors.Is(err, mail.ErrBadMessage) {
				t.Fatalf("Send = %v, want ErrBadMessage", err)
			}
		})
	}
	for _, c := range []struct{ name, addr, from string }{
		{"a server address without a port", "mail.example.org", "noreply@town.example"},
		{"a sender that is no address", "127.0.0.1:25", "town hall"},
	} {
		t.Run(c.name+" is refused at the start", func(t *testing.T) {
			if _, err := mail.New(mail.Config{Addr: c.addr, From: c.from}); err == nil {
				t.Fatal("New took it")
			}
		})
	}
}
