package loadtest

import (
	"encoding/binary"
	"errors"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/townhall/townhall/internal/srtpgcm"
)

// srtpOpener decrypts the SRTP a listener receives. With AEAD_AES_128_GCM (RFC
// 7714) it is one AES-GCM open in place, a rollover counter per SSRC and no replay
// window (the generator counts duplicates as received, which the server never
// sends); other profiles go through pion's srtp.Context.
type srtpOpener struct {
	gcm     *srtpgcm.Cipher // nil: use ctx
	iv      [12]byte
	streams [4]rocState // the slots' SSRCs, first come
	ctx     *srtp.Context
	hdr     rtp.Header
}

type rocState struct {
	ssrc uint32
	roc  uint32
	high uint16
	set  bool
}

func newSRTPOpener(profile srtp.ProtectionProfile, key, salt []byte) (*srtpOpener, error) {
	if profile != srtp.ProtectionProfileAeadAes128Gcm {
		ctx, err := srtp.CreateContext(key, salt, profile)
		return &srtpOpener{ctx: ctx}, err
	}
	gcm, err := srtpgcm.New(key, salt)
	if err != nil {
		return nil, err
	}
	return &srtpOpener{gcm: gcm}, nil
}

var errSRTP = errors.New("srtp: bad packet")

// open decrypts b in place and returns the RTP payload.
func (o *srtpOpener) open(b []byte) ([]byte, error) {
	if o.gcm == nil {
		plain, err := o.ctx.DecryptRTP(b, b, &o.hdr)
		if err != nil {
			return nil, err
		}
		return plain[o.hdr.MarshalSize():], nil
	}
	n, ok := rtpHeaderLen(b)
	if !ok || len(b) < n+srtpgcm.TagLen {
		return nil, errSRTP
	}
	ssrc := binary.BigEndian.Uint32(b[8:])
	seq := binary.BigEndian.Uint16(b[2:])
	return o.gcm.Open(b, n, ssrc, o.rollover(ssrc, seq), seq, &o.iv)
}

// rollover guesses the ROC of seq on ssrc (RFC 3711 §3.3.1) and keeps it.
func (o *srtpOpener) rollover(ssrc uint32, seq uint16) uint32 {
	var s *rocState
	for i := range o.streams {
		if o.streams[i].set && o.streams[i].ssrc == ssrc || !o.streams[i].set {
			s = &o.streams[i]
			break
		}
	}
	if s == nil {
		s = &o.streams[0]
		*s = rocState{}
	}
	switch d := int16(seq - s.high); {
	case !s.set:
		*s = rocState{ssrc: ssrc, high: seq, set: true}
	case d > 0:
		if seq < s.high {
			s.roc++
		}
		s.high = seq
	case seq > s.high:
		return s.roc - 1
	}
	return s.roc
}

// rtpHeaderLen returns the length of b's RTP header, extension included.
func rtpHeaderLen(b []byte) (int, bool) {
	if len(b) < 12 {
		return 0, false
	}
	n := 12 + 4*int(b[0]&0x0F)
	if b[0]&0x10 != 0 {
		if len(b) < n+4 {
			return 0, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
	}
	return n, len(b) >= n
}
