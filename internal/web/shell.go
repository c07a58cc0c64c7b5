package web

import (
	"bytes"
	"context"
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
<title>{{with .Meta}}{{.Title}} · {{end}}{{.Name}}</title>
{{with .Meta}}<meta name="description" content="{{.Description}}">
<meta property="og:site_name" content="{{$.Name}}">
<meta property="og:type" content="website">
<meta property="og:title" content="{{.Title}}">
<meta property="og:description" content="{{.Description}}">
<meta property="og:url" content="{{.URL}}">
<meta property="og:image" content="{{.Image}}">
<meta property="og:image:type" content="image/png">
<meta property="og:image:width" content="1200">
<meta property="og:image:height" content="630">
<meta property="og:image:alt" content="{{.Title}}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="{{.Title}}">
<meta name="twitter:description" content="{{.Description}}">
<meta name="twitter:image" content="{{.Image}}">
{{end}}<link rel="icon" href="{{.Icon}}" type="image/svg+xml">
<link rel="manifest" href="/manifest.webmanifest">
<link rel="apple-touch-icon" href="/icons/192.png">
{{range .CSS}}<link rel="stylesheet" href="{{.}}">
{{end}}{{range .Modules}}<link rel="modulepreload" href="{{.}}">
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
	body, err := shellPage(name, a, nil)
	if err != nil {
		panic("web: rendering the shell: " + err.Error())
	}
	sum := sha256.Sum256(body)
	return &shell{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// shellPage renders the shell, with a shareable page's preview when meta is set.
func shellPage(name string, a *assets, meta *Preview) ([]byte, error) {
	var mods []string
	for _, m := range a.modules() {
		if m != "app.js" && m != "sw.js" {
			mods = append(mods, a.url(m))
		}
	}
	var buf bytes.Buffer
	err := shellTemplate.Execute(&buf, map[string]any{
		"Name": name, "Icon": a.url("icon.svg"), "CSS": []string{a.url("style.css"), a.url("room.css")}, "App": a.url("app.js"), "Modules": mods,
		"Meta": meta,
	})
	return buf.Bytes(), err
}

// shareShell serves the shell of a shareable page (a room, an event, a club, a
// profile, an invitation) with the tags that make a link to it unfold into a
// card elsewhere: Open Graph and Twitter's. What they say comes from preview,
// which says nothing about what a stranger may not see.
type shareShell struct {
	name    string
	assets  *assets
	kind    string // room, event, club, user, invitation
	param   string // the path value naming it
	preview func(ctx context.Context, kind, id string) Preview
}

func (s *shareShell) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := s.preview(r.Context(), s.kind, r.PathValue(s.param))
	body, err := shellPage(s.name, s.assets, &p)
	if err != nil {
		http.Error(w, "rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.Write(body)
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
