package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/townhall/townhall/client"
)

// speaker is one speaking participant: an account on stage, its room socket (the
// Go client's, since it sends commands) and its media connection.
type speaker struct {
	idx    int
	c      *client.Client
	userID string
	sock   *client.Socket
	offers chan string
	part   *participant
	ssrc   uint32

	talking atomic.Bool
	sent    []int64 // send times (Unix ns) of every packet; owned by the send loop
	seq     uint32
}

// joinSpeaker opens sp's room socket and starts draining it; the offer that
// follows the snapshot is kept for connectMedia.
func (sp *speaker) join(ctx context.Context, roomID string) error {
	s, err := sp.c.JoinRoom(ctx, roomID)
	if err != nil {
		return fmt.Errorf("speaker %d joining: %w", sp.idx, err)
	}
	sp.sock = s
	sp.offers = make(chan string, 1)
	snap := make(chan struct{})
	go func() {
		first := true
		for m := range s.Messages() {
			if m.Type == "snapshot" && first {
				first = false
				close(snap)
			}
			if m.Type == "offer" {
				var o struct {
					SDP string `json:"sdp"`
				}
				if json.Unmarshal(m.Raw, &o) == nil {
					select {
					case sp.offers <- o.SDP:
					default:
					}
				}
			}
		}
	}()
	select {
	case <-snap:
		return nil
	case <-s.Done():
		return fmt.Errorf("speaker %d: the room socket closed: %v", sp.idx, s.Err())
	case <-ctx.Done():
		return fmt.Errorf("speaker %d: no snapshot: %w", sp.idx, ctx.Err())
	}
}

// connectMedia answers the offer and connects sp's microphone.
func (sp *speaker) connectMedia(ctx context.Context, id *identity, mux *udpMux, idx int) error {
	var sdp string
	select {
	case sdp = <-sp.offers:
	case <-ctx.Done():
		return fmt.Errorf("speaker %d: no offer: %w", sp.idx, ctx.Err())
	}
	p := newParticipant(id, mux, idx)
	p.speaker = true
	sp.part = p
	var b [4]byte
	_, _ = rand.Read(b[:])
	sp.ssrc = binary.BigEndian.Uint32(b[:]) | 1
	answer, err := p.answer(sdp, sp.ssrc)
	if err != nil {
		return err
	}
	if err := sp.sock.Command(ctx, "answer", map[string]any{"sdp": answer}); err != nil {
		return fmt.Errorf("speaker %d answer: %w", sp.idx, err)
	}
	if err := p.connect(ctx); err != nil {
		return fmt.Errorf("speaker %d media: %w", sp.idx, err)
	}
	return nil
}

// voice is a speaker's sending state: its RTP header and SRTP context.
type voice struct {
	sp             *speaker
	enc            *srtp.Context
	hdr            rtp.Header
	payload, plain []byte
	out            []byte
	wasTalking     bool
}

func (sp *speaker) voice() (*voice, error) {
	enc, err := sp.part.encryptContext()
	if err != nil {
		return nil, err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	v := &voice{sp: sp, enc: enc, payload: make([]byte, payloadSize), plain: make([]byte, 0, 1500), out: make([]byte, 0, 1500)}
	v.hdr = rtp.Header{Version: 2, PayloadType: uint8(sp.part.offer.payloadType), SSRC: sp.ssrc,
		SequenceNumber: uint16(b[0])<<8 | uint16(b[1]), Timestamp: binary.BigEndian.Uint32(b[:])}
	if id := sp.part.offer.levelID; id > 0 && id < 15 {
		// RFC 6464: V flag set, level 10 dBov below full scale: a loud speaker.
		_ = v.hdr.SetExtension(uint8(id), []byte{0x80 | 10})
	}
	return v, nil
}

// tick sends the voice's packet of this 20 ms, if its speaker is talking.
func (v *voice) tick() error {
	sp := v.sp
	v.hdr.Timestamp += 960
	if !sp.talking.Load() {
		v.wasTalking = false
		return nil
	}
	v.hdr.Marker = !v.wasTalking // the first packet of a talkspurt
	v.wasTalking = true
	v.hdr.SequenceNumber++
	sp.seq++
	now := time.Now().UnixNano()
	putPayload(v.payload, sp.idx, sp.seq, now)
	n, err := v.hdr.MarshalTo(v.plain[:cap(v.plain)])
	if err != nil {
		return err
	}
	v.plain = append(v.plain[:n], v.payload...)
	v.out, err = v.enc.EncryptRTP(v.out[:0], v.plain, nil)
	if err != nil {
		return err
	}
	if err := sp.part.sock.writeFrom(sp.part, v.out, sp.part.server); err != nil {
		return err
	}
	sp.sent = append(sp.sent, now)
	return nil
}

// talk sends each speaker's packet every 20 ms while it is talking, until ctx
// ends: one goroutine and one ticker for them all, as the generator's wake-ups
// cost it more than its packets when the audience is small.
func talk(ctx context.Context, speakers []*speaker) error {
	voices := make([]*voice, len(speakers))
	for i, sp := range speakers {
		v, err := sp.voice()
		if err != nil {
			return err
		}
		voices[i] = v
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, v := range voices {
			if err := v.tick(); err != nil {
				return err
			}
		}
	}
}
