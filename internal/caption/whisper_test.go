package caption

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// transcriptionServer answers POST /v1/audio/transcriptions with the file
// answer of testdata, after checking the request is what the API asks for.
func transcriptionServer(t *testing.T, answer string, status int) *httptest.Server {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", answer))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v1/audio/transcriptions" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, "no file", http.StatusBadRequest)
			return
		}
		audio, _ := io.ReadAll(f)
		if string(audio) != "RIFF fake wav" || r.FormValue("model") != "whisper-1" || r.FormValue("response_format") != "verbose_json" ||
			!strings.Contains(strings.Join(r.MultipartForm.Value["timestamp_granularities[]"], ","), "word") {
			http.Error(w, "a request the API does not describe", http.StatusBadRequest)
			return
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWhisperServerTranscribes(t *testing.T) {
	wav := filepath.Join(t.TempDir(), "a.wav")
	if err := os.WriteFile(wav, []byte("RIFF fake wav"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		answer string
		status int
		want   string
		first  Word
		err    error
	}{
		{"timed words are taken as they are", "transcription-verbose.json", 200,
			"Welcome to the morning show. Today we talk about the weather.", Word{"Welcome", 30 * time.Millisecond, 490 * time.Millisecond}, nil},
		{"segments without words share their time", "transcription-segments.json", 200,
			"Welcome to the morning show.", Word{"Welcome", 500 * time.Millisecond, 900 * time.Millisecond}, nil},
		{"a server error is an engine error", "transcription-segments.json", 500, "", Word{}, ErrEngine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := transcriptionServer(t, tt.answer, tt.status)
			words, err := Whisper{URL: srv.URL + "/"}.Transcribe(context.Background(), wav)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			var got []string
			for _, w := range words {
				got = append(got, w.Text)
			}
			if strings.Join(got, " ") != tt.want || words[0] != tt.first {
				t.Errorf("words %q (first %+v), want %q (first %+v)", strings.Join(got, " "), words[0], tt.want, tt.first)
			}
		})
	}
}

// FuzzParseTranscription reads any answer of a transcription server: nothing
// panics, and what is accepted has words with text and times in order.
// Seeded with verbose_json answers as whisper servers give them.
func FuzzParseTranscription(f *testing.F) {
	for _, name := range []string{"transcription-verbose.json", "transcription-segments.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"words":[{"word":"x","start":2,"end":1}]}`))
	f.Add([]byte(`{"segments":[{"text":"a b","start":1e300,"end":1e301}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		words, err := parseTranscription(data)
		if err != nil {
			return
		}
		for _, w := range words {
			if w.Text == "" || w.End < w.Start || w.Start < 0 {
				t.Fatalf("word %+v from %q", w, data)
			}
		}
	})
}
