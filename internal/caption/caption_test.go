package caption

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/internal/audiotest"
)

func TestPocketsphinxTranscribesSpeech(t *testing.T) {
	audiotest.Tools(t, "espeak-ng", "ffmpeg", "pocketsphinx_continuous")
	const sentence = "welcome to the morning show today we talk about the weather and the city council"
	dir := t.TempDir()
	wav := filepath.Join(dir, "speech.wav")
	if out, err := exec.Command("espeak-ng", "-v", audiotest.Voice, "-s", "150", "-w", filepath.Join(dir, "raw.wav"), sentence).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", filepath.Join(dir, "raw.wav"), "-ar", "16000", "-ac", "1", wav).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	words, err := Pocketsphinx{}.Transcribe(context.Background(), wav)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range words {
		got = append(got, w.Text)
		if w.End < w.Start || w.Start > 10*time.Second {
			t.Errorf("word %+v: times out of the file", w)
		}
	}
	wer := WER(Words(sentence), got)
	t.Logf("pocketsphinx heard %q: WER %.2f", strings.Join(got, " "), wer)
	if wer > 0.25 {
		t.Errorf("WER %.2f over 0.25: heard %q", wer, strings.Join(got, " "))
	}
}

func TestPocketsphinxFailureIsAnError(t *testing.T) {
	audiotest.Tools(t, "pocketsphinx_continuous")
	if _, err := (Pocketsphinx{}).Transcribe(context.Background(), filepath.Join(t.TempDir(), "missing.wav")); err == nil {
		t.Error("a missing file transcribed without an error")
	}
}

func TestCuesAndWebVTT(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	words := []Word{
		{"hello", ms(0), ms(400)}, {"everyone", ms(450), ms(900)},
		{"after", ms(3000), ms(3300)}, {"a", ms(3350), ms(3400)}, {"pause", ms(3450), ms(3800)},
		{"bob", ms(4000), ms(4300)}, {"<here>", ms(4350), ms(4600)},
	}
	speakerAt := func(d time.Duration) string {
		if d >= ms(4000) {
			return "Bob & co"
		}
		return "Ada"
	}
	tests := []struct {
		name string
		want string
	}{
		{"a pause and a change of speaker start new cues; text and names are escaped", `WEBVTT

00:00:00.000 --> 00:00:00.900
<v Ada>hello everyone

00:00:03.000 --> 00:00:03.800
<v Ada>after a pause

00:00:04.000 --> 00:00:04.600
<v Bob &amp; co>bob &lt;here>
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteVTT(&b, Cues(words, speakerAt)); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
	t.Run("a long run of words is cut into cues of at most eight words", func(t *testing.T) {
		var many []Word
		for i := range 20 {
			many = append(many, Word{"w", ms(i * 100), ms(i*100 + 90)})
		}
		for _, c := range Cues(many, nil) {
			if n := len(strings.Fields(c.Text)); n > maxCueWords {
				t.Errorf("cue %+v holds %d words", c, n)
			}
		}
	})
}

func TestParseSphinxOfARealRun(t *testing.T) {
	out, err := os.ReadFile("testdata/sphinx-output.txt")
	if err != nil {
		t.Fatal(err)
	}
	words := parseSphinx(out)
	var got []string
	for _, w := range words {
		got = append(got, w.Text)
	}
	if want := "welcome to the morning show today we talk about the weather and the city council"; strings.Join(got, " ") != want {
		t.Errorf("words %q, want %q", strings.Join(got, " "), want)
	}
	if words[0].Start != 30*time.Millisecond || words[0].End != 490*time.Millisecond {
		t.Errorf("first word %+v, want 30 ms to 490 ms", words[0])
	}
}

// FuzzParseSphinx reads any output of the engine's subprocess: nothing panics,
// every word has a text and times in order. Seeded with a real run's output.
func FuzzParseSphinx(f *testing.F) {
	out, err := os.ReadFile("testdata/sphinx-output.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(out)
	f.Add([]byte("the(2) 1.0 2.0 0.5\n<sil> 1 2 1\nword NaN 1 1\nx 2 1 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, w := range parseSphinx(data) {
			if w.Text == "" || w.End < w.Start || w.Start < 0 {
				t.Fatalf("word %+v from %q", w, data)
			}
		}
	})
}
