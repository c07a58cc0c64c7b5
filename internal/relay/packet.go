// Package relay carries a room's audio between the nodes of a cluster: a
// speaker's packets from the node they are connected to (an edge) to the room's
// owner and its hot standby, and the owner's slot streams back to every edge that
// has listeners of the room. It is direct UDP, not the message bus: a broker in
// the media path adds a hop, TCP's head-of-line blocking and slow-consumer
// disconnects (docs/scaling.md).
//
// Every packet is sealed with AES-128-GCM under a key of its room and epoch (the
// owner's lease), derived from a secret every node shares: a node that knows the
// secret knows every key, and nothing else does; a packet of an old epoch opens
// only under that epoch's key, so a receiver that wants the current epoch only
// drops the rest. The clear header (the AEAD's additional data) carries what the
// receiver needs to route the packet before it opens it: the kind, the epoch,
// the room, the slot, the speaker and their audio level.
//
// Wire format (big-endian):
//
//	0      version (1)
//	1      kind: 1 uplink, 2 slot, 3 alternate, 4 subscribe
//	2-9    epoch
//	10-13  sender: a random number of the sending process
//	14-21  sequence number of the packet from this sender to this receiver
//	22     slot
//	23     audio level: RFC 6464's byte (the V bit, then the level)
//	24     length of the room ID (1-64), 25 of the speaker ID (0-64), 26 of the target ID (0-64)
//	27-    room ID, speaker ID, target ID
//	then   the RTP packet, sealed, and the 16-byte tag
//
// The nonce is the sender and the sequence number: unique per key for as long as
// the process lives (a process that restarts draws a new sender).
package relay

import (
	"encoding/binary"
	"errors"
)

// Kind says what a relay packet carries.
type Kind uint8

// The kinds of relay packets.
const (
	// Uplink is a speaker's audio, from the edge they are connected to, to the
	// room's owner and standby.
	Uplink Kind = 1
	// Slot is one of the owner's slot streams: Speaker heard in Slot.
	Slot Kind = 2
	// Alt is the stream that the occupant of a slot hears in their slot instead
	// of themselves: Speaker, the loudest speaker without a slot.
	Alt Kind = 3
	// Subscribe says, about once a second, that the sending node has
	// participants of the room and wants its slot streams (edge → owner and
	// standby). It carries no RTP.
	Subscribe Kind = 4
)

const (
	version    = 1
	fixedLen   = 27
	maxIDLen   = 64
	tagLen     = 16
	nonceLen   = 12
	maxRTPLen  = 1400
	maxPacket  = fixedLen + 3*maxIDLen + maxRTPLen + tagLen
	offSender  = 10
	offSeq     = 14
	offSlot    = 22
	offLevel   = 23
	offLengths = 24
)

// Header is the clear part of a packet, as a sender gives it.
type Header struct {
	Kind    Kind
	Epoch   uint64
	Room    string
	Slot    uint8
	Level   uint8 // RFC 6464's byte: 0x80 for voice, then the level (0 loudest, 127 silence)
	Speaker string
	Target  string // Alt only
}

// Packet is a packet received and opened. Its slices are valid only during the
// call that hands it over.
type Packet struct {
	Kind    Kind
	Epoch   uint64
	Slot    uint8
	Level   uint8
	Room    []byte
	Speaker []byte
	Target  []byte
	RTP     []byte // the RTP packet, opened in place
	Sender  uint32
	Seq     uint64
}

// Errors of parsing.
var (
	ErrShort   = errors.New("relay: packet too short")
	ErrVersion = errors.New("relay: unknown version")
	ErrKind    = errors.New("relay: unknown kind")
	ErrIDs     = errors.New("relay: bad ID lengths")
	ErrTooBig  = errors.New("relay: RTP packet too big")
)

// appendHeader appends h's clear header, with sender and seq, to b.
func appendHeader(b []byte, h *Header, sender uint32, seq uint64) ([]byte, error) {
	if h.Kind < Uplink || h.Kind > Subscribe {
		return b, ErrKind
	}
	if len(h.Room) == 0 || len(h.Room) > maxIDLen || len(h.Speaker) > maxIDLen || len(h.Target) > maxIDLen {
		return b, ErrIDs
	}
	b = append(b, version, byte(h.Kind))
	b = binary.BigEndian.AppendUint64(b, h.Epoch)
	b = binary.BigEndian.AppendUint32(b, sender)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, h.Slot, h.Level, byte(len(h.Room)), byte(len(h.Speaker)), byte(len(h.Target)))
	b = append(b, h.Room...)
	b = append(b, h.Speaker...)
	b = append(b, h.Target...)
	return b, nil
}

// parseHeader reads the clear header of b into p and returns its length.
func parseHeader(b []byte, p *Packet) (int, error) {
	if len(b) < fixedLen {
		return 0, ErrShort
	}
	if b[0] != version {
		return 0, ErrVersion
	}
	p.Kind = Kind(b[1])
	if p.Kind < Uplink || p.Kind > Subscribe {
		return 0, ErrKind
	}
	p.Epoch = binary.BigEndian.Uint64(b[2:])
	p.Sender = binary.BigEndian.Uint32(b[offSender:])
	p.Seq = binary.BigEndian.Uint64(b[offSeq:])
	p.Slot, p.Level = b[offSlot], b[offLevel]
	nr, ns, nt := int(b[offLengths]), int(b[offLengths+1]), int(b[offLengths+2])
	if nr == 0 || nr > maxIDLen || ns > maxIDLen || nt > maxIDLen {
		return 0, ErrIDs
	}
	end := fixedLen + nr + ns + nt
	if len(b) < end+tagLen {
		return 0, ErrShort
	}
	p.Room = b[fixedLen : fixedLen+nr]
	p.Speaker = b[fixedLen+nr : fixedLen+nr+ns]
	p.Target = b[fixedLen+nr+ns : end]
	return end, nil
}

// nonce fills n with the nonce of sender and seq.
func nonce(n *[nonceLen]byte, sender uint32, seq uint64) {
	binary.BigEndian.PutUint32(n[:4], sender)
	binary.BigEndian.PutUint64(n[4:], seq)
}
