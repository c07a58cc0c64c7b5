package sfu

import (
	"encoding/binary"
	"errors"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/townhall/townhall/internal/srtpgcm"
)

// srtpReceiver opens the SRTP a client sends on the lean transport (its
// microphone) and keeps a replay window per SSRC (RFC 3711 §3.3.2): a packet whose
// index was accepted before, or that is older than the window, is dropped before
// it costs a decryption, and the window moves only once a packet authenticates.
// With AEAD_AES_128_GCM, the profile every browser negotiates, it is one AES-GCM
// open in place with the rollover counter estimated here (RFC 3711 §3.3.1); the
// AES-CM/HMAC-SHA1 profile goes through pion's srtp.Context, which keeps its own.
// Opening a GCM packet, or dropping a replay, allocates nothing. Not safe for
// concurrent use.
//
// https://www.rfc-editor.org/rfc/rfc3711#section-3.3
type srtpReceiver struct {
	gcm *srtpgcm.Cipher // nil: use ctx
	ctx *srtp.Context
	hdr rtp.Header // scratch of ctx
	iv  [12]byte   // scratch of gcm

	streams [replaySSRCs]replayWindow
	evict   int // the stream the next new SSRC takes: the one started first
}

// replaySSRCs is how many SSRCs of one client have a replay window at once. A
// microphone sends one; a new one (a replaced track) takes an unused window, or
// the one started first. Only authenticated packets start one, so only the client
// can make its windows cycle.
const replaySSRCs = 4

// Errors of srtpReceiver.open. They never reach clients: the packet is dropped.
var (
	errSRTPShort    = errors.New("srtp: packet shorter than its header and tag")
	errSRTPReplayed = errors.New("srtp: replayed packet, or older than the replay window")
)

func newSRTPReceiver(profile srtp.ProtectionProfile, key, salt []byte) (*srtpReceiver, error) {
	if profile != srtp.ProtectionProfileAeadAes128Gcm {
		ctx, err := srtp.CreateContext(key, salt, profile)
		if err != nil {
			return nil, err
		}
		return &srtpReceiver{ctx: ctx}, nil
	}
	gcm, err := srtpgcm.New(key, salt)
	if err != nil {
		return nil, err
	}
	return &srtpReceiver{gcm: gcm}, nil
}

// open authenticates and decrypts the SRTP packet pkt in place and returns the RTP
// packet (header and payload), or errSRTPReplayed if replay protection drops it.
func (r *srtpReceiver) open(pkt []byte) ([]byte, error) {
	hdrLen, ok := rtpHeaderLen(pkt)
	if !ok || r.gcm != nil && len(pkt) < hdrLen+gcmTagLen {
		return nil, errSRTPShort // (pion checks the length of its own profile)
	}
	seq := binary.BigEndian.Uint16(pkt[2:])
	ssrc := binary.BigEndian.Uint32(pkt[8:])
	w := r.stream(ssrc)
	index := uint64(seq) // a new SSRC starts with rollover counter 0 (RFC 3711 §3.3.1)
	if w != nil {
		if index, ok = w.index(seq); !ok || !w.fresh(index) {
			return nil, errSRTPReplayed
		}
	}
	var plain []byte
	if r.gcm != nil {
		payload, err := r.gcm.Open(pkt, hdrLen, ssrc, uint32(index>>16), seq, &r.iv)
		if err != nil {
			return nil, err
		}
		plain = pkt[:hdrLen+len(payload)]
	} else {
		var err error
		if plain, err = r.ctx.DecryptRTP(pkt, pkt, &r.hdr); err != nil {
			return nil, err
		}
	}
	if w == nil {
		r.start(ssrc, index)
	} else {
		w.accept(index)
	}
	return plain, nil
}

// stream returns the replay window of ssrc, nil if it has none.
func (r *srtpReceiver) stream(ssrc uint32) *replayWindow {
	for i := range r.streams {
		if w := &r.streams[i]; w.used && w.ssrc == ssrc {
			return w
		}
	}
	return nil
}

// start gives ssrc a window whose first accepted packet has index.
func (r *srtpReceiver) start(ssrc uint32, index uint64) {
	r.streams[r.evict] = replayWindow{ssrc: ssrc, used: true, top: index, seen: [2]uint64{1, 0}}
	r.evict = (r.evict + 1) % len(r.streams)
}

// rtpHeaderLen returns the length of the RTP header at the start of b: the fixed
// part, the CSRCs and the header extension (RFC 3550 §5.1, §5.3.1), all of it in
// the clear in SRTP.
func rtpHeaderLen(b []byte) (int, bool) {
	if len(b) < rtpFixedHeader || b[0]>>6 != 2 {
		return 0, false
	}
	n := rtpFixedHeader + 4*int(b[0]&0x0F)
	if b[0]&0x10 != 0 {
		if len(b) < n+4 {
			return 0, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
	}
	return n, len(b) >= n
}

// replayWindowSize is how many packet indexes behind the highest one a replay
// window remembers: 2.56 s of 20 ms packets, later than any jitter buffer waits.
// RFC 3711 §3.3.2 asks for at least 64; libsrtp keeps 128.
const replayWindowSize = 128

// replayWindow is the receiver's state of one SSRC (RFC 3711 §3.3): the highest
// packet index (ROC << 16 | SEQ) accepted so far, and which of the
// replayWindowSize indexes up to it were accepted.
type replayWindow struct {
	ssrc uint32
	used bool
	top  uint64    // the highest index accepted
	seen [2]uint64 // bit i (of 128, low word first): index top-i was accepted
}

// index estimates the packet index of seq from the highest one so far: the one
// of top's rollover counter, the one before or the one after, whichever is
// nearest (RFC 3711 §3.3.1 and Appendix A). ok is false for an index before 0.
func (w *replayWindow) index(seq uint16) (uint64, bool) {
	i := int64(w.top) + int64(int16(seq-uint16(w.top)))
	return uint64(i), i >= 0
}

// fresh says whether index may be accepted: ahead of the window, or inside it
// and not seen yet.
func (w *replayWindow) fresh(index uint64) bool {
	if index > w.top {
		return true
	}
	d := w.top - index
	return d < replayWindowSize && w.seen[d/64]&(1<<(d%64)) == 0
}

// accept marks index as received, moving the window ahead if it is the highest.
func (w *replayWindow) accept(index uint64) {
	switch {
	case index > w.top:
		switch n := index - w.top; {
		case n >= 128:
			w.seen = [2]uint64{}
		case n >= 64:
			w.seen = [2]uint64{0, w.seen[0] << (n - 64)}
		default:
			w.seen = [2]uint64{w.seen[0] << n, w.seen[1]<<n | w.seen[0]>>(64-n)}
		}
		w.top = index
		w.seen[0] |= 1
	default:
		d := w.top - index
		w.seen[d/64] |= 1 << (d % 64)
	}
}
