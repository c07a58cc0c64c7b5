package sfu

import (
	"sync"
	"time"
)

// Audiences of a packet in fanShard (rtpPacket.audience).
const (
	audienceAll       = 0 // every receiver but the speaker
	audienceStage     = 1 // only receivers who may be heard (member.allowed): the 20 ms stream
	audienceListeners = 2 // only the others: the joined stream
)

// joinedGen marks the generation (rtpPacket.gen) of a joined stream, so that a
// slot stream re-bases once when its receiver moves between the joined stream and
// the 20 ms one (a listener promoted to the stage, a speaker sent back).
const joinedGen = 1 << 31

// opusDTXMax is the largest frame taken for a DTX frame: libopus sends an empty
// frame, or one of a byte or two, when its encoder has nothing to say.
const opusDTXMax = 2

// joinHoldMax is how long a frame may wait for the next one of its packet: past
// it, the re-rank tick sends what is held (the end of a talkspurt, a DTX frame).
// So the last packet of a talkspurt may come up to rerankInterval late; every
// other joined packet leaves as soon as its last frame arrives.
const joinHoldMax = 2 * 20 * time.Millisecond

// frameJoiner makes the listeners' stream of one slot out of its 20 ms packets: it
// holds frames until it has Config.ListenerFrames consecutive ones, then sends them
// as one Opus code-3 packet (appendOpusCode3) to the receivers who are not on the
// stage, while the stage keeps every 20 ms packet. Frames that cannot share a
// packet (not code 0, another TOC, not consecutive, another source) go apart: what
// is held is sent first, as one packet.
//
// The joined packets carry their own sequence numbers, one apart, the timestamp of
// their first frame, the loudest audio level of their frames (RFC 6464: the
// smallest value) and the OR of their voice flags.
//
// mu is taken after Forwarder.assignMu (the packet path, the re-rank tick), or
// after Forwarder.mu alone (SetAllowed and leave drop what a member has held).
type frameJoiner struct {
	mu     sync.Mutex
	frames int // frames per joined packet: 2 or 3

	src, skip *member // whose frames are held, and who must not hear them
	slot      int
	ssrc, gen uint32
	n         int    // frames held
	lastSeq   uint16 // inbound sequence number of the last frame held
	first     rtpPacket
	heldAt    int64 // forwarder clock when the first frame was held

	vseq   uint16                                    // the joined stream's next sequence number
	held   [maxJoinFrames][]byte                     // the packets held, then the one joined to them
	bufs   [maxJoinFrames - 1][opusMaxFrame + 1]byte // copies of the packets held
	out    rtpPacket
	outBuf [maxJoinedPayload]byte
}

// newFrameJoiners returns the joiners of k slots, or nil if frames is 1 (or 0):
// listeners then get the 20 ms stream like everyone.
func newFrameJoiners(k, frames int) []frameJoiner {
	if frames <= 1 {
		return nil
	}
	js := make([]frameJoiner, k)
	for i := range js {
		js[i].frames = min(frames, maxJoinFrames)
		js[i].slot = i
	}
	return js
}

// push takes p, a packet of slot from src (fed to everyone in the slot but skip)
// that the stage has just been sent, and sends the listeners what is ready. j.mu
// is held.
func (j *frameJoiner) push(f *Forwarder, src, skip *member, p *rtpPacket, now int64) (sent, failed int) {
	// A DTX frame (a sender's silence: one every 400 ms) goes at once: the next
	// frame is far, and waiting for it would only make the silence late.
	joinable := opusCode0(p.payload) && len(p.payload)-1 > opusDTXMax
	if j.n > 0 && !(joinable && j.follows(src, p)) {
		sent, failed = j.flush(f, p.fan, now)
	}
	if !joinable {
		s, fl := j.send(f, src, skip, p, 1, p.payload, p.fan, now)
		return sent + s, failed + fl
	}
	if j.n == 0 {
		j.src, j.skip, j.ssrc, j.gen = src, skip, p.ssrc, p.gen
		j.first = *p
		j.first.fan, j.first.relay, j.first.raw, j.first.payload = nil, nil, nil, nil
		j.heldAt = now
	} else if p.hasLevel && (!j.first.hasLevel || p.level < j.first.level) {
		j.first.level, j.first.hasLevel = p.level, true
	}
	j.first.voice = j.first.voice || p.voice
	j.lastSeq = p.seq
	if j.n+1 < j.frames {
		j.held[j.n] = append(j.bufs[j.n][:0], p.payload...)
		j.n++
		return sent, failed
	}
	j.held[j.n] = p.payload
	j.n++
	s, fl := j.flush(f, p.fan, now)
	return sent + s, failed + fl
}

// follows reports whether p is the next frame of the ones held: the same source,
// the next sequence number and timestamp, the same TOC, and room in a packet.
func (j *frameJoiner) follows(src *member, p *rtpPacket) bool {
	if src != j.src || p.ssrc != j.ssrc || p.gen != j.gen || p.seq != j.lastSeq+1 ||
		p.ts != j.first.ts+uint32(j.n*opusFrameTS) || !opusJoinable(j.held[0], p.payload) {
		return false
	}
	j.held[j.n] = p.payload
	ok := opusCode3Size(j.held[:j.n+1]) <= maxJoinedPayload
	j.held[j.n] = nil
	return ok
}

// flush sends what is held as one packet (code 0 if it is one frame) to the
// listeners.
func (j *frameJoiner) flush(f *Forwarder, fan *fanCtx, now int64) (sent, failed int) {
	n := j.n
	if n == 0 {
		return 0, 0
	}
	j.n = 0
	payload := j.held[0]
	if n > 1 {
		payload = appendOpusCode3(j.outBuf[:0], j.held[:n])
	}
	sent, failed = j.send(f, j.src, j.skip, &j.first, n, payload, fan, now)
	clear(j.held[:])
	return sent, failed
}

// drop forgets what is held, unless src is another member's (nil: whoever's).
func (j *frameJoiner) drop(m *member) {
	j.mu.Lock()
	if m == nil || j.src == m || j.skip == m {
		j.n = 0
		clear(j.held[:])
		j.src, j.skip = nil, nil
	}
	j.mu.Unlock()
}

// send fans out payload, with the header fields of hdr, to the listeners of the
// slot as the next packet of the joined stream, of n frames.
func (j *frameJoiner) send(f *Forwarder, src, skip *member, hdr *rtpPacket, n int, payload []byte, fan *fanCtx, now int64) (sent, failed int) {
	o := &j.out
	o.marker, o.payloadType, o.ts, o.ssrc = hdr.marker, hdr.payloadType, hdr.ts, hdr.ssrc
	o.hasLevel, o.level, o.voice = hdr.hasLevel, hdr.level, hdr.voice
	o.seq = j.vseq
	j.vseq++
	o.gen = hdr.gen | joinedGen
	o.audience = audienceListeners
	o.frames = uint8(n)
	o.payload = payload
	o.fan = fan
	rxs := *f.rxs.Load()
	if fan != nil {
		sent, failed = fan.run(src, skip, j.slot, o, now, rxs)
	} else {
		sent, failed = fanShard(src, skip, j.slot, o, now, rxs, nil)
	}
	o.payload, o.fan = nil, nil
	return sent, failed
}

// flushStaleJoins sends the frames held longer than joinHoldMax, on the re-rank
// tick: the end of a talkspurt must not wait for a frame that does not come. On
// one node, frames of a speaker who has lost the slot since are dropped.
func (f *Forwarder) flushStaleJoins() {
	if f.joins == nil {
		return
	}
	now := f.now()
	rt := f.cl.route.Load()
	edge := rt != nil && !rt.Owner
	f.assignMu.RLock()
	defer f.assignMu.RUnlock()
	for i := range f.joins {
		j := &f.joins[i]
		j.mu.Lock()
		if j.n > 0 && now-j.heldAt > int64(joinHoldMax) {
			if edge || f.sel.slots[i] == j.src && j.src.allowed.Load() {
				f.countForwarded(j.flush(f, nil, now))
			} else {
				j.n = 0
				clear(j.held[:])
			}
		}
		j.mu.Unlock()
	}
}

// dropJoined forgets the frames m has held (nil: everyone's), with Forwarder.mu held.
func (f *Forwarder) dropJoined(m *member) {
	for i := range f.joins {
		f.joins[i].drop(m)
	}
}

// countForwarded counts packets sent (and failed) outside receiveParsed.
func (f *Forwarder) countForwarded(sent, failed int) {
	f.metrics.forwardedPackets.Add(float64(sent))
	if failed > 0 {
		f.metrics.droppedWriteError.Add(float64(failed))
	}
}
