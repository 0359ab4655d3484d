package har

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

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
	// buf and enc build the entries of AddAll (under mu).
	buf bytes.Buffer
	enc *json.Encoder
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
	if w.enc == nil {
		w.enc = json.NewEncoder(&w.buf)
	}
	defer func() {
		w.buf.Reset()
		if w.buf.Cap() > 4*writeChunk {
			// A huge entry went through: do not keep its room.
			w.buf = bytes.Buffer{}
		}
	}()
	pending := 0 // entries in buf
	flush := func() error {
		if _, err := w.f.Write(w.buf.Bytes()); err != nil {
			return fmt.Errorf("har: %w", err)
		}
		w.buf.Reset()
		w.n += pending
		pending = 0
		return nil
	}
	for _, ex := range exs {
		if w.n+pending > 0 {
			w.buf.WriteByte(',')
		}
		w.buf.WriteByte('\n')
		if err := w.enc.Encode(w.entry(ex)); err != nil {
			return fmt.Errorf("har: %w", err)
		}
		w.buf.Truncate(w.buf.Len() - 1) // Encode's newline
		pending++
		if w.buf.Len() >= writeChunk {
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

type wNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type wPost struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	Encoding string `json:"encoding,omitempty"`
}

type wReq struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	HTTPVersion string `json:"httpVersion"`
	Cookies     []wNV  `json:"cookies"`
	Headers     []wNV  `json:"headers"`
	QueryString []wNV  `json:"queryString"`
	PostData    *wPost `json:"postData,omitempty"`
	HeadersSize int    `json:"headersSize"`
	BodySize    int64  `json:"bodySize"`
}

type wContent struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
}

type wResp struct {
	Status      int      `json:"status"`
	StatusText  string   `json:"statusText"`
	HTTPVersion string   `json:"httpVersion"`
	Cookies     []wNV    `json:"cookies"`
	Headers     []wNV    `json:"headers"`
	Content     wContent `json:"content"`
	RedirectURL string   `json:"redirectURL"`
	HeadersSize int      `json:"headersSize"`
	BodySize    int64    `json:"bodySize"`
}

type wEntry struct {
	StartedDateTime string         `json:"startedDateTime"`
	Time            float64        `json:"time"`
	Request         wReq           `json:"request"`
	Response        wResp          `json:"response"`
	Cache           struct{}       `json:"cache"`
	Timings         map[string]any `json:"timings"`
	ServerIPAddress string         `json:"serverIPAddress,omitempty"`
	ClientAddress   string         `json:"_clientAddress,omitempty"`
	Error           string         `json:"_error,omitempty"`
	Gaps            []capture.Gap  `json:"_gaps,omitempty"`
	Comment         string         `json:"comment,omitempty"`
}

func (w *Writer) s(v string) string {
	if w.redact == nil {
		return v
	}
	return w.redact(v)
}

func (w *Writer) headers(hs capture.Headers) []wNV {
	out := make([]wNV, 0, len(hs))
	for _, h := range hs {
		out = append(out, wNV{h.Name, w.s(h.Value)})
	}
	return out
}

// body returns a body as HAR content text: redacted text when it is
// UTF-8, else base64 (or nothing when redacting: binary cannot be
// scrubbed).
//
// The text it returns may share b's bytes: it must be encoded before
// AddAll returns (a captured body is never changed in place, and the
// entry is encoded at once; copying every body of a busy capture into a
// string first was a tenth of the live proxy's CPU).
func (w *Writer) body(b []byte) (text, encoding string) {
	if utf8.Valid(b) {
		return w.s(unsafe.String(unsafe.SliceData(b), len(b))), ""
	}
	// Binary bodies cannot be scrubbed as text: keep them only when
	// nothing is redacted.
	if w.redact != nil {
		return "", ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

func (w *Writer) entry(ex *capture.Exchange) wEntry {
	req := ex.Request
	rawURL := w.s(req.URL.String())
	e := wEntry{
		StartedDateTime: ex.Start.UTC().Format(time.RFC3339Nano),
		Time:            float64(ex.Duration) / float64(time.Millisecond),
		Timings:         map[string]any{"send": 0, "wait": float64(ex.Duration) / float64(time.Millisecond), "receive": 0},
		ServerIPAddress: ex.ServerAddr,
		ClientAddress:   ex.ClientAddr,
		Error:           w.s(ex.Error),
		Gaps:            ex.Gaps,
		Comment:         ex.Comment,
	}
	e.Request = wReq{Method: req.Method, URL: rawURL, HTTPVersion: orDefault(req.Proto, "HTTP/1.1"), Cookies: []wNV{},
		Headers: w.headers(req.Headers), QueryString: []wNV{}, HeadersSize: -1, BodySize: int64(len(req.Body))}
	if u, err := url.Parse(rawURL); err == nil {
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			dk, _ := url.QueryUnescape(k)
			dv, _ := url.QueryUnescape(v)
			e.Request.QueryString = append(e.Request.QueryString, wNV{dk, dv})
		}
	}
	if len(req.Body) > 0 {
		text, enc := w.body(req.Body)
		e.Request.PostData = &wPost{MimeType: req.Headers.Get("Content-Type"), Text: text, Encoding: enc}
	}
	if r := ex.Response; r != nil {
		text, enc := w.body(r.Body)
		e.Response = wResp{Status: r.Status, StatusText: r.StatusText, HTTPVersion: orDefault(r.Proto, "HTTP/1.1"), Cookies: []wNV{},
			Headers: w.headers(r.Headers), HeadersSize: -1, BodySize: int64(len(r.Body)),
			Content:     wContent{Size: int64(len(r.Body)), MimeType: r.Headers.Get("Content-Type"), Text: text, Encoding: enc},
			RedirectURL: w.s(r.Headers.Get("Location"))}
	} else {
		e.Response = wResp{Status: 0, Cookies: []wNV{}, Headers: []wNV{}, HeadersSize: -1, BodySize: -1, Content: wContent{MimeType: "x-unknown"}}
	}
	return e
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
