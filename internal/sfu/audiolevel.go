package sfu

import (
	"sync/atomic"
	"time"
)

// AudioLevelURI is the RTP header extension of RFC 6464 (client-to-mixer audio
// level), negotiated on every audio m-line.
//
// https://www.rfc-editor.org/rfc/rfc6464
const AudioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// parseAudioLevel reads the data of an RFC 6464 extension element: one octet, the V
// flag in its top bit and the level in -dBov in the other seven (127 = silence).
// Senders use the one-byte form with a length of 1; longer data (seen from old
// implementations that padded the element) is read from its first octet. ok is false
// when there is no octet to read.
//
// https://www.rfc-editor.org/rfc/rfc6464#section-3
func parseAudioLevel(data []byte) (level uint8, voice, ok bool) {
	if len(data) < 1 {
		return 127, false, false
	}
	return data[0] & 0x7F, data[0]&0x80 != 0, true
}

// Level meter constants. A level is smoothed as "loudness", 127 minus the RFC 6464
// level (0 = silence, 127 = 0 dBov), in 1/16 dB fixed point.
const (
	loudShift = 4 // fixed point: loudness << loudShift
	// ewmaShift sets the smoothing weight of a new sample to 1/8: at 50 packets per
	// second the meter follows a step within about 160 ms (one time constant).
	ewmaShift = 3
	// staleAfter is how long without a packet makes a speaker silent: Opus DTX sends a
	// comfort-noise packet every 400 ms in silence, and a speaker going quiet must
	// leave its slot open to a challenger quickly.
	staleAfter = 250 * time.Millisecond
)

// levelMeter is the smoothed loudness of one speaker. The speaker's read loop is its
// only writer; the selector reads it every re-rank.
type levelMeter struct {
	loud  atomic.Int32 // EWMA of the loudness, << loudShift
	heard atomic.Int64 // forwarder clock (ns) of the last observed packet, 0 = never
}

// observe adds one packet's level at time now (forwarder clock, ns). A packet without
// the extension counts as silence. After a gap longer than staleAfter the average
// restarts from this sample instead of climbing from silence.
func (m *levelMeter) observe(level uint8, has bool, now int64) {
	var x int32
	if has && level < 127 {
		x = int32(127-level) << loudShift
	}
	last := m.heard.Load()
	cur := x
	if last != 0 && now-last <= int64(staleAfter) {
		cur = m.loud.Load()
		cur += (x - cur) >> ewmaShift
	}
	m.loud.Store(cur)
	m.heard.Store(now)
}

// read returns the smoothed loudness (<< loudShift) at time now, and whether the
// speaker has been heard within staleAfter; a stale meter reads as silence.
func (m *levelMeter) read(now int64) (loud int32, fresh bool) {
	last := m.heard.Load()
	if last == 0 || now-last > int64(staleAfter) {
		return 0, false
	}
	return m.loud.Load(), true
}

// loudToLevel converts a smoothed loudness back to RFC 6464 units (0 loudest, 127
// silence), rounding toward silence.
func loudToLevel(loud int32) uint8 {
	l := loud >> loudShift
	switch {
	case l <= 0:
		return 127
	case l >= 127:
		return 0
	}
	return uint8(127 - l)
}
