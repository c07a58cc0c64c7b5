package caption

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Pocketsphinx is the built-in engine: CMU Pocketsphinx with its US-English
// model, as Debian packages them (pocketsphinx, pocketsphinx-en-us), run as a
// subprocess per file. Offline; modest accuracy.
type Pocketsphinx struct {
	Program string // "pocketsphinx_continuous" when empty
}

// Transcribe implements Engine.
func (p Pocketsphinx) Transcribe(ctx context.Context, wav string) ([]Word, error) {
	prog := p.Program
	if prog == "" {
		prog = "pocketsphinx_continuous"
	}
	cmd := exec.CommandContext(ctx, prog, "-infile", wav, "-time", "yes", "-logfn", "/dev/null")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v: %s", ErrEngine, prog, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return parseSphinx(out), nil
}

// parseSphinx reads the words of pocketsphinx_continuous -time yes: per
// utterance, a line of the hypothesis, then one line per word, "word start end
// confidence" in seconds. Silences, fillers and the utterance's marks (<s>,
// </s>, <sil>, [NOISE], ++BREATH++) are left out, and alternative pronunciations
// ("the(2)") are read as the word. Lines that are not word lines are skipped.
func parseSphinx(out []byte) []Word {
	var words []Word
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			continue
		}
		start, err1 := strconv.ParseFloat(f[1], 64)
		end, err2 := strconv.ParseFloat(f[2], 64)
		conf, err3 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil || err3 != nil || !(start >= 0 && end >= start && end < 1e7) || conf != conf {
			continue
		}
		w := f[0]
		if i := strings.IndexByte(w, '('); i > 0 && strings.HasSuffix(w, ")") {
			w = w[:i]
		}
		if w == "" || strings.ContainsAny(w[:1], "<[+") {
			continue
		}
		words = append(words, Word{Text: w, Start: seconds(start), End: seconds(end)})
	}
	return words
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
