package loadtest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/townhall/townhall/internal/udpbatch"
)

// Floor is what the kernel and the cipher cost on this machine for the traffic of
// a load test, with no WebRTC at all: one Go loop sending packets of the size the
// server sends (SRTP of an 80-byte payload) from one UDP socket to Sockets
// loopback destinations, in 20 ms rounds of Streams packets per destination. Only
// the sending thread's CPU is counted: it is what a perfect forwarder would pay
// per packet. (On loopback the sender's system call also delivers the packet to
// the receiving socket and wakes its reader.)
//
// Two layouts of the destinations are measured: the generator's own (Sockets
// loopback addresses on a few shared sockets read with recvmmsg, as in the load
// test), which is the floor the server's figures are divided by, and Sockets
// sockets of their own, each drained by an epoll loop (the layout of the
// issue's "1,000 loopback sockets").
//
// The generator's layout is measured once more with the don't-fragment bit set
// on every packet (IP_PMTUDISC_PROBE), as the server sends: a packet that may be
// fragmented needs an IP ID from the kernel's hashed generator, one with DF does
// not, and the floor is the cheapest way the kernel offers. For the same reason
// the sending socket is a udpbatch.Socket, as the server's is: the runtime's
// poller does not watch it for writability, which the kernel would otherwise
// signal for every packet sent.
type Floor struct {
	Sockets     int     `json:"sockets"`
	PacketBytes int     `json:"packet_bytes"`
	Packets     int64   `json:"packets"`     // sent per mode
	SendtoUs    float64 `json:"sendto_us"`   // CPU µs per packet, one sendto per packet (generator's layout)
	SendmmsgUs  float64 `json:"sendmmsg_us"` // CPU µs per packet, sendmmsg in batches of 64 (generator's layout)
	// The same with the don't-fragment bit.
	SendtoDFUs   float64 `json:"sendto_df_us"`
	SendmmsgDFUs float64 `json:"sendmmsg_df_us"`
	// The same to as many sockets of their own.
	SocketsSendtoUs   float64 `json:"sockets_sendto_us"`
	SocketsSendmmsgUs float64 `json:"sockets_sendmmsg_us"`
	AESGCMUs          float64 `json:"aes_gcm_us"` // AES-128-GCM seal of one packet's payload
	FloorUs           float64 `json:"floor_us"`   // the floor: the cheapest send of the generator's layout + AES-GCM
	// ReceiveUs is the generator's readers' CPU µs per packet they took in
	// (recvmmsg on its shared sockets), measured while the DF modes sent: the
	// process's CPU less the sending thread's. GeneratorUs adds AES-GCM (an
	// open costs what a seal does): the generator's floor, for the Ceiling.
	ReceiveUs   float64 `json:"receive_us"`
	GeneratorUs float64 `json:"generator_floor_us"`
}

// floorPacketBytes is an SRTP packet of the load: 12-byte header, 8-byte audio
// level extension, 80-byte payload, 16-byte GCM tag.
const floorPacketBytes = 12 + 8 + payloadSize + 16

// MeasureFloor measures the floor for n destinations and streams packets per
// destination per 20 ms, for about d per mode; muxSockets is the generator's
// number of shared sockets.
func MeasureFloor(ctx context.Context, n, streams, muxSockets int, d time.Duration) (Floor, error) {
	f := Floor{Sockets: n, PacketBytes: floorPacketBytes}
	rounds := int(d / (20 * time.Millisecond))
	f.Packets = int64(rounds * streams * n)
	out, err := udpbatch.Listen(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0))
	if err != nil {
		return f, err
	}
	defer out.Close()
	_ = out.SetWriteBuffer(4 << 20)

	// The generator's layout.
	var win window
	mux, err := newUDPMux(muxSockets, n, &win)
	if err != nil {
		return f, err
	}
	dsts := make([]*net.UDPAddr, n)
	for i := range n {
		p := &participant{mux: mux, speaker: true}
		mux.attach(i, p)
		dsts[i] = net.UDPAddrFromAddrPort(p.local)
	}
	f.SendtoUs, f.SendmmsgUs = sendCosts(ctx, out, dsts, streams, rounds)
	if err := udpbatch.DontFragment(out); err != nil {
		mux.close()
		return f, err
	}
	p0 := selfCPU()
	f.SendtoDFUs, f.SendmmsgDFUs = sendCosts(ctx, out, dsts, streams, rounds)
	sent := time.Duration((f.SendtoDFUs + f.SendmmsgDFUs) * float64(f.Packets) * 1e3) // the sending thread's, in ns
	if f.Packets > 0 {
		f.ReceiveUs = max(selfCPU()-p0-sent, 0).Seconds() * 1e6 / float64(2*f.Packets)
	}
	mux.close()

	// A socket per destination.
	sinks, err := newSinks(n)
	if err != nil {
		return f, err
	}
	f.SocketsSendtoUs, f.SocketsSendmmsgUs = sendCosts(ctx, out, sinks.addrs, streams, rounds)
	sinks.close()

	f.AESGCMUs = aesGCMCost()
	f.FloorUs = min(f.SendtoUs, f.SendmmsgUs, f.SendtoDFUs, f.SendmmsgDFUs) + f.AESGCMUs
	f.GeneratorUs = f.ReceiveUs + f.AESGCMUs
	return f, ctx.Err()
}

// sendCosts returns the sending thread's CPU µs per packet with sendto and with
// sendmmsg.
func sendCosts(ctx context.Context, out *udpbatch.Socket, dsts []*net.UDPAddr, streams, rounds int) (sendto, sendmmsg float64) {
	pkt := make([]byte, floorPacketBytes)
	pkt[0] = 0x80 // RTP: a receiver takes it for media and drops it
	packets := float64(max(rounds*streams*len(dsts), 1))
	sas := make([]unix.SockaddrInet4, len(dsts))
	for i, a := range dsts {
		sas[i].Port = a.Port
		copy(sas[i].Addr[:], a.IP.To4())
	}
	t := onThread(func() {
		_ = out.Control(func(fd uintptr) {
			paced(ctx, rounds, func() {
				for range streams {
					for i := range sas {
						_ = unix.Sendto(int(fd), pkt, 0, &sas[i])
					}
				}
			})
		})
	})
	sendto = t.Seconds() * 1e6 / packets
	// sendmmsg as the server makes it: raw, in batches of 64 (internal/udpbatch).
	const batch = 64
	w := udpbatch.NewWriter(batch)
	to := make([]netip.AddrPort, len(dsts))
	for i, a := range dsts {
		to[i] = a.AddrPort()
	}
	t = onThread(func() {
		paced(ctx, rounds, func() {
			for range streams {
				for i := range to {
					_ = w.Add(pkt, to[i])
					if w.Full() {
						_ = w.Flush(out)
					}
				}
				_ = w.Flush(out)
			}
		})
	})
	return sendto, t.Seconds() * 1e6 / packets
}

// sinks are sockets of their own, drained by one epoll loop.
type sinks struct {
	conns []*net.UDPConn
	addrs []*net.UDPAddr
	epfd  int
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newSinks(n int) (*sinks, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	s := &sinks{epfd: epfd, stop: make(chan struct{})}
	for range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			s.close()
			return nil, err
		}
		s.conns = append(s.conns, c)
		s.addrs = append(s.addrs, c.LocalAddr().(*net.UDPAddr))
		rc, _ := c.SyscallConn()
		_ = rc.Control(func(fd uintptr) {
			ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
			err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
		})
		if err != nil {
			s.close()
			return nil, err
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		events := make([]unix.EpollEvent, 256)
		buf := make([]byte, 1500)
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			k, _ := unix.EpollWait(epfd, events, 50)
			for i := range max(k, 0) {
				_, _ = unix.Read(int(events[i].Fd), buf)
			}
		}
	}()
	return s, nil
}

func (s *sinks) close() {
	close(s.stop)
	s.wg.Wait()
	_ = unix.Close(s.epfd)
	for _, c := range s.conns {
		_ = c.Close()
	}
}

// paced runs round every 20 ms, rounds times (back to back when it falls behind).
func paced(ctx context.Context, rounds int, round func()) {
	next := time.Now()
	for range rounds {
		if ctx.Err() != nil {
			return
		}
		round()
		next = next.Add(20 * time.Millisecond)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
}

// onThread runs f locked to one thread and returns that thread's CPU time.
func onThread(f func()) time.Duration {
	done := make(chan time.Duration)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := threadCPU()
		f()
		done <- threadCPU() - start
	}()
	return <-done
}

// aesGCMCost returns the CPU µs of sealing one packet's payload (the RTP header as
// additional data), as SRTP with AEAD_AES_128_GCM does (RFC 7714).
func aesGCMCost() float64 {
	block, _ := aes.NewCipher(make([]byte, 16))
	gcm, _ := cipher.NewGCM(block)
	buf := make([]byte, floorPacketBytes)
	iv := make([]byte, 12)
	const n = 200000
	d := onThread(func() {
		for i := range n {
			binary.BigEndian.PutUint32(iv[8:], uint32(i))
			gcm.Seal(buf[20:20], iv, buf[20:20+payloadSize], buf[:20])
		}
	})
	return d.Seconds() * 1e6 / n
}
