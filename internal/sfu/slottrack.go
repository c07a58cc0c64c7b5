package sfu

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// slotTrack is the local track of one slot of one Peer: a minimal webrtc.TrackLocal
// that hands the forwarder's rewritten packets straight to its sender's
// TrackLocalWriter (interceptors, then SRTP), under the slot's own SSRC. Unlike
// webrtc.TrackLocalStaticRTP it copies no packet and takes no lock per write.
type slotTrack struct {
	id      string
	levelID *atomic.Uint32 // the receiver's slotStream.levelID, set at Bind
	bound   atomic.Pointer[slotBinding]
}

// slotBinding is what Bind learns from the negotiation.
type slotBinding struct {
	ssrc        uint32
	payloadType uint8
	w           webrtc.TrackLocalWriter
}

func newSlotTrack(slot int, levelID *atomic.Uint32) *slotTrack {
	return &slotTrack{id: fmt.Sprintf("slot%d", slot), levelID: levelID}
}

// Bind implements webrtc.TrackLocal: pion calls it once the transport is up.
func (t *slotTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if !strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus) {
			continue
		}
		var id uint32
		for _, h := range ctx.HeaderExtensions() {
			if h.URI == AudioLevelURI && h.ID > 0 && h.ID < 256 {
				id = uint32(h.ID)
			}
		}
		t.levelID.Store(id)
		t.bound.Store(&slotBinding{ssrc: uint32(ctx.SSRC()), payloadType: uint8(c.PayloadType), w: ctx.WriteStream()})
		return c, nil
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (t *slotTrack) Unbind(webrtc.TrackLocalContext) error {
	t.bound.Store(nil)
	return nil
}

// ID implements webrtc.TrackLocal.
func (t *slotTrack) ID() string { return t.id }

// RID implements webrtc.TrackLocal: no simulcast.
func (t *slotTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: each slot is its own stream, since slots
// carry unrelated speakers that must not be synchronized with each other.
func (t *slotTrack) StreamID() string { return t.id }

// Kind implements webrtc.TrackLocal.
func (t *slotTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// pionSlots is the slotWriter of a Peer: its K slot tracks.
type pionSlots []*slotTrack

// WriteSlot implements slotWriter. A slot not bound yet (transport not up) or any
// more (closing) swallows the packet.
func (s pionSlots) WriteSlot(slot int, hdr *rtp.Header, payload []byte) error {
	b := s[slot].bound.Load()
	if b == nil {
		return nil
	}
	hdr.SSRC = b.ssrc
	hdr.PayloadType = b.payloadType
	_, err := b.w.WriteRTP(hdr, payload)
	return err
}
