//go:build !linux

package hugepages

// Start does nothing outside Linux: the kernels there decide about large
// pages without a per-mapping hint this package could give.
func Start() (stop func()) { return func() {} }
