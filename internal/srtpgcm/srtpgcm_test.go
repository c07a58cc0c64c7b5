package srtpgcm_test

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/townhall/townhall/internal/srtpgcm"
)

var (
	masterKey  = bytes.Repeat([]byte{0x1f}, 16)
	masterSalt = bytes.Repeat([]byte{0x2e}, 12)
)

func rtpPacket(t testing.TB, seq uint16) ([]byte, int) {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: 960, SSRC: 0xcafe},
		Payload: bytes.Repeat([]byte{0xab}, 80)}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(make([]byte, 0, len(b)+srtpgcm.TagLen), b...), p.Header.MarshalSize()
}

func TestCipherAgreesWithPion(t *testing.T) {
	c, err := srtpgcm.New(masterKey, masterSalt)
	if err != nil {
		t.Fatal(err)
	}
	pion, err := srtp.CreateContext(masterKey, masterSalt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	var iv [12]byte
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"what Seal writes, pion decrypts", func(t *testing.T) {
			pkt, n := rtpPacket(t, 7)
			plain := bytes.Clone(pkt)
			sealed := c.Seal(pkt, n, 0xcafe, 0, 7, &iv)
			got, err := pion.DecryptRTP(nil, sealed, nil)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("pion decrypted %x (%v), want %x", got, err, plain)
			}
		}},
		{"what pion writes, Open decrypts", func(t *testing.T) {
			pkt, n := rtpPacket(t, 8)
			sealed, err := pion.EncryptRTP(nil, pkt, nil)
			if err != nil {
				t.Fatal(err)
			}
			payload, err := c.Open(sealed, n, 0xcafe, 0, 8, &iv)
			if err != nil || !bytes.Equal(payload, pkt[n:]) {
				t.Fatalf("opened %x (%v), want %x", payload, err, pkt[n:])
			}
		}},
		{"a packet changed on the way does not open", func(t *testing.T) {
			pkt, n := rtpPacket(t, 9)
			sealed := c.Seal(pkt, n, 0xcafe, 0, 9, &iv)
			sealed[n] ^= 1
			if _, err := c.Open(sealed, n, 0xcafe, 0, 9, &iv); err == nil {
				t.Fatal("a tampered packet opened")
			}
		}},
		{"sealing allocates nothing", func(t *testing.T) {
			pkt, n := rtpPacket(t, 10)
			if a := testing.AllocsPerRun(100, func() { c.Seal(pkt, n, 0xcafe, 0, 10, &iv) }); a != 0 {
				t.Fatalf("%v allocations per seal", a)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
