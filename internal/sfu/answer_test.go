package sfu

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/townhall/townhall/internal/sfu/sfutest"
)

// readAnswers returns the real answers under testdata/answers (K = 3: four m-lines).
func readAnswers(t testing.TB) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("testdata/answers/*.sdp")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no answers under testdata: %v", err)
	}
	out := make(map[string]string)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = string(b)
	}
	return out
}

func TestRealAnswersPassValidation(t *testing.T) {
	for name, text := range readAnswers(t) {
		n, err := validateAnswer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: text}, 4)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if n == 0 {
			t.Errorf("%s: no candidate counted", name)
		}
	}
}

// badAnswers turns a good answer into bad ones.
func badAnswers(good string) []struct {
	name string
	desc webrtc.SessionDescription
	want error
} {
	answer := func(s string) webrtc.SessionDescription {
		return webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s}
	}
	drop := func(re string) string { return regexp.MustCompile(`(?m)^`+re+`.*\r?\n`).ReplaceAllString(good, "") }
	lastM := strings.LastIndex(good, "m=audio")
	manyCands := strings.Replace(good, "a=mid:0\r\n",
		"a=mid:0\r\n"+strings.Repeat("a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n", MaxRemoteCandidates+1), 1)
	return []struct {
		name string
		desc webrtc.SessionDescription
		want error
	}{
		{"an offer is not an answer", webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: good}, ErrBadAnswer},
		{"a provisional answer is not an answer", webrtc.SessionDescription{Type: webrtc.SDPTypePranswer, SDP: good}, ErrBadAnswer},
		{"an empty answer", answer(""), ErrBadAnswer},
		{"garbage", answer("hello\x00\xff world\r\nm=audio\r\n"), ErrBadAnswer},
		{"garbage with the right number of m-lines", answer(strings.Repeat("m=\r\n", 4)), ErrBadAnswer},
		{"an answer over 64 KiB", answer(good + "a=x-pad:" + strings.Repeat("x", MaxAnswerBytes) + "\r\n"), ErrAnswerTooLarge},
		{"thousands of m-lines", answer(good + strings.Repeat("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", 1500)), ErrBadAnswer},
		{"one m-line missing", answer(good[:lastM]), ErrBadAnswer},
		{"no fingerprint", answer(drop("a=fingerprint:")), ErrBadAnswer},
		{"a fingerprint without a value", answer(regexp.MustCompile(`a=fingerprint:.*`).ReplaceAllString(good, "a=fingerprint:sha-256")), ErrBadAnswer},
		{"no ICE credentials", answer(drop("a=ice-pwd:")), ErrBadAnswer},
		{"a video m-line", answer(strings.Replace(good, "m=audio", "m=video", 1)), ErrBadAnswer},
		{"too many candidates", answer(manyCands), ErrBadAnswer},
	}
}

func TestBadAnswersAreRefused(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	ctx := testContext(t)
	p, err := e.NewPeer("a", f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	client, err := sfutest.New(sfutest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good, err := client.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range badAnswers(good.SDP) {
		t.Run(tc.name, func(t *testing.T) {
			if err := p.SetAnswer(tc.desc); !errors.Is(err, tc.want) {
				t.Errorf("SetAnswer: %v, want %v", err, tc.want)
			}
		})
	}
	// A refused answer leaves the Peer waiting for a good one.
	if err := p.SetAnswer(good); err != nil {
		t.Fatalf("the good answer after the bad ones: %v", err)
	}
	select {
	case <-client.Connected():
	case <-time.After(10 * time.Second):
		t.Fatal("no connection after the good answer")
	}
}

// FuzzAnswer feeds arbitrary SDP to the checks that run before pion sees an answer:
// no panic, no hang, and anything accepted has one audio section per offered one.
func FuzzAnswer(f *testing.F) {
	for _, text := range readAnswers(f) {
		f.Add(text)
		f.Add(strings.ReplaceAll(text, "\r\n", "\n"))
		for _, bad := range badAnswers(text) {
			if len(bad.desc.SDP) < 8<<10 {
				f.Add(bad.desc.SDP)
			}
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, err := validateAnswer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: text}, 4)
		if err != nil {
			if !errors.Is(err, ErrBadAnswer) && !errors.Is(err, ErrAnswerTooLarge) {
				t.Fatalf("an error of the wrong kind: %v", err)
			}
			return
		}
		if n > MaxRemoteCandidates {
			t.Fatalf("accepted %d candidates", n)
		}
		if c := strings.Count(text, "m="); c < 4 {
			t.Fatalf("accepted an answer with %d m-lines", c)
		}
	})
}
