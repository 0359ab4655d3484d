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
	small, err := firstTouch(n, page, false)
	if err != nil {
		return err
	}
	pages := n / page
	fmt.Printf("first touch of a %d KiB page: %.2f µs (%d pages in %v)\n", page>>10, float64(small.Nanoseconds())/float64(pages)/1e3, pages, small.Round(time.Millisecond))
	// The capture marks its heap for transparent huge pages
	// (internal/hugepages); this is what that buys here. The first
	// round may find memory the host has taken back from the machine
	// (free page reporting); the second reuses what the first freed.
	for _, round := range []string{"first", "second"} {
		huge, err := firstTouch(n, page, true)
		if err != nil {
			return err
		}
		fmt.Printf("the same with MADV_HUGEPAGE, %s round: %.2f µs per %d KiB (%v)\n", round, float64(huge.Nanoseconds())/float64(pages)/1e3, page>>10, huge.Round(time.Millisecond))
	}
	return nil
}

// firstTouch maps n bytes, optionally marks them for huge pages, and
// returns how long writing one byte of each page takes.
func firstTouch(n, page int, huge bool) (time.Duration, error) {
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 0, fmt.Errorf("pagefault: mmap: %w", err)
	}
	defer syscall.Munmap(mem)
	if huge {
		if err := syscall.Madvise(mem, syscall.MADV_HUGEPAGE); err != nil {
			return 0, fmt.Errorf("pagefault: madvise: %w", err)
		}
	}
	t0 := time.Now()
	for i := 0; i < n; i += page {
		mem[i] = 1
	}
	return time.Since(t0), nil
}
