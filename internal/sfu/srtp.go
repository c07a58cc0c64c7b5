package sfu

import (
	"github.com/pion/srtp/v3"

	"github.com/townhall/townhall/internal/srtpgcm"
)

// srtpSender protects the RTP a Peer receives (server to client), one SSRC per
// slot. With AEAD_AES_128_GCM (RFC 7714), the profile every browser negotiates,
// it is one AES-GCM seal in place with no allocation; the AES-CM/HMAC-SHA1 profile
// goes through pion's srtp.Context.
//
// https://www.rfc-editor.org/rfc/rfc7714#section-8
type srtpSender struct {
	gcm *srtpgcm.Cipher // nil: use ctx
	ctx *srtp.Context
}

// gcmTagLen is the authentication tag of AEAD_AES_128_GCM (RFC 7714 §14.2).
const gcmTagLen = srtpgcm.TagLen

func newSRTPSender(profile srtp.ProtectionProfile, key, salt []byte) (*srtpSender, error) {
	if profile != srtp.ProtectionProfileAeadAes128Gcm {
		ctx, err := srtp.CreateContext(key, salt, profile)
		if err != nil {
			return nil, err
		}
		return &srtpSender{ctx: ctx}, nil
	}
	gcm, err := srtpgcm.New(key, salt)
	if err != nil {
		return nil, err
	}
	return &srtpSender{gcm: gcm}, nil
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
	return s.gcm.Seal(pkt, hdrLen, ssrc, roc, seq, iv), nil
}
