package sfu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/townhall/townhall/internal/srtpgcm"
)

// TestSRTPReceiverReplayWindow sends SRTP sealed by pion, in order, and delivers
// it to an srtpReceiver in another order, some packets twice: each must be
// accepted once, decrypted whole, across a sequence number wrap, for both
// profiles the lean transport negotiates.
func TestSRTPReceiverReplayWindow(t *testing.T) {
	tests := []struct {
		name    string
		first   uint16 // sequence number of packet 0
		arrival []int  // the packets in the order they arrive
		want    []bool // accepted
	}{
		{"a packet received twice is accepted once", 10, []int{0, 1, 1}, []bool{true, true, false}},
		{"a late packet inside the window is accepted once", 10, []int{0, 2, 1, 1}, []bool{true, true, true, false}},
		{"the window follows the sequence number across its wrap", 65534, []int{0, 1, 2, 3, 1, 2, 3},
			[]bool{true, true, true, true, false, false, false}},
		{"a late packet from before the wrap is accepted once", 65530, []int{0, 8, 3, 3}, []bool{true, true, true, false}},
		{"a packet 127 behind the newest is accepted, 128 behind is dropped", 0, []int{200, 73, 72},
			[]bool{true, true, false}},
		{"a packet the window moved past its first half is still known", 0, []int{0, 60, 70, 0, 10},
			[]bool{true, true, true, false, true}},
		{"a jump of more than half the window keeps what it had seen", 0, []int{0, 1, 100, 1, 0, 50},
			[]bool{true, true, true, false, false, true}},
		{"a jump ahead of the whole window forgets it", 100, []int{0, 300, 0, 299}, []bool{true, true, false, true}},
	}
	for _, profile := range []srtp.ProtectionProfile{srtp.ProtectionProfileAeadAes128Gcm, srtp.ProtectionProfileAes128CmHmacSha1_80} {
		for _, tt := range tests {
			t.Run(profile.String()+"/"+tt.name, func(t *testing.T) {
				keyLen, _ := profile.KeyLen()
				saltLen, _ := profile.SaltLen()
				key, salt := bytes.Repeat([]byte{3}, keyLen), bytes.Repeat([]byte{5}, saltLen)
				out, err := srtp.CreateContext(key, salt, profile)
				if err != nil {
					t.Fatal(err)
				}
				in, err := newSRTPReceiver(profile, key, salt)
				if err != nil {
					t.Fatal(err)
				}
				last := 0
				for _, i := range tt.arrival {
					last = max(last, i)
				}
				sent := make([][]byte, last+1)
				for i := range sent {
					pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 0xBEEF,
						SequenceNumber: tt.first + uint16(i)}, Payload: fmt.Appendf(nil, "packet %d", i)}
					plain, err := pkt.Marshal()
					if err != nil {
						t.Fatal(err)
					}
					if sent[i], err = out.EncryptRTP(nil, plain, nil); err != nil {
						t.Fatal(err)
					}
				}
				for k, i := range tt.arrival {
					plain, err := in.open(append([]byte(nil), sent[i]...))
					switch {
					case tt.want[k] && err != nil:
						t.Fatalf("arrival %d (packet %d): %v, want it accepted", k, i, err)
					case !tt.want[k] && !errors.Is(err, errSRTPReplayed):
						t.Fatalf("arrival %d (packet %d): %v, want it dropped as a replay", k, i, err)
					case tt.want[k] && !bytes.HasSuffix(plain, fmt.Appendf(nil, "packet %d", i)):
						t.Fatalf("arrival %d (packet %d): decrypted %q", k, i, plain)
					}
				}
			})
		}
	}
}

func TestSRTPReplayCheckDoesNotAllocate(t *testing.T) {
	key, salt := make([]byte, 16), make([]byte, 12)
	in, err := newSRTPReceiver(srtp.ProtectionProfileAeadAes128Gcm, key, salt)
	if err != nil {
		t.Fatal(err)
	}
	out, err := srtpgcm.New(key, salt)
	if err != nil {
		t.Fatal(err)
	}
	var iv [12]byte
	template := packet(1, 0, 20)
	buf := make([]byte, 1500)
	seal := func(seq uint16) []byte {
		pkt := append(buf[:0], template...)
		binary.BigEndian.PutUint16(pkt[2:], seq)
		return out.Seal(pkt, 20, 1, 0, seq, &iv) // a 20-byte header: 12 and an extension of 8
	}
	old := append([]byte(nil), seal(1)...)
	if _, err := in.open(append([]byte(nil), old...)); err != nil {
		t.Fatal(err)
	}
	replay := make([]byte, len(old))
	seq := uint16(1)
	if n := allocsPerRun(200, func() {
		seq++
		if _, err := in.open(seal(seq)); err != nil {
			t.Fatal(err)
		}
		copy(replay, old)
		if _, err := in.open(replay); !errors.Is(err, errSRTPReplayed) {
			t.Fatalf("a replay: %v", err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per packet opened and replay dropped", n)
	}
}
