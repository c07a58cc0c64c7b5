// Package srtpgcm is SRTP with the AEAD_AES_128_GCM profile of RFC 7714, the one
// every browser negotiates, reduced to what a forwarder and a load generator need
// on their packet paths: the session key and salt derived once, then one AES-GCM
// seal or open in place per packet, allocating nothing. The rollover counter and
// replay handling are the caller's (pion's srtp.Context does all of it, at the cost
// of allocations and locks per packet).
//
// https://www.rfc-editor.org/rfc/rfc7714
package srtpgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
)

// TagLen is the authentication tag's length (RFC 7714 §14.2).
const TagLen = 16

// Cipher seals and opens the RTP packets of one direction of an SRTP session.
type Cipher struct {
	gcm  cipher.AEAD
	salt [12]byte
}

// New derives the session key and salt from the master key and salt (RFC 7714 §11:
// the AES-CM key derivation of RFC 3711 §4.3, labels 0x00 and 0x02).
func New(masterKey, masterSalt []byte) (*Cipher, error) {
	sessionKey, err := kdf(0x00, masterKey, masterSalt, len(masterKey))
	if err != nil {
		return nil, err
	}
	sessionSalt, err := kdf(0x02, masterKey, masterSalt, 12)
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
	c := &Cipher{gcm: gcm}
	copy(c.salt[:], sessionSalt)
	return c, nil
}

// kdf is the AES-CM PRF of RFC 3711 §4.3.3 with a key derivation rate of 0: AES in
// counter mode, keyed with the master key, over (master salt XOR label).
func kdf(label byte, masterKey, masterSalt []byte, n int) ([]byte, error) {
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

// iv fills iv with RFC 7714 §8.1's IV: (00 00 || SSRC || ROC || SEQ) XOR salt.
func (c *Cipher) iv(iv *[12]byte, ssrc, roc uint32, seq uint16) {
	iv[0], iv[1] = 0, 0
	binary.BigEndian.PutUint32(iv[2:], ssrc)
	binary.BigEndian.PutUint32(iv[6:], roc)
	binary.BigEndian.PutUint16(iv[10:], seq)
	for i := range iv {
		iv[i] ^= c.salt[i]
	}
}

// Seal encrypts the RTP packet pkt (a header of hdrLen bytes, then the payload) in
// place, appending the tag within cap(pkt), and returns the SRTP packet. roc is the
// rollover counter of seq; iv is the caller's scratch space (kept on the heap, so
// that nothing escapes per packet).
func (c *Cipher) Seal(pkt []byte, hdrLen int, ssrc, roc uint32, seq uint16, iv *[12]byte) []byte {
	c.iv(iv, ssrc, roc, seq)
	out := c.gcm.Seal(pkt[hdrLen:hdrLen], iv[:], pkt[hdrLen:], pkt[:hdrLen])
	return pkt[:hdrLen+len(out)]
}

// Open authenticates and decrypts the SRTP packet pkt (a header of hdrLen bytes,
// then the encrypted payload and the tag) in place and returns the payload.
func (c *Cipher) Open(pkt []byte, hdrLen int, ssrc, roc uint32, seq uint16, iv *[12]byte) ([]byte, error) {
	c.iv(iv, ssrc, roc, seq)
	return c.gcm.Open(pkt[hdrLen:hdrLen], iv[:], pkt[hdrLen:], pkt[:hdrLen])
}
