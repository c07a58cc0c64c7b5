package config

import (
	"flag"
	"testing"
	"time"
)

func TestListenerPtime(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    int // ListenerFrames; 0: Parse fails
		wantDur time.Duration
	}{
		{"the default is 20 ms, one frame a packet", nil, nil, 1, 20 * time.Millisecond},
		{"40 ms joins two frames", []string{"--listener-ptime", "40ms"}, nil, 2, 40 * time.Millisecond},
		{"60 ms from the environment joins three", nil, map[string]string{"TOWNHALL_LISTENER_PTIME": "60ms"}, 3, 60 * time.Millisecond},
		{"the flag wins over the environment", []string{"--listener-ptime=20ms"}, map[string]string{"TOWNHALL_LISTENER_PTIME": "60ms"}, 1, 20 * time.Millisecond},
		{"30 ms is refused", []string{"--listener-ptime", "30ms"}, nil, 0, 0},
		{"80 ms is refused", []string{"--listener-ptime", "80ms"}, nil, 0, 0},
		{"0 is refused", []string{"--listener-ptime", "0s"}, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			err := c.Parse(fs, tt.args, func(k string) string { return tt.env[k] })
			if tt.want == 0 {
				if err == nil {
					t.Fatalf("Parse accepted %s", c.ListenerPtime)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c.ListenerPtime != tt.wantDur || c.ListenerFrames() != tt.want {
				t.Errorf("ptime %s, %d frames; want %s, %d", c.ListenerPtime, c.ListenerFrames(), tt.wantDur, tt.want)
			}
		})
	}
}
