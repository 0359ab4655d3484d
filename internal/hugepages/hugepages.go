// Package hugepages asks Linux to back the Go heap with transparent huge
// pages where the system leaves that choice to each program.
//
// A capture keeps every exchange it forwards until its final report, so
// its heap grows all the time and every new page of it is faulted in
// once. With 4 KiB pages that is a fault per 4 KiB; on a virtual machine
// each fault also goes through the hypervisor and costs 10–16 µs
// (`proxybench pagefault`), which was a fifth of the capture proxy's CPU
// per request. A 2 MiB huge page takes one fault for 512 of them.
//
// Linux gives huge pages to every program when
// /sys/kernel/mm/transparent_hugepage/enabled is "always", to none when it
// is "never", and, when it is "madvise" (Ubuntu's default, and common on
// cloud images), only to memory marked with madvise(MADV_HUGEPAGE). Go's
// runtime does not mark its heap since Go 1.21.1, so in "madvise" mode a
// Go program gets none. This package marks the heap's mappings as they
// appear. GODEBUG=disablethp=1, the runtime's own switch for huge pages,
// turns it off.
package hugepages
