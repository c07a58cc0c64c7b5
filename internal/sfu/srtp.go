package sfu

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"github.com/pion/srtp/v3"
)

// srtpSender protects the RTP a Peer receives (server to client), one SSRC per
// slot. With AEAD_AES_128_GCM (RFC 7714), the profile every browser negotiates,
// it is one AES-GCM seal in place with no allocation; the AES-CM/HMAC-SHA1 profile
// goes through pion's srtp.Context.
//
// https://www.rfc-editor.org/rfc/rfc7714#section-8
type srtpSender struct {
	gcm  cipher.AEAD // nil: use ctx
	salt [12]byte
	ctx  *srtp.Context
}

// gcmTagLen is the authentication tag of AEAD_AES_128_GCM (RFC 7714 §14.2).
const gcmTagLen = 16

func newSRTPSender(profile srtp.ProtectionProfile, key, salt []byte) (*srtpSender, error) {
	if profile != srtp.ProtectionProfileAeadAes128Gcm {
		ctx, err := srtp.CreateContext(key, salt, profile)
		if err != nil {
			return nil, err
		}
		return &srtpSender{ctx: ctx}, nil
	}
	// RFC 7714 §11: the session key and salt come from the AES-CM key derivation
	// function of RFC 3711 §4.3, labels 0x00 (encryption key) and 0x02 (salt).
	sessionKey, err := srtpKDF(0x00, key, salt, len(key))
	if err != nil {
		return nil, err
	}
	sessionSalt, err := srtpKDF(0x02, key, salt, 12)
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
	s := &srtpSender{gcm: gcm}
	copy(s.salt[:], sessionSalt)
	return s, nil
}

// srtpKDF is the AES-CM PRF of RFC 3711 §4.3.3 with a key derivation rate of 0:
// AES in counter mode, keyed with the master key, over (master salt XOR label).
//
// https://www.rfc-editor.org/rfc/rfc3711#section-4.3
func srtpKDF(label byte, masterKey, masterSalt []byte, n int) ([]byte, error) {
	if len(masterSalt) > 14 {
		return nil, fmt.Errorf("srtp: master salt of %d bytes", len(masterSalt))
	}
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

// overhead is how many bytes protect adds after the payload.
func (s *srtpSender) overhead() int { return gcmTagLen } // HMAC-SHA1-80 adds 10, fewer

// protect encrypts the RTP packet pkt (header of hdrLen bytes, then the payload)
// in place, appending the tag within cap(pkt), and returns the SRTP packet. roc
// is the rollover counter of the packet's sequence number; iv is scratch space of
// the caller's (on the heap already, so that nothing is allocated per packet).
func (s *srtpSender) protect(pkt []byte, hdrLen int, ssrc uint32, seq uint16, roc uint32, iv *[12]byte) ([]byte, error) {
	if s.gcm == nil {
		out, err := s.ctx.EncryptRTP(nil, pkt, nil) // allocates: a fallback no browser needs
		if err != nil {
			return nil, err
		}
		return pkt[:copy(pkt[:cap(pkt)], out)], nil
	}
	// RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt.
	iv[0], iv[1] = 0, 0
	binary.BigEndian.PutUint32(iv[2:], ssrc)
	binary.BigEndian.PutUint32(iv[6:], roc)
	binary.BigEndian.PutUint16(iv[10:], seq)
	for i := range iv {
		iv[i] ^= s.salt[i]
	}
	out := s.gcm.Seal(pkt[hdrLen:hdrLen], iv[:], pkt[hdrLen:], pkt[:hdrLen])
	return pkt[:hdrLen+len(out)], nil
}
