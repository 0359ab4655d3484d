package har

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/oauthlint/oauthlint/capture"
)

// Writer appends exchanges to a HAR file as they complete. The file is
// valid up to the last complete entry at every moment: each entry is
// written with a single write, and the closing brackets come at Close. A
// capture that is interrupted or killed leaves a HAR whose missing end the
// reader reports as a truncation, keeping every entry written.
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	n      int
	redact func(string) string
	closed bool
	run    *capture.ClientRun
	// buf builds the entries of AddAll (under mu).
	buf []byte
}

// WriterOptions tune a Writer.
type WriterOptions struct {
	Creator, Version string
	Comment          string
	// Redact, when set, is applied to URLs, header values and bodies
	// before they are written (capture.SecretSet.Scrub of a set made with
	// capture.RedactToken).
	Redact func(string) string
}

// Create starts a HAR file at path (mode 0600: captures hold credentials
// even when redacted).
func Create(path string, opts WriterOptions) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("har: %w", err)
	}
	head := map[string]any{"name": opts.Creator, "version": opts.Version}
	hb, _ := json.Marshal(head)
	var b bytes.Buffer
	b.WriteString(`{"log":{"version":"1.2","creator":`)
	b.Write(hb)
	if opts.Comment != "" {
		cb, _ := json.Marshal(opts.Comment)
		b.WriteString(`,"comment":`)
		b.Write(cb)
	}
	b.WriteString(`,"pages":[],"entries":[`)
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return nil, fmt.Errorf("har: %w", err)
	}
	return &Writer{f: f, redact: opts.Redact}, nil
}

// Add appends one exchange.
func (w *Writer) Add(ex *capture.Exchange) error {
	return w.AddAll([]*capture.Exchange{ex})
}

// AddAll appends exchanges in order, in as few writes as it can: the
// live proxy writes what arrived while it wrote the last batch, and a
// write per entry cost more than building the entry. Entries are
// gathered up to writeChunk bytes per write (in one buffer, reused), and
// every write ends with a whole entry, so the file stays readable up to
// its last complete entry at every moment.
func (w *Writer) AddAll(exs []*capture.Exchange) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("har: writer closed")
	}
	defer func() {
		if cap(w.buf) > 4*writeChunk {
			// A huge entry went through: do not keep its room.
			w.buf = nil
		}
		w.buf = w.buf[:0]
	}()
	pending := 0 // entries in buf
	flush := func() error {
		if _, err := w.f.Write(w.buf); err != nil {
			return fmt.Errorf("har: %w", err)
		}
		w.buf = w.buf[:0]
		w.n += pending
		pending = 0
		return nil
	}
	for _, ex := range exs {
		if w.n+pending > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = append(w.buf, '\n')
		w.buf = w.appendEntry(w.buf, ex)
		pending++
		if len(w.buf) >= writeChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if pending == 0 {
		return nil
	}
	return flush()
}

// writeChunk is about how many bytes AddAll gathers before it writes.
const writeChunk = 256 << 10

// Entries returns the number of entries written.
func (w *Writer) Entries() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// SetClientRun records, at Close, how the captured client's run ended
// (log._clientRun), so an offline analysis knows the capture covers it.
func (w *Writer) SetClientRun(run capture.ClientRun) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.run = &run
}

// Close ends the document and syncs the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	end := []byte("\n]}}\n")
	if w.run != nil {
		rb, _ := json.Marshal(w.run)
		end = append(append([]byte("\n],\"_clientRun\":"), rb...), "}}\n"...)
	}
	_, err := w.f.Write(end)
	if serr := w.f.Sync(); err == nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
