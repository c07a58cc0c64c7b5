package loadtest

import (
	"context"
	"testing"
	"time"
)

func TestMeasureFloor(t *testing.T) {
	cases := []struct {
		name    string
		sockets int
		streams int
	}{
		{"one destination, one stream", 1, 1},
		{"more destinations than a sendmmsg batch, three streams", 100, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name+" gives a cost for every mode and the cheapest is the floor", func(t *testing.T) {
			f, err := MeasureFloor(context.Background(), tc.sockets, tc.streams, 2, 100*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if f.Sockets != tc.sockets || f.PacketBytes != floorPacketBytes || f.Packets != int64(5*tc.streams*tc.sockets) {
				t.Errorf("sockets %d, packet %d B, packets %d", f.Sockets, f.PacketBytes, f.Packets)
			}
			sends := map[string]float64{
				"sendto": f.SendtoUs, "sendmmsg": f.SendmmsgUs, "sendto with DF": f.SendtoDFUs,
				"sendmmsg with DF": f.SendmmsgDFUs, "sendto, a socket each": f.SocketsSendtoUs,
				"sendmmsg, a socket each": f.SocketsSendmmsgUs, "AES-GCM": f.AESGCMUs,
			}
			for mode, us := range sends {
				if us <= 0 {
					t.Errorf("%s: %v µs per packet", mode, us)
				}
			}
			cheapest := min(f.SendtoUs, f.SendmmsgUs, f.SendtoDFUs, f.SendmmsgDFUs)
			if f.FloorUs != cheapest+f.AESGCMUs {
				t.Errorf("floor %v µs, want the cheapest send of the generator's layout (%v) + AES-GCM (%v)", f.FloorUs, cheapest, f.AESGCMUs)
			}
			if f.ReceiveUs < 0 || f.GeneratorUs != f.ReceiveUs+f.AESGCMUs {
				t.Errorf("the generator's floor %v µs, want its receiving (%v, not negative) + AES-GCM (%v)", f.GeneratorUs, f.ReceiveUs, f.AESGCMUs)
			}
		})
	}
	t.Run("a cancelled measurement says so", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := MeasureFloor(ctx, 10, 1, 2, time.Second); err == nil {
			t.Fatal("no error")
		}
	})
}
