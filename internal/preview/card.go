// Package preview draws the cards that a link to townhall unfolds into when it is
// pasted elsewhere (Open Graph and Twitter cards): a 1200×630 PNG with a room's
// or an event's title, its host's name and avatar, and whether it is live, drawn
// with Go's image libraries and the Go fonts (golang.org/x/image/font/gofont, a
// BSD license, in the binary). Cards are cached by their content. A closed room,
// a private invitation, anything a stranger may not see, gets the generic card,
// which says nothing about it.
package preview

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Size of a card: the 1.91:1 image Open Graph and Twitter's large card show.
const (
	Width  = 1200
	Height = 630
)

// Card is what a card shows. The zero Card is the generic one.
type Card struct {
	Kind     string // "Live room", "Event", "Club", "Profile", "Invitation"
	Title    string
	Quote    string // an invitation's message
	Person   string // the host's (or the profile's) name, drawn with an avatar
	PersonID string // picks the avatar's colour, as the app does
	Status   string // "Live now · 2 on stage · 14 listening", a date, "Ended"
	Live     bool   // draws the live dot
}

// Generic reports whether c is the card that reveals nothing.
func (c Card) Generic() bool { return c == Card{} }

// Key is a hash of what c shows: the cache's key, and a version for its URL.
func (c Card) Key() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{c.Kind, c.Title, c.Quote, c.Person, c.PersonID, c.Status,
		fmt.Sprint(c.Live)}, "\x00")))
	return hex.EncodeToString(sum[:10])
}

// Colours of the app (style.css).
var (
	bg      = color.RGBA{0xf7, 0xf1, 0xe8, 0xff}
	surface = color.RGBA{0xff, 0xfd, 0xf9, 0xff}
	ink     = color.RGBA{0x2a, 0x24, 0x20, 0xff}
	muted   = color.RGBA{0x7a, 0x6e, 0x64, 0xff}
	accent  = color.RGBA{0x2f, 0x7d, 0x5b, 0xff}
	live    = color.RGBA{0xd0, 0x3b, 0x3b, 0xff}
	hues    = []color.RGBA{{0xd9, 0x71, 0x3f, 0xff}, {0x3c, 0x8c, 0x6e, 0xff}, {0x5b, 0x6f, 0xc2, 0xff}, {0xb4, 0x53, 0x8a, 0xff},
		{0xa7, 0x78, 0x2b, 0xff}, {0x4f, 0x8f, 0xa8, 0xff}, {0x8a, 0x62, 0xb8, 0xff}, {0xc1, 0x4f, 0x4f, 0xff}}
)

// fonts are the parsed Go fonts, shared: a Face is not safe for concurrent
// use, so each drawing makes its own faces from them.
type fonts struct {
	regular, bold *opentype.Font
}

var loadFonts = sync.OnceValues(func() (fonts, error) {
	r, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return fonts{}, err
	}
	b, err := opentype.Parse(gobold.TTF)
	return fonts{regular: r, bold: b}, err
})

func face(f *opentype.Font, size float64) font.Face {
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic("preview: a face of the Go fonts: " + err.Error()) // the fonts are in the binary
	}
	return fc
}

// PNG draws c.
func (c Card) PNG() ([]byte, error) {
	fs, err := loadFonts()
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	fill(img, img.Bounds(), bg)
	// The card: a lighter panel with an accent bar on its left.
	panel := image.Rect(48, 48, Width-48, Height-48)
	fill(img, panel, surface)
	fill(img, image.Rect(48, 48, 60, Height-48), accent)

	// The brand, top left.
	disc(img, 110, 112, 13, accent)
	text(img, face(fs.bold, 40), "townhall", 136, 126, ink)

	if c.Generic() {
		title := face(fs.bold, 76)
		text(img, title, "A live conversation", 96, 330, ink)
		text(img, face(fs.regular, 40), "Drop in, listen, raise your hand.", 96, 400, muted)
		return encode(img)
	}
	// The kind, top right, in a pill (red when live).
	if c.Kind != "" {
		kf := face(fs.bold, 30)
		label := strings.ToUpper(c.Kind)
		if c.Live {
			label = "● " + label
		}
		w := measure(kf, label)
		x := Width - 96 - w
		pill := image.Rect(x-24, 86, Width-72, 138)
		col := accent
		if c.Live {
			col = live
		}
		fill(img, pill, col)
		text(img, kf, label, x, 124, color.White)
	}
	// The title, up to three lines.
	y := 230
	tf := face(fs.bold, 64)
	lines := wrap(tf, c.Title, Width-96-96, 3)
	if c.Quote != "" && len(lines) > 2 {
		lines = wrap(tf, c.Title, Width-96-96, 2)
	}
	for _, l := range lines {
		text(img, tf, l, 96, y, ink)
		y += 76
	}
	if c.Quote != "" {
		qf := face(fs.regular, 36)
		for _, l := range wrap(qf, "“"+c.Quote+"”", Width-96-96, 2) {
			text(img, qf, l, 96, y, muted)
			y += 46
		}
	}
	// The host, bottom left, with their avatar; the status beside.
	if c.Person != "" {
		cx, cy := 136, Height-132
		disc(img, cx, cy, 40, hues[hue(c.PersonID)])
		inf := face(fs.bold, 34)
		ini := initials(c.Person)
		text(img, inf, ini, cx-measure(inf, ini)/2, cy+12, color.White)
		pf := face(fs.bold, 36)
		name := wrap(pf, c.Person, 560, 1)
		text(img, pf, strings.Join(name, ""), 196, cy+12, ink)
	}
	if c.Status != "" {
		sf := face(fs.regular, 32)
		st := strings.Join(wrap(sf, c.Status, 520, 1), "")
		x := Width - 96 - measure(sf, st)
		if c.Live {
			disc(img, x-22, Height-143, 9, live)
		}
		text(img, sf, st, x, Height-132, muted)
	}
	return encode(img)
}

func encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func fill(img draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// disc draws a filled circle, its edge smoothed over one pixel.
func disc(img *image.RGBA, cx, cy, r int, c color.RGBA) {
	for y := cy - r - 1; y <= cy+r+1; y++ {
		for x := cx - r - 1; x <= cx+r+1; x++ {
			dx, dy := float64(x-cx)+.5, float64(y-cy)+.5
			d := float64(r) - math.Hypot(dx, dy)
			switch {
			case d >= 1:
				img.SetRGBA(x, y, c)
			case d > 0:
				a := uint8(d * 255)
				under := img.RGBAAt(x, y)
				img.SetRGBA(x, y, blend(under, c, a))
			}
		}
	}
}

func blend(under, over color.RGBA, a uint8) color.RGBA {
	mix := func(u, o uint8) uint8 { return uint8((int(u)*(255-int(a)) + int(o)*int(a)) / 255) }
	return color.RGBA{mix(under.R, over.R), mix(under.G, over.G), mix(under.B, over.B), 0xff}
}

func text(img draw.Image, f font.Face, s string, x, y int, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func measure(f font.Face, s string) int { return font.MeasureString(f, s).Ceil() }

// wrap breaks s into at most max lines of at most width pixels, by words (a word
// too long for a line is cut), the last line ending in … when s does not fit.
func wrap(f font.Face, s string, width, max int) []string {
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	var lines []string
	words := strings.Split(s, " ")
	cur := ""
	for i := 0; i < len(words); i++ {
		w := words[i]
		next := w
		if cur != "" {
			next = cur + " " + w
		}
		if measure(f, next) <= width {
			cur = next
			continue
		}
		if cur == "" { // one word wider than the line: cut it
			r := []rune(w)
			n := len(r)
			for n > 1 && measure(f, string(r[:n])) > width {
				n--
			}
			lines = append(lines, string(r[:n]))
			words[i] = string(r[n:])
			i--
		} else {
			lines = append(lines, cur)
			cur = ""
			i--
		}
		if len(lines) == max {
			return ellipsis(f, lines, width)
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) > max {
		return ellipsis(f, lines[:max], width)
	}
	return lines
}

// ellipsis ends the last line with … within width.
func ellipsis(f font.Face, lines []string, width int) []string {
	last := []rune(lines[len(lines)-1])
	for len(last) > 0 && measure(f, string(last)+"…") > width {
		last = last[:len(last)-1]
	}
	lines[len(lines)-1] = strings.TrimRight(string(last), " ") + "…"
	return lines
}

// initials of a name: up to two letters, as the app draws them (dom.js).
func initials(name string) string {
	parts := strings.Fields(name)
	if len(parts) == 0 {
		return "?"
	}
	pick := []string{parts[0]}
	if len(parts) > 1 {
		pick = append(pick, parts[len(parts)-1])
	}
	var b strings.Builder
	for _, p := range pick {
		for _, r := range p {
			b.WriteRune(unicode.ToUpper(r))
			break
		}
	}
	return b.String()
}

// hue picks one of eight avatar colours from an ID, as dom.js does.
func hue(id string) int {
	var n uint32
	for _, ch := range id {
		n = n*31 + uint32(ch)
	}
	return int(n % 8)
}

// Icon draws the app's icon, size×size: the brand's dot on its background (the
// web app manifest's icons).
func Icon(size int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	fill(img, img.Bounds(), bg)
	r := size * 3 / 10
	halo := color.RGBA{0xd5, 0xe8, 0xdf, 0xff}
	disc(img, size/2, size/2, r+size/14, halo)
	disc(img, size/2, size/2, r, accent)
	return encode(img)
}
