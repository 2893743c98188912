//go:build race

package route_test

// raceEnabled trims the check over real texts, whose rune-by-rune
// reference search is slow under the race detector; the full run is the
// non-race one.
const raceEnabled = true
