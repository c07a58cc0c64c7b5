package sfu

import (
	"encoding/binary"
	"errors"
	"github.com/townhall/townhall/internal/relay"
)

// rtpPacket is a view of one inbound RTP packet: its fields, and sub-slices of the
// buffer it was parsed from (valid until that buffer is reused). Parsing into a
// reused rtpPacket allocates nothing.
type rtpPacket struct {
	marker      bool
	payloadType uint8
	seq         uint16
	ts          uint32
	ssrc        uint32
	payload     []byte // without padding

	// The RFC 6464 client-to-mixer audio level, when the packet carries it.
	hasLevel bool
	level    uint8 // 0 (0 dBov, loudest) to 127 (-127 dBov, silence)
	voice    bool  // the V flag: the sender's voice activity detector saw speech

	// fan is the fan-out state of the goroutine that received the packet, on the
	// lean transport (nil: write to receivers one after another).
	fan *fanCtx
	// arrived is when the kernel received the packet (Unix ns; 0: unknown).
	arrived int64

	// raw is the whole packet as parsed (relayed between nodes as it came).
	raw []byte
	// gen is the generation of the upstream an edge got p from (cluster.go): a
	// slot stream re-bases when it changes. 0 on one node.
	gen uint32
	// audience is who gets p in fanShard: audienceAll, audienceStage or
	// audienceListeners (a Forwarder with Config.ListenerFrames > 1, joiner.go).
	audience uint8
	// frames is how many 20 ms frames p carries when it is a joined packet (0: one).
	frames uint8
	// relay is the relay batch of the goroutine that received the packet, made
	// on first use.
	relay *relay.Batch
}

// Errors of parseRTP. They never reach clients: a malformed packet is dropped and
// counted.
var (
	errRTPShort     = errors.New("rtp: packet shorter than its header")
	errRTPVersion   = errors.New("rtp: version is not 2")
	errRTPPadding   = errors.New("rtp: bad padding length")
	errRTPExtension = errors.New("rtp: header extension overruns its block")
)

const (
	rtpFixedHeader     = 12     // RFC 3550 §5.1
	extProfileOneByte  = 0xBEDE // RFC 8285 §4.2
	extProfileTwoByte  = 0x1000 // RFC 8285 §4.3: 0x100 and 4 "appbits"
	extProfileTwoMask  = 0xFFF0
	extIDReservedShort = 15 // RFC 8285 §4.2: stops the parse of the block
)

// parseRTP parses buf as an RTP packet (RFC 3550 §5.1) into p and, if levelID is
// not 0, looks for the RFC 6464 audio level in the header extension element with that
// ID (RFC 8285 one-byte or two-byte form). Every length is bounds-checked: any
// byte string returns either an error or a packet whose payload lies inside buf.
//
// https://www.rfc-editor.org/rfc/rfc3550#section-5.1
// https://www.rfc-editor.org/rfc/rfc8285#section-4
func parseRTP(buf []byte, levelID uint8, p *rtpPacket) error {
	if len(buf) < rtpFixedHeader {
		return errRTPShort
	}
	if buf[0]>>6 != 2 {
		return errRTPVersion
	}
	padding := buf[0]&0x20 != 0
	extension := buf[0]&0x10 != 0
	csrcs := int(buf[0] & 0x0F)

	p.marker = buf[1]&0x80 != 0
	p.payloadType = buf[1] & 0x7F
	p.seq = binary.BigEndian.Uint16(buf[2:4])
	p.ts = binary.BigEndian.Uint32(buf[4:8])
	p.ssrc = binary.BigEndian.Uint32(buf[8:12])
	p.hasLevel, p.level, p.voice = false, 127, false

	n := rtpFixedHeader + 4*csrcs
	if len(buf) < n {
		return errRTPShort
	}
	if extension {
		if len(buf) < n+4 {
			return errRTPShort
		}
		profile := binary.BigEndian.Uint16(buf[n:])
		words := int(binary.BigEndian.Uint16(buf[n+2:]))
		n += 4
		end := n + 4*words
		if len(buf) < end {
			return errRTPExtension
		}
		if levelID != 0 {
			elem, err := findExtension(profile, buf[n:end], levelID)
			if err != nil {
				return err
			}
			if elem != nil {
				p.level, p.voice, p.hasLevel = parseAudioLevel(elem)
			}
		}
		n = end
	}

	end := len(buf)
	if padding {
		// RFC 3550 §5.1: the last octet counts the padding octets, itself included.
		if end <= n {
			return errRTPPadding
		}
		pad := int(buf[end-1])
		if pad == 0 || end-pad < n {
			return errRTPPadding
		}
		end -= pad
	}
	p.payload = buf[n:end]
	return nil
}

// findExtension returns the data of the first element with the given ID in an RFC
// 8285 header extension block, nil if there is none (or the profile is neither the
// one-byte nor the two-byte form), and an error if an element overruns the block.
//
// https://www.rfc-editor.org/rfc/rfc8285#section-4.2 (one-byte)
// https://www.rfc-editor.org/rfc/rfc8285#section-4.3 (two-byte)
func findExtension(profile uint16, block []byte, id uint8) ([]byte, error) {
	switch {
	case profile == extProfileOneByte:
		for i := 0; i < len(block); {
			b := block[i]
			if b == 0 { // padding octet
				i++
				continue
			}
			elemID, size := b>>4, int(b&0x0F)+1
			if elemID == extIDReservedShort || elemID == 0 {
				// ID 15 ends the parse (§4.2); ID 0 with a length is not padding and
				// not an element either: stop, as pion and libwebrtc do.
				return nil, nil
			}
			i++
			if i+size > len(block) {
				return nil, errRTPExtension
			}
			if elemID == id {
				return block[i : i+size], nil
			}
			i += size
		}
	case profile&extProfileTwoMask == extProfileTwoByte:
		for i := 0; i < len(block); {
			elemID := block[i]
			if elemID == 0 { // padding octet
				i++
				continue
			}
			if i+2 > len(block) {
				return nil, errRTPExtension
			}
			size := int(block[i+1])
			i += 2
			if i+size > len(block) {
				return nil, errRTPExtension
			}
			if elemID == id {
				return block[i : i+size], nil
			}
			i += size
		}
	}
	return nil, nil
}
