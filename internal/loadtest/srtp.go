package loadtest

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// srtpOpener decrypts the SRTP a listener receives. With AEAD_AES_128_GCM (RFC
// 7714) it is one AES-GCM open in place, a rollover counter per SSRC and no replay
// window (the generator counts duplicates as received, which the server never
// sends); other profiles go through pion's srtp.Context.
type srtpOpener struct {
	gcm     cipher.AEAD
	salt    [12]byte
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
	sessionKey, err := kdf(0x00, key, salt, len(key))
	if err != nil {
		return nil, err
	}
	sessionSalt, err := kdf(0x02, key, salt, 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sessionKey)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	o := &srtpOpener{gcm: gcm}
	copy(o.salt[:], sessionSalt)
	return o, nil
}

// kdf is the AES-CM key derivation of RFC 3711 §4.3.3 with a rate of 0.
func kdf(label byte, masterKey, masterSalt []byte, n int) ([]byte, error) {
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	var in [16]byte
	copy(in[:], masterSalt)
	in[7] ^= label
	out := make([]byte, (n+15)/16*16)
	for i := 0; i*16 < n; i++ {
		binary.BigEndian.PutUint16(in[14:], uint16(i))
		block.Encrypt(out[i*16:], in[:])
	}
	return out[:n], nil
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
	if !ok || len(b) < n+16 {
		return nil, errSRTP
	}
	ssrc := binary.BigEndian.Uint32(b[8:])
	seq := binary.BigEndian.Uint16(b[2:])
	roc := o.rollover(ssrc, seq)
	o.iv = [12]byte{}
	binary.BigEndian.PutUint32(o.iv[2:], ssrc)
	binary.BigEndian.PutUint32(o.iv[6:], roc)
	binary.BigEndian.PutUint16(o.iv[10:], seq)
	for i := range o.iv {
		o.iv[i] ^= o.salt[i]
	}
	return o.gcm.Open(b[n:n], o.iv[:], b[n:], b[:n])
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
