package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/townhall/townhall/client"
	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/live"
	"github.com/townhall/townhall/internal/server"
	"github.com/townhall/townhall/internal/servertest"
)

// patience bounds every wait of the browser tests.
const patience = 15 * time.Second

// password is every test user's password.
const password = "correct horse battery"

// chromiumPath finds Debian's Chromium. Without it the browser tests skip, but
// under CI=true they fail: CI must run them.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed (apt-get install -y chromium); CI needs it for the browser tests")
	}
	t.Skip("Chromium is not installed; skipping the browser test (apt-get install -y chromium)")
	return ""
}

// browser is one headless Chromium process. Each user gets their own browser
// context in it (their own cookies), which is much cheaper than a process each.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts Chromium with the flags of /work/shared/NOTES.md (loopback
// WebRTC, fake microphone, no background network) in a fresh profile.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	exe := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// One --disable-features flag: a second one would replace chromedp's.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx}
}

// page is one user's tab, in its own browser context.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string

	mu     sync.Mutex
	errors []string // uncaught exceptions in the page

	net netLog // the requests and sockets of the tab
}

var clickSeq atomic.Int64

// user opens a tab for a new user (no cookies) on the server at base.
func (b *browser) user(name, base string) *page {
	b.t.Helper()
	p := &page{t: b.t, name: name, base: base}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.listen))
	b.t.Cleanup(cancel)
	p.ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		b.t.Fatalf("%s: opening a tab: %v", name, err)
	}
	b.t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errors {
			b.t.Errorf("%s: uncaught exception in the page: %s", name, e)
		}
	})
	return p
}

func (p *page) listen(ev any) {
	p.net.record(ev)
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg = d.Exception.Description
		}
		p.mu.Lock()
		p.errors = append(p.errors, fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber+1))
		p.mu.Unlock()
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range e.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			p.t.Logf("%s: console.%s: %s", p.name, e.Type, strings.Join(parts, " "))
		}
	}
}

// do runs actions with the test's patience.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, patience)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail(what, err)
	}
	if d := time.Since(start); d > time.Second {
		p.t.Logf("%s: %s took %s", p.name, what, d.Round(time.Millisecond))
	}
}

// fail reports what the page was doing and what it showed.
func (p *page) fail(what string, err error) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + "\n" + document.body.innerText`))
	p.t.Fatalf("%s: %s: %v\npage:\n%s", p.name, what, err, text)
}

// open loads path of the app.
func (p *page) open(path string) {
	p.t.Helper()
	p.do("opening "+path, chromedp.Navigate(p.base+path))
}

// waitFor waits until the JavaScript expression cond is truthy.
func (p *page) waitFor(what, cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, patience)
	defer cancel()
	start := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.fail("waiting for "+what, err)
	}
	if d := time.Since(start); d > time.Second {
		p.t.Logf("%s: waited %s for %s", p.name, d.Round(time.Millisecond), what)
	}
}

// waitText waits until the page's visible text contains s.
func (p *page) waitText(s string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("the text %q", s), fmt.Sprintf(`document.body.innerText.includes(%s)`, jsString(s)))
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, patience)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("evaluating "+expr, err)
	}
	return v
}

// click clicks (with the mouse, as a person would) the element that css selects.
// A live page redraws: when the element is replaced between being found and
// being clicked, the click looks for it again.
func (p *page) click(css string) {
	p.t.Helper()
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(p.ctx, patience)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
		cancel()
		if err == nil {
			return
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Could not find node") {
			p.fail("clicking "+css, err)
		}
		p.t.Logf("%s: %s was redrawn while being clicked; clicking again", p.name, css)
	}
}

// clickText clicks the visible button or link whose text is text, waiting for it
// to appear (and to be enabled). If the page redraws it meanwhile, it finds the
// new one.
func (p *page) clickText(text string) {
	p.t.Helper()
	for attempt := 1; ; attempt++ {
		mark := fmt.Sprintf("c%d", clickSeq.Add(1))
		p.waitFor(fmt.Sprintf("a button or link %q", text), fmt.Sprintf(`(() => {
			const want = %s;
			const els = [...document.querySelectorAll('button, a, [role=button]')].filter((e) =>
				e.textContent.trim() === want && !e.disabled && e.offsetParent !== null);
			const el = els[els.length - 1]; // the newest (a dialog's buttons come last)
			if (!el) return false;
			el.dataset.testClick = %q;
			return true;
		})()`, jsString(text), mark))
		// The element is there: clicking it takes moments, unless it was replaced.
		ctx, cancel := context.WithTimeout(p.ctx, patience/3)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-test-click=%q]`, mark)), chromedp.NodeVisible))
		cancel()
		if err == nil {
			return
		}
		if attempt == 3 {
			p.fail(fmt.Sprintf("clicking %q", text), err)
		}
		p.t.Logf("%s: %q was redrawn while being clicked (%v); clicking again", p.name, text, err)
	}
}

// fill types value into the input labelled label (its text, as a person reads it).
func (p *page) fill(label, value string) {
	p.t.Helper()
	mark := fmt.Sprintf("f%d", clickSeq.Add(1))
	p.waitFor(fmt.Sprintf("a field labelled %q", label), fmt.Sprintf(`(() => {
		const want = %s;
		const byLabel = [...document.querySelectorAll('label')].filter((l) => l.textContent.trim() === want && l.control);
		const byAria = [...document.querySelectorAll('input, textarea')].filter((e) => e.getAttribute('aria-label') === want);
		const el = [...byLabel.map((l) => l.control), ...byAria].filter((e) => e.offsetParent !== null).pop();
		if (!el) return false;
		el.dataset.testFill = %q;
		el.value = "";
		return true;
	})()`, jsString(label), mark))
	sel := chromedp.CSS(fmt.Sprintf(`[data-test-fill=%q]`, mark))
	p.do("filling "+label, chromedp.SendKeys(sel, value))
}

// viewport resizes the page (a phone is 375 px wide).
func (p *page) viewport(w, h int64) {
	p.t.Helper()
	p.do("resizing", chromedp.EmulateViewport(w, h))
}

// screenshot saves the whole page as name.png in the artifacts folder and
// returns its path.
func (p *page) screenshot(name string) string {
	p.t.Helper()
	return p.capture(name, chromedp.FullScreenshot(100))
}

// viewShot saves what the viewport shows, as it is scrolled, as name.png in
// the artifacts folder and returns its path.
func (p *page) viewShot(name string) string {
	p.t.Helper()
	return p.capture(name, chromedp.CaptureScreenshot())
}

func (p *page) capture(name string, shot chromedp.Action[[]byte]) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, patience)
	defer cancel()
	// Dismiss passing messages, then let the last frame settle (two animation frames).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelectorAll(".toast").forEach((t) => t.remove()),
		new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise)); err != nil {
		p.fail("waiting for a frame", err)
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		p.fail("taking a screenshot", err)
	}
	path := filepath.Join(artifacts(p.t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	return path
}

var artifactsOnce sync.Once
var artifactsDir string

// artifacts is the folder for screenshots: $TOWNHALL_ARTIFACTS, or a temporary
// folder of the test.
func artifacts(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TOWNHALL_ARTIFACTS"); d != "" {
		artifactsOnce.Do(func() { artifactsDir = d })
		if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		return artifactsDir
	}
	return t.TempDir()
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// testServer is a whole townhall server on loopback, as `townhall serve` runs it.
type testServer struct {
	url  string
	code string // the first-run invite code (unused until someone signs up with it)
}

// startServer runs a server with a fresh SQLite store and a hallway that pushes
// changes at once; configure changes its configuration first (TLS, say).
func startServer(t *testing.T, configure ...func(*config.Config)) *testServer {
	t.Helper()
	opts := []servertest.Option{servertest.WithServerOptions(
		server.WithLiveOptions(func(o *live.Options) { o.HallwayEvery = 20 * time.Millisecond }))}
	for _, f := range configure {
		opts = append(opts, servertest.WithConfig(f))
	}
	srv := servertest.Start(t, opts...)
	return &testServer{url: srv.URL, code: srv.Code}
}

// apiUser is a user driven through the Go client (the side of a test that is
// not under test).
type apiUser struct {
	*client.Client
	ID, Name string
}

// admin signs up the first (admin) account through the API with the first-run code.
func (ts *testServer) admin(t *testing.T) *apiUser {
	t.Helper()
	c, sess, err := client.New(ts.url).SignUp(context.Background(), "admin", password, ts.code)
	if err != nil {
		t.Fatal(err)
	}
	return &apiUser{Client: c, ID: sess.User.ID, Name: "admin"}
}

// invite signs up name, invited by inviter.
func (ts *testServer) invite(t *testing.T, inviter *apiUser, name string) *apiUser {
	t.Helper()
	inv, err := inviter.CreateInvite(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c, sess, err := client.New(ts.url).SignUp(context.Background(), name, password, inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	return &apiUser{Client: c, ID: sess.User.ID, Name: name}
}

// rename sets the user's display name.
func (u *apiUser) rename(t *testing.T, display string) {
	t.Helper()
	if err := u.Do(context.Background(), "PATCH", "/api/v1/me", map[string]string{"display_name": display}, nil); err != nil {
		t.Fatal(err)
	}
}

// login signs the page in through the login form.
func (p *page) login(name string) {
	p.t.Helper()
	p.open("/login")
	p.fill("Username", name)
	p.fill("Password", password)
	p.clickText("Log in")
	p.waitFor("the hallway", `location.pathname === "/" && !!document.querySelector(".hallway")`)
}

// rewrite points a link the server printed (http://localhost:PORT/...) at the
// test server's 127.0.0.1 address: the browser resolves no names.
func (ts *testServer) rewrite(link string) string {
	i := strings.Index(link, "/join/")
	if i < 0 {
		return link
	}
	return link[i:]
}
