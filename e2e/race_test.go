//go:build race

package e2e_test

// raceEnabled: the test binary is race-instrumented, so oauthlint is built
// with -race too.
const raceEnabled = true
