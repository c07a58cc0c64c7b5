package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/townhall/townhall/internal/errcode"
)

// picture is a w×h image: red on its left half, blue on its right, and a green
// square in its top-left corner (to tell which way it is turned).
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{200, 30, 30, 255}
			if x >= w/2 {
				c = color.RGBA{30, 30, 200, 255}
			}
			if x < w/8 && y < h/8 {
				c = color.RGBA{30, 200, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withOrientation inserts an APP1 Exif segment with orientation o (and a GPS
// marker string, to see that it goes) right after a JPEG's SOI.
func withOrientation(jpg []byte, o uint16) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	ifd := make([]byte, 2+12+4)
	binary.BigEndian.PutUint16(ifd[0:], 1)
	binary.BigEndian.PutUint16(ifd[2:], 0x0112)
	binary.BigEndian.PutUint16(ifd[4:], 3)
	binary.BigEndian.PutUint32(ifd[6:], 1)
	binary.BigEndian.PutUint16(ifd[10:], o)
	payload := append(append([]byte("Exif\x00\x00"), tiff...), ifd...)
	payload = append(payload, []byte("GPS 48.8584N 2.2945E")...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// bombPNG is a PNG whose header declares w×h pixels and whose data is one empty
// compressed block: a few dozen bytes that would decode to w×h×4 bytes.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		b.Write(n[:])
		b.WriteString(typ)
		b.Write(data)
		binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(append([]byte(typ), data...)))
		b.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func TestProcessRefusesWhatItMustNotDecode(t *testing.T) {
	p := NewProcessor(DefaultLimits())
	webp, err := os.ReadFile(filepath.Join("testdata", "seed.webp"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"a file over the size limit is too large", append(encodePNG(t, picture(100, 100)), make([]byte, 10<<20)...), ErrTooLarge},
		{"a text file is not an image", []byte("hello, this is not a picture at all"), ErrFormat},
		{"an empty file is not an image", nil, ErrFormat},
		{"a GIF is not one of the formats", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrFormat},
		{"an SVG is not one of the formats", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ErrFormat},
		{"a HEIC file says HEIC is not supported", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), ErrHEIC},
		{"a PNG declaring 100,000 × 100,000 pixels (40 GB decoded) is refused from its header", bombPNG(100_000, 100_000), ErrDimensions},
		{"a PNG declaring 7,000 × 7,000 pixels (49 megapixels) is over the pixel limit", bombPNG(7_000, 7_000), ErrDimensions},
		{"a strip of 20,000 × 100 pixels is too long", bombPNG(20_000, 100), ErrDimensions},
		{"a 32 × 32 picture is too small", encodePNG(t, picture(32, 32)), ErrDimensions},
		{"a JPEG cut after its header is damaged", encodeJPEG(t, picture(200, 200))[:300], ErrCorrupt},
		{"a PNG with a header and no pixels is damaged", bombPNG(200, 200), ErrCorrupt},
		{"a WebP cut short is damaged", webp[:40], ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Process(t.Context(), tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Process: %v, want %v", err, tc.want)
			}
			if errcode.Of(err) == errcode.Internal {
				t.Fatalf("the error %v has no client code", err)
			}
		})
	}
}

func TestProcessMakesUprightSquaresWithoutMetadata(t *testing.T) {
	p := NewProcessor(DefaultLimits())
	webp, err := os.ReadFile(filepath.Join("testdata", "seed.webp"))
	if err != nil {
		t.Fatal(err)
	}
	wide := picture(800, 400)
	cases := []struct {
		name string
		data []byte
		// the colour expected near the top-left and the top-right corners of the output
		left, right color.RGBA
	}{
		{"a wide PNG is cropped to its middle square", encodePNG(t, wide), color.RGBA{200, 30, 30, 255}, color.RGBA{30, 30, 200, 255}},
		{"a JPEG keeps its colours", encodeJPEG(t, picture(400, 400)), color.RGBA{30, 200, 30, 255}, color.RGBA{30, 30, 200, 255}},
		{"a JPEG turned a quarter clockwise by EXIF is turned upright", withOrientation(encodeJPEG(t, picture(400, 400)), 6),
			color.RGBA{200, 30, 30, 255}, color.RGBA{30, 200, 30, 255}},
		{"a JPEG mirrored by EXIF is mirrored back", withOrientation(encodeJPEG(t, picture(400, 400)), 2),
			color.RGBA{30, 30, 200, 255}, color.RGBA{30, 200, 30, 255}},
		{"a WebP is decoded", webp, color.RGBA{}, color.RGBA{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, err := p.Process(t.Context(), tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Images) != len(Sizes) {
				t.Fatalf("%d images, want %d", len(set.Images), len(Sizes))
			}
			for i, im := range set.Images {
				if im.Size != Sizes[i] {
					t.Fatalf("image %d is %d px, want %d", i, im.Size, Sizes[i])
				}
				if bytes.Contains(im.Data, []byte("Exif")) || bytes.Contains(im.Data, []byte("GPS")) {
					t.Errorf("the %d px image keeps metadata", im.Size)
				}
				out, err := jpeg.Decode(bytes.NewReader(im.Data))
				if err != nil {
					t.Fatalf("the %d px image does not decode: %v", im.Size, err)
				}
				if b := out.Bounds(); b.Dx() != im.Size || b.Dy() != im.Size {
					t.Fatalf("the %d px image is %v", im.Size, b)
				}
				if tc.left.A == 0 {
					continue
				}
				n := im.Size
				if got := out.At(n/20, n/20); !near(got, tc.left) {
					t.Errorf("%d px: top-left is %v, want about %v", n, got, tc.left)
				}
				if got := out.At(n-1-n/20, n/20); !near(got, tc.right) {
					t.Errorf("%d px: top-right is %v, want about %v", n, got, tc.right)
				}
			}
			if h := set.Hash("u1"); len(h) != 32 || h == set.Hash("u2") {
				t.Errorf("hash %q: not 32 hex digits, or the same for two owners", h)
			}
		})
	}
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { x := int(a>>8) - int(b); return x > -40 && x < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func TestJPEGOrientationReadsOnlyWhatIsThere(t *testing.T) {
	jpg := encodeJPEG(t, picture(64, 64))
	cases := []struct {
		name string
		data []byte
		want int
	}{
		{"a JPEG without EXIF is as stored", jpg, 1},
		{"orientation 6 is read", withOrientation(jpg, 6), 6},
		{"orientation 9 does not exist: as stored", withOrientation(jpg, 9), 1},
		{"a segment whose length runs past the end is ignored", append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, "Exif"...), 1},
		{"not a JPEG", []byte("hello"), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := jpegOrientation(tc.data); got != tc.want {
				t.Fatalf("orientation %d, want %d", got, tc.want)
			}
		})
	}
}

// FuzzProcess feeds arbitrary bytes, seeded with real images of each format, to
// the whole pipeline: it must never panic, and must either refuse with a coded
// error or return every size as a JPEG. Small limits keep each run cheap.
func FuzzProcess(f *testing.F) {
	for _, name := range []string{"seed.webp"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(encodePNG(f, picture(80, 70)))
	f.Add(encodeJPEG(f, picture(70, 90)))
	f.Add(withOrientation(encodeJPEG(f, picture(64, 64)), 8))
	f.Add(bombPNG(100_000, 100_000))
	f.Add([]byte("\x00\x00\x00\x18ftypheic"))
	p := NewProcessor(Limits{MaxBytes: 1 << 20, MaxPixels: 200_000, MaxSide: 1000, MinSide: 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := p.Process(t.Context(), data)
		if err != nil {
			if errcode.Of(err) == errcode.Internal {
				t.Fatalf("an error without a client code: %v", err)
			}
			return
		}
		if len(set.Images) != len(Sizes) {
			t.Fatalf("%d images", len(set.Images))
		}
		for _, im := range set.Images {
			if _, err := jpeg.DecodeConfig(bytes.NewReader(im.Data)); err != nil {
				t.Fatalf("output does not decode: %v", err)
			}
		}
	})
}

// FuzzJPEGOrientation: the EXIF walk never panics and answers 1 to 8.
func FuzzJPEGOrientation(f *testing.F) {
	jpg := encodeJPEG(f, picture(16, 16))
	f.Add(jpg)
	f.Add(withOrientation(jpg, 6))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
