package recorder

import (
	"errors"
	"fmt"
)

// The Opus facts a recording needs, from the TOC byte (RFC 6716 §3.1): how long a
// packet lasts, and how to say "nothing here" for a stretch of time. No audio is
// ever decoded or encoded here.
//
// https://www.rfc-editor.org/rfc/rfc6716#section-3.1

// clockRate is the Opus RTP clock and the Ogg granule rate (RFC 7587 §4.1, RFC 7845 §4).
const clockRate = 48000

// maxPacketSamples is the longest Opus packet: 120 ms (RFC 6716 §3.2.5).
const maxPacketSamples = 5760

// errNotOpus refuses a packet whose TOC says nothing sensible.
var errNotOpus = errors.New("recorder: not an Opus packet")

// frameSamples returns the samples at 48 kHz of one frame of the configuration in
// toc.
func frameSamples(toc byte) int {
	cfg := int(toc >> 3)
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		return []int{480, 960, 1920, 2880}[cfg%4]
	case cfg < 16: // Hybrid: 10, 20 ms
		return []int{480, 960}[cfg%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		return []int{120, 240, 480, 960}[cfg%4]
	}
}

// packetSamples returns how many samples at 48 kHz the Opus packet p lasts (RFC
// 6716 §3.2: one frame for code 0, two for codes 1 and 2, the count of code 3).
func packetSamples(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, fmt.Errorf("%w: empty", errNotOpus)
	}
	frames := 1
	switch p[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 || p[1]&0x3F == 0 {
			return 0, fmt.Errorf("%w: code 3 without frames", errNotOpus)
		}
		frames = int(p[1] & 0x3F)
	}
	n := frames * frameSamples(p[0])
	if n > maxPacketSamples {
		return 0, fmt.Errorf("%w: %d samples, over 120 ms", errNotOpus, n)
	}
	return n, nil
}

// silentTOC is the TOC of the silence written into a slot that has not carried
// anyone yet: CELT fullband, 20 ms frames, mono (configuration 31).
const silentTOC byte = 31 << 3

// silence returns an Opus packet of count frames of the configuration of toc, each
// of length zero, at most 120 ms in all: RFC 6716 §3.2.1 lets a frame be empty,
// which a decoder takes for a frame not sent (DTX) and conceals, fading to
// silence. It is a code 3 packet, constant bitrate, no padding (§3.2.5): the TOC
// and the frame count, nothing else. The client's recordings fill their gaps the
// same way (client.SlotStats.Filled).
//
// https://www.rfc-editor.org/rfc/rfc6716#section-3.2.5
func silence(toc byte, count int) []byte {
	return []byte{toc&^0x03 | 0x03, byte(count)}
}

// silenceFrames returns how many frames of toc's configuration one silence packet
// holds: as many as fit in 120 ms (at most 48, the six bits of the count).
func silenceFrames(toc byte) int {
	return min(maxPacketSamples/frameSamples(toc), 48)
}
