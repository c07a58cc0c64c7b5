package shrink

import (
	"maps"
	"runtime"
	"testing"
)

func TestMap(t *testing.T) {
	t.Run("the copy holds the same entries", func(t *testing.T) {
		m := map[string]int{"a": 1, "b": 2}
		got := Map(m)
		if !maps.Equal(got, m) {
			t.Fatalf("Map = %v, want %v", got, m)
		}
		got["c"] = 3
		if _, ok := m["c"]; ok {
			t.Fatal("the copy shares its table with the original")
		}
	})
	t.Run("the copy of a map that held a crowd is small again", func(t *testing.T) {
		big := map[int][64]byte{}
		for i := range 100_000 {
			big[i] = [64]byte{}
		}
		for i := range 99_990 {
			delete(big, i)
		}
		before := heapInUse()
		small := Map(big)
		big = nil
		after := heapInUse()
		if len(small) != 10 {
			t.Fatalf("%d entries, want 10", len(small))
		}
		// The crowd's table was over 6 MiB (100,000 entries of 72 bytes and more).
		if freed := int64(before) - int64(after); freed < 4<<20 {
			t.Fatalf("%d bytes freed by the copy, want at least 4 MiB", freed)
		}
	})
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
