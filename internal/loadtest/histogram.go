package loadtest

import (
	"math/bits"
	"time"
)

// histogram counts durations in microseconds in log-linear buckets: exact below
// 1,024 µs, then 64 buckets per power of two (1.6 % wide). It is owned by one
// goroutine; merge copies of it to read percentiles.
type histogram struct {
	counts [1024 + 54*64]uint64
	n      uint64
	max    int64 // µs
}

func bucketOf(us int64) int {
	if us < 1024 {
		if us < 0 {
			return 0
		}
		return int(us)
	}
	e := bits.Len64(uint64(us)) - 1 // ≥ 10
	b := 1024 + (e-10)*64 + int((us>>(e-6))&63)
	return min(b, len(histogram{}.counts)-1)
}

// lowerBound is the smallest value of bucket b, in µs.
func lowerBound(b int) int64 {
	if b < 1024 {
		return int64(b)
	}
	e := (b-1024)/64 + 10
	sub := int64((b - 1024) % 64)
	return (64 + sub) << (e - 6)
}

func (h *histogram) add(d time.Duration) {
	us := d.Microseconds()
	h.counts[bucketOf(us)]++
	h.n++
	if us > h.max {
		h.max = us
	}
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q ≤ 1) in milliseconds, or 0 when empty.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := lowerBound(i)
			if i+1 < len(h.counts) {
				v = (v + lowerBound(i+1)) / 2 // the middle of the bucket
			}
			return float64(min(v, h.max)) / 1000
		}
	}
	return float64(h.max) / 1000
}
