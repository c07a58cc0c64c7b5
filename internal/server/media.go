package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/media"
	"github.com/townhall/townhall/internal/sfu"
)

// startMedia starts the media server (one UDP port and one ICE-TCP port for all
// audio connections) and returns the live layer's adapter to it.
func (s *Server) startMedia(reg *prometheus.Registry) (*media.Media, *sfu.Engine, error) {
	cfg := sfu.DefaultConfig()
	cfg.UDPPort, cfg.TCPPort = s.cfg.RTCUDPPort, s.cfg.RTCTCPPort
	cfg.TCPPerIP = s.cfg.RTCTCPPerIP
	cfg.PublicIPs = s.cfg.PublicIPs
	cfg.LoopbackOnly = s.cfg.RTCLoopbackOnly
	cfg.Slots = s.cfg.AudioSlots
	if s.cfg.RTCTransport != "" {
		cfg.Transport = s.cfg.RTCTransport
	}
	engine, err := sfu.NewEngine(cfg, reg, s.log)
	if err != nil {
		return nil, nil, fmt.Errorf("media server: %w", err)
	}
	s.log.Info("audio is listening", "udp", engine.UDPAddr().String(), "tcp", engine.TCPAddr().String(),
		"slots", cfg.Slots, "loopback_only", cfg.LoopbackOnly, "transport", cfg.Transport)
	return media.New(engine), engine, nil
}

// startPprof serves net/http/pprof on its own loopback-only listener (--pprof),
// never on the public address. It returns a function that stops it.
func (s *Server) startPprof() (stop func(), err error) {
	if s.cfg.Pprof == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", s.cfg.Pprof)
	if err != nil {
		return nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: api.SecurityHeaders(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("pprof listener stopped", "err", err)
		}
	}()
	s.log.Info("pprof is listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
