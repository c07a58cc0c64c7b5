package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/townhall/townhall/internal/web"
)

func get(t *testing.T, h http.Handler, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var scriptSrc = regexp.MustCompile(`<script type="module" src="(/static/[0-9a-f]+/app\.js)"></script>`)

func TestEveryAppRouteServesTheShellWithStrictHeaders(t *testing.T) {
	h := web.Handler(web.Options{})
	for _, path := range []string{"/", "/join/CODE", "/login", "/rooms/abc", "/u/ada", "/notifications", "/invitations", "/i/CODE", "/invitations/xyz",
		"/events", "/events/e1k", "/clubs", "/clubs/c4d", "/settings", "/search"} {
		t.Run(path, func(t *testing.T) {
			res, body := get(t, h, path)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
				"img-src 'self' data:", "media-src 'self' blob: mediastream:", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe") {
				t.Errorf("CSP allows something unsafe: %q", csp)
			}
			for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
				"Content-Type": "text/html; charset=utf-8"} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !scriptSrc.MatchString(body) {
				t.Errorf("no module script at a hashed URL in\n%s", body)
			}
			if strings.Count(body, "<script") != 1 || strings.Contains(body, "<style") || strings.Contains(body, "style=") ||
				regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(body) {
				t.Errorf("the shell has inline script or style:\n%s", body)
			}
		})
	}
}

func TestUnknownPathsAreNotFound(t *testing.T) {
	h := web.Handler(web.Options{})
	for _, path := range []string{"/nope", "/rooms", "/rooms/a/b", "/static/app.js/", "/static/0000000000000000/app.js"} {
		t.Run(path, func(t *testing.T) {
			if res, _ := get(t, h, path); res.StatusCode != 404 {
				t.Errorf("status %d, want 404", res.StatusCode)
			}
		})
	}
}

func TestStaticFilesAreImmutableAtTheirHashedURL(t *testing.T) {
	h := web.Handler(web.Options{})
	_, shell := get(t, h, "/")
	app := scriptSrc.FindStringSubmatch(shell)[1]
	base := path.Dir(app)
	for _, tc := range []struct{ file, ctype string }{
		{"app.js", "text/javascript; charset=utf-8"},
		{"views/room.js", "text/javascript; charset=utf-8"},
		{"style.css", "text/css; charset=utf-8"},
		{"icon.svg", "image/svg+xml"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res, body := get(t, h, base+"/"+tc.file)
			if res.StatusCode != 200 || body == "" {
				t.Fatalf("status %d, %d bytes", res.StatusCode, len(body))
			}
			if got := res.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
				t.Errorf("Cache-Control %q is not immutable", got)
			}
			etag := res.Header.Get("ETag")
			if again, _ := get(t, h, base+"/"+tc.file, "If-None-Match", etag); etag == "" || again.StatusCode != 304 {
				t.Errorf("ETag %q: revalidation answered %d, want 304", etag, again.StatusCode)
			}
		})
	}
}

// The app's code must never turn data into markup: no innerHTML and friends,
// no eval, no inline styles set from script. Every import must resolve.
func TestTheAppCodeRendersDataAsTextOnly(t *testing.T) {
	root := os.DirFS("static")
	banned := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"]style|\.style\.cssText`)
	imports := regexp.MustCompile(`(?m)^import .* from '([^']+)';$|^\s*\} from '([^']+)';$`)
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		src := string(b)
		if m := banned.FindString(src); m != "" {
			t.Errorf("%s uses %s", p, m)
		}
		for _, m := range imports.FindAllStringSubmatch(src, -1) {
			spec := m[1] + m[2]
			target := path.Join(path.Dir(p), spec)
			if _, err := fs.Stat(root, target); err != nil {
				t.Errorf("%s imports %s, which does not exist", p, spec)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestClusterNodesMayBeConnectedTo: in a cluster the join API may send the room
// socket to another node, so the policy lets the page connect to the nodes'
// WebSocket origins, and to nothing that is not a plain origin.
func TestClusterNodesMayBeConnectedTo(t *testing.T) {
	nodes := []string{"http://10.0.0.2:8080", "https://n3.example.com", "https://n3.example.com/", "ftp://x.example",
		"https://evil.example; script-src *", "not a url"}
	h := web.Handler(web.Options{Nodes: func() []string { return nodes }})
	res, _ := get(t, h, "/rooms/abc")
	csp := res.Header.Get("Content-Security-Policy")
	if want := "connect-src 'self' ws://10.0.0.2:8080 wss://n3.example.com;"; !strings.Contains(csp, want) {
		t.Errorf("CSP %q lacks %q", csp, want)
	}
	if strings.Contains(csp, "evil") || strings.Contains(csp, "ftp") || strings.Count(csp, "script-src") != 1 {
		t.Errorf("CSP %q lets in a node URL that is not a plain origin", csp)
	}

	nodes = nil // a node that leaves is no longer allowed
	res, _ = get(t, h, "/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self';") {
		t.Errorf("CSP %q with no nodes", csp)
	}
}
