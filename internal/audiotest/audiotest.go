// Package audiotest helps tests that make and check real audio with the Debian
// tools townhall's CI installs: espeak-ng (speech), opus-tools (opusenc, opusinfo),
// ffmpeg (ffprobe) and pocketsphinx. A missing tool skips the test on a
// developer's machine and fails it in CI (CI=true), which must install it.
package audiotest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/client"
)

// packages names the Debian package of each tool.
var packages = map[string]string{
	"espeak-ng": "espeak-ng", "opusenc": "opus-tools", "opusinfo": "opus-tools", "opusdec": "opus-tools",
	"ffmpeg": "ffmpeg", "ffprobe": "ffmpeg", "pocketsphinx_continuous": "pocketsphinx (and pocketsphinx-en-us)",
}

// Tools makes sure the named programs are installed.
func Tools(tb testing.TB, names ...string) {
	tb.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			msg := fmt.Sprintf("%s is missing (Debian package %s)", n, packages[n])
			if os.Getenv("CI") == "true" {
				tb.Fatalf("%s: CI must install it (.ci/run)", msg)
			}
			tb.Skip(msg)
		}
	}
}

// Voice is the espeak-ng voice of Speech: a female US-English voice, which
// pocketsphinx's US-English model understands best of espeak-ng's voices.
const Voice = "en-us+f2"

// Speech makes an Ogg Opus file (20 ms frames) of text spoken by espeak-ng in
// dir and returns its path.
func Speech(tb testing.TB, dir, text string) string {
	tb.Helper()
	Tools(tb, "espeak-ng", "opusenc")
	wav := filepath.Join(dir, "speech.wav")
	ogg := filepath.Join(dir, "speech.ogg")
	run(tb, "espeak-ng", "-v", Voice, "-s", "150", "-w", wav, text)
	run(tb, "opusenc", "--quiet", "--framesize", "20", wav, ogg)
	return ogg
}

// Packets reads the Opus packets of an Ogg Opus file.
func Packets(tb testing.TB, path string) []client.OpusPacket {
	tb.Helper()
	src, err := client.OpenOgg(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var out []client.OpusPacket
	for {
		p, err := src.NextPacket()
		if err != nil {
			break
		}
		p.Payload = bytes.Clone(p.Payload)
		out = append(out, p)
	}
	if len(out) == 0 {
		tb.Fatalf("%s holds no packets", path)
	}
	return out
}

// Duration returns how long an audio file plays, by ffprobe. For Ogg Opus,
// ffprobe counts the pre-skip (RFC 7845 §4.2: what a decoder drops from the start,
// 80 ms in pion's files, 6.5 ms in ffmpeg's); Decoded counts what plays.
func Duration(tb testing.TB, path string) time.Duration {
	tb.Helper()
	Tools(tb, "ffprobe")
	out := run(tb, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path)
	s, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if err != nil {
		tb.Fatalf("ffprobe %s: %q: %v", path, out, err)
	}
	return time.Duration(s * float64(time.Second))
}

// Decoded returns how long an audio file plays, by decoding it with ffmpeg and
// counting the samples.
func Decoded(tb testing.TB, path string) time.Duration {
	tb.Helper()
	Tools(tb, "ffmpeg")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "48000", "-").Output()
	if err != nil {
		tb.Fatalf("ffmpeg %s: %v", path, err)
	}
	return time.Duration(len(out)/2) * time.Second / 48000
}

var playbackLength = regexp.MustCompile(`Playback length: (\d+)m:([\d.]+)s`)

// OpusInfo checks an Ogg Opus file with opusinfo (no warning, no error) and
// returns its playback length.
func OpusInfo(tb testing.TB, path string) time.Duration {
	tb.Helper()
	Tools(tb, "opusinfo")
	out := run(tb, "opusinfo", path)
	for _, bad := range []string{"WARNING", "ERROR", "Error"} {
		if strings.Contains(out, bad) {
			tb.Fatalf("opusinfo %s complains:\n%s", path, out)
		}
	}
	m := playbackLength.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("opusinfo %s gives no playback length:\n%s", path, out)
	}
	mins, _ := strconv.Atoi(m[1])
	s, _ := strconv.ParseFloat(m[2], 64)
	return time.Duration(mins)*time.Minute + time.Duration(s*float64(time.Second))
}

var meanVolume = regexp.MustCompile(`max_volume: (-?[\d.]+|-inf) dB`)

// Loudness returns the loudest sample, in dBFS, of the stretch [from, to) of an
// audio file, by ffmpeg's volumedetect; -91 or less is digital silence.
func Loudness(tb testing.TB, path string, from, to time.Duration) float64 {
	tb.Helper()
	Tools(tb, "ffmpeg")
	cmd := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-i", path, "-af",
		fmt.Sprintf("atrim=%.3f:%.3f,volumedetect", from.Seconds(), to.Seconds()), "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("ffmpeg volumedetect %s: %v\n%s", path, err, out)
	}
	m := meanVolume.FindSubmatch(out)
	if m == nil {
		return -200 // nothing decoded in the stretch
	}
	if string(m[1]) == "-inf" {
		return -200
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
