package client

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestRecordingGoesOnAcrossConnections feeds a Recording as two Medias of a stay
// that reconnected would: a second of audio on one connection, a second and a
// half of nothing, a second of audio on the next connection, whose stream has
// numbers of its own.
func TestRecordingGoesOnAcrossConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stay.ogg")
	rec := NewRecording(path)
	t0 := time.Now()
	frame := packetOf(40, 9) // CELT 20 ms mono
	send := func(tap slotTap, seq uint16, ts uint32, at time.Duration) {
		tap.packet(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: frame}, t0.Add(at))
	}
	const tick = 20 * time.Millisecond
	first := rec.attach(2)
	for i := range 50 {
		send(first[0], uint16(100+i), uint32(1000+960*i), time.Duration(i)*tick)
	}
	first[0].detach(t0.Add(time.Second))
	second := rec.attach(3) // the next node offers one more slot
	for i := range 50 {
		send(second[0], uint16(7+i), uint32(9_000_000+960*i), 2500*time.Millisecond+time.Duration(i)*tick)
	}
	send(first[0], 150, 1000+960*50, 3*time.Second) // the first Media, not closed in time
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	send(second[0], 57, 9_000_000+960*50, 3500*time.Millisecond) // after Close
	stats := rec.Stats()
	st := stats[0]

	t.Run("the counts add up over both connections, and the new stream is no loss", func(t *testing.T) {
		if st.Packets != 100 || st.Lost != 0 || st.Late != 0 || st.Audio != 2*time.Second {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("the time between the connections is filled by the wall clock", func(t *testing.T) {
		// From the end of the last packet of the first connection (1 s) to the
		// first of the second (2.5 s).
		if st.Bridged != 1500*time.Millisecond || st.Filled != st.Bridged {
			t.Fatalf("bridged %s, filled %s; want 1.5 s", st.Bridged, st.Filled)
		}
	})
	t.Run("the span covers the stay, and what is missing is the gap", func(t *testing.T) {
		if st.Span != 3500*time.Millisecond || st.Span-st.Audio != st.Bridged {
			t.Fatalf("span %s, audio %s", st.Span, st.Audio)
		}
	})
	t.Run("a slot the next node adds is counted too", func(t *testing.T) {
		if len(stats) != 3 || stats[2].Slot != 2 || stats[1].Packets != 0 {
			t.Fatalf("%+v", stats)
		}
		if _, err := os.Stat(SlotPath(path, 1)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("an empty slot left a file: %v", err)
		}
	})
	t.Run("the file holds both connections' packets and the silence between", func(t *testing.T) {
		src, err := OpenOgg(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var n, silent int
		var length time.Duration
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
			length += time.Duration(p.Samples) * time.Second / 48000
		}
		if n != 100+75 || silent != 75 || length != st.Span {
			t.Fatalf("%d packets, %d of them silence, %s long", n, silent, length)
		}
	})
}

func TestRecordingOccupantsStopBetweenConnections(t *testing.T) {
	rec := NewRecording("")
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	first := rec.attach(1)
	first[0].occupy("ann", true, at(0))
	first[0].detach(at(1000))
	second := rec.attach(1)
	second[0].occupy("ann", true, at(3000))
	first[0].occupy("bob", true, at(3500)) // a report on the old connection
	second[0].detach(at(4000))
	got := rec.Stats()[0].Occupants
	want := []Occupant{{UserID: "ann", InSlot: 2 * time.Second, Speaking: 2 * time.Second}}
	if len(got) != 1 || got[0] != want[0] {
		t.Fatalf("%+v, want %+v: the time between the connections counts for nobody", got, want)
	}
}
