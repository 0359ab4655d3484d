//go:build !unix

package live

import "time"

// processCPU is unknown here: analysis costs are bounded by wall time
// times GOMAXPROCS instead.
func processCPU() time.Duration { return -1 }
