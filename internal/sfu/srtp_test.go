package sfu

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// TestSRTPSenderMatchesPion decrypts what srtpSender protects with pion's SRTP
// context, across a sequence number wrap, for both profiles the lean transport
// negotiates.
func TestSRTPSenderMatchesPion(t *testing.T) {
	for _, profile := range []srtp.ProtectionProfile{srtp.ProtectionProfileAeadAes128Gcm, srtp.ProtectionProfileAes128CmHmacSha1_80} {
		t.Run(profile.String(), func(t *testing.T) {
			keyLen, _ := profile.KeyLen()
			saltLen, _ := profile.SaltLen()
			key, salt := bytes.Repeat([]byte{7}, keyLen), bytes.Repeat([]byte{9}, saltLen)
			s, err := newSRTPSender(profile, key, salt)
			if err != nil {
				t.Fatal(err)
			}
			in, err := srtp.CreateContext(key, salt, profile)
			if err != nil {
				t.Fatal(err)
			}
			var stream slotStream
			stream.reset(1)
			h := rtp.Header{Version: 2, PayloadType: 111, SSRC: 0xCAFE, Timestamp: 1}
			_ = h.SetExtension(1, []byte{0x8A})
			payload := []byte("an Opus frame, more or less")
			buf := make([]byte, 1500)
			for i := range 300 {
				h.SequenceNumber = uint16(65400 + i) // wraps after 136 packets
				n, err := h.MarshalTo(buf)
				if err != nil {
					t.Fatal(err)
				}
				pkt := append(buf[:n], payload...)
				pkt, err = s.protect(pkt, n, h.SSRC, h.SequenceNumber, stream.rolloverCount(h.SequenceNumber), &stream.iv)
				if err != nil {
					t.Fatal(err)
				}
				var got rtp.Header
				plain, err := in.DecryptRTP(nil, pkt, &got)
				if err != nil {
					t.Fatalf("packet %d (seq %d): %v", i, h.SequenceNumber, err)
				}
				if !bytes.Equal(plain[got.MarshalSize():], payload) || got.SequenceNumber != h.SequenceNumber {
					t.Fatalf("packet %d: decrypted %q seq %d", i, plain[got.MarshalSize():], got.SequenceNumber)
				}
			}
		})
	}
}

func TestRolloverCount(t *testing.T) {
	var s slotStream
	s.reset(1)
	for _, tc := range []struct {
		seq  uint16
		want uint32
	}{{65534, 0}, {65535, 0}, {0, 1}, {65533, 0}, {1, 1}, {20000, 1}, {40000, 1}, {60000, 1}, {65535, 1}, {2, 2}, {65530, 1}} {
		if got := s.rolloverCount(tc.seq); got != tc.want {
			t.Errorf("seq %d: ROC %d, want %d", tc.seq, got, tc.want)
		}
	}
}

func TestSRTPProtectDoesNotAllocate(t *testing.T) {
	s, err := newSRTPSender(srtp.ProtectionProfileAeadAes128Gcm, make([]byte, 16), make([]byte, 12))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	iv := new([12]byte)
	if n := allocsPerRun(100, func() {
		pkt := buf[:12+80]
		_, _ = s.protect(pkt, 12, 1, 2, 0, iv)
	}); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}
