package sfu

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"
)

// tapLog is a Tap that keeps what it heard.
type tapLog struct {
	mu  sync.Mutex
	got []TapPacket
}

func (l *tapLog) Tap(p TapPacket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p.Payload = append([]byte(nil), p.Payload...)
	l.got = append(l.got, p)
}

func (l *tapLog) take() []TapPacket {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

// tapFunc adapts a function to Tap.
type tapFunc func(TapPacket)

func (f tapFunc) Tap(p TapPacket) { f(p) }

func TestTapHearsWhatTheAudienceHears(t *testing.T) {
	f := newBareForwarder(t, 2)
	ms := map[string]*member{}
	for _, id := range []string{"a", "b", "c", "listener"} {
		ms[id] = attach(t, f, id, &recorder{})
	}
	for _, id := range []string{"a", "b", "c"} {
		f.SetAllowed(id, true)
	}
	var p rtpPacket
	send := func(id string, idx byte, level uint8) {
		for seq := uint16(1); seq <= 2; seq++ {
			f.receive(ms[id], packet(idx, seq, level), 1, &p)
		}
	}
	send("a", 1, 10)
	send("b", 2, 20)
	send("c", 3, 30)
	f.rerank(false)
	tap := &tapLog{}
	f.SetTap(tap)

	send("a", 1, 10)       // in a main slot: tapped
	send("b", 2, 20)       // in the other main slot: tapped
	send("c", 3, 30)       // the alternate, which only a and b hear: not tapped
	send("listener", 4, 0) // not allowed: not tapped
	got := tap.take()
	var heard []string
	for _, g := range got {
		heard = append(heard, fmt.Sprintf("%s@%d#%d", g.Speaker, g.Slot, g.Seq))
		if g.Payload[1] != byte(g.SSRC) || !g.HasLevel {
			t.Errorf("tapped packet %+v: the payload or the level is not the speaker's", g)
		}
	}
	if want := "[a@0#1 a@0#2 b@1#1 b@1#2]"; fmt.Sprint(heard) != want {
		t.Errorf("the tap heard %v, want %v", heard, want)
	}

	f.SetTap(nil)
	send("a", 1, 10)
	if got := tap.take(); len(got) != 0 {
		t.Errorf("the tap heard %d packets after SetTap(nil)", len(got))
	}
}

func TestSetTapWaitsForThePacketInTheTap(t *testing.T) {
	f := newBareForwarder(t, 1)
	a := attach(t, f, "a", &recorder{})
	f.SetAllowed("a", true)
	var p rtpPacket
	f.receive(a, packet(1, 1, 10), 1, &p) // takes the free slot
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.SetTap(tapFunc(func(TapPacket) {
		once.Do(func() { close(entered); <-release })
	}))
	go f.receive(a, packet(1, 2, 10), 1, &p)
	<-entered
	returned := make(chan struct{})
	go func() { f.SetTap(nil); close(returned) }()
	// Wait until SetTap waits for the assignment's lock: then no reader enters.
	waitFor(t, 5*time.Second, "SetTap to wait for the packet", func() bool {
		if f.assignMu.TryRLock() {
			f.assignMu.RUnlock()
			return false
		}
		return true
	})
	select {
	case <-returned:
		t.Fatal("SetTap(nil) returned while the tap was being called")
	default:
	}
	close(release)
	<-returned
}

// copyTap is what a recorder's tap does on the packet path: copy the packet into
// memory of its own, under a lock.
type copyTap struct {
	mu   sync.Mutex
	buf  [1500]byte
	n    int
	seen int
}

func (c *copyTap) Tap(p TapPacket) {
	c.mu.Lock()
	c.n = copy(c.buf[:], p.Payload)
	c.seen++
	c.mu.Unlock()
}

func TestTappedForwardDoesNotAllocate(t *testing.T) {
	f, speaker, buf := benchForwarder(t, 10)
	tap := &copyTap{}
	f.SetTap(tap)
	var p rtpPacket
	seq := uint16(100)
	if n := allocsPerRun(200, func() {
		seq++
		binary.BigEndian.PutUint16(buf[2:], seq)
		f.receive(speaker, buf, 1, &p)
	}); n != 0 {
		t.Errorf("%v allocations per packet with a tap", n)
	}
	if tap.seen == 0 {
		t.Error("the tap saw nothing")
	}
}

// BenchmarkForwardTapped is BenchmarkForward with a tap that copies each packet
// (what a recording adds to the packet path), against the same without.
func BenchmarkForwardTapped(b *testing.B) {
	for _, n := range []int{0, 100} {
		for _, tapped := range []bool{false, true} {
			b.Run(fmt.Sprintf("receivers=%d/tap=%v", n, tapped), func(b *testing.B) {
				f, speaker, buf := benchForwarder(b, n)
				if tapped {
					f.SetTap(&copyTap{})
				}
				var p rtpPacket
				seq := uint16(2)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					seq++
					binary.BigEndian.PutUint16(buf[2:], seq)
					binary.BigEndian.PutUint32(buf[4:], uint32(seq)*960)
					f.receive(speaker, buf, 1, &p)
				}
			})
		}
	}
}
