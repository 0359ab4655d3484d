//go:build race

package report

// raceEnabled: the tests run under the race detector (about ten times
// slower), so the heaviest sweeps take a sample.
const raceEnabled = true
