// Package photo turns an uploaded profile photo into the few square JPEGs the app
// shows. It trusts nothing about the upload: the type is read from the content
// (never from a name or a header), the size of the file and the dimensions its
// header declares are bounded before a single pixel is decoded (a small file may
// declare a picture of gigabytes), and the output is re-encoded from pixels, so
// no metadata of the original (EXIF, GPS, comments, ICC profiles) survives.
//
// Formats: JPEG, PNG and WebP (golang.org/x/image/webp, which decodes only).
// HEIC is refused with a message that says so: no maintained pure-Go decoder
// exists (the HEVC codec it needs is in C libraries and patent-encumbered).
// Output: JPEG at quality 85, for every size. A profile photo is a photograph;
// JPEG is several times smaller than PNG for one, every browser shows it, and
// the standard library encodes it (no pure-Go WebP encoder is maintained).
// Transparent pixels are laid on white.
package photo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/townhall/townhall/internal/errcode"
)

// Sizes are the sides, in pixels, of the squares every photo is stored at:
// avatars in lists, tiles on a stage, a profile page on a sharp screen.
var Sizes = []int{96, 256, 512}

// ContentType is the type of every stored image.
const ContentType = "image/jpeg"

// Limits bound the work an upload may cause.
type Limits struct {
	MaxBytes  int // the file
	MaxPixels int // width × height the header declares
	MaxSide   int // the longer side
	MinSide   int // the shorter side
}

// DefaultLimits: 10 MiB, 40 megapixels, 12,000 pixels on the long side (a
// 40-megapixel panorama is fine, a 1 × 40,000,000 strip is not), 64 pixels on
// the short side.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 10 << 20, MaxPixels: 40_000_000, MaxSide: 12_000, MinSide: 64}
}

// Errors of Process. Each carries its client code.
var (
	ErrTooLarge   = errcode.New(errcode.TooLarge, "the photo is over its size limit")
	ErrFormat     = errcode.New(errcode.InvalidField, "photo: not a JPEG, PNG or WebP image")
	ErrHEIC       = errcode.New(errcode.InvalidField, "photo: HEIC images are not supported; export the photo as JPEG")
	ErrDimensions = errcode.New(errcode.InvalidField, "photo: its dimensions are out of bounds")
	ErrCorrupt    = errcode.New(errcode.InvalidField, "photo: the image data is damaged")
)

// Image is one stored size.
type Image struct {
	Size int // pixels on each side
	Data []byte
}

// Set is an upload made ready: one Image per size of Sizes, in that order.
type Set struct {
	Images []Image
}

// Hash names the set of owner's photo in URLs: the SHA-256 of the owner's ID
// and the images, in 32 hex digits. A new photo has a new name, so its URL can
// be cached forever; two people uploading the same picture get different names.
func (s Set) Hash(owner string) string {
	h := sha256.New()
	h.Write([]byte(owner))
	h.Write([]byte{0})
	for _, im := range s.Images {
		h.Write(im.Data)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Processor turns uploads into Sets, a bounded number at a time: decoding a
// large image takes hundreds of megabytes, and a burst of uploads must not take
// the process's memory.
type Processor struct {
	limits Limits
	slots  chan struct{}
}

// NewProcessor returns a Processor with limits, running at most half the CPUs'
// worth of decodes at once (at least one).
func NewProcessor(limits Limits) *Processor {
	return &Processor{limits: limits, slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))}
}

// Limits returns the processor's limits.
func (p *Processor) Limits() Limits { return p.limits }

// format is a decoder the content was recognised as.
type format struct {
	name   string
	config func(r *bytes.Reader) (image.Config, error)
	decode func(r *bytes.Reader) (image.Image, error)
}

var (
	formatJPEG = format{"jpeg",
		func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) },
		func(r *bytes.Reader) (image.Image, error) { return jpeg.Decode(r) }}
	formatPNG = format{"png",
		func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) },
		func(r *bytes.Reader) (image.Image, error) { return png.Decode(r) }}
	formatWebP = format{"webp",
		func(r *bytes.Reader) (image.Config, error) { return webp.DecodeConfig(r) },
		func(r *bytes.Reader) (image.Image, error) { return webp.Decode(r) }}
)

// sniff recognises the format by its magic bytes.
func sniff(data []byte) (format, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return formatJPEG, nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, nil
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return formatWebP, nil
	case isHEIF(data):
		return format{}, ErrHEIC
	}
	return format{}, ErrFormat
}

// isHEIF reports whether data starts with an ISO base media file box of type
// ftyp whose major brand is one of HEIF's (ISO/IEC 23008-12).
func isHEIF(data []byte) bool {
	if len(data) < 12 || string(data[4:8]) != "ftyp" {
		return false
	}
	switch string(data[8:12]) {
	case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif":
		return true
	}
	return false
}

// Check reads what the content is and what its header declares, without
// decoding pixels: the format, then the dimensions against the limits.
func (p *Processor) Check(data []byte) (image.Config, error) {
	if len(data) > p.limits.MaxBytes {
		return image.Config{}, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrTooLarge, len(data), p.limits.MaxBytes)
	}
	f, err := sniff(data)
	if err != nil {
		return image.Config{}, err
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return image.Config{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return cfg, p.checkSize(cfg.Width, cfg.Height)
}

func (p *Processor) checkSize(w, h int) error {
	l := p.limits
	long, short := max(w, h), min(w, h)
	switch {
	case short < l.MinSide:
		return fmt.Errorf("%w: %d×%d pixels; at least %d on each side", ErrDimensions, w, h, l.MinSide)
	case long > l.MaxSide:
		return fmt.Errorf("%w: %d×%d pixels; at most %d on the longer side", ErrDimensions, w, h, l.MaxSide)
	case int64(w)*int64(h) > int64(l.MaxPixels):
		return fmt.Errorf("%w: %d×%d pixels; at most %d megapixels", ErrDimensions, w, h, l.MaxPixels/1_000_000)
	}
	return nil
}

// Process checks data, decodes it, crops its middle square, turns it upright
// (a JPEG's EXIF orientation) and re-encodes it at each of Sizes.
func (p *Processor) Process(ctx context.Context, data []byte) (Set, error) {
	if _, err := p.Check(data); err != nil {
		return Set{}, err
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return Set{}, ctx.Err()
	}
	f, _ := sniff(data)
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return Set{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	b := img.Bounds()
	if err := p.checkSize(b.Dx(), b.Dy()); err != nil { // the decoder's word, not just the header's
		return Set{}, err
	}
	orient := 1
	if f.name == "jpeg" {
		orient = jpegOrientation(data)
	}
	side := min(b.Dx(), b.Dy())
	crop := image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((b.Dx()-side)/2, (b.Dy()-side)/2))

	var set Set
	var prev *image.RGBA
	for i := len(Sizes) - 1; i >= 0; i-- { // largest first; each smaller one from the one above
		n := Sizes[i]
		dst := image.NewRGBA(image.Rect(0, 0, n, n))
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		if prev == nil {
			draw.CatmullRom.Scale(dst, dst.Bounds(), img, crop, draw.Over, nil)
		} else {
			draw.CatmullRom.Scale(dst, dst.Bounds(), prev, prev.Bounds(), draw.Over, nil)
		}
		prev = dst
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, upright(dst, orient), &jpeg.Options{Quality: 85}); err != nil {
			return Set{}, err
		}
		set.Images = append(set.Images, Image{Size: n, Data: buf.Bytes()})
	}
	// Smallest first, as in Sizes.
	for i, j := 0, len(set.Images)-1; i < j; i, j = i+1, j-1 {
		set.Images[i], set.Images[j] = set.Images[j], set.Images[i]
	}
	return set, nil
}

// upright turns a square image as EXIF orientation o (TIFF 6.0, tag 274) says
// its stored pixels must be turned to be shown: 1 as stored, 2 mirrored, 3
// turned half round, 4 flipped, 5 mirrored along the main diagonal, 6 turned a
// quarter clockwise, 7 mirrored along the other diagonal, 8 a quarter
// anticlockwise.
func upright(src *image.RGBA, o int) image.Image {
	if o < 2 || o > 8 {
		return src
	}
	n := src.Bounds().Dx()
	dst := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = n-1-x, y
			case 3:
				sx, sy = n-1-x, n-1-y
			case 4:
				sx, sy = x, n-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, n-1-x
			case 7:
				sx, sy = n-1-y, n-1-x
			case 8:
				sx, sy = n-1-y, x
			}
			i, j := dst.PixOffset(x, y), src.PixOffset(sx, sy)
			copy(dst.Pix[i:i+4], src.Pix[j:j+4])
		}
	}
	return dst
}
