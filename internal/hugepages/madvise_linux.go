package hugepages

import (
	"syscall"
	"unsafe"
)

// madvCollapse is MADV_COLLAPSE (Linux 6.1), which package syscall does
// not define. Older kernels answer EINVAL.
const madvCollapse = 25

// madvise gives advice on memory that is not a Go slice (the runtime's
// own mappings), so it calls the system call by address.
func madvise(addr, n uintptr, advice int) error {
	_, _, e := syscall.Syscall(syscall.SYS_MADVISE, addr, n, uintptr(advice))
	if e != 0 {
		return e
	}
	return nil
}

// mincore reports which small pages of [addr, addr+n) are resident, one
// byte per page in vec.
func mincore(addr, n uintptr, vec []byte) error {
	_, _, e := syscall.Syscall(syscall.SYS_MINCORE, addr, n, uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		return e
	}
	return nil
}
