package sfu

// Tap receives what the audience of a Forwarder hears: every packet forwarded into
// one of the K main slots, as it goes out (the alternate, which only the slots'
// occupants hear, is left out). A recorder or a captioner is a Tap.
//
// Tap is called on the packet path of the speaker, with the Forwarder's slot
// assignment read-locked: it must return at once, must not block and should not
// allocate (copy the payload into memory of its own and hand it to a goroutine of
// its own). p.Payload is valid only during the call. Calls for different slots
// may run concurrently; calls for one slot never do.
type Tap interface {
	Tap(p TapPacket)
}

// TapPacket is one packet a Tap receives: the speaker's RTP as it came in
// (sequence number, timestamp and SSRC of the speaker's own stream, not the
// slot's rewritten ones) and the slot it was forwarded in.
type TapPacket struct {
	Slot      int    // 0 to K-1
	Speaker   string // the participant ID of the speaker
	SSRC      uint32
	Seq       uint16
	Timestamp uint32 // 48 kHz (RFC 7587 §4.1)
	Marker    bool
	// Level is the RFC 6464 audio level (0 loudest to 127 silence) when HasLevel.
	Level    uint8
	HasLevel bool
	Voice    bool
	Payload  []byte // the Opus packet; valid only during the call
}

// SetTap starts giving t every packet forwarded in a main slot, or stops (nil).
// It is a barrier, like SetAllowed: when it returns, the previous tap is not being
// called and will not be again, so turning a recording off stops it at once.
// Without a tap the packet path pays one nil check per inbound packet.
func (f *Forwarder) SetTap(t Tap) {
	f.assignMu.Lock()
	f.tap = t
	f.assignMu.Unlock()
}

// tapPacket gives p, forwarded in slot by m, to the tap. assignMu is read-locked.
func (f *Forwarder) tapPacket(m *member, slot int, p *rtpPacket) {
	f.tap.Tap(TapPacket{Slot: slot, Speaker: m.id, SSRC: p.ssrc, Seq: p.seq, Timestamp: p.ts, Marker: p.marker,
		Level: p.level, HasLevel: p.hasLevel, Voice: p.voice, Payload: p.payload})
}
