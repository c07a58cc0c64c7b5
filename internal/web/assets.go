package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

// asset is one embedded static file.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets are the embedded static files and the hash of all of them, which is
// part of their URLs: /static/<hash>/<name>.
type assets struct {
	hash  string
	files map[string]asset
}

// contentTypes covers the extensions under static/; anything else is refused at
// start-up, so a new kind of file cannot be served with a guessed type.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// mustLoadAssets reads every file under static/ and hashes them together. It
// panics on an embedded file of unknown type: that is a bug in the binary.
func mustLoadAssets(fsys fs.FS) *assets {
	a := &assets{files: map[string]asset{}}
	var names []string
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = mime.TypeByExtension(path.Ext(p))
			panic("web: embedded file of unknown type: " + p + " (" + ct + ")")
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		a.files[name] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		names = append(names, name)
		return nil
	})
	if err != nil {
		panic("web: reading embedded files: " + err.Error())
	}
	sort.Strings(names)
	all := sha256.New()
	for _, n := range names {
		all.Write([]byte(n))
		all.Write([]byte{0})
		all.Write([]byte(a.files[n].etag))
	}
	a.hash = hex.EncodeToString(all.Sum(nil))[:16]
	return a
}

// url is where name is served.
func (a *assets) url(name string) string { return "/static/" + a.hash + "/" + name }

// modules lists the JavaScript modules, for modulepreload links.
func (a *assets) modules() []string {
	var out []string
	for n := range a.files {
		if strings.HasSuffix(n, ".js") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// ServeHTTP serves a static file at its hashed URL, cacheable forever. A request
// for another hash (an old page after a deploy) is 404: its files are gone.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[r.PathValue("file")]
	if !ok || r.PathValue("hash") != a.hash {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && match == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(f.body)
}
