package loadtest

import (
	"slices"
	"testing"
)

func TestReceiverSockets(t *testing.T) {
	tests := []struct {
		name                string
		speakers, listeners int
		receivers, want     int
	}{
		{"a small audience is read from one socket", 3, 100, 0, 1},
		{"one socket per 250 participants", 3, 500, 0, 3},
		{"never more than four sockets", 3, 3000, 0, 4},
		{"no listeners still need a socket", 1, 0, 0, 1},
		{"a count given by hand is kept", 3, 100, 6, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Speakers, c.Listeners, c.Receivers = tt.speakers, tt.listeners, tt.receivers
			if got := c.ReceiverSockets(); got != tt.want {
				t.Fatalf("ReceiverSockets() = %d, want %d", got, tt.want)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
	t.Run("a negative count is refused", func(t *testing.T) {
		c := DefaultConfig()
		c.Receivers = -1
		if c.Validate() == nil {
			t.Fatal("no error")
		}
	})
}

func TestURLs(t *testing.T) {
	for _, tt := range []struct {
		name, url string
		want      []string
		valid     bool
	}{
		{"one server is one URL", "http://127.0.0.1:8080", []string{"http://127.0.0.1:8080"}, true},
		{"the nodes of a cluster are split at commas", "http://a:1, http://b:2,http://c:3",
			[]string{"http://a:1", "http://b:2", "http://c:3"}, true},
		{"an empty node is refused", "http://a:1,,http://b:2", []string{"http://a:1", "", "http://b:2"}, false},
		{"a node without a scheme is refused", "http://a:1,b:2", []string{"http://a:1", "b:2"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.URL = tt.url
			if got := c.URLs(); !slices.Equal(got, tt.want) {
				t.Fatalf("URLs() = %q, want %q", got, tt.want)
			}
			if err := c.Validate(); (err == nil) != tt.valid {
				t.Fatalf("Validate() = %v, want valid %v", err, tt.valid)
			}
		})
	}
}
