//go:build race

package expr

// raceEnabled: the race detector empties sync.Pools at random, so
// allocation counts of code that pools (regexp) are not meaningful.
const raceEnabled = true
