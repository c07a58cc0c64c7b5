package server_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/townhall/townhall/internal/config"
	"github.com/townhall/townhall/internal/servertest"
)

func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := servertest.SelfSigned(t, dir)
	srv := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile }))
	code, base := srv.Code, srv.URL
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	t.Run("the server answers over TLS", func(t *testing.T) {
		resp, err := hc.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("plain HTTP on the TLS port is refused", func(t *testing.T) {
		resp, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Fatalf("plain HTTP answered 200: %s", body)
			}
		}
	})
	t.Run("the session cookie is Secure over TLS", func(t *testing.T) {
		resp, err := hc.Post(base+"/api/v1/signup", "application/json",
			strings.NewReader(`{"username":"ada","password":"correct horse battery","invite_code":"`+code+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var found bool
		for _, c := range resp.Cookies() {
			if c.Name == "townhall_session" {
				found = true
				if !c.Secure || !c.HttpOnly {
					t.Fatalf("cookie %+v", c)
				}
			}
		}
		if !found {
			t.Fatalf("no session cookie (status %d)", resp.StatusCode)
		}
	})
	t.Run("the links the server hands out use https", func(t *testing.T) {
		resp, err := hc.Post(base+"/api/v1/login", "application/json",
			strings.NewReader(`{"username":"ada","password":"correct horse battery"}`))
		if err != nil {
			t.Fatal(err)
		}
		var login struct{ Token string }
		_ = json.NewDecoder(resp.Body).Decode(&login)
		resp.Body.Close()
		req, _ := http.NewRequest("POST", base+"/api/v1/invites", nil)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err = hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var inv struct{ URL string }
		_ = json.NewDecoder(resp.Body).Decode(&inv)
		if !strings.HasPrefix(inv.URL, "https://") {
			t.Fatalf("invite link %q (status %d)", inv.URL, resp.StatusCode)
		}
	})
}
