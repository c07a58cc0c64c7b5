package caption

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Whisper is the engine for quality: any server of the OpenAI-compatible
// transcription API (whisper.cpp's server, faster-whisper servers), asked for
// timed words: POST {URL}/v1/audio/transcriptions, multipart, with
// response_format=verbose_json and timestamp_granularities[]=word
// (https://platform.openai.com/docs/api-reference/audio/createTranscription).
type Whisper struct {
	URL    string       // the server's base URL, e.g. http://127.0.0.1:8000
	Model  string       // "whisper-1" when empty
	Client *http.Client // http.DefaultClient when nil
}

// maxTranscription bounds the answer read from the server.
const maxTranscription = 16 << 20

// Transcribe implements Engine.
func (w Whisper) Transcribe(ctx context.Context, wav string) ([]Word, error) {
	f, err := os.Open(wav)
	if err != nil {
		return nil, fmt.Errorf("caption: %w", err)
	}
	defer f.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	model := w.Model
	if model == "" {
		model = "whisper-1"
	}
	for _, kv := range [][2]string{{"model", model}, {"response_format", "verbose_json"}, {"timestamp_granularities[]", "word"},
		{"timestamp_granularities[]", "segment"}} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	part, err := mw.CreateFormFile("file", filepath.Base(wav))
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(part, f); err != nil {
		return nil, fmt.Errorf("caption: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(w.URL, "/")+"/v1/audio/transcriptions", &body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEngine, err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEngine, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTranscription))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEngine, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: %.200s", ErrEngine, resp.Status, data)
	}
	return parseTranscription(data)
}

// parseTranscription reads a verbose_json answer. Without timed words, each
// segment's words share its time evenly. Times that make no sense (negative,
// reversed, not numbers, beyond a day) are an ErrEngine.
func parseTranscription(data []byte) ([]Word, error) {
	var t struct {
		Words []struct {
			Word  string  `json:"word"`
			Start float64 `json:"start"`
			End   float64 `json:"end"`
		} `json:"words"`
		Segments []struct {
			Text  string  `json:"text"`
			Start float64 `json:"start"`
			End   float64 `json:"end"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEngine, err)
	}
	var out []Word
	if len(t.Words) > 0 {
		for _, w := range t.Words {
			if !validSpan(w.Start, w.End) {
				return nil, fmt.Errorf("%w: a word from %v s to %v s", ErrEngine, w.Start, w.End)
			}
			if text := strings.TrimSpace(w.Word); text != "" {
				out = append(out, Word{Text: text, Start: seconds(w.Start), End: seconds(w.End)})
			}
		}
		return out, nil
	}
	for _, s := range t.Segments {
		if !validSpan(s.Start, s.End) {
			return nil, fmt.Errorf("%w: a segment from %v s to %v s", ErrEngine, s.Start, s.End)
		}
		words := strings.Fields(s.Text)
		step := (s.End - s.Start) / float64(max(len(words), 1))
		for i, w := range words {
			from := s.Start + float64(i)*step
			out = append(out, Word{Text: w, Start: seconds(from), End: seconds(from + step)})
		}
	}
	return out, nil
}

// validSpan: times in seconds, in order, within a day.
func validSpan(start, end float64) bool {
	return !math.IsNaN(start) && !math.IsNaN(end) && start >= 0 && end >= start && end <= float64(24*time.Hour/time.Second)
}
