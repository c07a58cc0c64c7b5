package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/cluster"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/notify"
	"github.com/townhall/townhall/internal/relay"
	"github.com/townhall/townhall/internal/sfu"
)

// node is this process's part in a cluster, or nil on one node.
type node struct {
	c *cluster.Cluster
}

// startCluster joins the cluster when the configuration asks for one.
func (s *Server) startCluster(ctx context.Context, engine *sfu.Engine, rl *relay.Relay) (*node, error) {
	if !s.cfg.Clustered() {
		return nil, nil
	}
	name := s.cfg.NodeName
	if name == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, err
		}
		name = host
	}
	opts := cluster.Options{URLs: s.cfg.NATS, Log: s.log,
		Node: live.NodeInfo{Name: name, Region: s.cfg.Region, Version: version(), URL: s.URL(),
			UDP: engine.UDPAddr().String(), TCP: engine.TCPAddr().String(), Relay: s.relayAdvertised(rl)},
		Stats: func() live.Stats {
			if s.hub == nil {
				return live.Stats{}
			}
			return s.hub.Stats()
		}}
	if s.cfg.NATSEmbedded {
		opts.Embedded = &cluster.EmbeddedOptions{Listen: s.cfg.NATSListen, ClusterListen: s.cfg.NATSClusterListen,
			Routes: s.cfg.NATSRoutes, StoreDir: filepath.Join(s.cfg.DataDir, "nats")}
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := cluster.Start(sctx, opts)
	if err != nil {
		return nil, err
	}
	return &node{c: c}, nil
}

// seams is the live layer's view of the cluster (the zero value: one node).
func (n *node) seams() live.Cluster {
	if n == nil {
		return live.Cluster{}
	}
	return n.c.Seams()
}

// limiters makes the API's rate limiters the cluster's.
func (n *node) limiters() api.LimiterFactory {
	if n == nil {
		return nil
	}
	return func(name string, perSecond float64, burst int, local api.Limiter) api.Limiter {
		return n.c.Limiter(name, perSecond, burst, local)
	}
}

// pingLimiter is the cluster's count of pings per sender, or nil.
func (n *node) pingLimiter() notifyLimiter {
	if n == nil {
		return nil
	}
	per := float64(notify.DefaultPingsPerHour)
	return n.c.Limiter("pings", per/3600, notify.DefaultPingsPerHour, noLimit{})
}

type notifyLimiter = interface {
	WaitN(key string, n int) time.Duration
}

// noLimit lets everything through: a ping cap that cannot be read does not
// refuse pings.
type noLimit struct{}

func (noLimit) WaitN(string, int) time.Duration { return 0 }

// ready adds the cluster to the readiness check.
func (n *node) ready(store func(context.Context) error) func(context.Context) error {
	if n == nil {
		return store
	}
	return func(ctx context.Context) error {
		return errors.Join(store(ctx), n.c.Ping(ctx))
	}
}

// nodes lists the cluster's nodes, for admins.
func (n *node) nodes() func() []live.NodeInfo {
	if n == nil {
		return nil
	}
	return n.c.Nodes
}

// nodeURLs lists the base URLs of the live nodes, for the web app's content
// security policy (a page from one node opens sockets on another).
func (n *node) nodeURLs() func() []string {
	if n == nil {
		return nil
	}
	return func() []string {
		var out []string
		for _, x := range n.c.Seams().Nodes.Live() {
			out = append(out, x.URL)
		}
		return out
	}
}

func (n *node) close() {
	if n != nil {
		n.c.Close()
	}
}

// version is the module's version as the binary was built.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				return s.Value[:7]
			}
		}
		return bi.Main.Version
	}
	return "unknown"
}
