package loadtest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"net"
	"runtime"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// Floor is what the kernel and the cipher cost on this machine for the traffic of
// the load test, with no WebRTC at all: one Go loop sending packets of the size
// the server sends (SRTP of an 80-byte payload) from one UDP socket to Sockets
// loopback sockets, in 20 ms rounds of Streams packets per socket, the receiving
// sockets drained as the generator drains them. Only the sending thread's CPU is
// counted, so the figures are what a perfect forwarder would pay per packet.
type Floor struct {
	Sockets     int     `json:"sockets"`
	PacketBytes int     `json:"packet_bytes"`
	Packets     int64   `json:"packets"`     // sent per mode
	SendtoUs    float64 `json:"sendto_us"`   // CPU µs per packet, one sendto per packet
	SendmmsgUs  float64 `json:"sendmmsg_us"` // CPU µs per packet, sendmmsg in batches of 64
	AESGCMUs    float64 `json:"aes_gcm_us"`  // AES-128-GCM seal of one packet's payload
	FloorUs     float64 `json:"floor_us"`    // the floor: sendmmsg + AES-GCM
}

// floorPacketBytes is an SRTP packet of the load: 12-byte header, 8-byte audio
// level extension, 80-byte payload, 16-byte GCM tag.
const floorPacketBytes = 12 + 8 + payloadSize + 16

// MeasureFloor measures the floor for sockets receiving sockets and streams
// packets per socket per 20 ms, for about d per mode.
func MeasureFloor(ctx context.Context, sockets, streams int, d time.Duration) (Floor, error) {
	f := Floor{Sockets: sockets, PacketBytes: floorPacketBytes}
	var win window
	rx, err := newReceivers(1, &win)
	if err != nil {
		return f, err
	}
	defer rx.close()
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	var addrs []*net.UDPAddr
	for range sockets {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return f, err
		}
		conns = append(conns, c)
		_ = c.SetReadBuffer(256 << 10)
		p := &participant{conn: &rtcConn{udp: c}, speaker: true}
		if p.fd, err = p.conn.fd(); err != nil {
			return f, err
		}
		if err := rx.addRaw(p); err != nil {
			return f, err
		}
		addrs = append(addrs, c.LocalAddr().(*net.UDPAddr))
	}
	out, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return f, err
	}
	defer out.Close()
	_ = out.SetWriteBuffer(4 << 20)
	outFD, err := (&rtcConn{udp: out}).fd()
	if err != nil {
		return f, err
	}

	pkt := make([]byte, floorPacketBytes)
	pkt[0] = 0x80 // RTP, so the drain loop takes it for media and drops it
	rounds := int(d / (20 * time.Millisecond))
	f.Packets = int64(rounds * streams * sockets)

	sendto := func() {
		sas := make([]unix.SockaddrInet4, len(addrs))
		for i, a := range addrs {
			sas[i].Port = a.Port
			copy(sas[i].Addr[:], a.IP.To4())
		}
		paced(ctx, rounds, func() {
			for range streams {
				for i := range sas {
					_ = unix.Sendto(outFD, pkt, 0, &sas[i])
				}
			}
		})
	}
	sendmmsg := func() {
		pc := ipv4.NewPacketConn(out)
		const batch = 64
		msgs := make([]ipv4.Message, batch)
		for i := range msgs {
			msgs[i].Buffers = [][]byte{pkt}
		}
		paced(ctx, rounds, func() {
			for range streams {
				for i := 0; i < len(addrs); i += batch {
					n := min(batch, len(addrs)-i)
					for j := range n {
						msgs[j].Addr = addrs[i+j]
					}
					for sent := 0; sent < n; {
						k, err := pc.WriteBatch(msgs[sent:n], 0)
						if err != nil {
							break
						}
						sent += k
					}
				}
			}
		})
	}
	f.SendtoUs = onThread(sendto).Seconds() * 1e6 / float64(max(f.Packets, 1))
	f.SendmmsgUs = onThread(sendmmsg).Seconds() * 1e6 / float64(max(f.Packets, 1))
	f.AESGCMUs = aesGCMCost()
	f.FloorUs = min(f.SendtoUs, f.SendmmsgUs) + f.AESGCMUs
	return f, ctx.Err()
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
	var d time.Duration
	d = onThread(func() {
		for i := range n {
			binary.BigEndian.PutUint32(iv[8:], uint32(i))
			gcm.Seal(buf[20:20], iv, buf[20:20+payloadSize], buf[:20])
		}
	})
	return d.Seconds() * 1e6 / n
}
