package loadtest

import (
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond) // 1 ms to 1 s
	}
	for _, tc := range []struct {
		q, want float64
	}{{0.5, 500}, {0.99, 990}, {1, 1000}} {
		if got := h.quantile(tc.q); got < tc.want*0.98 || got > tc.want*1.02 {
			t.Errorf("q%.2f = %.1f ms, want %.0f ± 2 %%", tc.q, got, tc.want)
		}
	}
	if h.max != 1000000 {
		t.Errorf("max %d µs", h.max)
	}
	for us := int64(0); us < 1<<40; us = us*5/4 + 1 {
		if b := bucketOf(us); lowerBound(b) > us || b+1 < len(h.counts) && lowerBound(b+1) <= us {
			t.Fatalf("%d µs in bucket %d [%d, %d)", us, b, lowerBound(b), lowerBound(b+1))
		}
	}
}
