package cluster

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/townhall/townhall/internal/live"
)

// NodeFresh is how old a node's news may be for it to count as live.
const NodeFresh = 3 * time.Second

// nodes is the registry: every node writes its NodeInfo to the nodes bucket each
// second (the bucket forgets a key after NodeTTL), and follows everyone's.
type nodes struct {
	c    *Cluster
	kv   jetstream.KeyValue
	f    *follower[live.NodeInfo]
	kick chan struct{}
	cpu  cpuMeter
}

func startNodes(ctx context.Context, c *Cluster, kv jetstream.KeyValue) (*nodes, error) {
	f, err := follow[live.NodeInfo](ctx, c, kv, c.log)
	if err != nil {
		return nil, err
	}
	n := &nodes{c: c, kv: kv, f: f, kick: make(chan struct{}, 1)}
	n.announce(ctx)
	c.wg.Add(1)
	go n.run()
	return n, nil
}

// run writes this node's news every second, and at once when kicked.
func (n *nodes) run() {
	defer n.c.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-n.c.stop:
			return
		case <-t.C:
		case <-n.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		n.announce(ctx)
		cancel()
	}
}

// info is this node as it is now.
func (n *nodes) info() live.NodeInfo {
	info := n.c.self
	if n.c.opts.Stats != nil {
		s := n.c.opts.Stats()
		info.Rooms, info.Sockets, info.Draining = s.Rooms, s.Sockets, s.Draining
	}
	info.Load = n.cpu.cores()
	info.Cores = runtime.GOMAXPROCS(0)
	info.At = time.Now().UTC()
	return info
}

func (n *nodes) announce(ctx context.Context) {
	b, _ := json.Marshal(n.info())
	if _, err := n.kv.Put(ctx, n.c.self.Name, b); err != nil {
		n.c.log.Warn("announcing this node", "err", err)
	}
}

// leave takes this node out of the registry at once (a clean stop).
func (n *nodes) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = n.kv.Delete(ctx, n.c.self.Name)
}

// Self is this node.
func (n *nodes) Self() live.NodeInfo { return n.info() }

// Announce writes this node's news now.
func (n *nodes) Announce() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n.announce(ctx)
}

// Live lists the nodes whose news is fresh, this one always, sorted by name.
func (n *nodes) Live() []live.NodeInfo {
	var out []live.NodeInfo
	self := n.c.self.Name
	now := time.Now()
	n.f.each(func(name string, v cached[live.NodeInfo]) {
		if name != self && now.Sub(v.seen) < NodeFresh {
			info := v.v
			info.At = v.seen // when this node last heard from it, on this node's clock
			out = append(out, info)
		}
	})
	out = append(out, n.info())
	slices.SortFunc(out, func(a, b live.NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// all lists every node in the registry, fresh or not, sorted by name.
func (n *nodes) all() []live.NodeInfo {
	var out []live.NodeInfo
	n.f.each(func(name string, v cached[live.NodeInfo]) {
		if name != n.c.self.Name {
			out = append(out, v.v)
		}
	})
	out = append(out, n.info())
	slices.SortFunc(out, func(a, b live.NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// isLive reports whether the node called name has fresh news.
func (n *nodes) isLive(name string) bool {
	if name == n.c.self.Name {
		return true
	}
	v, ok := n.f.get(name)
	return ok && time.Since(v.seen) < NodeFresh
}

// cpuMeter measures the process's CPU time per second of wall time, from
// /proc/self/stat, over the time between two readings.
type cpuMeter struct {
	lastCPU  float64 // seconds
	lastWall time.Time
	last     float64
}

func (m *cpuMeter) cores() float64 {
	cpu, ok := processCPU()
	now := time.Now()
	if !ok {
		return 0
	}
	if !m.lastWall.IsZero() {
		if wall := now.Sub(m.lastWall).Seconds(); wall > 0.2 {
			m.last = (cpu - m.lastCPU) / wall
		} else {
			return m.last
		}
	}
	m.lastCPU, m.lastWall = cpu, now
	return m.last
}

// processCPU is the CPU time this process used, user and system, in seconds.
func processCPU() (float64, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (utime + stime) / 100, true // USER_HZ is 100 on Linux
}
