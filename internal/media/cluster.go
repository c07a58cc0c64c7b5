package media

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/relay"
	"github.com/townhall/townhall/internal/sfu"
)

// A room's audio across the nodes of a cluster (docs/scaling.md): the live
// layer says, per room, whether this node runs it or is an edge of it (Route);
// the relay carries the audio; and the edges subscribe to the owner's slot
// streams once a second with a Subscribe packet, which the owner (and its
// standby, who gets them too) keeps for subscribeTTL.

// subscribeEvery is how often an edge subscribes to its rooms' owners, and
// subscribeTTL how long an owner keeps a subscription that is not renewed.
const (
	subscribeEvery = time.Second
	subscribeTTL   = 5 * time.Second
)

// clusterMedia is what the adapter keeps of rooms across nodes, guarded by
// Media.mu.
type clusterMedia struct {
	relay     *relay.Relay
	scratch   *sfu.RelayScratch // the relay's reading goroutine's
	routes    map[string]route
	subs      map[string]map[netip.AddrPort]time.Time // room → edges → when they last subscribed
	stop      chan struct{}
	closeOnce sync.Once
}

// route is a live.MediaRoute resolved.
type route struct {
	epoch    uint64
	owner    bool
	upstream []netip.AddrPort
}

// AttachRelay makes m take part in rooms spread over nodes through r. Call it
// once, before any room; r's Handle must call m.OnRelay. Close stops it.
func (m *Media) AttachRelay(r *relay.Relay) {
	m.mu.Lock()
	m.cl = &clusterMedia{relay: r, scratch: m.engine.NewRelayScratch(), routes: map[string]route{},
		subs: map[string]map[netip.AddrPort]time.Time{}, stop: make(chan struct{})}
	cl := m.cl
	m.mu.Unlock()
	go m.subscribe(cl)
}

// Close stops what AttachRelay started.
func (m *Media) Close() {
	m.mu.Lock()
	cl := m.cl
	m.mu.Unlock()
	if cl != nil {
		cl.closeOnce.Do(func() { close(cl.stop) })
	}
}

// Route sets how this node takes part in roomID's audio.
func (m *Media) Route(roomID string, r live.MediaRoute) {
	rt := route{epoch: r.Epoch, owner: r.Owner}
	for _, s := range r.Upstream {
		if a, err := resolve(s); err == nil {
			rt.upstream = append(rt.upstream, a)
		}
	}
	m.mu.Lock()
	if m.cl == nil {
		m.mu.Unlock()
		return
	}
	m.cl.routes[roomID] = rt
	rm := m.rooms[roomID]
	m.mu.Unlock()
	if rm != nil {
		m.apply(roomID, rm.fwd)
		m.subscribeNow(roomID)
	}
}

// resolve turns a relay address (host:port) into an IPv4 address and port.
func resolve(s string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()), nil
	}
	ua, err := net.ResolveUDPAddr("udp4", s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return ua.AddrPort(), nil
}

// apply gives fwd the route of roomID, if there is one, and an owner's
// forwarder its edges.
func (m *Media) apply(roomID string, fwd *sfu.Forwarder) {
	m.mu.Lock()
	if m.cl == nil {
		m.mu.Unlock()
		return
	}
	rt, ok := m.cl.routes[roomID]
	edges := m.edgesLocked(roomID)
	m.mu.Unlock()
	if !ok {
		fwd.SetRoute(nil)
		return
	}
	fwd.SetRoute(&sfu.Route{Room: roomID, Epoch: rt.epoch, Owner: rt.owner, Upstream: rt.upstream})
	if rt.owner {
		fwd.SetEdges(edges)
	}
}

// edgesLocked lists the live subscriptions to roomID. m.mu is held.
func (m *Media) edgesLocked(roomID string) []netip.AddrPort {
	var out []netip.AddrPort
	for a := range m.cl.subs[roomID] {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

// OnRelay takes a packet the relay opened: a subscription, or audio for a room's
// forwarder here. The relay's reading goroutine calls it.
func (m *Media) OnRelay(p *relay.Packet, from netip.AddrPort) {
	m.mu.Lock()
	if m.cl == nil {
		m.mu.Unlock()
		return
	}
	rm := m.rooms[string(p.Room)]
	if p.Kind == relay.Subscribe {
		room := string(p.Room)
		subs := m.cl.subs[room]
		if subs == nil {
			subs = map[netip.AddrPort]time.Time{}
			m.cl.subs[room] = subs
		}
		_, known := subs[from]
		subs[from] = time.Now()
		owner := m.cl.routes[room].owner
		edges := m.edgesLocked(room)
		m.mu.Unlock()
		if !known && rm != nil && owner {
			rm.fwd.SetEdges(edges)
		}
		return
	}
	scratch := m.cl.scratch
	m.mu.Unlock()
	if rm != nil {
		rm.fwd.ReceiveRelay(p, scratch)
	}
}

// subscribe runs once a second: it forgets the subscriptions that were not
// renewed, and renews this node's to the owners of the rooms it is an edge of.
func (m *Media) subscribe(cl *clusterMedia) {
	t := time.NewTicker(subscribeEvery)
	defer t.Stop()
	b := cl.relay.NewBatch()
	for {
		select {
		case <-cl.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		type upd struct {
			fwd   *sfu.Forwarder
			edges []netip.AddrPort
		}
		var updates []upd
		type sub struct {
			room string
			rt   route
		}
		var mine []sub
		m.mu.Lock()
		for room, subs := range cl.subs {
			changed := false
			for a, at := range subs {
				if now.Sub(at) > subscribeTTL {
					delete(subs, a)
					changed = true
				}
			}
			if len(subs) == 0 {
				delete(cl.subs, room)
			}
			if rm := m.rooms[room]; changed && rm != nil && cl.routes[room].owner {
				updates = append(updates, upd{rm.fwd, m.edgesLocked(room)})
			}
		}
		for room, rt := range cl.routes {
			if _, here := m.rooms[room]; here && !rt.owner {
				mine = append(mine, sub{room, rt})
			}
		}
		m.mu.Unlock()
		for _, u := range updates {
			u.fwd.SetEdges(u.edges)
		}
		for _, s := range mine {
			h := relay.Header{Kind: relay.Subscribe, Epoch: s.rt.epoch, Room: s.room}
			for _, to := range s.rt.upstream {
				_ = b.Add(to, &h, nil)
			}
		}
		b.Flush()
	}
}

// subscribeNow subscribes at once to roomID's upstream (a new edge, or a new
// owner), without waiting for the next second.
func (m *Media) subscribeNow(roomID string) {
	m.mu.Lock()
	cl := m.cl
	var rt route
	if cl != nil {
		rt = cl.routes[roomID]
	}
	m.mu.Unlock()
	if cl == nil || rt.owner || len(rt.upstream) == 0 {
		return
	}
	b := cl.relay.NewBatch()
	h := relay.Header{Kind: relay.Subscribe, Epoch: rt.epoch, Room: roomID}
	for _, to := range rt.upstream {
		_ = b.Add(to, &h, nil)
	}
	b.Flush()
}
