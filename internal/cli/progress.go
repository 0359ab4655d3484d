package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// progress prints a one-line progress indicator on stderr while a large
// input is read, only when stderr is a terminal.
type progress struct {
	io    *IOStreams
	name  string
	last  time.Time
	shown bool
}

// progressMinBytes: smaller inputs read too fast for a progress line.
const progressMinBytes = 32 << 20

func newProgress(io *IOStreams, name string) *progress { return &progress{io: io, name: name} }

func (p *progress) update(read, total int64, entries int) {
	if !p.io.ErrTTY || total < progressMinBytes {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	p.shown = true
	fmt.Fprintf(p.io.ErrOut, "\rreading %s: %d/%d MB (%d%%), %d entries   ", p.name, read>>20, total>>20, read*100/total, entries)
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.io.ErrOut, "\r\033[K")
	}
}

func errNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fs.ErrNotExist
	}
	return errors.New("not matched")
}
