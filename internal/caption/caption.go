// Package caption turns speech into captions: an Engine transcribes a 16 kHz
// mono WAV file into timed words (Pocketsphinx, run as a subprocess, offline),
// Cues groups the words into short lines labelled with their speaker, and
// WriteVTT writes them as WebVTT. It knows nothing of rooms or HTTP.
package caption

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Word is one recognised word and when it was said, from the file's start.
type Word struct {
	Text       string
	Start, End time.Duration
}

// Engine transcribes speech.
type Engine interface {
	// Transcribe returns the words of wav, a 16 kHz mono 16-bit WAV file.
	Transcribe(ctx context.Context, wav string) ([]Word, error)
}

// ErrEngine: the engine failed or said something that makes no sense.
var ErrEngine = errors.New("caption: the speech engine failed")

// Cue is one caption: a few words of one speaker.
type Cue struct {
	Start, End time.Duration
	Speaker    string // a name, "" when unknown
	Text       string
}

// Limits of a cue: what a reader takes in at a glance.
const (
	maxCueWords = 8
	maxCue      = 4 * time.Second
	cueGap      = 800 * time.Millisecond // a pause this long starts a new cue
)

// Cues groups words into cues: a new one at a change of speaker (speakerAt
// names who is heard at an instant), after a pause, or when one is full.
func Cues(words []Word, speakerAt func(time.Duration) string) []Cue {
	var out []Cue
	var cur *Cue
	n := 0
	for _, w := range words {
		who := ""
		if speakerAt != nil {
			who = speakerAt(w.Start)
		}
		if cur == nil || who != cur.Speaker || w.Start-cur.End > cueGap || n == maxCueWords || w.End-cur.Start > maxCue {
			out = append(out, Cue{Start: w.Start, End: w.End, Speaker: who, Text: w.Text})
			cur, n = &out[len(out)-1], 1
			continue
		}
		cur.End = w.End
		cur.Text += " " + w.Text
		n++
	}
	return out
}

// WriteVTT writes cues as a WebVTT file, each with its speaker as a voice span
// (https://www.w3.org/TR/webvtt1/#webvtt-cue-voice-span).
func WriteVTT(w io.Writer, cues []Cue) error {
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	for _, c := range cues {
		fmt.Fprintf(&b, "\n%s --> %s\n", vttTime(c.Start), vttTime(max(c.End, c.Start+time.Millisecond)))
		if c.Speaker != "" {
			fmt.Fprintf(&b, "<v %s>", vttEscape(strings.NewReplacer(">", "", "\n", " ").Replace(c.Speaker)))
		}
		b.WriteString(vttEscape(c.Text))
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// vttTime writes d as hh:mm:ss.ttt.
func vttTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// vttEscape escapes what a cue's text may not hold (WebVTT §4.2.2): &, <, and
// the line breaks and "-->" that would end or break a cue.
func vttEscape(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", "\r", " ", "\n", " ").Replace(s)
	return strings.ReplaceAll(s, "-->", "--&gt;")
}
