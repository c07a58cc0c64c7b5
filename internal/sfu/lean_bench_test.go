package sfu

import (
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/srtp/v3"
	"golang.org/x/sys/unix"
)

// leanRoom is a Forwarder on a real lean transport whose receivers are keyed
// (AES-128-GCM) and nominated to n loopback sockets, drained by one thread.
type leanRoom struct {
	t       *leanTransport
	f       *Forwarder
	speaker *member
	fan     *fanCtx
	drained atomic.Int64
	drainNs atomic.Int64 // CPU time of the draining thread
	stop    func()       // stops the draining thread (idempotent)
}

// testLeanTransport returns a lean transport on loopback, closed when tb ends.
func testLeanTransport(tb testing.TB) *leanTransport {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.UDPPort, cfg.TCPPort, cfg.LoopbackOnly = 0, 0, true
	lt, err := newLeanTransport(cfg, testLogger(), newMetrics(nil))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = lt.close() })
	return lt
}

func newLeanRoom(tb testing.TB, n int) *leanRoom {
	tb.Helper()
	lt := testLeanTransport(tb)
	r := &leanRoom{t: lt, f: newBareForwarder(tb, 3), fan: lt.fan.newCtx()}
	r.speaker = attach(tb, r.f, "speaker", discard{})
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		tb.Fatal(err)
	}
	var sinks []*net.UDPConn
	for i := range n {
		sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		sinks = append(sinks, sink)
		rc, _ := sink.SyscallConn()
		_ = rc.Control(func(fd uintptr) {
			ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
			err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
		})
		if err != nil {
			tb.Fatal(err)
		}
		m, err := r.f.join(fmt.Sprintf("r%d", i))
		if err != nil {
			tb.Fatal(err)
		}
		c := &leanConn{t: lt, ssrcs: []uint32{1, 2, 3}}
		out, err := newSRTPSender(srtp.ProtectionProfileAeadAes128Gcm, make([]byte, 16), make([]byte, 12))
		if err != nil {
			tb.Fatal(err)
		}
		c.out.Store(out)
		to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
		c.udpTo.Store(&to)
		c.state.Store(leanConnected)
		rx := newReceiver(m, nil, 3)
		rx.lean = c
		r.f.connect(m, rx)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := threadCPU()
		defer func() { r.drainNs.Store(int64(threadCPU() - start)) }()
		events := make([]unix.EpollEvent, 256)
		buf := make([]byte, 1500)
		for {
			select {
			case <-stop:
				return
			default:
			}
			k, _ := unix.EpollWait(epfd, events, 50)
			for i := range max(k, 0) {
				for range 8 {
					if n, err := unix.Read(int(events[i].Fd), buf); err != nil || n <= 0 {
						break
					}
					r.drained.Add(1)
				}
			}
		}
	}()
	var once sync.Once
	r.stop = func() { once.Do(func() { close(stop); wg.Wait() }) }
	tb.Cleanup(func() {
		r.stop()
		_ = unix.Close(epfd)
		for _, s := range sinks {
			_ = s.Close()
		}
	})
	r.f.SetAllowed("speaker", true)
	return r
}

func threadCPU() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func processCPU() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkForwardLean measures the whole lean send path of one inbound packet
// fanned out to N receivers: the forwarder, then per receiver an SRTP
// AES-128-GCM seal into a batch, sendmmsg to a loopback socket, sharded over
// GOMAXPROCS. cpu-ns/receiver-packet is the CPU of the process less that of the
// thread that drains the receiving sockets: what the server pays per packet per
// listener, comparable with the floor of `townhall loadtest --floor`.
//
// The ptime variants join the listeners' frames (Config.ListenerFrames): a
// receiver-packet is then an inbound packet per receiver, of which only one in two
// (or three) makes a packet on the wire.
func BenchmarkForwardLean(b *testing.B) {
	for _, frames := range []int{1, 2} {
		for _, n := range []int{100, 1000, 3000} {
			name := fmt.Sprintf("receivers=%d", n)
			if frames > 1 {
				name = fmt.Sprintf("ptime=%dms/receivers=%d", 20*frames, n)
			}
			b.Run(name, func(b *testing.B) { benchForwardLean(b, n, frames) })
		}
	}
}

func benchForwardLean(b *testing.B, n, frames int) {
	r := newLeanRoom(b, n)
	r.f.joins = newFrameJoiners(r.f.slots, frames)
	buf := packet(1, 1, 20)
	buf = append(buf, make([]byte, 80-8)...) // an 80-byte Opus frame
	p := rtpPacket{fan: r.fan}
	r.f.receive(r.speaker, buf, 1, &p)
	r.f.rerank(false)
	seq := uint16(2)
	b.ReportAllocs()
	cpu0, d0 := processCPU(), r.drained.Load()
	b.ResetTimer()
	for range b.N {
		seq++
		binary.BigEndian.PutUint16(buf[2:], seq)
		binary.BigEndian.PutUint32(buf[4:], uint32(seq)*960)
		r.f.receive(r.speaker, buf, 1, &p)
	}
	b.StopTimer()
	// Wait for the last packets to reach their sockets: until all are
	// drained, or none more came for 10 ms (loopback may drop some).
	want := d0 + int64(b.N)*int64(n)/int64(frames)
	tick := time.NewTicker(10 * time.Millisecond)
	for prev := int64(-1); r.drained.Load() < want && r.drained.Load() != prev; <-tick.C {
		prev = r.drained.Load()
	}
	tick.Stop()
	r.stop()
	cpu := processCPU() - cpu0
	sent := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/sent, "ns/receiver-packet")
	b.ReportMetric((float64(cpu)-float64(r.drainNs.Load()))/sent, "cpu-ns/receiver-packet")
	b.Logf("receivers=%d: process CPU %.0f ns per receiver-packet, the draining thread's %.0f; %d of %.0f drained",
		n, float64(cpu)/sent, float64(r.drainNs.Load())/sent, r.drained.Load(), sent/float64(frames))
}

func TestLeanForwardDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates in channel and WaitGroup operations")
	}
	tests := []struct {
		name      string
		receivers int
		frames    int
	}{
		{"a packet fanned out by one goroutine allocates nothing", 100, 1},
		{"a packet fanned out in shards over the cores allocates nothing", fanShardMin + 100, 1},
		{"a packet joined into 40 ms packets for listeners allocates nothing", 100, 2},
		{"a packet joined into 60 ms packets, fanned out in shards, allocates nothing", fanShardMin + 100, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newLeanRoom(t, tt.receivers)
			r.f.joins = newFrameJoiners(r.f.slots, tt.frames)
			buf := packet(1, 1, 20)
			buf = append(buf, make([]byte, 80-8)...)
			p := rtpPacket{fan: r.fan}
			r.f.receive(r.speaker, buf, 1, &p)
			r.f.rerank(false)
			seq := uint16(2)
			if n := allocsPerRun(50, func() {
				seq++
				binary.BigEndian.PutUint16(buf[2:], seq)
				binary.BigEndian.PutUint32(buf[4:], uint32(seq)*960)
				r.f.receive(r.speaker, buf, 1, &p)
			}); n != 0 {
				t.Errorf("%v allocations per inbound packet fanned out to %d receivers", n, tt.receivers)
			}
		})
	}
}
