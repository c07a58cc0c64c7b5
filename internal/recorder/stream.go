package recorder

import (
	"bytes"
	"fmt"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// preSkip is the pre-skip pion's oggwriter writes in every OpusHead: 3840 samples
// (80 ms), which RFC 7845 §4.2 recommends and which a decoder drops from the start
// of the stream. A stream starts with that much silence, so that its first sample
// after the pre-skip is the recording's first instant.
//
// https://www.rfc-editor.org/rfc/rfc7845#section-4.2
const preSkip = 3840

// maxSkew is how far a speaker's RTP timestamps may run from the wall clock before
// the wall clock wins: a stalled sender, a clock that jumps.
const maxSkew = clockRate / 2

// oggStream writes one Ogg Opus stream at the pace of the wall clock: a packet
// lands where the time since the stream's start says, and the stretches without
// one are filled with silence (empty frames, see silence). So a decoder hears the
// silences as long as they were, and every stream of a recording lasts as long as
// the recording, whatever its slot carried.
type oggStream struct {
	buf bytes.Buffer
	w   *oggwriter.OggWriter
	pos int64 // samples written after the pre-skip
	toc byte  // the TOC the silence copies: the last packet's

	// The source of the last packet: a packet of the same source follows it by
	// its RTP timestamp, another lands by the wall clock.
	have      bool
	speaker   string
	ssrc      uint32
	lastSeq   uint16
	lastTS    uint32
	lastWhere int64
}

func newOggStream() (*oggStream, error) {
	s := &oggStream{toc: silentTOC}
	// No end-of-stream page: a recording's streams are appended to while it
	// lasts and may end with the node that wrote them (RFC 7845 §7.1 lets a live
	// stream end without one); ffmpeg reads them as they are.
	w, err := oggwriter.NewWith(&s.buf, clockRate, 1)
	if err != nil {
		return nil, fmt.Errorf("recorder: ogg stream: %w", err)
	}
	s.w = w
	s.pos = -preSkip
	if err := s.fill(preSkip); err != nil {
		return nil, err
	}
	return s, nil
}

// write adds payload, which lasts samples, of speaker's stream ssrc (sequence seq,
// RTP timestamp ts) at wall, the samples from the stream's start to the packet's
// arrival. It reports false for a packet that comes after a newer one of its
// source (late or repeated), which is dropped.
func (s *oggStream) write(speaker string, ssrc uint32, seq uint16, ts uint32, payload []byte, wall int64) (bool, error) {
	where := wall
	if s.have && speaker == s.speaker && ssrc == s.ssrc {
		if int16(seq-s.lastSeq) <= 0 {
			return false, nil
		}
		byTS := s.lastWhere + int64(int32(ts-s.lastTS))
		if d := byTS - wall; d > -maxSkew && d < maxSkew {
			where = byTS
		}
	}
	if err := s.fill(where - s.pos); err != nil {
		return false, err
	}
	// A packet due before pos (the network delayed it past the silence written
	// meanwhile) goes at pos: late by that much, never over what is written.
	if err := s.writePacket(payload); err != nil {
		return false, err
	}
	n, _ := packetSamples(payload) // write checked it
	s.pos += int64(n)
	s.have, s.speaker, s.ssrc, s.lastSeq, s.lastTS, s.lastWhere = true, speaker, ssrc, seq, ts, where
	s.toc = payload[0]
	return true, nil
}

// writePacket appends one Opus packet to the stream.
func (s *oggStream) writePacket(payload []byte) error {
	if err := s.w.WriteRTP(&rtp.Packet{Payload: payload}); err != nil {
		return fmt.Errorf("recorder: ogg: %w", err)
	}
	return nil
}

// fill writes silence for up to samples (whole frames of the last TOC's size).
func (s *oggStream) fill(samples int64) error {
	frame := int64(frameSamples(s.toc))
	per := int64(silenceFrames(s.toc))
	for frames := samples / frame; frames > 0; {
		n := min(frames, per)
		if err := s.writePacket(silence(s.toc, int(n))); err != nil {
			return err
		}
		s.pos += n * frame
		frames -= n
	}
	return nil
}

// fillTo fills the stream with silence up to where (samples after the start).
func (s *oggStream) fillTo(where int64) error { return s.fill(where - s.pos) }

// take returns the bytes written since the last take.
func (s *oggStream) take() []byte {
	if s.buf.Len() == 0 {
		return nil
	}
	out := bytes.Clone(s.buf.Bytes())
	s.buf.Reset()
	return out
}
