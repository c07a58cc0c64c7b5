// Package cluster is townhall on many nodes: the seams of the live layer
// (live.Cluster) on NATS, an existing engine for everything live and shared between
// nodes. Core NATS subjects carry requests to a room's owner, requests to a node and
// messages about users; JetStream key-value buckets keep the node registry, the
// directory of live rooms, the rooms' leases and lasting states, presence, counters
// and rate limits. Postgres keeps everything durable (internal/store). Nothing here
// is a protocol of townhall's own: leases are compare-and-set on a key's revision
// with the bucket's time to live, and Raft under each bucket (3 replicas on 3 NATS
// servers) survives the loss of one server. docs/cluster.md tells the whole design.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/townhall/townhall/internal/live"
)

// Options configure a node's connection to the cluster.
type Options struct {
	// URLs of NATS servers to connect to; with Embedded, "" connects to the
	// embedded server.
	URLs []string
	// Embedded, when set, runs a NATS server inside this process.
	Embedded *EmbeddedOptions
	// Node is this node: its name (unique in the cluster), region, URL, media
	// addresses and version.
	Node live.NodeInfo
	// Stats reads this node's figures for the registry, once a second.
	Stats func() live.Stats
	// LeaseTTL is how long a room's lease lives without renewal. Default 3 s;
	// renewed every third of it.
	LeaseTTL time.Duration
	// NodeTTL is how long a node stays in the registry without news. Default 5 s;
	// a node whose news is older than NodeFresh (3 s) is not counted live.
	NodeTTL time.Duration
	Log     *slog.Logger
}

// Cluster is one node's connection to the cluster.
type Cluster struct {
	opts   Options
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	server *Embedded // nil without an embedded server
	self   live.NodeInfo

	nodes     *nodes
	directory *directory
	leases    *leases
	states    *states
	rooms     *roomBus
	users     *userBus
	presence  *presence
	counters  *counters
	limits    jetstream.KeyValue

	stop chan struct{}
	wg   sync.WaitGroup
}

// validName is what a node's name may hold: it goes into NATS subjects and keys.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Buckets and their settings. Each bucket has as many replicas as there are NATS
// servers, up to 3.
const (
	bucketNodes    = "th_nodes"
	bucketHallway  = "th_hallway"
	bucketOwners   = "th_owners"
	bucketRooms    = "th_rooms"
	bucketPresence = "th_presence"
	bucketCounters = "th_counters"
	bucketLimits   = "th_limits"
)

// Start connects this node to the cluster (starting the embedded NATS server
// first, if asked), makes the buckets it needs, and starts following them. It
// waits, up to ctx, for JetStream to be ready.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 3 * time.Second
	}
	if opts.NodeTTL <= 0 {
		opts.NodeTTL = 5 * time.Second
	}
	if !validName.MatchString(opts.Node.Name) {
		return nil, fmt.Errorf("cluster: node name %q: use 1 to 64 letters, digits, - and _", opts.Node.Name)
	}
	c := &Cluster{opts: opts, log: opts.Log, self: opts.Node, stop: make(chan struct{})}
	urls := opts.URLs
	if opts.Embedded != nil {
		srv, err := StartEmbedded(*opts.Embedded, opts.Node.Name, opts.Log)
		if err != nil {
			return nil, err
		}
		c.server = srv
		if len(urls) == 0 {
			urls = []string{srv.ClientURL()}
		}
	}
	if len(urls) == 0 {
		c.Close()
		return nil, errors.New("cluster: no NATS server to connect to")
	}
	nc, err := nats.Connect(joinURLs(urls), nats.Name("townhall "+opts.Node.Name), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				opts.Log.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { opts.Log.Info("reconnected to NATS", "server", nc.ConnectedUrl()) }))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: connecting to NATS: %w", err)
	}
	c.nc = nc
	if c.js, err = jetstream.New(nc); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.open(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func joinURLs(urls []string) string {
	out := ""
	for i, u := range urls {
		if i > 0 {
			out += ","
		}
		out += u
	}
	return out
}

// open makes the buckets and starts the parts that follow them.
func (c *Cluster) open(ctx context.Context) error {
	if err := c.waitConnected(ctx); err != nil {
		return err
	}
	replicas := min(3, max(1, len(c.nc.Servers())))
	c.log.Info("joined the cluster", "node", c.self.Name, "nats", c.nc.ConnectedUrl(), "servers", len(c.nc.Servers()), "replicas", replicas)
	kv := map[string]jetstream.KeyValue{}
	for _, b := range []jetstream.KeyValueConfig{
		{Bucket: bucketNodes, TTL: c.opts.NodeTTL},
		{Bucket: bucketHallway},
		{Bucket: bucketOwners, TTL: c.opts.LeaseTTL},
		{Bucket: bucketRooms},
		{Bucket: bucketPresence},
		{Bucket: bucketCounters},
		{Bucket: bucketLimits, TTL: time.Hour},
	} {
		b.Replicas = replicas
		b.History = 1
		store, err := c.bucket(ctx, b)
		if err != nil {
			return fmt.Errorf("cluster: bucket %s: %w", b.Bucket, err)
		}
		kv[b.Bucket] = store
	}
	c.limits = kv[bucketLimits]
	var err error
	if c.nodes, err = startNodes(ctx, c, kv[bucketNodes]); err != nil {
		return err
	}
	if c.directory, err = startDirectory(ctx, c, kv[bucketHallway]); err != nil {
		return err
	}
	c.leases = &leases{c: c, kv: kv[bucketOwners]}
	if c.states, err = startStates(ctx, c, kv[bucketRooms]); err != nil {
		return err
	}
	if c.presence, err = startPresence(ctx, c, kv[bucketPresence]); err != nil {
		return err
	}
	c.counters = &counters{c: c, kv: kv[bucketCounters]}
	c.rooms = &roomBus{c: c}
	c.users = &userBus{c: c}
	c.wg.Add(1)
	go c.janitor()
	return nil
}

// waitConnected waits for the first connection (RetryOnFailedConnect lets Connect
// return before it).
func (c *Cluster) waitConnected(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !c.nc.IsConnected() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: no NATS server answered: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// bucket makes (or updates) a bucket, retrying while JetStream elects its
// leaders: a cluster that just started takes a few seconds.
func (c *Cluster) bucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		kv, err := c.js.CreateOrUpdateKeyValue(cctx, cfg)
		cancel()
		if err == nil {
			return kv, nil
		}
		c.log.Debug("waiting for JetStream", "bucket", cfg.Bucket, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Seams returns the live layer's view of the cluster.
func (c *Cluster) Seams() live.Cluster {
	return live.Cluster{Nodes: c.nodes, Directory: c.directory, Leases: c.leases, RoomStates: c.states,
		Rooms: c.rooms, Users: c.users, Presence: c.presence, Counters: c.counters}
}

// Ping checks that NATS and JetStream answer (readiness).
func (c *Cluster) Ping(ctx context.Context) error {
	if c.nc == nil || !c.nc.IsConnected() {
		return errors.New("cluster: not connected to NATS")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := c.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("cluster: JetStream: %w", err)
	}
	return nil
}

// Nodes lists every node in the registry, live or not, for admins.
func (c *Cluster) Nodes() []live.NodeInfo { return c.nodes.all() }

// Close leaves the cluster: stops renewing, drains the connection, stops the
// embedded server.
func (c *Cluster) Close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.wg.Wait()
	if c.nc != nil {
		if c.nodes != nil {
			c.nodes.leave()
		}
		_ = c.nc.Drain()
		c.nc.Close()
	}
	if c.server != nil {
		c.server.Shutdown()
	}
}
