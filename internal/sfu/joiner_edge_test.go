package sfu

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/townhall/townhall/internal/relay"
)

// TestAnEdgeJoinsTheOwnersSlotStreamForItsListeners: an edge fans the owner's
// 20 ms slot stream out as it came to its stage, and joined to its listeners,
// across a change of speaker in the slot.
func TestAnEdgeJoinsTheOwnersSlotStreamForItsListeners(t *testing.T) {
	const room = "ztt6vfee4sinosfdrkrdroyu3q"
	rl, err := relay.Listen(relay.Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Secret: clusterSecret,
		Handle: func(*relay.Packet, netip.AddrPort) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rl.Close() })
	f := newBareForwarder(t, 2)
	f.setRelay(rl)
	f.SetRoute(&Route{Room: room, Epoch: 1, Upstream: []netip.AddrPort{rl.Addr()}})
	f.joins = newFrameJoiners(2, 2)
	_, rs := attachRecording(t, f, "stage")
	_, rl2 := attachRecording(t, f, "listener")
	f.SetAllowed("stage", true)

	var s RelayScratch
	deliver := func(speaker string, ssrc uint32, seq uint16, level uint8) {
		pkt := packet(1, seq, 0)
		binary.BigEndian.PutUint32(pkt[8:], ssrc)
		rp := relay.Packet{Kind: relay.Slot, Epoch: 1, Slot: 0, Level: level, Room: []byte(room), Speaker: []byte(speaker), RTP: pkt}
		f.ReceiveRelay(&rp, &s)
	}
	for i, lvl := range []uint8{0x80 | 40, 30, 20, 0x80 | 50} {
		deliver("a", 7, uint16(10+i), lvl)
	}
	for i := range 4 {
		deliver("b", 8, uint16(500+i), 25)
	}

	stage, listener := rs.take(), rl2.take()
	if got := frameCounts(stage); fmt.Sprint(got) != "[1 1 1 1 1 1 1 1]" {
		t.Errorf("the stage got packets of %v frames, want eight of one", got)
	}
	checkStream(t, "stage", stage)
	if got := frameCounts(listener); fmt.Sprint(got) != "[2 2 2 2]" {
		t.Fatalf("the listener got packets of %v frames, want four of two", got)
	}
	checkStream(t, "listener", listener)
	// RFC 6464: the loudest level of the two frames, the voice flag of either.
	for i, want := range []int{0x80 | 30, 0x80 | 20, 25, 25} {
		if listener[i].level != want {
			t.Errorf("listener: packet %d level %#x, want %#x", i, listener[i].level, want)
		}
	}
	if !listener[2].marker {
		t.Error("the first packet of the new speaker has no marker")
	}
}
