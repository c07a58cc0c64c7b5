package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"strings"
)

// shellTemplate is the one HTML page of the app. It holds no inline script or
// style (the Content-Security-Policy forbids them): app.js renders everything.
var shellTemplate = template.Must(template.New("shell").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#fbf6ef" media="(prefers-color-scheme: light)">
<meta name="theme-color" content="#171412" media="(prefers-color-scheme: dark)">
<meta name="color-scheme" content="light dark">
<title>{{.Name}}</title>
<link rel="icon" href="{{.Icon}}" type="image/svg+xml">
<link rel="stylesheet" href="{{.CSS}}">
{{range .Modules}}<link rel="modulepreload" href="{{.}}">
{{end}}<script type="module" src="{{.App}}"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<div id="app" data-name="{{.Name}}"><main id="main" class="page"><p class="boot">Loading {{.Name}}…</p></main></div>
<noscript><p class="noscript">{{.Name}} is a live audio app and needs JavaScript.</p></noscript>
</body>
</html>
`))

// shell serves the rendered page with its security headers; it is the same for
// every app route, so it carries an ETag and must be revalidated.
type shell struct {
	body []byte
	etag string
}

func renderShell(name string, a *assets) *shell {
	var mods []string
	for _, m := range a.modules() {
		if m != "app.js" {
			mods = append(mods, a.url(m))
		}
	}
	var buf bytes.Buffer
	err := shellTemplate.Execute(&buf, map[string]any{
		"Name": name, "Icon": a.url("icon.svg"), "CSS": a.url("style.css"), "App": a.url("app.js"), "Modules": mods,
	})
	if err != nil {
		panic("web: rendering the shell: " + err.Error())
	}
	sum := sha256.Sum256(buf.Bytes())
	return &shell{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

func (s *shell) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", s.etag)
	if r.Header.Get("If-None-Match") == s.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(s.body)
}

// notFoundShell answers an unknown path with the shell and 404: the app draws its
// own "Nothing here" page. Files under /static/ that do not exist stay a plain
// 404 (a page of HTML for a missing script helps nobody).
type notFoundShell struct{ s *shell }

func (n notFoundShell) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/static/") || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotFound)
	w.Write(n.s.body)
}
