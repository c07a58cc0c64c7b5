package loadtest

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// audioLevelURI is the RFC 6464 client-to-mixer audio level header extension.
const audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// offer is what the generator needs from a server's SDP offer.
type offer struct {
	ufrag, pwd  string
	fingerprint string // "sha-256 AB:CD:..."
	lite        bool   // a=ice-lite: the server only answers checks; we nominate
	server      *net.UDPAddr
	mids        []string
	micMid      string // the last m-line: the server receives the microphone there
	levelID     int    // audio level extension ID of the microphone m-line (0: none)
	payloadType int    // Opus
}

// parseOffer reads the parts of an offer the generator uses. It looks for a UDP
// host candidate on IPv4 (the server's shared port).
func parseOffer(sdp string) (*offer, error) {
	o := &offer{payloadType: -1}
	mline := -1
	levelIDs := map[int]int{}
	for _, line := range strings.Split(sdp, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "m="):
			mline++
			if f := strings.Fields(line); len(f) >= 4 && o.payloadType < 0 {
				o.payloadType, _ = strconv.Atoi(f[3])
			}
		case line == "a=ice-lite":
			o.lite = true
		case strings.HasPrefix(line, "a=ice-ufrag:") && o.ufrag == "":
			o.ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=ice-pwd:") && o.pwd == "":
			o.pwd = strings.TrimPrefix(line, "a=ice-pwd:")
		case strings.HasPrefix(line, "a=fingerprint:") && o.fingerprint == "":
			o.fingerprint = strings.TrimPrefix(line, "a=fingerprint:")
		case strings.HasPrefix(line, "a=mid:"):
			o.mids = append(o.mids, strings.TrimPrefix(line, "a=mid:"))
		case strings.HasPrefix(line, "a=extmap:") && strings.Contains(line, audioLevelURI):
			idDir, _, _ := strings.Cut(strings.TrimPrefix(line, "a=extmap:"), " ")
			idStr, _, _ := strings.Cut(idDir, "/")
			if id, err := strconv.Atoi(idStr); err == nil {
				levelIDs[mline] = id
			}
		case strings.HasPrefix(line, "a=candidate:") && o.server == nil:
			// candidate:foundation component transport priority ip port typ host ...
			f := strings.Fields(strings.TrimPrefix(line, "a="))
			if len(f) >= 8 && f[1] == "1" && strings.EqualFold(f[2], "udp") && f[7] == "host" {
				ip := net.ParseIP(f[4])
				port, err := strconv.Atoi(f[5])
				if ip != nil && ip.To4() != nil && err == nil {
					o.server = &net.UDPAddr{IP: ip.To4(), Port: port}
				}
			}
		}
	}
	switch {
	case o.ufrag == "" || o.pwd == "":
		return nil, fmt.Errorf("offer: no ICE credentials")
	case o.fingerprint == "":
		return nil, fmt.Errorf("offer: no DTLS fingerprint")
	case o.server == nil:
		return nil, fmt.Errorf("offer: no IPv4 UDP host candidate")
	case len(o.mids) < 2 || mline+1 != len(o.mids):
		return nil, fmt.Errorf("offer: %d m-lines with %d mids", mline+1, len(o.mids))
	case o.payloadType < 0:
		return nil, fmt.Errorf("offer: no payload type")
	}
	o.micMid = o.mids[len(o.mids)-1]
	o.levelID = levelIDs[len(o.mids)-1]
	return o, nil
}

// answerParams is what differs between the answers of two participants.
type answerParams struct {
	ufrag, pwd  string
	fingerprint string // ours, "sha-256 AB:..."
	local       *net.UDPAddr
	micSSRC     uint32 // 0: a listener, whose microphone m-line sends nothing
}

// buildAnswer answers o the way a browser does: every slot recvonly, the
// microphone m-line sendonly (with an SSRC when the participant speaks), DTLS
// client (setup:active), bundled over one transport, our one host candidate.
func buildAnswer(o *offer, a answerParams) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	b.WriteString("a=group:BUNDLE " + strings.Join(o.mids, " ") + "\r\n")
	b.WriteString("a=msid-semantic: WMS\r\n")
	port := strconv.Itoa(a.local.Port)
	ip := a.local.IP.String()
	for i, mid := range o.mids {
		fmt.Fprintf(&b, "m=audio %s UDP/TLS/RTP/SAVPF %d\r\n", port, o.payloadType)
		b.WriteString("c=IN IP4 " + ip + "\r\n")
		b.WriteString("a=rtcp:" + port + " IN IP4 " + ip + "\r\n")
		if i == 0 {
			fmt.Fprintf(&b, "a=candidate:1 1 udp 2130706431 %s %s typ host\r\n", ip, port)
			b.WriteString("a=end-of-candidates\r\n")
		}
		b.WriteString("a=ice-ufrag:" + a.ufrag + "\r\na=ice-pwd:" + a.pwd + "\r\n")
		b.WriteString("a=fingerprint:" + a.fingerprint + "\r\na=setup:active\r\n")
		b.WriteString("a=mid:" + mid + "\r\n")
		if mid == o.micMid && o.levelID > 0 {
			fmt.Fprintf(&b, "a=extmap:%d %s\r\n", o.levelID, audioLevelURI)
		}
		if mid == o.micMid {
			b.WriteString("a=sendonly\r\n")
		} else {
			b.WriteString("a=recvonly\r\n")
		}
		b.WriteString("a=rtcp-mux\r\n")
		fmt.Fprintf(&b, "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n", o.payloadType, o.payloadType)
		if mid == o.micMid && a.micSSRC != 0 {
			b.WriteString("a=msid:loadtest mic\r\n")
			fmt.Fprintf(&b, "a=ssrc:%d cname:loadtest\r\na=ssrc:%d msid:loadtest mic\r\n", a.micSSRC, a.micSSRC)
		}
	}
	return b.String()
}
