package client

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestSlotRecorder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slot.ogg")
	r := newSlotRecorder(0, path)
	t0 := time.Now()
	frame := packetOf(40, 9) // CELT 20 ms mono
	// seq and ts as the server rewrites them: one continuous stream per slot.
	send := func(seq uint16, ts uint32, at time.Duration) {
		r.packet(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: frame}, t0.Add(at))
	}
	send(65534, 1000, 0)
	send(65535, 1960, 20*time.Millisecond)
	send(0, 2920, 40*time.Millisecond)                     // seq wraps around
	send(3, 5800, 100*time.Millisecond)                    // 1 and 2 lost
	send(2, 4840, 110*time.Millisecond)                    // 2 comes late
	send(4, 5800+960+48000, 1120*time.Millisecond)         // a second of silence (DTX, or the slot was empty)
	send(5, 5800+2*960+48000+1<<30, 1140*time.Millisecond) // a far jump of the timestamp, 20 ms later
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	st := r.snapshot(time.Now())

	t.Run("lost and late packets are counted by sequence number", func(t *testing.T) {
		if st.Packets != 7 || st.Lost != 2 || st.Late != 1 || st.Bytes != 7*40 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("gaps are filled with silence, no longer than the wall clock allows", func(t *testing.T) {
		// 2 frames for the lost packets, 50 for the second of silence, and for
		// the far jump at most the 20 ms that passed plus fillSlack.
		want := (2 + 50 + 6) * 20 * time.Millisecond
		if st.Filled != want || st.Audio != 6*20*time.Millisecond {
			t.Fatalf("filled %s, audio %s; want %s filled", st.Filled, st.Audio, want)
		}
	})
	t.Run("the file holds the packets and the silence", func(t *testing.T) {
		src, err := OpenOgg(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var n, silent int
		for {
			p, err := src.NextPacket()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			if len(p.Payload) == 1 {
				silent++
			}
		}
		if n != 6+58 || silent != 58 {
			t.Fatalf("%d packets, %d of them silence", n, silent)
		}
	})
	t.Run("opusdec decodes the file", func(t *testing.T) {
		if _, err := exec.LookPath("opusdec"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("no opusdec: CI must install the Debian package opus-tools")
			}
			t.Skip("no opusdec (Debian package opus-tools)")
		}
		out, err := exec.Command("opusdec", "--quiet", path, filepath.Join(t.TempDir(), "slot.wav")).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	})
}

func TestSlotRecorderOccupants(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type report struct {
		ms       int
		user     string
		speaking bool
	}
	tests := []struct {
		name    string
		reports []report
		endMS   int // 0: not ended
		nowMS   int // when the stats are read
		want    []Occupant
	}{
		{
			name: "a report holds until the next one, however long",
			reports: []report{{0, "", false}, {200, "ann", true}, {400, "ann", false}, {600, "bob", true},
				{5000, "ann", true}, {5200, "ann", true}},
			nowMS: 5200,
			want: []Occupant{{UserID: "ann", InSlot: 600 * time.Millisecond, Speaking: 400 * time.Millisecond},
				{UserID: "bob", InSlot: 4400 * time.Millisecond, Speaking: 4400 * time.Millisecond}},
		},
		{
			name:    "the last occupant is counted up to the moment the stats are read",
			reports: []report{{0, "ann", true}},
			nowMS:   3000,
			want:    []Occupant{{UserID: "ann", InSlot: 3 * time.Second, Speaking: 3 * time.Second}},
		},
		{
			name:    "the clocks stop when the connection ends",
			reports: []report{{0, "ann", false}, {9000, "bob", true}},
			endMS:   2000,
			nowMS:   10000,
			want:    []Occupant{{UserID: "ann", InSlot: 2 * time.Second}},
		},
		{
			name:    "an empty slot counts for nobody",
			reports: []report{{0, "ann", true}, {1000, "", false}, {4000, "", false}},
			nowMS:   5000,
			want:    []Occupant{{UserID: "ann", InSlot: time.Second, Speaking: time.Second}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSlotRecorder(1, "")
			for _, rep := range tt.reports {
				if tt.endMS > 0 && rep.ms > tt.endMS {
					r.end(at(tt.endMS))
				}
				r.occupy(rep.user, rep.speaking, at(rep.ms))
			}
			got := r.snapshot(at(tt.nowMS)).Occupants
			if !slices.Equal(got, tt.want) {
				t.Fatalf("%+v, want %+v", got, tt.want)
			}
		})
	}
}
