package server_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/servertest"
)

// TestSecurityHeaders checks the headers of every kind of response, over TLS with
// certificate files and over plain HTTP: nosniff always, HSTS over TLS only.
func TestSecurityHeaders(t *testing.T) {
	certFile, keyFile, pool := servertest.SelfSigned(t, t.TempDir())
	servers := []struct {
		name   string
		opts   []servertest.Option
		client *http.Client
		hsts   string // the Strict-Transport-Security every response carries
		says   string // what the responses carry, in words
	}{
		{"over TLS with certificate files", []servertest.Option{servertest.WithConfig(func(c *config.Config) {
			c.TLSCert, c.TLSKey = certFile, keyFile
		})}, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, api.HSTS,
			"nosniff and HSTS"},
		{"over plain HTTP", nil, &http.Client{}, "", "nosniff and no HSTS"},
	}
	for _, sv := range servers {
		srv := servertest.Start(t, sv.opts...)
		hc := sv.client
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		t.Cleanup(hc.CloseIdleConnections)
		get := func(t *testing.T, path string) (*http.Response, []byte) {
			t.Helper()
			resp, err := hc.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return resp, body
		}
		_, shell := get(t, "/")
		static := regexp.MustCompile(`/static/[0-9a-f]+/[^"]+\.js`).Find(shell)
		if static == nil {
			t.Fatalf("no script in the app's page: %s", shell)
		}

		responses := []struct{ what, path string }{
			{"the API's JSON", "/healthz"},
			{"an API error", "/api/v1/me"},
			{"an unknown API path", "/api/v1/nothing-here"},
			{"/metrics", "/metrics"},
			{"the web app's page", "/"},
			{"a static file", string(static)},
			{"a redirect", "/favicon.ico"},
			{"a page that does not exist", "/no-such-page"},
		}
		for _, rs := range responses {
			t.Run(sv.name+", "+rs.what+" comes with "+sv.says, func(t *testing.T) {
				resp, _ := get(t, rs.path)
				if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("%s (%d): X-Content-Type-Options %q, want nosniff", rs.path, resp.StatusCode, got)
				}
				if got := resp.Header.Get("Strict-Transport-Security"); got != sv.hsts {
					t.Errorf("%s (%d): Strict-Transport-Security %q, want %q", rs.path, resp.StatusCode, got, sv.hsts)
				}
			})
		}
	}
}
