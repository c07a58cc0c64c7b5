package sfu

// Joining Opus frames: a listener's packet can carry two or three consecutive 20 ms
// frames of a slot (Config.ListenerFrames) in one Opus code-3 packet, which halves
// or thirds the packets (and system calls) per listener. Nothing is decoded: a
// code-0 packet is a TOC byte and one frame, and a code-3 packet is the TOC with
// c=3, a frame count byte, the frame lengths but the last, then the frames.
//
// https://www.rfc-editor.org/rfc/rfc6716#section-3.2.5

const (
	// maxJoinFrames bounds Config.ListenerFrames: 3 frames of 20 ms, a 60 ms packet.
	maxJoinFrames = 3
	// maxJoinedPayload bounds a joined payload: larger frames go apart, so that a
	// packet stays well inside the path MTU with its header and SRTP tag.
	maxJoinedPayload = 1200
	// opusMaxFrame is the largest Opus frame (RFC 6716 §3.2.1).
	opusMaxFrame = 1275
)

// opusCode0 reports whether payload is an Opus code-0 packet (one frame, RFC 6716
// §3.2.2) whose frame lasts 20 ms: the only packets that are joined.
//
// https://www.rfc-editor.org/rfc/rfc6716#section-3.1
func opusCode0(payload []byte) bool {
	if len(payload) < 1 || len(payload)-1 > opusMaxFrame {
		return false
	}
	toc := payload[0]
	return toc&0x03 == 0 && opusFrameSamples(toc) == opusFrameTS
}

// opusFrameSamples returns the duration, in 48 kHz samples, of one frame of an
// Opus packet with the TOC byte toc (RFC 6716 §3.1, Table 2).
func opusFrameSamples(toc byte) int {
	config := toc >> 3
	switch {
	case config < 12: // SILK-only: 10, 20, 40, 60 ms
		return [4]int{480, 960, 1920, 2880}[config&3]
	case config < 16: // Hybrid: 10, 20 ms
		return [2]int{480, 960}[config&1]
	default: // CELT-only: 2.5, 5, 10, 20 ms
		return [4]int{120, 240, 480, 960}[config&3]
	}
}

// opusJoinable reports whether the code-0 packets a and b can share a code-3
// packet: the same configuration and stereo flag (the TOC byte but c, which is 0
// in both; RFC 6716 §3.2.5 requires one TOC for all frames of a packet).
func opusJoinable(a, b []byte) bool { return a[0] == b[0] }

// appendOpusCode3 appends to dst the Opus code-3 packet (RFC 6716 §3.2.5) of the
// frames of the code-0 packets pkts, which must be opusJoinable: the TOC with c=3,
// the frame count byte (VBR, no padding, M = len(pkts)), the lengths of all frames
// but the last in the one-or-two-byte form of §3.2.1, then the frames.
//
// https://www.rfc-editor.org/rfc/rfc6716#section-3.2.5
// https://www.rfc-editor.org/rfc/rfc6716#section-3.2.1
func appendOpusCode3(dst []byte, pkts [][]byte) []byte {
	dst = append(dst, pkts[0][0]|0x03, 0x80|byte(len(pkts)))
	for _, pkt := range pkts[:len(pkts)-1] {
		dst = appendOpusLength(dst, len(pkt)-1)
	}
	for _, pkt := range pkts {
		dst = append(dst, pkt[1:]...)
	}
	return dst
}

// appendOpusLength appends the length n (0 to 1275) of a frame as RFC 6716 §3.2.1
// codes it: one byte below 252, otherwise two, the first 252 to 255 with the two
// low bits of n and the second the rest divided by four.
func appendOpusLength(dst []byte, n int) []byte {
	if n < 252 {
		return append(dst, byte(n))
	}
	first := 252 + n&3
	return append(dst, byte(first), byte((n-first)/4))
}

// opusCode3Size returns the size of the code-3 packet appendOpusCode3 makes of pkts.
func opusCode3Size(pkts [][]byte) int {
	n := 2
	for i, pkt := range pkts {
		n += len(pkt) - 1
		if i < len(pkts)-1 {
			n++
			if len(pkt)-1 >= 252 {
				n++
			}
		}
	}
	return n
}
