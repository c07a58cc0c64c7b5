package sfu

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"the defaults are valid", func(*Config) {}, true},
		{"random ports are valid", func(c *Config) { c.UDPPort, c.TCPPort = 0, 0 }, true},
		{"a negative port is not", func(c *Config) { c.UDPPort = -1 }, false},
		{"a port over 65535 is not", func(c *Config) { c.TCPPort = 70000 }, false},
		{"zero slots are not", func(c *Config) { c.Slots = 0 }, false},
		{"more slots than MaxSlots are not", func(c *Config) { c.Slots = MaxSlots + 1 }, false},
		{"a zero disconnect timeout is not", func(c *Config) { c.DisconnectTimeout = 0 }, false},
		{"a zero consent timeout is not", func(c *Config) { c.ConsentTimeout = 0 }, false},
		{"no bound on ICE-TCP connections per IP is valid", func(c *Config) { c.TCPPerIP = 0 }, true},
		{"a negative bound on ICE-TCP connections per IP is not", func(c *Config) { c.TCPPerIP = -1 }, false},
		{"a public IP that is not an IP is not", func(c *Config) { c.PublicIPs = []string{"example.com"} }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestOfferUsesTheSharedPortsAndPublicIPs(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.PublicIPs = []string{"203.0.113.7"} })
	f := newTestForwarder(t, e)
	var offers []string
	for _, id := range []string{"a", "b"} {
		p, err := e.NewPeer(id, f, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		offer, err := p.Offer(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		offers = append(offers, offer.SDP)
	}
	udpPort := strconv.Itoa(e.UDPAddr().(*net.UDPAddr).Port)
	tcpPort := strconv.Itoa(e.TCPAddr().Port)
	for _, sdp := range offers {
		if n := strings.Count(sdp, "m=audio"); n != e.Slots()+1 {
			t.Errorf("%d audio m-lines, want %d", n, e.Slots()+1)
		}
		if n := strings.Count(sdp, "a=sendonly"); n != e.Slots() {
			t.Errorf("%d sendonly m-lines, want %d", n, e.Slots())
		}
		for _, want := range []string{
			"203.0.113.7 " + udpPort + " typ host",
			"203.0.113.7 " + tcpPort + " typ host tcptype passive",
			"a=extmap:1 " + AudioLevelURI,
			"a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1",
		} {
			if !strings.Contains(sdp, want) {
				t.Errorf("the offer lacks %q:\n%s", want, sdp)
			}
		}
		for _, unwanted := range []string{"127.0.0.1", "nack", "transport-cc", "goog-remb"} {
			if strings.Contains(sdp, unwanted) {
				t.Errorf("the offer holds %q", unwanted)
			}
		}
	}
}

func TestEngineCloseClosesPeers(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	f := newTestForwarder(t, e)
	p, err := e.NewPeer("a", f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a Peer outlived its Engine")
	}
	if _, err := e.NewForwarder(); err == nil {
		t.Error("a Forwarder from a closed Engine")
	}
}
