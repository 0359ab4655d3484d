package hugepages

import (
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	hugePage = 2 << 20
	// fastPoll is how often the runtime's mapped memory is looked at while
	// it grows. The heap grows 4 MiB or more at a time, and what is
	// touched of a new mapping before it is marked comes in small pages
	// (and is then collapsed, a copy), so the poll is short against the
	// time the heap takes to fill 2 MiB: about 25 ms at 80 MB/s, a
	// capture proxy at full load.
	fastPoll = 2 * time.Millisecond
	// slowPoll is the poll after quiet without growth, so that an idle
	// capture costs nothing measurable (each poll is a timer wake-up and
	// a runtime/metrics read: at 100 ms that was 0.4 % of a CPU here).
	// When growth resumes, what is touched before the next poll is
	// collapsed like the rest.
	slowPoll = time.Second
	quiet    = time.Second
)

// Start marks the heap's mappings for huge pages now and whenever the
// runtime maps more memory, until stop is called. It does nothing when
// the kernel's mode is not "madvise" or GODEBUG has disablethp=1.
func Start() (stop func()) {
	if !wanted() {
		return func() {}
	}
	a := newAdvisor()
	a.scan()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.run(done)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

func wanted() bool {
	for _, kv := range strings.Split(os.Getenv("GODEBUG"), ",") {
		if strings.TrimSpace(kv) == "disablethp=1" {
			return false
		}
	}
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && mode(string(b)) == "madvise"
}

// mode returns the selected word of a THP setting file ("always [madvise]
// never" selects madvise).
func mode(s string) string {
	i := strings.IndexByte(s, '[')
	j := strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

type pending struct {
	region uintptr
	tries  int
}

type advisor struct {
	maps []byte
	// seen holds the start of every huge-page-sized region already
	// marked: the runtime never unmaps its heap, so a region is handled
	// once.
	seen      map[uintptr]bool
	resident  []byte
	retry     []pending
	advised   int // mappings marked, for tests
	collapsed int // regions collapsed, for tests
}

func newAdvisor() *advisor { return &advisor{seen: make(map[uintptr]bool)} }

func (a *advisor) run(done <-chan struct{}) {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(sample)
	last := sample[0].Value.Uint64()
	grew := time.Now()
	t := time.NewTimer(fastPoll)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			if len(a.retry) > 0 {
				a.retryCollapses()
			}
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v != last {
				last = v
				grew = now
				a.scan()
			}
			if now.Sub(grew) < quiet {
				t.Reset(fastPoll)
			} else {
				t.Reset(slowPoll)
			}
		}
	}
}

// scan marks every new private anonymous read-write mapping that can hold
// a huge page. Those are the Go heap's arenas (goroutine stacks included),
// and the runtime's large metadata tables, which it marks itself. A
// mapping keeps its mark when the kernel splits or merges it, so only
// mappings with a region not seen before are marked.
func (a *advisor) scan() {
	b, err := readMaps(a.maps[:0])
	if err != nil {
		return
	}
	a.maps = b
	for line := range bytes.Lines(b) {
		lo, hi, ok := candidate(line)
		if !ok {
			continue
		}
		if !a.unseen(lo, hi) {
			continue
		}
		if err := madvise(lo, hi-lo, syscall.MADV_HUGEPAGE); err != nil {
			continue
		}
		a.advised++
		for r := lo; r < hi; r += hugePage {
			if a.seen[r] {
				continue
			}
			a.seen[r] = true
			// The allocation that made the runtime map a region has
			// already touched its first pages in small pages; a huge
			// page then only comes at once if the kernel is asked to
			// collapse them.
			if a.touched(r) {
				a.collapse(r, collapseTries)
			}
		}
	}
}

// collapseTries bounds the attempts at one region: the kernel answers
// EAGAIN while one of its pages is busy (being faulted in or written by
// the kernel for another thread), which passes within a poll or two.
const collapseTries = 8

func (a *advisor) collapse(r uintptr, tries int) {
	switch err := madvise(r, hugePage, madvCollapse); err {
	case nil:
		a.collapsed++
	case syscall.EAGAIN:
		if tries > 1 {
			a.retry = append(a.retry, pending{r, tries - 1})
		}
	}
}

// retryCollapses tries again the regions the kernel could not collapse
// at the last poll.
func (a *advisor) retryCollapses() {
	retry := a.retry
	a.retry = nil
	for _, p := range retry {
		a.collapse(p.region, p.tries)
	}
}

func (a *advisor) unseen(lo, hi uintptr) bool {
	for r := lo; r < hi; r += hugePage {
		if !a.seen[r] {
			return true
		}
	}
	return false
}

// touched reports whether any small page of the region at r is resident.
func (a *advisor) touched(r uintptr) bool {
	if a.resident == nil {
		a.resident = make([]byte, hugePage/os.Getpagesize())
	}
	if mincore(r, hugePage, a.resident) != nil {
		return false
	}
	for _, v := range a.resident {
		if v&1 != 0 {
			return true
		}
	}
	return false
}

func readMaps(buf []byte) ([]byte, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return buf, err
	}
	defer f.Close()
	w := bytes.NewBuffer(buf)
	_, err = w.ReadFrom(f)
	return w.Bytes(), err
}

// candidate parses one line of /proc/self/maps ("start-end perms offset
// dev inode [path]") and returns the part of the mapping a huge page fits
// in, if the mapping is private, anonymous and read-write.
func candidate(line []byte) (lo, hi uintptr, ok bool) {
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[1]) != "rw-p" || string(f[4]) != "0" {
		return 0, 0, false
	}
	if len(f) > 5 && !bytes.HasPrefix(f[5], []byte("[anon:")) {
		return 0, 0, false // [stack], [heap] and files
	}
	start, end, ok := addrRange(f[0])
	if !ok {
		return 0, 0, false
	}
	lo = (start + hugePage - 1) &^ (hugePage - 1)
	hi = end &^ (hugePage - 1)
	if lo >= hi {
		return 0, 0, false
	}
	return lo, hi, true
}

// addrRange reads the "start-end" field that begins a line of
// /proc/self/maps or smaps.
func addrRange(field []byte) (start, end uintptr, ok bool) {
	lo, hi, found := bytes.Cut(field, []byte("-"))
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(string(lo), 16, 64)
	e, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
