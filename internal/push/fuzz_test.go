package push

import (
	"testing"
)

// FuzzCheck: a subscription is accepted only with an https endpoint, a P-256
// point and a 16-byte secret; nothing a browser (or anyone) sends panics.
func FuzzCheck(f *testing.F) {
	f.Add("https://push.example.net/send/abc", "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "tBHItJI5svbpez7KI4CCXg")
	f.Add("http://127.0.0.1/x", "AAAA", "AAAA")
	f.Add("https://a:b@x/y", "", "")
	s := New(Options{})
	f.Fuzz(func(t *testing.T, endpoint, p256dh, auth string) {
		err := s.check(Subscription{Endpoint: endpoint, P256dh: p256dh, Auth: auth})
		if err == nil && (len(endpoint) < 8 || endpoint[:8] != "https://") {
			t.Fatalf("accepted the endpoint %q", endpoint)
		}
	})
}
