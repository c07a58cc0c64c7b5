package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/townhall/townhall/internal/account"
	"github.com/townhall/townhall/internal/api"
	"github.com/townhall/townhall/internal/store/storetest"
)

// env is an API served over real HTTP on loopback, backed by a real SQLite store.
type env struct {
	t        *testing.T
	srv      *httptest.Server
	accounts *account.Service
	opts     api.Options
}

type envOption func(*api.Options, *account.Options)

func withRates(login, lookup float64) envOption {
	return func(o *api.Options, _ *account.Options) { o.LoginPerMinute, o.LookupPerSecond = login, lookup }
}

func withInvitesPerUser(n int) envOption {
	return func(_ *api.Options, a *account.Options) { a.InvitesPerUser = n }
}

func newEnv(t *testing.T, driver string, options ...envOption) *env {
	t.Helper()
	db := storetest.Open(t, driver)
	aopts := account.Options{SessionTTL: time.Hour, InviteTTL: time.Hour, InvitesPerUser: 5,
		Hasher: account.NewHasher(64, 1)} // cheap hashes: tests measure rules, not cost
	opts := api.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(),
		PublicURL: "http://townhall.test", LoginPerMinute: 1000, LookupPerSecond: 1000, Ready: db.Ping}
	for _, o := range options {
		o(&opts, &aopts)
	}
	accounts, err := account.NewService(context.Background(), db, aopts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Accounts = accounts
	srv := httptest.NewServer(api.New(opts).Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, accounts: accounts, opts: opts}
}

// response is what a request returned.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// code is the stable error code of an error response ("" if none).
func (r response) code() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) str(key string) string { s, _ := r.body[key].(string); return s }

type req struct {
	method, path, token string
	body                any // a string is sent as is; anything else as JSON
	header              map[string]string
	cookie              *http.Cookie
}

func (e *env) do(r req) response {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	resp, err := e.srv.Client().Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: response is not JSON: %v: %s", r.method, r.path, err, raw)
		}
	}
	return out
}

// expect fails the test unless resp has the status (and, for errors, the code).
func expect(t *testing.T, resp response, status int, code string) {
	t.Helper()
	if resp.status != status || resp.code() != code {
		t.Fatalf("got %d %q, want %d %q; body: %s", resp.status, resp.code(), status, code, resp.raw)
	}
}

// user is a signed-up account and its bearer token.
type user struct {
	name, token, id string
}

// admin creates the first account with the first-run code.
func (e *env) admin(name string) user {
	e.t.Helper()
	code, ok, err := e.accounts.FirstRunInvite(context.Background())
	if err != nil || !ok {
		e.t.Fatalf("first-run invite: %v %v", ok, err)
	}
	return e.signup(name, code)
}

func (e *env) signup(name, code string) user {
	e.t.Helper()
	resp := e.do(req{method: "POST", path: "/api/v1/signup", body: map[string]string{
		"username": name, "password": "correct horse battery", "invite_code": code}})
	expect(e.t, resp, 201, "")
	u, _ := resp.body["user"].(map[string]any)
	id, _ := u["id"].(string)
	return user{name: name, token: resp.str("token"), id: id}
}

// invited creates a user invited by from.
func (e *env) invited(from user, name string) user {
	e.t.Helper()
	resp := e.do(req{method: "POST", path: "/api/v1/invites", token: from.token})
	expect(e.t, resp, 201, "")
	return e.signup(name, resp.str("code"))
}
