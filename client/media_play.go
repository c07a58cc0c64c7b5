package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// player is the RTP state of the microphone: one continuous stream across Plays.
type player struct {
	mu      sync.Mutex // one Play at a time
	started bool
	seq     uint16
	ts      uint32
	nextAt  time.Time // when a packet following the last one would be due
	sent    SentStats
	statsMu sync.Mutex // guards sent for Stats, taken inside mu
}

// SentStats counts what Play sent.
type SentStats struct {
	Packets int64
	Bytes   int64 // Opus payload bytes
	// Audio is how much audio was sent (the packets' durations).
	Audio time.Duration
}

// lateReset is how far behind its schedule Play may fall (a stalled process, a
// slow machine) before it stops catching up and paces from now instead.
const lateReset = 200 * time.Millisecond

// Play sends src's packets on the microphone at real time, each with its RFC 6464
// audio level, until src ends (nil) or ctx is done. It first waits for the
// connection to be up. What the server does with them is the room's rule: it
// forwards only an unmuted speaker's.
//
// Successive Plays continue one RTP stream (RFC 3550 §5.1): sequence numbers go on,
// and the timestamp advances by the time between them.
//
// https://www.rfc-editor.org/rfc/rfc6464#section-3
func (m *Media) Play(ctx context.Context, src AudioSource) error {
	select {
	case <-m.answered:
	case <-m.done:
		return ErrMediaClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := m.WaitConnected(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	levelID := m.levelID
	m.mu.Unlock()

	p := &m.play
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.started {
		p.started = true
		p.seq, p.ts = uint16(rand.Uint32()), rand.Uint32()
	} else if gap := now.Sub(p.nextAt); gap > 0 {
		p.ts += uint32(gap * 48000 / time.Second)
	}

	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: true}}
	level := []byte{0}
	timer := time.NewTimer(time.Hour)
	timer.Stop() // armed before each wait
	defer timer.Stop()
	start, elapsed := now, time.Duration(0) // elapsed: the audio sent so far in this Play
	for {
		op, err := src.NextPacket()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("townhall: audio source: %w", err)
		}
		due := start.Add(elapsed)
		if late := time.Since(due); late > lateReset {
			start = start.Add(late)
			due = start.Add(elapsed)
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return ctx.Err()
			case <-m.broken:
				return ErrMediaClosed
			}
		}
		pkt.SequenceNumber, pkt.Timestamp, pkt.Payload = p.seq, p.ts, op.Payload
		if levelID != 0 {
			level[0] = op.Level & 0x7F
			if op.Voice {
				level[0] |= 0x80
			}
			if err := pkt.Header.SetExtension(levelID, level); err != nil {
				return fmt.Errorf("townhall: audio level: %w", err)
			}
		}
		if err := m.mic.WriteRTP(pkt); err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				return ErrMediaClosed
			}
			return fmt.Errorf("townhall: send audio: %w", err)
		}
		d := time.Duration(op.Samples) * time.Second / 48000
		p.statsMu.Lock()
		p.sent.Packets++
		p.sent.Bytes += int64(len(op.Payload))
		p.sent.Audio += d
		p.statsMu.Unlock()
		p.seq++
		p.ts += uint32(op.Samples)
		p.nextAt = time.Now().Add(d)
		pkt.Marker = false
		elapsed += d
	}
}
