package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/media"
	"github.com/townhall/townhall/internal/relay"
	"github.com/townhall/townhall/internal/sfu"
)

// startMedia starts the media server (one UDP port and one ICE-TCP port for all
// audio connections), and in a cluster the relay, and returns the live layer's
// adapter to it.
func (s *Server) startMedia(ctx context.Context, reg *prometheus.Registry) (*media.Media, *sfu.Engine, *relay.Relay, error) {
	cfg := sfu.DefaultConfig()
	cfg.UDPPort, cfg.TCPPort = s.cfg.RTCUDPPort, s.cfg.RTCTCPPort
	cfg.TCPPerIP = s.cfg.RTCTCPPerIP
	cfg.PublicIPs = s.cfg.PublicIPs
	cfg.LoopbackOnly = s.cfg.RTCLoopbackOnly
	cfg.Slots = s.cfg.AudioSlots
	cfg.ListenerFrames = s.cfg.ListenerFrames()
	if fault("seq-near-wrap") {
		cfg.SeqStart = 65500
	}
	if s.cfg.RTCTransport != "" {
		cfg.Transport = s.cfg.RTCTransport
	}
	var adapter atomic.Pointer[media.Media]
	var rl *relay.Relay
	if s.cfg.Clustered() {
		var err error
		if rl, err = s.startRelay(ctx, reg, func(p *relay.Packet, from netip.AddrPort) {
			if m := adapter.Load(); m != nil {
				m.OnRelay(p, from)
			}
		}); err != nil {
			return nil, nil, nil, err
		}
		cfg.Relay = rl
	}
	engine, err := sfu.NewEngine(cfg, reg, s.log)
	if err != nil {
		if rl != nil {
			_ = rl.Close()
		}
		return nil, nil, nil, fmt.Errorf("media server: %w", err)
	}
	s.log.Info("audio is listening", "udp", engine.UDPAddr().String(), "tcp", engine.TCPAddr().String(),
		"slots", cfg.Slots, "listener_frames", cfg.ListenerFrames, "loopback_only", cfg.LoopbackOnly, "transport", cfg.Transport)
	m := media.New(engine)
	if rl != nil {
		m.AttachRelay(rl)
		adapter.Store(m)
	}
	return m, engine, rl, nil
}

// startRelay opens this node's relay (--relay-listen), keyed by the cluster's
// shared secret, kept in the database every node shares.
func (s *Server) startRelay(ctx context.Context, reg *prometheus.Registry, handle func(*relay.Packet, netip.AddrPort)) (*relay.Relay, error) {
	secret, err := s.db.Secret(ctx, "relay")
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(s.cfg.RelayListen)
	if err != nil {
		return nil, fmt.Errorf("--relay-listen %q: %w", s.cfg.RelayListen, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	if s.cfg.RTCLoopbackOnly && host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	addr, err := netip.ParseAddrPort(net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("--relay-listen %q: want an IPv4 address and a port: %w", s.cfg.RelayListen, err)
	}
	rl, err := relay.Listen(relay.Config{Addr: addr, Secret: secret, Handle: handle, Registry: reg})
	if err != nil {
		return nil, fmt.Errorf("--relay-listen: %w", err)
	}
	s.log.Info("the relay is listening", "udp", rl.Addr().String(), "advertised", s.relayAdvertised(rl))
	return rl, nil
}

// relayAdvertised is the relay's address as other nodes reach it.
func (s *Server) relayAdvertised(rl *relay.Relay) string {
	if s.cfg.RelayAdvertise != "" {
		return s.cfg.RelayAdvertise
	}
	a := rl.Addr()
	if !a.Addr().IsUnspecified() {
		return a.String()
	}
	host := "127.0.0.1"
	if u, err := url.Parse(s.URL()); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return net.JoinHostPort(host, strconv.Itoa(int(a.Port())))
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
