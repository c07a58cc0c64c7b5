// Package shrink gives back what a map kept of a crowd that left. A Go map never
// shrinks: deleting its entries keeps the table of its largest size until the
// map itself is dropped, so a server whose rooms once held thousands would keep
// their tables for good. After a crowd left, the server swaps such maps for
// copies sized for what they hold.
package shrink

// Map returns a copy of m sized for what it holds now.
func Map[M ~map[K]V, K comparable, V any](m M) M {
	out := make(M, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
