package client

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// ErrNotOpus is returned for an Ogg file that holds no Opus stream RTP can carry
// (a single Opus stream, mono or stereo), or for bytes that are not Ogg at all.
var ErrNotOpus = errors.New("townhall: not an Ogg Opus file")

// Bounds on what an Ogg file may make the reader hold.
const (
	// maxOggPacket bounds one packet put together from pages: an Opus packet is at
	// most 120 ms of 1275-byte frames (RFC 6716 §3.2.5), far below this.
	maxOggPacket = 64 << 10
	// maxSkippedPages bounds the pages of other logical streams read in a row.
	maxSkippedPages = 1 << 16
)

// oggPacketReader splits the pages of one logical Ogg stream into its packets
// (RFC 3533 §5-6: a packet is the concatenation of segments up to the first one
// shorter than 255 bytes, and may span pages).
//
// pion's oggreader returns whole page payloads, which is enough for files of one
// packet per page (what pion's oggwriter makes) but not for opusenc's, which puts
// about a second of packets on each page; so townhall reads pages itself.
//
// https://www.rfc-editor.org/rfc/rfc3533#section-6
type oggPacketReader struct {
	r         *bufio.Reader
	serial    uint32
	locked    bool     // serial is the stream's; other streams' pages are skipped
	ready     [][]byte // packets completed by the last page, in order
	partial   []byte   // a packet continued on the next page
	oversized bool     // partial grew past maxOggPacket: it is dropped when it ends
	eos       bool     // the stream's last page was read
	header    [27]byte
	lacing    [255]byte
}

func newOggPacketReader(r io.Reader) *oggPacketReader {
	return &oggPacketReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the stream's next packet, io.EOF after the last one.
func (o *oggPacketReader) next() ([]byte, error) {
	for len(o.ready) == 0 {
		if o.eos {
			return nil, io.EOF
		}
		if err := o.readPage(); err != nil {
			return nil, err
		}
	}
	p := o.ready[0]
	o.ready = o.ready[1:]
	return p, nil
}

// readPage reads one page of the stream (skipping other streams' pages) and splits
// it into packets.
//
// https://www.rfc-editor.org/rfc/rfc3533#section-6
func (o *oggPacketReader) readPage() error {
	for skipped := 0; ; skipped++ {
		if skipped > maxSkippedPages {
			return fmt.Errorf("%w: no page of the Opus stream in %d pages", ErrNotOpus, maxSkippedPages)
		}
		h := o.header[:]
		if _, err := io.ReadFull(o.r, h); err != nil {
			if errors.Is(err, io.EOF) && (o.locked || skipped > 0) {
				// A file cut after a whole page: its stream simply ends there.
				o.eos = true
				return io.EOF
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%w: truncated page header", ErrNotOpus)
			}
			return err
		}
		if string(h[:4]) != "OggS" || h[4] != 0 {
			return fmt.Errorf("%w: no Ogg page (capture pattern or version)", ErrNotOpus)
		}
		flags := h[5]
		serial := binary.LittleEndian.Uint32(h[14:18])
		lacing := o.lacing[:h[26]]
		if _, err := io.ReadFull(o.r, lacing); err != nil {
			return fmt.Errorf("%w: truncated segment table", ErrNotOpus)
		}
		size := 0
		for _, l := range lacing {
			size += int(l)
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(o.r, body); err != nil {
			return fmt.Errorf("%w: truncated page", ErrNotOpus)
		}
		if want, got := binary.LittleEndian.Uint32(h[22:26]), oggCRC(h, lacing, body); want != got {
			return fmt.Errorf("%w: page checksum %08x, want %08x", ErrNotOpus, got, want)
		}
		if !o.locked {
			// The first page of the file must begin a stream; take the first stream
			// whose first packet is an OpusHead.
			if flags&0x02 == 0 {
				return fmt.Errorf("%w: no Opus stream begins the file", ErrNotOpus)
			}
			if !bytes.HasPrefix(body, []byte("OpusHead")) {
				continue
			}
			o.serial, o.locked = serial, true
		} else if serial != o.serial {
			continue
		}
		o.split(flags, lacing, body)
		if flags&0x04 != 0 {
			o.eos = true
		}
		return nil
	}
}

// split cuts a page's body into packets along its lacing values, joining the
// packet continued from the previous page.
func (o *oggPacketReader) split(flags byte, lacing, body []byte) {
	if flags&0x01 == 0 {
		// A continuation was promised but did not come: drop the fragment.
		o.partial, o.oversized = o.partial[:0], false
	}
	for _, l := range lacing {
		if len(o.partial)+int(l) > maxOggPacket {
			o.partial, o.oversized = o.partial[:0], true
		}
		o.partial = append(o.partial, body[:l]...)
		body = body[l:]
		if l < 255 {
			if !o.oversized {
				o.ready = append(o.ready, o.partial)
			}
			o.partial, o.oversized = nil, false
		}
	}
}

// oggCRCTable is the table of Ogg's CRC-32 (polynomial 0x04c11db7, no reflection, no
// final XOR), RFC 3533 §6.
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC is the checksum of a page, computed with its own checksum field as zeros.
func oggCRC(header, lacing, body []byte) uint32 {
	var crc uint32
	add := func(b byte) { crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^b] }
	for i, b := range header {
		if i >= 22 && i < 26 {
			b = 0
		}
		add(b)
	}
	for _, b := range lacing {
		add(b)
	}
	for _, b := range body {
		add(b)
	}
	return crc
}

// OpusPacket is one Opus packet to send: its payload (RFC 7587 §4.2: one Opus
// packet per RTP packet), how many 48 kHz samples it lasts (the RTP timestamp step),
// and its RFC 6464 audio level.
type OpusPacket struct {
	Payload []byte
	Samples int
	// Level is the RFC 6464 level in -dBov: 0 the loudest, 127 silence.
	Level uint8
	// Voice is RFC 6464's V flag: the sender thinks the packet holds speech.
	Voice bool
}

// AudioSource gives the packets Media.Play sends, in order, and io.EOF after the
// last one.
type AudioSource interface {
	NextPacket() (OpusPacket, error)
}

// OggSource reads the Opus packets of an Ogg Opus file (RFC 7845) and gives each
// a level.
//
// Nothing here decodes Opus (there is no pure-Go encoder or full decoder), so the
// level is estimated from the packet's size: a variable-bitrate encoder spends
// bytes on what is loud and complex and almost nothing on silence, so small
// packets read as quiet and the biggest packets of the file as about -10 dBov.
// See levelFromSize.
//
// https://www.rfc-editor.org/rfc/rfc7845
type OggSource struct {
	pkts     *oggPacketReader
	close    func() error
	head     *oggreader.OggHeader
	samples  int64 // of the packets read so far
	maxBytes int   // the biggest packet read so far, a loudness reference
}

// OpenOgg opens an Ogg Opus file as an AudioSource. Close it when done.
func OpenOgg(path string) (*OggSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s, err := NewOggSource(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.close = f.Close
	return s, nil
}

// NewOggSource reads an Ogg Opus stream from r. It reads the identification and
// comment headers at once, so that a file that is not Opus fails here.
func NewOggSource(r io.Reader) (*OggSource, error) {
	s := &OggSource{pkts: newOggPacketReader(r), close: func() error { return nil }}
	head, err := s.pkts.next()
	if err != nil {
		return nil, notOpus(err)
	}
	if !bytes.HasPrefix(head, []byte("OpusHead")) {
		return nil, fmt.Errorf("%w: the stream does not begin with OpusHead", ErrNotOpus)
	}
	h, err := oggreader.ParseOpusHead(head)
	if err != nil {
		return nil, fmt.Errorf("%w: OpusHead: %v", ErrNotOpus, err)
	}
	// RFC 7587 carries one Opus stream (mono or stereo) per RTP stream.
	if h.Version>>4 != 0 || h.Channels == 0 || h.Channels > 2 || (h.ChannelMap != 0 && h.StreamCount != 1) {
		return nil, fmt.Errorf("%w: %d channels in mapping family %d; RTP carries one mono or stereo stream", ErrNotOpus, h.Channels, h.ChannelMap)
	}
	tags, err := s.pkts.next()
	if err != nil {
		return nil, notOpus(err)
	}
	if !bytes.HasPrefix(tags, []byte("OpusTags")) {
		return nil, fmt.Errorf("%w: no OpusTags after OpusHead", ErrNotOpus)
	}
	s.head = h
	return s, nil
}

func notOpus(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: the stream ends before its headers", ErrNotOpus)
	}
	return err
}

// Channels is the file's channel count (1 or 2).
func (s *OggSource) Channels() int { return int(s.head.Channels) }

// PreSkip is how many samples at 48 kHz a player drops at the start (RFC 7845 §4.2).
func (s *OggSource) PreSkip() int { return int(s.head.PreSkip) }

// NextPacket returns the next audio packet, io.EOF after the last one.
func (s *OggSource) NextPacket() (OpusPacket, error) {
	for {
		p, err := s.pkts.next()
		if err != nil {
			return OpusPacket{}, err
		}
		n, err := OpusSamples(p)
		if err != nil {
			// RFC 7845 §4: a malformed packet in the middle of a stream may be
			// skipped; a player would conceal it.
			continue
		}
		s.samples += int64(n)
		s.maxBytes = max(s.maxBytes, len(p))
		level := levelFromSize(len(p), n, s.maxBytes)
		return OpusPacket{Payload: p, Samples: n, Level: level, Voice: level < silentLevel}, nil
	}
}

// Close closes the file of OpenOgg.
func (s *OggSource) Close() error { return s.close() }

// silentLevel is the RFC 6464 level from which a packet is taken for silence
// (-80 dBov and below).
const silentLevel = 80

// levelFromSize estimates the RFC 6464 level of an Opus packet of size bytes that
// lasts samples (48 kHz), given the biggest packet seen so far in the stream.
//
// A packet of at most 3 bytes per 20 ms is Opus's DTX or digital silence: 127. Any
// other is scaled between -10 dBov (a packet as big as the biggest so far) and
// -70 dBov (a tiny one) by its share of the biggest. This is a heuristic, chosen
// so that speech reads as speech (-10 to -40 dBov) and pauses as quiet; it is not
// a measurement.
func levelFromSize(size, samples, biggest int) uint8 {
	if samples <= 0 {
		return 127
	}
	per20ms := size * 960 / samples
	if per20ms <= 3 || biggest <= 3 {
		return 127
	}
	share := float64(size) / float64(biggest)
	if share > 1 {
		share = 1
	}
	return uint8(70 - 60*share)
}

// OpusSamples returns how many samples at 48 kHz an Opus packet lasts, from its TOC
// byte and frame count (RFC 6716 §3.1-3.2).
//
// https://www.rfc-editor.org/rfc/rfc6716#section-3.1
func OpusSamples(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errors.New("townhall: empty Opus packet")
	}
	toc := p[0]
	cfg := int(toc >> 3)
	var frame int // samples at 48 kHz
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[cfg%4]
	case cfg < 16: // Hybrid: 10, 20 ms
		frame = []int{480, 960}[cfg%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[cfg%4]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0, errors.New("townhall: Opus packet of code 3 without a frame count")
		}
		frames = int(p[1] & 0x3F)
		if frames == 0 {
			return 0, errors.New("townhall: Opus packet of zero frames")
		}
	}
	n := frames * frame
	if n > 5760 { // 120 ms, RFC 6716 §3.2.5
		return 0, fmt.Errorf("townhall: Opus packet of %d samples, over 120 ms", n)
	}
	return n, nil
}
