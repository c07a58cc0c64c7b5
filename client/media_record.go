package client

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// MediaStats is what a Media sent and received.
type MediaStats struct {
	Sent  SentStats
	Slots []SlotStats // one per slot of the offer
}

// SlotStats is what arrived in one slot.
type SlotStats struct {
	Slot    int
	Packets int64 // RTP packets received, late ones included
	Bytes   int64 // their Opus payload bytes
	// Lost counts the sequence numbers skipped (RFC 3550 §6.4.1's cumulative
	// loss, without taking back late arrivals).
	Lost int64
	// Late counts packets that came after a newer one (reordered or duplicated):
	// they are counted but not recorded.
	Late int64
	// Audio is the duration of the audio received (the packets' durations).
	Audio time.Duration
	// File is the recording ("" when none was asked for or nothing arrived).
	File string
	// Filled is the silence written into the recording where packets were
	// missing (loss, a speaker's DTX, the slot empty between two speakers, a
	// reconnection), so that the file keeps the pace of the room.
	Filled time.Duration
	// Bridged is the part of Filled written across reconnections: from the last
	// packet of one connection to the first of the next (a Recording shared by
	// their Medias).
	Bridged time.Duration
	// Span is the wall-clock time from the start of the slot's first packet to
	// the end of its last: what its recording covers. Span - Audio is the audio
	// that did not come (lost, not sent by a silent speaker or into an empty
	// slot, or missed while reconnecting).
	Span time.Duration
	// Err is why the recording stopped early (a write error), if it did.
	Err error
	// Occupants are who active_speakers put in the slot, in the order they came.
	Occupants []Occupant
}

// Missing is the audio the slot did not carry within its Span: Span - Audio.
func (s SlotStats) Missing() time.Duration { return max(s.Span-s.Audio, 0) }

// Occupant is someone the server put in a slot, and for how long by its
// active_speakers reports.
type Occupant struct {
	UserID   string
	InSlot   time.Duration // reported in the slot
	Speaking time.Duration // reported in the slot and speaking
}

// SlotPath returns the file of slot's recording when slot 0 records to path: path
// itself for slot 0, and "-<slot>" before the extension for the others: out.ogg,
// out-1.ogg, out-2.ogg.
func SlotPath(path string, slot int) string {
	if slot == 0 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), slot, ext)
}

// Stats returns what was sent and received so far.
func (m *Media) Stats() MediaStats {
	m.play.statsMu.Lock()
	st := MediaStats{Sent: m.play.sent}
	m.play.statsMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for _, s := range m.slots {
		st.Slots = append(st.Slots, s.rec.snapshot(now))
	}
	return st
}

// receive reads the RTP of one slot until the connection closes.
func (m *Media) receive(track *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	m.mu.Lock()
	tap, ok := m.slotOf[r]
	if !ok || m.closed {
		m.mu.Unlock()
		return
	}
	m.wg.Add(1) // under mu, so never after the Wait of Close
	m.mu.Unlock()
	defer m.wg.Done()
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		tap.packet(pkt, time.Now())
	}
}

// Limits of the silence written into a recording for missing packets.
const (
	// fillSlack is how much longer than the wall-clock time since the last packet a
	// timestamp gap may be filled: the server advances a slot's timestamp by the
	// wall-clock time at a switch of speaker, and the network adds jitter.
	fillSlack = 100 * time.Millisecond
)

// slotRecorder counts and records one slot's packets, over the connections of
// successive Medias (one at a time: each attaches it, the last attached is
// heard). The read loop of the attached Media is the only writer of the packet
// fields; its Handle writes the occupants.
type slotRecorder struct {
	path string // "" for no recording

	mu          sync.Mutex // guards the fields below
	w           *oggwriter.OggWriter
	closed      bool // the file is finished: nothing more is written
	stats       SlotStats
	occIndex    map[string]int // user ID → index in stats.Occupants
	gen         uint64         // counts attachments: the current one's
	have        bool           // a packet has been recorded
	fresh       bool           // the next packet starts a new connection's stream
	lastSeq     uint16
	lastTS      uint32
	lastSamples int
	lastTOC     byte
	lastAt      time.Time
	first       time.Time // when the first packet came
	lastEnd     time.Time // when the last packet's audio ends
	cur         string    // the occupant of the last report
	curSpeaking bool
	lastReport  time.Time
	ended       time.Time // when the connection ended; zero while it lasts
}

func newSlotRecorder(slot int, recordPath string) *slotRecorder {
	r := &slotRecorder{occIndex: map[string]int{}}
	r.stats.Slot = slot
	if recordPath != "" {
		r.path = SlotPath(recordPath, slot)
	}
	return r
}

// packet counts pkt, arrived at now, and records it.
func (r *slotRecorder) packet(pkt *rtp.Packet, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.packetLocked(pkt, now)
}

// packetLocked is packet, r.mu held.
func (r *slotRecorder) packetLocked(pkt *rtp.Packet, now time.Time) {
	s := &r.stats
	s.Packets++
	s.Bytes += int64(len(pkt.Payload))
	if r.have && !r.fresh {
		d := int16(pkt.SequenceNumber - r.lastSeq)
		if d <= 0 {
			s.Late++
			return
		}
		s.Lost += int64(d - 1)
	}
	samples, err := OpusSamples(pkt.Payload)
	if err != nil {
		r.lastSeq = pkt.SequenceNumber // not audio, but not lost either
		return
	}
	wall := now.Sub(r.lastAt)
	switch {
	case !r.have || r.path == "" || r.stats.Err != nil:
	case r.fresh:
		// Another connection's stream: its numbers say nothing of the gap, the
		// wall clock does.
		before := s.Filled
		r.fill(int64(wall*48000/time.Second)-int64(r.lastSamples), wall)
		s.Bridged += s.Filled - before
	default:
		r.fill(int64(int32(pkt.Timestamp-r.lastTS))-int64(r.lastSamples), wall)
	}
	d := time.Duration(samples) * time.Second / 48000
	s.Audio += d
	r.write(pkt)
	if !r.have {
		r.first = now
	}
	r.have, r.fresh = true, false
	r.lastSeq, r.lastTS, r.lastSamples, r.lastTOC, r.lastAt = pkt.SequenceNumber, pkt.Timestamp, samples, pkt.Payload[0], now
	r.lastEnd = now.Add(d)
	s.Span = r.lastEnd.Sub(r.first)
}

// fill writes silence for a gap of gap samples (by the RTP timestamps), at most
// wall plus fillSlack long: Opus packets of the last one's mode and frame size
// holding zero-length frames, which a decoder takes for a frame lost or not sent
// (RFC 6716 §3.2.1) and conceals.
//
// https://www.rfc-editor.org/rfc/rfc6716#section-3.2.1
func (r *slotRecorder) fill(gap int64, wall time.Duration) {
	toc := r.lastTOC &^ 0x03 // code 0: one frame, of length zero
	frame, err := OpusSamples([]byte{toc})
	if err != nil || gap < int64(frame) {
		return
	}
	gap = min(gap, int64((wall+fillSlack)*48000/time.Second))
	silence := &rtp.Packet{Payload: []byte{toc}}
	for n := gap / int64(frame); n > 0 && r.stats.Err == nil; n-- {
		r.write(silence)
		r.stats.Filled += time.Duration(frame) * time.Second / 48000
	}
}

// write appends one packet to the recording, creating the file at the first.
func (r *slotRecorder) write(pkt *rtp.Packet) {
	if r.path == "" || r.stats.Err != nil || r.closed {
		return
	}
	if r.w == nil {
		channels := uint16(1) // the TOC's s bit (RFC 6716 §3.1): the first packet sets it
		if pkt.Payload[0]&0x04 != 0 {
			channels = 2
		}
		w, err := oggwriter.New(r.path, 48000, channels)
		if err != nil {
			r.stats.Err = err
			return
		}
		r.w, r.stats.File = w, r.path
	}
	if err := r.w.WriteRTP(pkt); err != nil {
		r.stats.Err = fmt.Errorf("%s: %w", r.path, err)
	}
}

// occupy notes who a report puts in the slot; the time since the previous report
// goes to the previous occupant. The server reports when a slot's occupant or
// their speaking flag changes, so a report holds until the next one.
func (r *slotRecorder) occupy(user string, speaking bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.occupyLocked(user, speaking, now)
}

// occupyLocked is occupy, r.mu held.
func (r *slotRecorder) occupyLocked(user string, speaking bool, now time.Time) {
	if !r.ended.IsZero() {
		return
	}
	r.account(now)
	if _, ok := r.occIndex[user]; !ok && user != "" {
		r.occIndex[user] = len(r.stats.Occupants)
		r.stats.Occupants = append(r.stats.Occupants, Occupant{UserID: user})
	}
	r.cur, r.curSpeaking, r.lastReport = user, speaking, now
}

// account gives the time from the last report to now to its occupant. r.mu is held.
func (r *slotRecorder) account(now time.Time) {
	if r.cur == "" || r.lastReport.IsZero() || !now.After(r.lastReport) {
		return
	}
	dt := now.Sub(r.lastReport)
	o := &r.stats.Occupants[r.occIndex[r.cur]]
	o.InSlot += dt
	if r.curSpeaking {
		o.Speaking += dt
	}
	r.lastReport = now
}

// snapshot returns a copy of the slot's stats, the last report counted up to now
// (or up to the end of the connection).
func (r *slotRecorder) snapshot(now time.Time) SlotStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ended.IsZero() {
		now = r.ended
	}
	r.account(now)
	s := r.stats
	s.Occupants = append([]Occupant(nil), s.Occupants...)
	return s
}

// end stops the occupants' clocks at now: the connection is over.
func (r *slotRecorder) end(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endLocked(now)
}

// endLocked is end, r.mu held.
func (r *slotRecorder) endLocked(now time.Time) {
	if r.ended.IsZero() {
		r.account(now)
		r.ended = now
	}
}

// close finishes the recording: nothing more is written.
func (r *slotRecorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.w == nil {
		return nil
	}
	err := r.w.Close()
	r.w = nil
	return err
}
