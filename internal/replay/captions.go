package replay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/townhall/townhall/internal/caption"
	"github.com/townhall/townhall/internal/ids"
)

// captionTimeout bounds the captioning of one replay: Pocketsphinx takes about a
// third of the audio's length.
const captionTimeout = time.Hour

// caption makes captions.vtt of roomID's replay: ffmpeg decodes it to 16 kHz
// mono at a steady loudness (EBU R128, -23 LUFS: Pocketsphinx misses words of
// loud speech; on espeak-ng's, the word error rate fell from 0.87 to 0.27), the
// engine transcribes it, and each cue is labelled with the speaker the
// timeline says was heard when it began.
func (s *Service) caption(ctx context.Context, roomID string, turns []Turn) error {
	ctx, cancel := context.WithTimeout(ctx, captionTimeout)
	defer cancel()
	dir := s.roomDir(roomID)
	wav := filepath.Join(dir, "captions.wav")
	defer os.Remove(wav)
	cmd := exec.CommandContext(ctx, s.opts.FFmpeg, "-nostdin", "-v", "error", "-y", "-i", filepath.Join(dir, "replay.ogg"),
		"-af", "loudnorm=I=-23", "-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", wav)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("replay: ffmpeg: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	words, err := s.opts.Captions.Transcribe(ctx, wav)
	if err != nil {
		return err
	}
	name := s.speakerNames(ctx)
	speakerAt := func(d time.Duration) string {
		const slack = 300 * time.Millisecond // the timeline's turns start with the packets, the words a little later
		who := ""
		for _, t := range turns {
			if t.Start-slack <= d && d <= t.End+slack {
				who = t.UserID // the latest turn that holds d
			}
		}
		if who == "" {
			return ""
		}
		return name(who)
	}
	var b bytes.Buffer
	if err := caption.WriteVTT(&b, caption.Cues(words, speakerAt)); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "captions.vtt.tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "captions.vtt"))
}

// OpenCaptions opens the WebVTT captions of roomID's replay. ErrNotFound if it
// has none.
func (s *Service) OpenCaptions(ctx context.Context, roomID string) (io.ReadSeekCloser, Replay, error) {
	r, err := s.Replay(ctx, roomID)
	if err != nil {
		return nil, Replay{}, err
	}
	if !r.Captions || !ids.Valid(roomID) {
		return nil, r, ErrNotFound
	}
	f, err := s.open(ctx, captionsName(roomID))
	return f, r, err
}

// speakerNames returns a function naming a speaker by their user ID, asking
// Options.SpeakerName once per speaker (their ID when it has no name for them).
func (s *Service) speakerNames(ctx context.Context) func(id string) string {
	names := map[string]string{}
	return func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		n := id
		if s.opts.SpeakerName != nil {
			if got := s.opts.SpeakerName(ctx, id); got != "" {
				n = got
			}
		}
		names[id] = n
		return n
	}
}
