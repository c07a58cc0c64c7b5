package replay

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// mix makes out, one Ogg Opus file, from the slot streams ins (each lasting the
// whole recording, silences included), with turns as its chapters, by running
// ffmpeg: amix sums the slots (normalize=0: a lone speaker keeps their level) and
// libopus encodes the sum. The file is written beside out and renamed, so that
// out is either whole or absent.
func mix(ctx context.Context, ffmpeg string, ins []string, turns []Turn, out string) error {
	args := []string{"-nostdin", "-v", "error", "-y"}
	for _, in := range ins {
		args = append(args, "-i", in)
	}
	meta := out + ".meta"
	if len(turns) > 0 {
		if err := os.WriteFile(meta, chapters(turns), 0o600); err != nil {
			return fmt.Errorf("replay: chapters: %w", err)
		}
		defer os.Remove(meta)
		args = append(args, "-f", "ffmetadata", "-i", meta)
	}
	var filter strings.Builder
	for i := range ins {
		fmt.Fprintf(&filter, "[%d:a]", i)
	}
	fmt.Fprintf(&filter, "amix=inputs=%d:duration=longest:normalize=0[out]", len(ins))
	args = append(args, "-filter_complex", filter.String(), "-map", "[out]")
	if len(turns) > 0 {
		args = append(args, "-map_chapters", fmt.Sprint(len(ins)))
	}
	tmp := out + ".tmp"
	args = append(args, "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "48k", "-f", "ogg", tmp)
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replay: ffmpeg: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// chapters writes turns as an ffmetadata file: one chapter per turn, titled with
// the speaker's ID (https://ffmpeg.org/ffmpeg-formats.html#Metadata-2).
func chapters(turns []Turn) []byte {
	var b bytes.Buffer
	b.WriteString(";FFMETADATA1\n")
	for _, t := range turns {
		fmt.Fprintf(&b, "[CHAPTER]\nTIMEBASE=1/1000\nSTART=%d\nEND=%d\ntitle=%s\n",
			t.Start.Milliseconds(), max(t.End, t.Start).Milliseconds(), metaEscape(t.UserID))
	}
	return b.Bytes()
}

// metaEscape escapes what ffmetadata gives a meaning: '=', ';', '#', '\' and
// newlines.
func metaEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '=', ';', '#', '\\', '\n':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// slotPaths lists the slot streams of a recording's folder, in slot order.
func slotPaths(dir string) ([]string, error) {
	var out []string
	for i := 0; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("slot%d.ogg", i))
		if _, err := os.Stat(p); err != nil {
			if os.IsNotExist(err) {
				return out, nil
			}
			return nil, fmt.Errorf("replay: %w", err)
		}
		out = append(out, p)
	}
}

// mixTimeout bounds one run of ffmpeg: a long room's replay takes seconds to mix
// (libopus encodes at many times real time).
const mixTimeout = 10 * time.Minute
