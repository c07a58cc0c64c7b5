package sfu

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"github.com/townhall/townhall/internal/sfu/sfutest"
)

// chromium starts headless Chromium with the loopback WebRTC flags of the project's
// notes, or skips the test when it is not installed (and fails under CI=true).
func chromium(t *testing.T) context.Context {
	t.Helper()
	var exe string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium is not installed (apt-get install -y chromium); CI needs it")
		}
		t.Skip("Chromium is not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// One --disable-features flag: a second one would replace chromedp's.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// js evaluates a JavaScript expression (awaiting a promise) in the page.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("javascript %.60q: %v", expr, err)
	}
	return v
}

// browserAnswer is what the web client does with the server's offer: apply it, turn
// the microphone m-line to sendonly with no track yet, answer with all candidates.
const browserAnswer = `(async (offer) => {
	const pc = new RTCPeerConnection();
	window.th = { pc };
	await pc.setRemoteDescription({ type: "offer", sdp: offer });
	const trs = pc.getTransceivers();
	th.mic = trs[trs.length - 1];
	th.mic.direction = "sendonly";
	await pc.setLocalDescription(await pc.createAnswer());
	await new Promise((done) => {
		const check = () => pc.iceGatheringState === "complete" && done();
		pc.addEventListener("icegatheringstatechange", check);
		check();
	});
	return pc.localDescription.sdp;
})`

// browserStats returns, per mid, the packets the browser received.
const browserStats = `(async () => {
	const out = {};
	(await th.pc.getStats()).forEach((r) => {
		if (r.type === "inbound-rtp") out[r.mid] = r.packetsReceived;
	});
	return JSON.stringify(out);
})()`

// browserSpeaks puts a tone on the microphone sender, as replaceTrack(mic) does
// when the user goes on stage: no renegotiation.
const browserSpeaks = `(async () => {
	const ac = new AudioContext();
	const osc = ac.createOscillator();
	const dst = ac.createMediaStreamDestination();
	osc.frequency.value = 440;
	osc.connect(dst);
	osc.start();
	await th.mic.sender.replaceTrack(dst.stream.getAudioTracks()[0]);
	return true;
})()`

func TestChromiumHearsAndIsHeard(t *testing.T) {
	ctx := chromium(t)
	e, _ := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	sp := join(t, e, f, "speaker", sfutest.Options{})
	listener := join(t, e, f, "listener", sfutest.Options{})
	f.SetAllowed("speaker", true)
	startSpeaking(t, sp, 1, 25)

	peer, err := e.NewPeer("browser", f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	offer, err := peer.Offer(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	arg, _ := json.Marshal(offer.SDP)
	answer := js[string](t, ctx, browserAnswer+"("+string(arg)+")")
	if err := peer.SetAnswer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("Chromium's answer: %v\n%s", err, answer)
	}
	waitFor(t, 15*time.Second, "Chromium connected", func() bool { return peer.State() == StateConnected })

	waitFor(t, 10*time.Second, "Chromium receives the speaker in slot 0", func() bool {
		var got map[string]int
		_ = json.Unmarshal([]byte(js[string](t, ctx, browserStats)), &got)
		return got["0"] >= 50
	})

	f.SetAllowed("browser", true)
	js[bool](t, ctx, browserSpeaks)
	waitFor(t, 10*time.Second, "the listener hears Chromium, with its audio level", func() bool {
		for slot := 0; slot < f.Slots(); slot++ {
			n := 0
			for _, p := range listener.client.Received(slot) {
				if _, _, ours := payloadFrom(p.Payload); !ours && p.HasLevel && p.Level < 127 {
					n++
				}
			}
			if n >= 25 {
				return true
			}
		}
		return false
	})
}
