//go:build race

package incident

// raceEnabled trims the data-set evaluation under the race detector, which
// makes grouping about ten times slower; the full run is the non-race one.
const raceEnabled = true
