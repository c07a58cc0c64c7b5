package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/townhall/townhall/internal/api"
)

// tlsConfig returns the TLS configuration of the server, or nil for plain HTTP.
// With --domain it also starts the ACME HTTP-01 challenge listener (which
// redirects everything else to HTTPS); stop is called on shutdown.
func (s *Server) tlsConfig(ctx context.Context) (cfg *tls.Config, stop func(), err error) {
	switch {
	case s.cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return nil, nil, fmt.Errorf("loading --tls-cert/--tls-key: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, func() {}, nil
	case s.cfg.Domain != "":
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(s.cfg.Domain),
			Cache:      autocert.DirCache(filepath.Join(s.cfg.DataDir, "certs")),
		}
		ln, err := net.Listen("tcp", s.cfg.ACMEHTTP)
		if err != nil {
			return nil, nil, fmt.Errorf("ACME HTTP-01 listener: %w", err)
		}
		challenge := &http.Server{Handler: api.SecurityHeaders(m.HTTPHandler(nil)), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := challenge.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("ACME HTTP-01 listener stopped", "err", err)
			}
		}()
		cfg := m.TLSConfig()
		cfg.MinVersion = tls.VersionTLS12
		return cfg, func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = challenge.Shutdown(sctx)
		}, nil
	}
	return nil, func() {}, nil
}
