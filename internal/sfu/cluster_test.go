package sfu

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/relay"
	"github.com/townhall/townhall/internal/sfu/sfutest"
)

// node is one engine with its relay, as a node of a cluster runs them, with the
// room's Forwarder on it.
type node struct {
	name  string
	e     *Engine
	r     *relay.Relay
	mu    sync.Mutex
	f     *Forwarder
	subs  map[netip.AddrPort]bool // edges that subscribed (the owner's side)
	scrat *RelayScratch
}

var clusterSecret = []byte("the secret of this test cluster!")

func newNode(t *testing.T, name string) *node {
	t.Helper()
	n := &node{name: name, subs: map[netip.AddrPort]bool{}}
	r, err := relay.Listen(relay.Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Secret: clusterSecret,
		Handle: func(p *relay.Packet, from netip.AddrPort) {
			n.mu.Lock()
			f := n.f
			if p.Kind == relay.Subscribe && !n.subs[from] {
				n.subs[from] = true
			}
			n.mu.Unlock()
			if f != nil && p.Kind != relay.Subscribe {
				f.ReceiveRelay(p, n.scrat)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	n.r = r
	n.e, _ = newTestEngine(t, func(c *Config) { c.Relay = r })
	n.scrat = n.e.NewRelayScratch()
	n.f = newTestForwarder(t, n.e)
	return n
}

// TestRoomAcrossNodes runs one room over three engines, as three nodes would: an
// owner, an edge and the owner's hot standby. Speakers on the edge and on the
// owner are heard by listeners on both, nobody hears themself, and every packet
// arrives once and in order. Then the owner stops and the standby takes over with
// a new epoch: the edge's listener hears the edge's speaker again, in the same
// stream (SSRC, sequence +1), and a packet of the old owner's epoch is dropped.
func TestRoomAcrossNodes(t *testing.T) {
	const room = "ztt6vfee4sinosfdrkrdroyu3q"
	owner, edge, standby := newNode(t, "owner"), newNode(t, "edge"), newNode(t, "standby")
	owner.f.SetRoute(&Route{Room: room, Epoch: 1, Owner: true})
	owner.f.SetEdges([]netip.AddrPort{edge.r.Addr()})
	edge.f.SetRoute(&Route{Room: room, Epoch: 1, Upstream: []netip.AddrPort{owner.r.Addr(), standby.r.Addr()}})

	a := join(t, edge.e, edge.f, "a", sfutest.Options{})     // a speaker on the edge
	l1 := join(t, edge.e, edge.f, "l1", sfutest.Options{})   // a listener on the edge
	b := join(t, owner.e, owner.f, "b", sfutest.Options{})   // a speaker on the owner
	l2 := join(t, owner.e, owner.f, "l2", sfutest.Options{}) // a listener on the owner
	for _, f := range []*Forwarder{owner.f, edge.f} {
		f.SetAllowed("a", true)
	}
	owner.f.SetAllowed("b", true)
	sa := startSpeaking(t, a, 1, 20)
	sb := startSpeaking(t, b, 2, 25)

	t.Run("listeners on both nodes hear the speakers of both, and nobody hears themself", func(t *testing.T) {
		for _, l := range []*participant{l1, l2} {
			waitFor(t, 10*time.Second, l.id+" hears a and b", func() bool { return sameSet(nonZero(slotsHeard(l.client)), 1, 2) })
		}
		waitFor(t, 10*time.Second, "a hears b", func() bool { return sameSet(nonZero(slotsHeard(a.client)), 2) })
		waitFor(t, 10*time.Second, "b hears a", func() bool { return sameSet(nonZero(slotsHeard(b.client)), 1) })
		for _, p := range []*participant{a, b} {
			for slot := range p.client.Slots() {
				for _, who := range heard(p.client, slot) {
					if (p == a && who == 1) || (p == b && who == 2) {
						t.Fatalf("%s heard itself in slot %d", p.id, slot)
					}
				}
			}
		}
	})

	t.Run("every packet arrives once, in order, in one continuous stream", func(t *testing.T) {
		mark := map[*participant][]int{}
		for _, l := range []*participant{l1, l2} {
			for slot := range l.client.Slots() {
				mark[l] = append(mark[l], len(l.client.Received(slot)))
			}
		}
		waitFor(t, 10*time.Second, "a second more", func() bool { return len(l1.client.Received(slotOf(l1.client, 1))) >= mark[l1][slotOf(l1.client, 1)]+50 })
		for _, l := range []*participant{l1, l2} {
			for slot := range l.client.Slots() {
				got := l.client.Received(slot)[mark[l][slot]:]
				checkContinuous(t, l.id, slot, got)
				for i := 1; i < len(got); i++ {
					x, n, _ := payloadFrom(got[i-1].Payload)
					y, m, _ := payloadFrom(got[i].Payload)
					if x == y && m != n+1 {
						t.Fatalf("%s slot %d: packet %d of speaker %d after %d: lost or doubled", l.id, slot, m, y, n)
					}
				}
			}
		}
	})

	t.Run("when the owner stops, the standby takes over and the edge's listener hears on in the same stream", func(t *testing.T) {
		before := make([]int, l1.client.Slots())
		for slot := range before {
			before[slot] = len(l1.client.Received(slot))
		}
		// The owner stops relaying (it died); the standby, which has had a's
		// uplink all along, takes the room with epoch 2.
		owner.f.SetRoute(nil)
		sb.halt()
		standby.f.SetAllowed("a", true)
		standby.f.SetRoute(&Route{Room: room, Epoch: 2, Owner: true})
		standby.f.SetEdges([]netip.AddrPort{edge.r.Addr()})
		// The new owner may put a in another slot than the old one did: each
		// slot's stream stays one stream all the same.
		var slot int
		waitFor(t, 10*time.Second, "l1 hears a from the standby", func() bool {
			for s := range before {
				n := 0
				for _, p := range l1.client.Received(s)[before[s]:] {
					if idx, _, _ := payloadFrom(p.Payload); idx == 1 {
						n++
					}
				}
				if n > 25 {
					slot = s
					return true
				}
			}
			return false
		})
		got := l1.client.Received(slot)[max(before[slot]-1, 0):]
		for i := 1; i < len(got); i++ {
			if got[i].Seq != got[i-1].Seq+1 || got[i].SSRC != got[0].SSRC {
				t.Fatalf("l1 slot %d: packet %d: seq %d after %d, SSRC %x after %x", slot, i, got[i].Seq, got[i-1].Seq, got[i].SSRC, got[0].SSRC)
			}
		}
		if edge.f.cl.route.Load().Epoch != 2 {
			t.Fatal("the edge did not follow the new epoch")
		}
	})

	t.Run("a packet of the old owner's epoch reaches nobody", func(t *testing.T) {
		stale := testCounter(edge.r.StaleCounter())
		seen := make([]int, l1.client.Slots())
		for slot := range seen {
			seen[slot] = len(l1.client.Received(slot))
		}
		// The old owner wakes up, still thinking it owns the room.
		owner.f.SetRoute(&Route{Room: room, Epoch: 1, Owner: true})
		b2 := startSpeaking(t, b, 2, 10)
		waitFor(t, 10*time.Second, "the edge drops the old epoch's packets", func() bool {
			return testCounter(edge.r.StaleCounter()) > stale+10
		})
		b2.halt()
		for slot := range l1.client.Slots() {
			for _, p := range l1.client.Received(slot)[seen[slot]:] {
				if idx, _, _ := payloadFrom(p.Payload); idx == 2 {
					t.Fatalf("l1 heard b through the old owner (epoch 1) after the takeover")
				}
			}
		}
	})
	sa.halt()
}

// nonZero drops the empty slots of slotsHeard.
func nonZero(b []byte) []byte {
	var out []byte
	for _, x := range b {
		if x != 0 {
			out = append(out, x)
		}
	}
	return out
}

// slotOf returns the slot in which c last heard speaker idx (0 if none).
func slotOf(c *sfutest.Client, idx byte) int {
	for slot, who := range slotsHeard(c) {
		if who == idx {
			return slot
		}
	}
	return 0
}

// TestRelayPathsDoNotAllocate checks the three packet paths of a room across
// nodes: an edge relaying its speaker to the owner and standby, the owner
// relaying a slot to its edges besides its own receivers, and an edge fanning a
// slot stream out to its receivers.
func TestRelayPathsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates in channel and WaitGroup operations")
	}
	sink, err := relay.Listen(relay.Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Secret: clusterSecret,
		Handle: func(*relay.Packet, netip.AddrPort) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	newRoom := func(route *Route) *leanRoom {
		r := newLeanRoom(t, 100)
		rl, err := relay.Listen(relay.Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Secret: clusterSecret,
			Handle: func(*relay.Packet, netip.AddrPort) {}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rl.Close() })
		r.f.setRelay(rl)
		r.f.SetRoute(route)
		return r
	}
	const room = "ztt6vfee4sinosfdrkrdroyu3q"
	buf := packet(1, 1, 20)
	buf = append(buf, make([]byte, 80-8)...)
	seq := uint16(2)
	next := func() { seq++; binary.BigEndian.PutUint16(buf[2:], seq) }

	t.Run("an edge relaying its speaker allocates nothing", func(t *testing.T) {
		r := newRoom(&Route{Room: room, Epoch: 1, Upstream: []netip.AddrPort{sink.Addr(), sink.Addr()}})
		p := rtpPacket{fan: r.fan}
		r.f.receive(r.speaker, buf, 1, &p)
		if n := allocsPerRun(50, func() { next(); r.f.receive(r.speaker, buf, 1, &p) }); n != 0 {
			t.Errorf("%v allocations per packet relayed", n)
		}
	})
	t.Run("an owner relaying a slot to its edges allocates nothing", func(t *testing.T) {
		r := newRoom(&Route{Room: room, Epoch: 1, Owner: true})
		r.f.SetEdges([]netip.AddrPort{sink.Addr(), sink.Addr(), sink.Addr()})
		p := rtpPacket{fan: r.fan}
		r.f.receive(r.speaker, buf, 1, &p)
		r.f.rerank(false)
		if n := allocsPerRun(50, func() { next(); r.f.receive(r.speaker, buf, 1, &p) }); n != 0 {
			t.Errorf("%v allocations per packet relayed and fanned out", n)
		}
	})
	for _, frames := range []int{1, 2} {
		t.Run(fmt.Sprintf("an edge fanning a slot stream out in %d ms packets allocates nothing", 20*frames), func(t *testing.T) {
			r := newRoom(&Route{Room: room, Epoch: 1})
			r.f.joins = newFrameJoiners(r.f.slots, frames)
			s := &RelayScratch{pkt: rtpPacket{fan: r.fan}}
			rp := relay.Packet{Kind: relay.Slot, Epoch: 1, Slot: 1, Level: 0x90, Room: []byte(room), Speaker: []byte("someone")}
			work := make([]byte, len(buf))
			deliver := func() {
				next()
				binary.BigEndian.PutUint32(buf[4:], uint32(seq)*960)
				rp.RTP = work[:copy(work, buf)]
				r.f.ReceiveRelay(&rp, s)
			}
			deliver()
			if n := allocsPerRun(50, deliver); n != 0 {
				t.Errorf("%v allocations per slot packet fanned out", n)
			}
		})
	}
}
