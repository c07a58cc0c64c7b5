package client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
)

// oggPage builds one Ogg page (RFC 3533 §6) of a stream from its segments'
// lacing values and body, with a correct checksum.
func oggPage(flags byte, serial, index uint32, lacing, body []byte) []byte {
	h := make([]byte, 27)
	copy(h, "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint32(h[14:], serial)
	binary.LittleEndian.PutUint32(h[18:], index)
	h[26] = byte(len(lacing))
	binary.LittleEndian.PutUint32(h[22:], oggCRC(h, lacing, body))
	return append(append(h, lacing...), body...)
}

// lace returns the lacing values of one packet of n bytes that ends on this page.
func lace(n int) []byte {
	var l []byte
	for ; n >= 255; n -= 255 {
		l = append(l, 255)
	}
	return append(l, byte(n))
}

// opusHead is a mono OpusHead (RFC 7845 §5.1) with a pre-skip of 312.
func opusHead() []byte {
	h := []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	return h
}

// packetOf returns a CELT 20 ms mono packet of n bytes (TOC 0xF8, code 0).
func packetOf(n int, fill byte) []byte {
	p := bytes.Repeat([]byte{fill}, n)
	p[0] = 0xF8
	return p
}

// streamOf writes a whole Ogg Opus stream: headers, then one page per group of
// packets.
func streamOf(serial uint32, pages ...[][]byte) []byte {
	var out []byte
	head, tags := opusHead(), []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")
	out = append(out, oggPage(0x02, serial, 0, lace(len(head)), head)...)
	out = append(out, oggPage(0, serial, 1, lace(len(tags)), tags)...)
	for i, pkts := range pages {
		var lacing, body []byte
		for _, p := range pkts {
			lacing = append(lacing, lace(len(p))...)
			body = append(body, p...)
		}
		flags := byte(0)
		if i == len(pages)-1 {
			flags = 0x04
		}
		out = append(out, oggPage(flags, serial, uint32(2+i), lacing, body)...)
	}
	return out
}

func readAll(t *testing.T, src *OggSource) []OpusPacket {
	t.Helper()
	var got []OpusPacket
	for {
		p, err := src.NextPacket()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("after %d packets: %v", len(got), err)
		}
		got = append(got, p)
	}
}

func TestOggSourceReadsOpusencFiles(t *testing.T) {
	src, err := OpenOgg("testdata/hello.ogg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	if src.Channels() != 1 || src.PreSkip() != 312 {
		t.Fatalf("channels %d, pre-skip %d; opusenc wrote 1 and 312", src.Channels(), src.PreSkip())
	}
	pkts := readAll(t, src)
	samples := 0
	for _, p := range pkts {
		samples += p.Samples
		if p.Samples != 960 {
			t.Fatalf("a packet of %d samples; opusenc makes 20 ms ones", p.Samples)
		}
	}
	// opusinfo says: Playback length 1.446 s, which is (samples - pre-skip) / 48 kHz
	// give or take the last packet's trimming.
	if got := float64(samples-312) / 48000; got < 1.44 || got > 1.47 {
		t.Fatalf("%.3f s of packets, opusinfo says 1.446 s", got)
	}
}

func TestOggSourceSplitsPages(t *testing.T) {
	big := packetOf(600, 7) // three pages' worth of lacing on its own: 255+255+90
	tests := []struct {
		name string
		file []byte
		want []int // sizes of the packets
	}{
		{"many packets on one page come out one by one",
			streamOf(1, [][]byte{packetOf(100, 1), packetOf(80, 2), packetOf(120, 3)}), []int{100, 80, 120}},
		{"a packet of exactly 255 bytes ends with a zero lacing value",
			streamOf(1, [][]byte{packetOf(255, 1), packetOf(10, 2)}), []int{255, 10}},
		{"a packet spanning two pages is joined",
			func() []byte {
				head, tags := opusHead(), []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")
				out := oggPage(0x02, 9, 0, lace(len(head)), head)
				out = append(out, oggPage(0, 9, 1, lace(len(tags)), tags)...)
				out = append(out, oggPage(0, 9, 2, []byte{255, 255}, big[:510])...)
				return append(out, oggPage(0x01|0x04, 9, 3, []byte{90}, big[510:])...)
			}(), []int{600}},
		{"pages of another stream are skipped",
			func() []byte {
				a := streamOf(1, [][]byte{packetOf(50, 1)}, [][]byte{packetOf(60, 1)})
				other := oggPage(0x02, 2, 0, lace(5), []byte("video"))
				// BOS pages first (RFC 3533 §4), then the other stream's data in between.
				var out []byte
				out = append(out, other...)
				out = append(out, a[:bytes.Index(a[4:], []byte("OggS"))+4]...)
				rest := a[bytes.Index(a[4:], []byte("OggS"))+4:]
				out = append(out, oggPage(0, 2, 1, lace(3), []byte("abc"))...)
				return append(out, rest...)
			}(), []int{50, 60}},
		{"a file cut after a whole page ends there",
			func() []byte {
				f := streamOf(1, [][]byte{packetOf(50, 1)}, [][]byte{packetOf(60, 1)})
				return f[:len(f)-len(oggPage(0x04, 1, 3, lace(60), packetOf(60, 1)))]
			}(), []int{50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewOggSource(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, p := range readAll(t, src) {
				got = append(got, len(p.Payload))
			}
			if !equalInts(got, tt.want) {
				t.Fatalf("packets of %v bytes, want %v", got, tt.want)
			}
		})
	}
}

func TestOggSourceRefusesWhatIsNotOpus(t *testing.T) {
	good := streamOf(1, [][]byte{packetOf(50, 1)})
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)-1] ^= 0xFF
	stereo51 := func() []byte {
		head := []byte("OpusHead\x01\x06\x38\x01\x80\xbb\x00\x00\x00\x00\x01\x04\x02\x00\x04\x01\x02\x03\x05")
		return oggPage(0x02, 1, 0, lace(len(head)), head)
	}()
	vorbis := oggPage(0x02, 1, 0, lace(7), []byte("\x01vorbis"))
	tests := []struct {
		name string
		file []byte
		// inRead: the error comes from NextPacket, not from NewOggSource
		inRead bool
	}{
		{"an empty file", nil, false},
		{"text", []byte("this is not an ogg file at all, not even close"), false},
		{"a Vorbis stream", append(vorbis, oggPage(0x04, 1, 1, lace(4), []byte("data"))...), false},
		{"5.1 Opus, which RTP cannot carry in one stream", stereo51, false},
		{"a page with a bad checksum", corrupt, true},
		{"a truncated page", good[:len(good)-10], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewOggSource(bytes.NewReader(tt.file))
			if !tt.inRead {
				if !errors.Is(err, ErrNotOpus) {
					t.Fatalf("NewOggSource: %v, want ErrNotOpus", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for err == nil {
				_, err = src.NextPacket()
			}
			if !errors.Is(err, ErrNotOpus) {
				t.Fatalf("NextPacket: %v, want ErrNotOpus", err)
			}
		})
	}
}

func TestOpusSamples(t *testing.T) {
	tests := []struct {
		name   string
		packet []byte
		want   int // 0: an error
	}{
		{"SILK 10 ms", []byte{0 << 3}, 480},
		{"SILK 60 ms", []byte{3 << 3}, 2880},
		{"SILK 20 ms wideband", []byte{9 << 3}, 960},
		{"Hybrid 10 ms", []byte{12 << 3}, 480},
		{"Hybrid 20 ms", []byte{15 << 3}, 960},
		{"CELT 2.5 ms", []byte{16 << 3}, 120},
		{"CELT 20 ms", []byte{0xF8}, 960},
		{"two frames (code 1)", []byte{0xF8 | 1, 1, 2}, 1920},
		{"two frames (code 2)", []byte{0xF8 | 2, 1, 1, 2}, 1920},
		{"code 3 with 3 frames", []byte{0xF8 | 3, 3}, 2880},
		{"code 3 with 6 frames of 20 ms is the most there can be", []byte{0xF8 | 3, 6}, 5760},
		{"code 3 over 120 ms", []byte{0xF8 | 3, 7}, 0},
		{"code 3 without a frame count", []byte{0xF8 | 3}, 0},
		{"code 3 with zero frames", []byte{0xF8 | 3, 0}, 0},
		{"an empty packet", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OpusSamples(tt.packet)
			if tt.want == 0 {
				if err == nil {
					t.Fatalf("%d samples, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestLevelFromSize(t *testing.T) {
	tests := []struct {
		name                   string
		size, samples, biggest int
		want                   uint8
	}{
		{"DTX (a TOC byte alone) is silence", 1, 960, 120, 127},
		{"three bytes per 20 ms is silence", 3, 960, 120, 127},
		{"the biggest packet so far is -10 dBov", 120, 960, 120, 10},
		{"half the biggest is -40 dBov", 60, 960, 120, 40},
		{"a tiny one is near -70 dBov", 4, 960, 1000, 69},
		{"no duration is silence", 50, 0, 50, 127},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := levelFromSize(tt.size, tt.samples, tt.biggest); got != tt.want {
				t.Fatalf("%d, want %d", got, tt.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzOggSource feeds the Ogg reader arbitrary files: it must return packets or an
// error, never panic or hold more than maxOggPacket per packet.
func FuzzOggSource(f *testing.F) {
	seed, err := os.ReadFile("testdata/hello.ogg")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add(streamOf(1, [][]byte{packetOf(255, 1), packetOf(10, 2)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewOggSource(bytes.NewReader(data))
		if err != nil {
			return
		}
		for range 100000 {
			p, err := src.NextPacket()
			if err != nil {
				return
			}
			if len(p.Payload) > maxOggPacket || p.Samples <= 0 || p.Samples > 5760 || p.Level > 127 {
				t.Fatalf("packet of %d bytes, %d samples, level %d", len(p.Payload), p.Samples, p.Level)
			}
		}
		t.Fatal("more than 100000 packets from a fuzzed file")
	})
}
