package main

import (
	"flag"
	"fmt"
	"syscall"
	"time"
)

// runPagefault measures what the first touch of a page costs here: the
// capture proxy keeps every exchange it forwards until its final report,
// so its heap grows all the time and each new page of it is faulted in
// once. On a virtual machine that costs far more than on bare metal
// (each fault also goes through the hypervisor), which the figures of
// docs/proxy-bench.md must be read with.
func runPagefault(args []string) error {
	fs := flag.NewFlagSet("pagefault", flag.ExitOnError)
	mib := fs.Int("mib", 256, "MiB of fresh memory to touch")
	fs.Parse(args)
	if *mib <= 0 {
		return fmt.Errorf("pagefault: -mib must be positive")
	}
	page := syscall.Getpagesize()
	n := *mib << 20
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return fmt.Errorf("pagefault: mmap: %w", err)
	}
	defer syscall.Munmap(mem)
	t0 := time.Now()
	for i := 0; i < n; i += page {
		mem[i] = 1
	}
	d := time.Since(t0)
	pages := n / page
	fmt.Printf("first touch of a %d KiB page: %.2f µs (%d pages in %v)\n", page>>10, float64(d.Nanoseconds())/float64(pages)/1e3, pages, d.Round(time.Millisecond))
	return nil
}
