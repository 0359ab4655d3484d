package harness

import (
	"fmt"
	"syscall"
	"unsafe"
)

// bringLoopbackUp sets IFF_UP on "lo" in the calling process's network
// namespace. A new namespace (CLONE_NEWNET) has only lo, and down; with it up
// the scenario has 127.0.0.1 and ::1 and nothing else, so no packet can leave
// the machine and ports never collide with another scenario.
func bringLoopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket for ioctl: %w", err)
	}
	defer syscall.Close(fd)
	// struct ifreq: 16 bytes of name, then the union (flags: a short).
	var ifr [40]byte
	copy(ifr[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return fmt.Errorf("SIOCGIFFLAGS lo: %w", e)
	}
	flags := *(*uint16)(unsafe.Pointer(&ifr[16]))
	*(*uint16)(unsafe.Pointer(&ifr[16])) = flags | syscall.IFF_UP
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return fmt.Errorf("SIOCSIFFLAGS lo up: %w", e)
	}
	return nil
}
