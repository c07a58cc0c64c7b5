//go:build race

package sfu

// raceEnabled says whether the race detector is on: it allocates in
// synchronization, so allocation counts mean nothing then.
const raceEnabled = true
