package replay

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/townhall/townhall/internal/caption"
)

// maxLiveWords bounds the live captions a recording keeps: about a day of
// speech.
const maxLiveWords = 500_000

// liveWord is a word of the live captions, timed from the recording's start.
type liveWord struct {
	speaker string // the participant ID
	word    caption.Word
}

// AddLiveCaption keeps the words of a line of live captions of roomID, said by
// speaker from start (words are timed from it), for the replay's WebVTT
// captions. Nothing if the room is not being recorded.
func (s *Service) AddLiveCaption(roomID, speaker string, start time.Time, words []caption.Word) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.live[roomID]
	if !ok || sess.rec == nil || sess.stopping {
		return
	}
	off := start.Sub(sess.started)
	for _, w := range words {
		if len(sess.liveWords) >= maxLiveWords {
			return
		}
		w.Start, w.End = max(0, w.Start+off), max(0, w.End+off)
		sess.liveWords = append(sess.liveWords, liveWord{speaker: speaker, word: w})
	}
}

// writeLiveCaptions writes the live captions of a recording as its replay's
// captions.vtt, each cue labelled with its speaker's name.
func (s *Service) writeLiveCaptions(ctx context.Context, roomID string, live []liveWord) error {
	slices.SortStableFunc(live, func(a, b liveWord) int { return int(a.word.Start - b.word.Start) })
	words := make([]caption.Word, len(live))
	who := make(map[time.Duration]string, len(live))
	for i, lw := range live {
		words[i] = lw.word
		who[lw.word.Start] = lw.speaker
	}
	name := s.speakerNames(ctx)
	speakerAt := func(d time.Duration) string { return name(who[d]) }
	var b bytes.Buffer
	if err := caption.WriteVTT(&b, caption.Cues(words, speakerAt)); err != nil {
		return err
	}
	dir := s.roomDir(roomID)
	tmp := filepath.Join(dir, "captions.vtt.tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "captions.vtt"))
}
