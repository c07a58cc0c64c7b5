package sfu

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/pion/rtp"
)

// Rewriting constants: Opus at 48 kHz in 20 ms frames (RFC 7587 §4.1: the RTP clock
// of Opus is always 48 kHz).
//
// https://www.rfc-editor.org/rfc/rfc7587#section-4.1
const (
	opusClockRate = 48000
	opusFrameTS   = 960 // 20 ms at 48 kHz: the smallest timestamp step at a switch
)

// slotStream is the outbound state of one (receiver, slot) pair. Whatever speaker
// feeds the slot, the receiver sees one continuous RTP stream: the SSRC is the slot's
// own (the transport sets it), and sequence numbers and timestamps are shifted by
// offsets that are recomputed when the source changes, so that the first packet of
// the new source follows the last one sent without a sequence gap, and its timestamp
// advances by the wall-clock time since then (at least one frame).
//
// Except for levelID, a slotStream belongs to the one speaker that currently feeds
// it: the forwarder's slot assignment, read-locked for each packet, makes sure there
// is only one (see Forwarder).
type slotStream struct {
	// levelID is the audio level extension ID negotiated for this slot's m-line (0:
	// not negotiated, the extension is left out). The transport sets it when it binds.
	levelID atomic.Uint32

	src     *member // the speaker now fed into this slot, nil before the first packet
	srcSSRC uint32
	srcGen  uint32 // the upstream generation of src (an edge's; 0 on one node)
	seqOff  uint16 // outbound seq = inbound seq + seqOff
	tsOff   uint32 // outbound ts = inbound ts + tsOff
	lastSeq uint16 // the newest outbound packet so far
	lastTS  uint32
	lastAt  int64  // forwarder clock (ns) when lastSeq was sent
	lastDur uint32 // how long lastSeq's audio lasts (48 kHz): a joined packet's is longer

	hdrLevelID uint8      // the extension ID hdr is set up for
	hdr        rtp.Header // reused for every packet: no allocation per packet
	level      [1]byte    // data of hdr's audio level element

	// The SRTP rollover counter of the outbound stream (RFC 3711 §3.3.1), kept by
	// the lean transport, which encrypts itself.
	roc     uint32
	rocHigh uint16 // the highest sequence number protected so far
	rocSet  bool
	iv      [12]byte // scratch of the SRTP encryption
}

// reset starts the stream at random sequence number and timestamp (RFC 3550 §5.1
// recommends random initial values), as if its last packet were sent at now.
func (s *slotStream) reset(now int64) {
	s.src = nil
	s.lastSeq = uint16(rand.Uint32())
	s.lastTS = rand.Uint32()
	s.lastAt = now
	s.lastDur = opusFrameTS
	s.hdr.Version = 2
	s.roc, s.rocHigh, s.rocSet = 0, 0, false
}

// rolloverCount returns the ROC of outbound sequence number seq and advances it
// past a wrap (RFC 3711 §3.3.1: the receiver guesses it the same way, from the
// highest sequence number it has seen).
func (s *slotStream) rolloverCount(seq uint16) uint32 {
	switch d := int16(seq - s.rocHigh); {
	case !s.rocSet:
		s.rocSet, s.rocHigh = true, seq
	case d > 0:
		if seq < s.rocHigh {
			s.roc++
		}
		s.rocHigh = seq
	case seq > s.rocHigh:
		return s.roc - 1 // late, from before the wrap
	}
	return s.roc
}

// rewrite returns the header to send p from speaker src on this slot at time now
// (forwarder clock, ns). The header is owned by s and valid until the next call;
// the transport sets its SSRC and payload type.
func (s *slotStream) rewrite(src *member, p *rtpPacket, now int64) *rtp.Header {
	switched := s.src != src || s.srcSSRC != p.ssrc || s.srcGen != p.gen
	if switched {
		elapsed := (now - s.lastAt) * opusClockRate / 1e9
		switch {
		case elapsed < int64(max(s.lastDur, opusFrameTS)):
			elapsed = int64(max(s.lastDur, opusFrameTS)) // never overlap the last packet
		case elapsed > 1<<30:
			elapsed = 1 << 30 // a long-idle slot: any far jump will do
		}
		s.seqOff = s.lastSeq + 1 - p.seq
		s.tsOff = s.lastTS + uint32(elapsed) - p.ts
		s.src, s.srcSSRC, s.srcGen = src, p.ssrc, p.gen
	}
	seq := p.seq + s.seqOff
	ts := p.ts + s.tsOff
	if switched || int16(seq-s.lastSeq) > 0 {
		s.lastSeq, s.lastTS, s.lastAt = seq, ts, now
		s.lastDur = opusFrameTS * uint32(max(p.frames, 1))
	}

	h := &s.hdr
	// The marker bit flags the first packet of a talkspurt (RFC 3551 §4.1); a new
	// source is one, and it lets the receiver's jitter buffer adapt.
	h.Marker = p.marker || switched
	h.SequenceNumber = seq
	h.Timestamp = ts
	s.setLevel(p)
	return h
}

// setLevel keeps the RFC 6464 element on the outbound packet, under the ID the
// receiver negotiated for this slot.
func (s *slotStream) setLevel(p *rtpPacket) {
	h := &s.hdr
	if id := uint8(s.levelID.Load()); id != s.hdrLevelID {
		h.Extensions = h.Extensions[:0]
		h.ExtensionProfile = extProfileOneByte
		if id > 14 { // one-byte IDs are 1 to 14 (RFC 8285 §4.2)
			h.ExtensionProfile = extProfileTwoByte
		}
		h.Extension = true
		if id == 0 || h.SetExtension(id, s.level[:]) != nil {
			h.Extensions = h.Extensions[:0]
			id = 0
		}
		s.hdrLevelID = id
	}
	if s.hdrLevelID == 0 || !p.hasLevel {
		h.Extension = false
		return
	}
	h.Extension = true
	s.level[0] = p.level & 0x7F
	if p.voice {
		s.level[0] |= 0x80
	}
}
