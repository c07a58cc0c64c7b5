package loadtest

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

func TestSRTPOpenerReadsPion(t *testing.T) {
	for _, profile := range []srtp.ProtectionProfile{srtp.ProtectionProfileAeadAes128Gcm, srtp.ProtectionProfileAes128CmHmacSha1_80} {
		t.Run(profile.String(), func(t *testing.T) {
			keyLen, _ := profile.KeyLen()
			saltLen, _ := profile.SaltLen()
			key, salt := bytes.Repeat([]byte{3}, keyLen), bytes.Repeat([]byte{5}, saltLen)
			enc, err := srtp.CreateContext(key, salt, profile)
			if err != nil {
				t.Fatal(err)
			}
			o, err := newSRTPOpener(profile, key, salt)
			if err != nil {
				t.Fatal(err)
			}
			payload := make([]byte, payloadSize)
			for i := range 400 {
				ssrc := uint32(10 + i%3) // three slots, interleaved
				h := rtp.Header{Version: 2, PayloadType: 111, SSRC: ssrc, SequenceNumber: uint16(65500 + i/3)}
				_ = h.SetExtension(1, []byte{0x85})
				putPayload(payload, int(ssrc), uint32(i), int64(i))
				plain, _ := h.Marshal()
				pkt, err := enc.EncryptRTP(nil, append(plain, payload...), nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := o.open(pkt)
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if !bytes.Equal(got, payload) {
					t.Fatalf("packet %d: payload differs", i)
				}
			}
		})
	}
}
