package sfu

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestLeanUDPSocketOptions(t *testing.T) {
	lt := testLeanTransport(t)
	rc := lt.udp
	tests := []struct {
		name       string
		level, opt int
		want       int
	}{
		{"every packet carries the don't-fragment bit, whatever the path MTU", unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE},
		{"the kernel stamps each packet's arrival", unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int
			var gerr error
			if err := rc.Control(func(fd uintptr) { got, gerr = unix.GetsockoptInt(int(fd), tt.level, tt.opt) }); err != nil {
				t.Fatal(err)
			}
			if gerr != nil || got != tt.want {
				t.Fatalf("got %d (%v), want %d", got, gerr, tt.want)
			}
		})
	}
}
