package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/server"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "townhall test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.TLSCert, cfg.TLSKey = "127.0.0.1:0", dir, certFile, keyFile
	cfg.PasswordMemoryKiB, cfg.PasswordTime = 64, 1
	cfg.RTCUDPPort, cfg.RTCTCPPort, cfg.RTCLoopbackOnly = 0, 0, true
	ctx, cancel := context.WithCancel(context.Background())
	logs := &firstRunCatcher{codes: make(chan string, 1)}
	srv, err := server.New(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-srv.Ready()
	code := <-logs.codes
	base := "https://" + srv.Addr().String()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	t.Run("the printed links use https", func(t *testing.T) {
		if !strings.HasPrefix(srv.URL(), "https://") {
			t.Fatalf("URL %q", srv.URL())
		}
	})
	t.Run("the server answers over TLS", func(t *testing.T) {
		resp, err := hc.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("plain HTTP on the TLS port is refused", func(t *testing.T) {
		resp, err := http.Get("http://" + srv.Addr().String() + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Fatalf("plain HTTP answered 200: %s", body)
			}
		}
	})
	t.Run("the session cookie is Secure over TLS", func(t *testing.T) {
		resp, err := hc.Post(base+"/api/v1/signup", "application/json",
			strings.NewReader(`{"username":"ada","password":"correct horse battery","invite_code":"`+code+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var found bool
		for _, c := range resp.Cookies() {
			if c.Name == "townhall_session" {
				found = true
				if !c.Secure || !c.HttpOnly {
					t.Fatalf("cookie %+v", c)
				}
			}
		}
		if !found {
			t.Fatalf("no session cookie (status %d)", resp.StatusCode)
		}
	})
}
