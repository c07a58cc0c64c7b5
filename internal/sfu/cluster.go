package sfu

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/townhall/townhall/internal/relay"
)

// A room spread over the nodes of a cluster (docs/scaling.md). Its owner node
// runs the selection of the loudest K speakers, as on one node, and sends the K
// slot streams, and the alternate, once to every other node that has
// participants of the room (an edge), which fans them out to its own. A speaker
// connected to an edge has their audio relayed to the owner (and its standby),
// which hears them as if they were local. The relay (internal/relay) carries it
// all over direct UDP.
//
// The owner relays each speaker's packets as they came (the speaker's own SSRC,
// sequence number and timestamp) with the slot in the relay header; each edge
// rewrites them into its listeners' slot streams with today's slotStream, which
// re-bases when the slot's speaker changes. It also re-bases once when the
// upstream changes under the same speaker: a new owner (epoch) or a gap in the
// relay of more than upstreamGap. So a listener's streams keep their SSRC and
// continuous sequence numbers and timestamps across slot switches, relay gaps and
// owner changes.

// upstreamGap is the silence after which an edge re-bases a slot's stream when
// the same speaker comes back: what was lost on the way is not a gap for the
// listener.
const upstreamGap = 200 * time.Millisecond

// Route says how a room's Forwarder takes part in a cluster.
type Route struct {
	// Room is the room's ID, in every relay header.
	Room string
	// Epoch is the room owner's lease: the relay packets of an older one are
	// dropped.
	Epoch uint64
	// Owner: this node runs the room. It selects the slots and relays them to
	// the edges that subscribe (SetEdges). Otherwise this node is an edge.
	Owner bool
	// Upstream (edge only) are the relay addresses of the owner and its hot
	// standby: local speakers' audio goes to each.
	Upstream []netip.AddrPort
}

// clusterState is a Forwarder's part in a cluster. route and edges are read on
// the packet path without locks; up and upState belong to the goroutine reading
// the relay (one per node).
type clusterState struct {
	relay *relay.Relay
	route atomic.Pointer[Route]
	edges atomic.Pointer[[]netip.AddrPort] // owner: where the slot streams go

	up      []*member                // edge: the owner's K slots, then the alternate
	upState []upstreamState          // edge: per entry of up
	occ     []atomic.Pointer[member] // edge: the local member the owner put in each slot, if any
}

// upstreamState is what an edge keeps of one of the owner's streams.
type upstreamState struct {
	epoch   uint64
	lastAt  int64
	gen     uint32
	speaker string  // the last speaker heard in it
	local   *member // their member here, if they are connected here
	members uint64  // Forwarder.memberGen when local was looked up
}

// SetRelay makes f able to relay through r (Engine.NewForwarder does it when
// the engine has a relay).
func (f *Forwarder) setRelay(r *relay.Relay) {
	f.cl.relay = r
	f.cl.up = make([]*member, f.slots+1)
	f.cl.upState = make([]upstreamState, f.slots+1)
	f.cl.occ = make([]atomic.Pointer[member], f.slots)
	for i := range f.cl.up {
		f.cl.up[i] = newMember("")
	}
}

// SetRoute sets how f takes part in a cluster; nil: it does not (one node, or a
// room that is not spread). An edge becomes the owner (a takeover) and back by
// setting it again.
func (f *Forwarder) SetRoute(r *Route) {
	if f.cl.relay == nil {
		return
	}
	if r != nil {
		c := *r
		c.Upstream = append([]netip.AddrPort(nil), r.Upstream...)
		r = &c
	}
	f.cl.route.Store(r)
	f.requestRerank()
}

// SetEdges sets where an owner relays the slot streams: the relay addresses of
// the edges that subscribed.
func (f *Forwarder) SetEdges(to []netip.AddrPort) {
	c := append([]netip.AddrPort(nil), to...)
	f.cl.edges.Store(&c)
}

// relayBatch returns the relay batch of the goroutine that owns p, making it on
// first use.
func (f *Forwarder) relayBatch(p *rtpPacket) *relay.Batch {
	if p.relay == nil {
		p.relay = f.cl.relay.NewBatch()
	}
	return p.relay
}

// levelByte is p's level as RFC 6464 writes it.
func levelByte(p *rtpPacket) uint8 {
	if !p.hasLevel {
		return 127
	}
	b := p.level & 0x7F
	if p.voice {
		b |= 0x80
	}
	return b
}

// setLevel sets p's level from an RFC 6464 byte (127 without a level).
func setLevelByte(p *rtpPacket, b uint8) {
	p.level, p.voice = b&0x7F, b&0x80 != 0
	p.hasLevel = b != 127
}

// uplink relays p, from m connected to this edge, to the owner and the standby.
func (f *Forwarder) uplink(m *member, p *rtpPacket, rt *Route) {
	b := f.relayBatch(p)
	h := relay.Header{Kind: relay.Uplink, Epoch: rt.Epoch, Room: rt.Room, Level: levelByte(p), Speaker: m.id}
	for _, to := range rt.Upstream {
		if b.Add(to, &h, p.raw) == nil {
			f.metrics.relayedUplink.Inc()
		}
	}
	b.Flush()
}

// relaySlot relays p, from m heard in slot (or the alternate, slot < 0), to every
// edge that subscribed. The owner's packet path calls it, assignMu read-locked.
func (f *Forwarder) relaySlot(m *member, slot int, p *rtpPacket) {
	rt := f.cl.route.Load()
	if rt == nil || !rt.Owner {
		return
	}
	edges := f.cl.edges.Load()
	if edges == nil || len(*edges) == 0 {
		return
	}
	h := relay.Header{Kind: relay.Slot, Epoch: rt.Epoch, Room: rt.Room, Level: levelByte(p), Speaker: m.id}
	if slot < 0 {
		h.Kind = relay.Alt
	} else {
		h.Slot = uint8(slot)
	}
	b := f.relayBatch(p)
	for _, to := range *edges {
		if b.Add(to, &h, p.raw) == nil {
			f.metrics.relayedSlot.Inc()
		}
	}
	b.Flush()
}

// RelayScratch is the packet scratch of the goroutine that reads a node's relay.
type RelayScratch struct {
	pkt rtpPacket
}

// NewRelayScratch returns the scratch of the relay's reading goroutine: it fans
// out over the cores on the lean transport.
func (e *Engine) NewRelayScratch() *RelayScratch {
	s := &RelayScratch{}
	if e.lean != nil {
		s.pkt.fan = e.lean.fan.newCtx()
	}
	return s
}

// ReceiveRelay takes a packet the relay opened for f's room: a speaker's audio
// at the owner, a slot stream at an edge. A slot stream of an older epoch than
// f's route is dropped and counted: it comes from an owner that lost the room; a
// newer one is the new owner's, which the edge follows at once. A speaker's audio
// is taken whatever the epoch the edge knows (it learns of a new owner from that
// owner's first slot packets), but not ahead of f's: then f lost the room.
func (f *Forwarder) ReceiveRelay(rp *relay.Packet, s *RelayScratch) {
	rt := f.cl.route.Load()
	if rt == nil || f.cl.relay == nil {
		f.metrics.relayNoRoute.Inc()
		return
	}
	if rp.Kind != relay.Uplink && rp.Epoch < rt.Epoch || rp.Kind == relay.Uplink && rp.Epoch > rt.Epoch {
		f.cl.relay.CountStale()
		return
	}
	p := &s.pkt
	if err := parseRTP(rp.RTP, 0, p); err != nil {
		f.metrics.droppedMalformed.Inc()
		return
	}
	setLevelByte(p, rp.Level)
	p.raw, p.gen, p.arrived = rp.RTP, 0, 0
	switch {
	case rp.Kind == relay.Uplink && rt.Owner:
		f.mu.Lock()
		m := f.members[string(rp.Speaker)]
		f.mu.Unlock()
		if m == nil {
			f.metrics.droppedUnauthorized.Inc()
			return
		}
		if !m.remote.Load() {
			m.remote.Store(true) // selectable without a Peer here
		}
		f.receiveParsed(m, p, f.now())
	case (rp.Kind == relay.Slot || rp.Kind == relay.Alt) && !rt.Owner:
		if rp.Epoch > rt.Epoch {
			next := *rt
			next.Epoch = rp.Epoch
			f.cl.route.CompareAndSwap(rt, &next)
		}
		f.receiveUpstream(rp, p)
	}
}

// receiveUpstream fans out a slot stream (or the alternate) of the owner to the
// receivers of this edge.
func (f *Forwarder) receiveUpstream(rp *relay.Packet, p *rtpPacket) {
	idx := f.slots // the alternate
	if rp.Kind == relay.Slot {
		if int(rp.Slot) >= f.slots {
			f.metrics.droppedMalformed.Inc()
			return
		}
		idx = int(rp.Slot)
	}
	now := f.now()
	st := &f.cl.upState[idx]
	if st.epoch != rp.Epoch || now-st.lastAt > int64(upstreamGap) {
		st.gen++ // a new upstream, or one back from a gap: the listeners' streams re-base once
	}
	st.epoch, st.lastAt = rp.Epoch, now
	if gen := f.memberGen.Load(); st.speaker != string(rp.Speaker) || st.members != gen {
		if st.speaker != string(rp.Speaker) {
			st.speaker = string(rp.Speaker)
		}
		f.mu.Lock()
		st.local = f.members[st.speaker]
		f.mu.Unlock()
		st.members = gen
	}
	p.gen = st.gen
	src := f.cl.up[idx]
	var sent, failed int
	if idx < f.slots {
		f.cl.occ[idx].Store(st.local)
		sent, failed = f.fanSlot(src, st.local, idx, p, now)
	} else {
		// The alternate goes to each local occupant of a slot, in that slot.
		var b *sendBatch
		if p.fan != nil {
			b = p.fan.own
		}
		for i := range f.cl.occ {
			occ := f.cl.occ[i].Load()
			if occ == nil || occ == st.local {
				continue
			}
			if r := occ.rx.Load(); r != nil {
				if r.send(i, src, p, now, b) {
					sent++
				} else {
					failed++
				}
			}
		}
		if b != nil {
			b.flush()
		}
	}
	f.metrics.forwardedPackets.Add(float64(sent))
	f.metrics.forwardedBytes.Add(float64(sent * len(p.payload)))
	if failed > 0 {
		f.metrics.droppedWriteError.Add(float64(failed))
	}
}
