package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Bounds on what a client may send through signaling.
const (
	// MaxAnswerBytes bounds an SDP answer. A browser's answer to our offer is about
	// 3 KiB; 64 KiB leaves room for many candidates and extensions.
	MaxAnswerBytes = 64 << 10
	// MaxCandidateBytes bounds one trickled ICE candidate line.
	MaxCandidateBytes = 1 << 10
	// MaxRemoteCandidates bounds the ICE candidates of one client, in its answer and
	// trickled together: each makes the server send connectivity checks.
	MaxRemoteCandidates = 64
)

// validateAnswer checks a client's answer before pion sees it: type, size, one media
// section per offered one (RFC 3264 §6: an answer has exactly as many m-lines as the
// offer), all audio, a DTLS fingerprint (RFC 8122 §5) and ICE credentials (RFC 8839
// §5.4) for each section, at session or media level, and a bounded number of
// candidates. It returns how many candidates the answer holds.
//
// https://www.rfc-editor.org/rfc/rfc3264#section-6
// https://www.rfc-editor.org/rfc/rfc8122#section-5
// https://www.rfc-editor.org/rfc/rfc8839#section-5.4
func validateAnswer(desc webrtc.SessionDescription, mlines int) (candidates int, err error) {
	if desc.Type != webrtc.SDPTypeAnswer {
		return 0, fmt.Errorf("%w: type %q, want answer", ErrBadAnswer, desc.Type.String())
	}
	if len(desc.SDP) > MaxAnswerBytes {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrAnswerTooLarge, len(desc.SDP), MaxAnswerBytes)
	}
	// Count before parsing: thousands of m-lines cost the parser more than a scan.
	if n := countLines(desc.SDP, "m="); n != mlines {
		return 0, fmt.Errorf("%w: %d media sections, want %d", ErrBadAnswer, n, mlines)
	}
	if n := countLines(desc.SDP, "a=candidate:"); n > MaxRemoteCandidates {
		return 0, fmt.Errorf("%w: %d candidates, at most %d", ErrBadAnswer, n, MaxRemoteCandidates)
	}
	var s sdp.SessionDescription
	if err := s.UnmarshalString(desc.SDP); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	if len(s.MediaDescriptions) != mlines {
		return 0, fmt.Errorf("%w: %d media sections, want %d", ErrBadAnswer, len(s.MediaDescriptions), mlines)
	}
	sessionFP, _ := s.Attribute("fingerprint")
	sessionUfrag, _ := s.Attribute("ice-ufrag")
	sessionPwd, _ := s.Attribute("ice-pwd")
	for i, md := range s.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			return 0, fmt.Errorf("%w: media section %d is %q, want audio", ErrBadAnswer, i, md.MediaName.Media)
		}
		fp, ok := md.Attribute("fingerprint")
		if !ok {
			fp = sessionFP
		}
		if hash, value, ok := strings.Cut(strings.TrimSpace(fp), " "); !ok || hash == "" || value == "" {
			return 0, fmt.Errorf("%w: media section %d has no DTLS fingerprint", ErrBadAnswer, i)
		}
		ufrag, ok := md.Attribute("ice-ufrag")
		if !ok {
			ufrag = sessionUfrag
		}
		pwd, ok := md.Attribute("ice-pwd")
		if !ok {
			pwd = sessionPwd
		}
		if ufrag == "" || pwd == "" {
			return 0, fmt.Errorf("%w: media section %d has no ICE credentials", ErrBadAnswer, i)
		}
	}
	return countLines(desc.SDP, "a=candidate:"), nil
}

// countLines counts the lines of an SDP text that begin with prefix.
func countLines(text, prefix string) int {
	n := strings.Count(text, "\n"+prefix)
	if strings.HasPrefix(text, prefix) {
		n++
	}
	return n
}

// validateCandidate checks one trickled candidate before pion parses it.
func validateCandidate(c webrtc.ICECandidateInit) error {
	if len(c.Candidate) > MaxCandidateBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrBadCandidate, len(c.Candidate), MaxCandidateBytes)
	}
	if c.UsernameFragment != nil && len(*c.UsernameFragment) > 256 {
		return fmt.Errorf("%w: username fragment too long", ErrBadCandidate)
	}
	if c.SDPMid != nil && len(*c.SDPMid) > 32 {
		return fmt.Errorf("%w: mid too long", ErrBadCandidate)
	}
	return nil
}
