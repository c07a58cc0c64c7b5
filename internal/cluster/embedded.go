package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedOptions configure a NATS server run inside townhall (--nats-embedded),
// for small clusters and tests: JetStream on, its data in the data folder.
type EmbeddedOptions struct {
	Listen        string   // client address, host:port (port 0: random)
	ClusterListen string   // route address for the other servers, host:port; "" for a server alone
	Routes        []string // nats-route://host:port of the other servers
	StoreDir      string   // JetStream's files
}

// Embedded is a NATS server running in this process.
type Embedded struct {
	s *server.Server
}

// StartEmbedded starts a NATS server called name with JetStream, and waits until
// it takes connections.
func StartEmbedded(o EmbeddedOptions, name string, log *slog.Logger) (*Embedded, error) {
	host, port, err := splitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("--nats-listen: %w", err)
	}
	opts := &server.Options{ServerName: name, Host: host, Port: port, JetStream: true, StoreDir: o.StoreDir,
		NoSigs: true, MaxPayload: 8 << 20}
	// A clustered JetStream needs its routes from the start; a server alone runs
	// JetStream by itself.
	if o.ClusterListen != "" && len(o.Routes) > 0 {
		ch, cp, err := splitHostPort(o.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("--nats-cluster-listen: %w", err)
		}
		opts.Cluster = server.ClusterOpts{Name: "townhall", Host: ch, Port: cp}
		for _, r := range o.Routes {
			u, err := url.Parse(strings.TrimSpace(r))
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("--nats-routes: %q is not a route URL such as nats-route://host:6222", r)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	s.SetLoggerV2(natsLog{log.With("component", "nats")}, false, false, false)
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded NATS server: not ready within 30 s")
	}
	log.Info("embedded NATS server is listening", "client", s.ClientURL(), "cluster", o.ClusterListen, "routes", len(opts.Routes))
	return &Embedded{s: s}, nil
}

// ClientURL is where clients connect.
func (e *Embedded) ClientURL() string { return e.s.ClientURL() }

// Shutdown stops the server.
func (e *Embedded) Shutdown() {
	e.s.Shutdown()
	e.s.WaitForShutdown()
}

func splitHostPort(hp string) (string, int, error) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("port %q", p)
	}
	if h == "" {
		h = "0.0.0.0"
	}
	return h, n, nil
}

// natsLog writes the NATS server's log to townhall's: notices as info, warnings
// and errors as they are; debug and trace are not enabled.
type natsLog struct{ l *slog.Logger }

func (n natsLog) Noticef(format string, v ...any) { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n natsLog) Warnf(format string, v ...any)   { n.l.Warn(fmt.Sprintf(format, v...)) }
func (n natsLog) Fatalf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n natsLog) Errorf(format string, v ...any)  { n.l.Error(fmt.Sprintf(format, v...)) }
func (n natsLog) Debugf(format string, v ...any)  {}
func (n natsLog) Tracef(format string, v ...any)  {}
