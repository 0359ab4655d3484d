package hugepages

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func TestMode(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"always madvise [never]\n": "never",
		"":                         "",
		"] [":                      "",
	} {
		if got := mode(in); got != want {
			t.Errorf("mode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCandidate(t *testing.T) {
	for _, c := range []struct {
		line   string
		lo, hi uintptr
		ok     bool
	}{
		// A Go heap arena grown by 4 MiB.
		{"c000000000-c000400000 rw-p 00000000 00:00 0 ", 0xc000000000, 0xc000400000, true},
		// Unaligned: only the whole 2 MiB inside counts.
		{"7f40b4264000-7f40b4800000 rw-p 00000000 00:00 0", 0x7f40b4400000, 0x7f40b4800000, true},
		// Named by the runtime (kernels with anonymous VMA names).
		{"c000000000-c000400000 rw-p 00000000 00:00 0   [anon: Go: heap]", 0xc000000000, 0xc000400000, true},
		// Smaller than a huge page once aligned.
		{"7f40b4264000-7f40b4500000 rw-p 00000000 00:00 0", 0, 0, false},
		{"c000000000-c000400000 ---p 00000000 00:00 0", 0, 0, false}, // reserved
		{"c000000000-c000400000 r--p 00000000 00:00 0", 0, 0, false}, // read-only
		{"c000000000-c000400000 rw-s 00000000 00:01 7", 0, 0, false}, // shared
		{"00400000-00c00000 rw-p 0018e000 fe:00 10010899 /usr/bin/oauthlint", 0, 0, false},
		{"7ffe00000000-7ffe00400000 rw-p 00000000 00:00 0 [stack]", 0, 0, false},
		{"garbage", 0, 0, false},
		{"zz-c000400000 rw-p 00000000 00:00 0", 0, 0, false},
		{"c000400000-c000000000 rw-p 00000000 00:00 0", 0, 0, false},
	} {
		lo, hi, ok := candidate([]byte(c.line))
		if lo != c.lo || hi != c.hi || ok != c.ok {
			t.Errorf("candidate(%q) = %#x, %#x, %v; want %#x, %#x, %v", c.line, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
}

// needMadvise skips tests that need the kernel to give huge pages only
// where asked.
func needMadvise(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || mode(string(b)) != "madvise" {
		t.Skipf("transparent huge pages are not in madvise mode here (%q, %v)", strings.TrimSpace(string(b)), err)
	}
}

// hugeIn returns the kB of huge pages /proc/self/smaps reports for the
// mappings that overlap [lo, hi).
func hugeIn(t *testing.T, lo, hi uintptr) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if s, e, ok := lineRange(line); ok {
			in = s < hi && e > lo
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			total += kb
		}
	}
	return total
}

func kernelAtLeast(major, minor int) bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var rel []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	parts := strings.SplitN(string(rel), ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, _ := strconv.Atoi(parts[0])
	mi, _ := strconv.Atoi(strings.TrimLeftFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return ma > major || ma == major && mi >= minor
}

func mmap(t *testing.T, n int) []byte {
	t.Helper()
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(b) })
	return b
}

func touch(b []byte) {
	for i := 0; i < len(b); i += os.Getpagesize() {
		b[i] = 1
	}
}

func span(b []byte) (lo, hi uintptr) {
	lo = uintptr(unsafe.Pointer(&b[0]))
	return lo, lo + uintptr(len(b))
}

// A mapping marked before it is touched gets huge pages as it is
// touched.
func TestScanMarksNewMapping(t *testing.T) {
	needMadvise(t)
	b := mmap(t, 16<<20)
	lo, hi := span(b)
	a := newAdvisor()
	a.scan()
	touch(b)
	if kb := hugeIn(t, lo, hi); kb < 8<<10 {
		t.Fatalf("%d kB of huge pages in a 16 MiB mapping marked before it was touched, want at least 8 MiB", kb)
	}
	if a.advised == 0 {
		t.Fatal("no mapping was marked")
	}
}

// A mapping touched before it is marked (as the allocation that makes
// the runtime map more memory does) is collapsed into huge pages.
func TestScanCollapsesTouchedMapping(t *testing.T) {
	needMadvise(t)
	if !kernelAtLeast(6, 1) {
		t.Skip("MADV_COLLAPSE needs Linux 6.1")
	}
	b := mmap(t, 16<<20)
	lo, hi := span(b)
	touch(b)
	if kb := hugeIn(t, lo, hi); kb != 0 {
		t.Skipf("the kernel gave %d kB of huge pages to memory nobody marked", kb)
	}
	a := newAdvisor()
	a.scan()
	for i := 0; i < collapseTries && len(a.retry) > 0; i++ {
		time.Sleep(fastPoll)
		a.retryCollapses()
	}
	if kb := hugeIn(t, lo, hi); kb < 8<<10 {
		t.Fatalf("%d kB of huge pages after collapsing a touched 16 MiB mapping (%d regions collapsed), want at least 8 MiB", kb, a.collapsed)
	}
}

// Start marks the Go heap as it grows: memory the runtime maps after
// Start gets huge pages.
func TestStartMarksGrowingHeap(t *testing.T) {
	needMadvise(t)
	t.Setenv("GODEBUG", "")
	before := mappings(t)
	stop := Start()
	defer stop()
	var keep [][]byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		b := make([]byte, 8<<20)
		touch(b)
		keep = append(keep, b)
		lo, hi := span(b)
		if !overlaps(before, lo, hi) && hugeIn(t, lo, hi) > 0 {
			return
		}
		if time.Now().After(deadline) || len(keep) > 64 {
			t.Fatalf("no huge page in %d MiB of heap mapped after Start", len(keep)*8)
		}
		time.Sleep(10 * fastPoll)
	}
}

// mappings returns the address ranges of every mapping of the process.
func mappings(t *testing.T) [][2]uintptr {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]uintptr
	for _, line := range strings.Split(string(b), "\n") {
		if s, e, ok := lineRange(line); ok {
			out = append(out, [2]uintptr{s, e})
		}
	}
	return out
}

// lineRange is the address range a maps or smaps line begins with
// (smaps' other lines begin with a "Name:").
func lineRange(line string) (lo, hi uintptr, ok bool) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return 0, 0, false
	}
	return addrRange([]byte(f[0]))
}

func overlaps(ranges [][2]uintptr, lo, hi uintptr) bool {
	for _, r := range ranges {
		if r[0] < hi && r[1] > lo {
			return true
		}
	}
	return false
}

func TestDisabledByGODEBUG(t *testing.T) {
	t.Setenv("GODEBUG", "madvdontneed=1,disablethp=1")
	if wanted() {
		t.Fatal("GODEBUG=disablethp=1 did not turn huge pages off")
	}
}
