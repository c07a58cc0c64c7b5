package web_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/townhall/townhall/internal/servertest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir, and
// returns a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	return servertest.SelfSigned(t, dir)
}

// tlsSignUp makes the admin (with the first-run code) and bob, invited by the
// admin, over HTTPS with a client that trusts pool; it returns the admin's ID.
// (The Go client of the other tests takes no TLS settings.)
func tlsSignUp(t *testing.T, ts *testServer, pool *x509.CertPool) string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	call := func(path, token string, body, out any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, err := http.NewRequest("POST", ts.url+"/api/v1"+path, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: status %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	var admin struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	call("/signup", "", map[string]string{"username": "admin", "password": password, "invite_code": ts.code}, &admin)
	var inv struct {
		Code string `json:"code"`
	}
	call("/invites", admin.Token, map[string]string{}, &inv)
	var bob struct{}
	call("/signup", "", map[string]string{"username": "bob", "password": password, "invite_code": inv.Code}, &bob)
	return admin.User.ID
}

// cookieSecure reports whether the page's cookie name is set and Secure.
func cookieSecure(p *page, name string) bool {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, patience)
	defer cancel()
	var secure, found bool
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{p.base + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			if c.Name == name {
				found, secure = true, c.Secure
			}
		}
		return nil
	}))
	if err != nil {
		p.fail("reading cookies", err)
	}
	if !found {
		p.t.Errorf("%s: no cookie %s", p.name, name)
	}
	return secure
}
