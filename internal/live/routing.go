package live

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Routing a join in a cluster (docs/scaling.md): any node answers the join API,
// and any node takes a room's sockets (an edge, edge.go). Among the live nodes
// that are not draining, in this node's region if any is, and under their caps
// (cpuCap of their cores, Options.NodeMaxSockets), a join goes to the room's
// owner, else to an edge that already carries the room, so that a small room
// stays on one node and spreads only when its nodes are full; otherwise to the less loaded
// of two nodes drawn at random, counting the joins this node sent to each in
// the last joinMemory (issue 14: 20 s), so that a storm of joins does not all
// land on the node that looked idle a second ago.

const (
	// cpuCap is the share of its cores a node may use and still take joins.
	cpuCap = 0.7
	// joinMemory is how long this node remembers where it sent joins. The
	// joins counted are only those this node's join API sent (each node keeps
	// its own log), and they are counted on top of the sockets each node
	// reports: once a join's socket shows in its node's count (a second or
	// two), it counts twice until joinMemory ends. That over-counting is
	// deliberate: during a storm a node that just took joins looks busier than
	// it is, and the next ones spread, rather than pile onto the node that
	// looked idle; after a storm it fades within joinMemory.
	joinMemory = 20 * time.Second
	// quietFor is how long a node may go unheard (it speaks each second) and
	// still take joins: one that died is in Nodes.Live for a few seconds more.
	quietFor = 2 * time.Second
)

// joinLog remembers where this node sent joins lately.
type joinLog struct {
	mu   sync.Mutex
	sent map[string][]time.Time // node → when, oldest first
}

// recent returns how many joins went to node in the last joinMemory.
func (j *joinLog) recent(node string, now time.Time) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	ts := j.sent[node]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > joinMemory {
		i++
	}
	if i > 0 {
		ts = slices.Delete(ts, 0, i)
		j.sent[node] = ts
	}
	return len(ts)
}

func (j *joinLog) add(node string, now time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.sent == nil {
		j.sent = map[string][]time.Time{}
	}
	j.sent[node] = append(j.sent[node], now)
}

// chooseNode picks the node a join of the room e goes to; false unless the
// room's owner is live, heard from lately and not draining (a room whose owner
// is gone takes no edges until another node holds it).
func (h *Hub) chooseNode(e DirectoryEntry) (NodeInfo, bool) {
	now := time.Now()
	cands := filterNodes(h.heardNodes(), func(n NodeInfo) bool { return !n.Draining })
	if !slices.ContainsFunc(cands, func(n NodeInfo) bool { return n.Name == e.Owner }) {
		return NodeInfo{}, false // the owner is gone, going or quiet: Route asks its lease
	}
	if region := h.cl.Nodes.Self().Region; region != "" {
		if near := filterNodes(cands, func(n NodeInfo) bool { return n.Region == region }); len(near) > 0 {
			cands = near
		}
	}
	load := func(n NodeInfo) int { return n.Sockets + h.joins.recent(n.Name, now) }
	under := filterNodes(cands, func(n NodeInfo) bool {
		cpu := n.Cores <= 0 || n.Load < cpuCap*float64(n.Cores)
		room := h.opts.NodeMaxSockets <= 0 || load(n) < h.opts.NodeMaxSockets
		return cpu && room
	})
	if len(under) == 0 {
		under = cands // all full: the least loaded of them all the same
	}
	pool := under
	if owner := filterNodes(under, func(n NodeInfo) bool { return n.Name == e.Owner }); len(owner) > 0 {
		pool = owner
	} else if edges := filterNodes(under, func(n NodeInfo) bool { return slices.Contains(e.Edges, n.Name) }); len(edges) > 0 {
		pool = edges
	}
	pick := pool[0]
	if len(pool) > 1 {
		i := rand.IntN(len(pool))
		j := rand.IntN(len(pool) - 1)
		if j >= i {
			j++
		}
		pick = pool[i]
		if load(pool[j]) < load(pick) {
			pick = pool[j]
		}
	}
	h.joins.add(pick.Name, now)
	return pick, true
}

// heardNodes are the live nodes heard from within quietFor: a node killed a
// moment ago is still in Nodes.Live (for NodeFresh), and a join sent to it, or a
// rank that counts it, would cost the seconds until it drops out.
func (h *Hub) heardNodes() []NodeInfo {
	now := time.Now()
	return filterNodes(h.cl.Nodes.Live(), func(n NodeInfo) bool { return now.Sub(n.At) < quietFor })
}

func filterNodes(ns []NodeInfo, keep func(NodeInfo) bool) []NodeInfo {
	var out []NodeInfo
	for _, n := range ns {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}
