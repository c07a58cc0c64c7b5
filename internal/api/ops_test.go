package api_test

import (
	"strings"
	"testing"
)

func TestOperationalEndpoints(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.admin("founder")
	t.Run("healthz says the process is alive", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/healthz"}), 200, "")
	})
	t.Run("readyz says the store is reachable", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/readyz"}), 200, "")
	})
	t.Run("metrics count requests by route pattern and status", func(t *testing.T) {
		e.do(req{method: "GET", path: "/api/v1/users/founder"})
		resp := e.do(req{method: "GET", path: "/metrics"})
		body := string(resp.raw)
		for _, want := range []string{
			`townhall_http_requests_total{code="401",route="GET /api/v1/users/{username}"}`,
			`townhall_http_request_duration_seconds_bucket`,
		} {
			if !strings.Contains(body, want) {
				t.Fatalf("metrics lack %s", want)
			}
		}
	})
	t.Run("an unknown API path is a JSON 404", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/api/v1/nothing-here"}), 404, "not_found")
	})
}
