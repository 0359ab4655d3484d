package har

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/decode"
)

// DefaultMaxBody caps each stored body (after decoding).
const DefaultMaxBody = 16 << 20

// Options tune the reader.
type Options struct {
	// MaxBody caps each body after decoding; 0 means DefaultMaxBody.
	MaxBody int64
	// Progress, when set, is called after each entry with the number of
	// entries read and the byte offset reached.
	Progress func(entries int, offset int64)
}

// Info describes what was read from one HAR file.
type Info struct {
	File    string
	Version string
	Creator Creator
	Browser Creator
	Comment string
	// Entries is the number of entries seen; Exchanges the number kept.
	Entries   int
	Exchanges int
	// Truncated is set when the file ended inside the entries array; the
	// entries before that point were read.
	Truncated bool
	// Sanitized is set when the file is a browser export without any
	// credentials (Chrome's default "sanitized" HAR): rules that need
	// Authorization or cookies report not-available.
	Sanitized bool
	Warnings  []Warning
}

// Warning is a problem that did not stop reading.
type Warning struct {
	File   string `json:"file"`
	Entry  int    `json:"entry"`
	Offset int64  `json:"offset"`
	Msg    string `json:"message"`
}

func (w Warning) String() string {
	if w.Entry >= 0 {
		return fmt.Sprintf("%s: entry %d at byte %d: %s", w.File, w.Entry, w.Offset, w.Msg)
	}
	return fmt.Sprintf("%s: byte %d: %s", w.File, w.Offset, w.Msg)
}

// Error is a HAR file that cannot be used.
type Error struct {
	File   string
	Entry  int // -1 when not inside an entry
	Offset int64
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	where := fmt.Sprintf("byte %d", e.Offset)
	if e.Entry >= 0 {
		where = fmt.Sprintf("entry %d at byte %d", e.Entry, e.Offset)
	}
	s := fmt.Sprintf("har: %s: %s: %s", e.File, where, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ReadFile reads the HAR file at path.
func ReadFile(path string, opts Options) ([]*capture.Exchange, *Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("har: %w", err)
	}
	defer f.Close()
	return Read(f, path, opts)
}

// Read reads a HAR from r; name is used in refs and messages.
func Read(r io.Reader, name string, opts Options) ([]*capture.Exchange, *Info, error) {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	br := bufio.NewReaderSize(r, 256<<10)
	var base int64
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
		base = 3
	}
	rd := &reader{
		name: name,
		opts: opts,
		dec:  json.NewDecoder(br),
		base: base,
		info: &Info{File: name},
	}
	err := rd.run()
	if err != nil {
		return nil, rd.info, err
	}
	rd.finish()
	return rd.out, rd.info, nil
}

type reader struct {
	name string
	opts Options
	dec  *json.Decoder
	base int64
	info *Info
	out  []*capture.Exchange

	sawEntries  bool
	credentials bool // any Authorization/Cookie/Set-Cookie seen
}

func (rd *reader) offset() int64 { return rd.base + rd.dec.InputOffset() }

func (rd *reader) fail(entry int, off int64, msg string, err error) error {
	return &Error{File: rd.name, Entry: entry, Offset: off, Msg: msg, Err: err}
}

func (rd *reader) warn(entry int, off int64, format string, args ...any) {
	rd.info.Warnings = append(rd.info.Warnings, Warning{File: rd.name, Entry: entry, Offset: off, Msg: fmt.Sprintf(format, args...)})
}

func (rd *reader) run() error {
	tok, err := rd.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return rd.fail(-1, 0, "empty file: expected a HAR (a JSON object with log.entries)", nil)
		}
		return rd.fail(-1, rd.syntaxOffset(err), "not a HAR file (expected a JSON object with log.entries)", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return rd.fail(-1, 0, "not a HAR file: the top level is not a JSON object (expected {\"log\":{\"entries\":[…]}})", nil)
	}
	sawLog := false
	for rd.dec.More() {
		key, err := rd.key()
		if err != nil {
			return err
		}
		if key != "log" {
			if err := rd.skip(); err != nil {
				return err
			}
			continue
		}
		sawLog = true
		if err := rd.readLog(); err != nil {
			return err
		}
		if rd.info.Truncated {
			return nil
		}
	}
	if !sawLog {
		return rd.fail(-1, rd.offset(), "not a HAR file: no \"log\" member (expected {\"log\":{\"entries\":[…]}})", nil)
	}
	if !rd.sawEntries {
		return rd.fail(-1, rd.offset(), "not a HAR file: \"log\" has no \"entries\" array", nil)
	}
	return nil
}

func (rd *reader) key() (string, error) {
	off := rd.offset()
	tok, err := rd.dec.Token()
	if err != nil {
		return "", rd.jsonErr(-1, off, err)
	}
	k, ok := tok.(string)
	if !ok {
		return "", rd.fail(-1, off, fmt.Sprintf("malformed JSON: expected an object key, found %v", tok), nil)
	}
	return k, nil
}

func (rd *reader) skip() error {
	off := rd.offset()
	var raw json.RawMessage
	if err := rd.dec.Decode(&raw); err != nil {
		return rd.jsonErr(-1, off, err)
	}
	return nil
}

// jsonErr turns a decoder error into an Error or, for a file that simply
// ends early, a truncation the caller can recover from.
func (rd *reader) jsonErr(entry int, off int64, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return rd.fail(entry, rd.offset(), "file ends early (truncated HAR?)", nil)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return rd.fail(entry, rd.base+se.Offset, "malformed JSON", err)
	}
	return rd.fail(entry, off, "cannot read", err)
}

func (rd *reader) syntaxOffset(err error) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return rd.base + se.Offset
	}
	return rd.offset()
}

func (rd *reader) readLog() error {
	off := rd.offset()
	tok, err := rd.dec.Token()
	if err != nil {
		return rd.jsonErr(-1, off, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return rd.fail(-1, off, "not a HAR file: \"log\" is not an object", nil)
	}
	for rd.dec.More() {
		key, err := rd.key()
		if err != nil {
			return err
		}
		var dst any
		switch key {
		case "entries":
			if err := rd.readEntries(); err != nil {
				return err
			}
			if rd.info.Truncated {
				return nil
			}
			continue
		case "version":
			dst = &rd.info.Version
		case "creator":
			dst = &rd.info.Creator
		case "browser":
			dst = &rd.info.Browser
		case "comment":
			dst = &rd.info.Comment
		default:
			if err := rd.skip(); err != nil {
				return err
			}
			continue
		}
		voff := rd.offset()
		if err := rd.dec.Decode(dst); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				rd.warn(-1, voff, "log.%s has an unexpected type (%v); ignored", key, te.Value)
				continue
			}
			return rd.jsonErr(-1, voff, err)
		}
	}
	if _, err := rd.dec.Token(); err != nil { // closing '}'
		return rd.jsonErr(-1, rd.offset(), err)
	}
	return nil
}

func (rd *reader) readEntries() error {
	off := rd.offset()
	tok, err := rd.dec.Token()
	if err != nil {
		return rd.jsonErr(-1, off, err)
	}
	if tok == nil { // "entries": null
		rd.sawEntries = true
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return rd.fail(-1, off, "not a HAR file: log.entries is not an array", nil)
	}
	rd.sawEntries = true
	for i := 0; rd.dec.More(); i++ {
		var raw json.RawMessage
		if err := rd.dec.Decode(&raw); err != nil {
			herr := rd.jsonErr(i, rd.offset(), err)
			var e *Error
			if errors.As(herr, &e) && e.Err == nil && strings.HasPrefix(e.Msg, "file ends early") {
				rd.info.Truncated = true
				rd.warn(i, e.Offset, "file ends inside entry %d (truncated HAR): analyzed the %d entries before it", i, i)
				return nil
			}
			return herr
		}
		end := rd.offset()
		start := end - int64(len(raw))
		rd.info.Entries++
		rd.entry(i, start, raw)
		if rd.opts.Progress != nil {
			rd.opts.Progress(rd.info.Entries, end)
		}
	}
	if _, err := rd.dec.Token(); err != nil { // closing ']'
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			rd.info.Truncated = true
			rd.warn(-1, rd.offset(), "file ends after entry %d (truncated HAR): all %d entries were read", rd.info.Entries-1, rd.info.Entries)
			return nil
		}
		return rd.jsonErr(-1, rd.offset(), err)
	}
	return nil
}

func (rd *reader) entry(i int, off int64, raw json.RawMessage) {
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			rd.warn(i, off, "entry skipped: field %q has a JSON %s where the HAR format wants %v", te.Field, te.Value, te.Type)
		} else {
			rd.warn(i, off, "entry skipped: %v", err)
		}
		return
	}
	ex, err := rd.convert(i, off, int64(len(raw)), &e)
	if err != nil {
		rd.warn(i, off, "entry skipped: %v", err)
		return
	}
	rd.out = append(rd.out, ex)
	rd.info.Exchanges++
}

// finish applies what is only known once the whole file was read.
func (rd *reader) finish() {
	if isBrowserExport(rd.info.Creator.Name) && !rd.credentials && len(rd.out) > 0 {
		rd.info.Sanitized = true
		for _, ex := range rd.out {
			ex.AddGap(capture.GapSanitized, rd.info.Creator.Name+" export holds no Authorization, Cookie or Set-Cookie header: credentials were probably removed (sanitized export)")
		}
	}
}

func isBrowserExport(creator string) bool {
	c := strings.ToLower(creator)
	return c == "webinspector" || strings.Contains(c, "web inspector") || c == "firefox" || strings.Contains(c, "safari")
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (rd *reader) convert(i int, off, length int64, e *Entry) (*capture.Exchange, error) {
	ex := &capture.Exchange{
		Ref:        capture.Ref{File: rd.name, Entry: i, Offset: off, Length: length},
		ServerAddr: e.ServerIPAddress,
		ClientAddr: e.ClientAddress,
		Error:      e.Error,
		Comment:    e.Comment,
	}
	if t, ok := parseTime(e.StartedDateTime); ok {
		ex.Start = t
	} else {
		rd.warn(i, off, "startedDateTime %q is not an ISO 8601 time; the entry keeps its file position in the timeline", e.StartedDateTime)
	}
	if e.Time > 0 {
		ex.Duration = time.Duration(float64(e.Time) * float64(time.Millisecond))
	}
	req, err := rd.request(i, off, &e.Request, ex)
	if err != nil {
		return nil, err
	}
	ex.Request = req
	if e.Response != nil && (e.Response.Status > 0 || len(e.Response.Headers) > 0) {
		ex.Response = rd.response(i, off, e.Response, ex)
	} else {
		ex.AddGap(capture.GapNoResponse, "the HAR entry has no response")
		if e.Response != nil && e.Response.Error != "" && ex.Error == "" {
			ex.Error = e.Response.Error
		}
	}
	return ex, nil
}

func (rd *reader) request(i int, off int64, r *Request, ex *capture.Exchange) (*capture.Request, error) {
	method := strings.ToUpper(strings.TrimSpace(r.Method))
	if method == "" {
		return nil, fmt.Errorf("request has no method")
	}
	u, err := parseURL(method, r.URL)
	if err != nil {
		return nil, err
	}
	req := &capture.Request{
		Method:   method,
		URL:      u,
		Proto:    r.HTTPVersion,
		Headers:  headers(r.Headers),
		BodySize: int64(r.BodySize),
	}
	rd.noteCredentials(req.Headers, len(r.Cookies) > 0)
	if pd := r.PostData; pd != nil {
		body, err := postBody(pd)
		if err != nil {
			rd.warn(i, off, "request body: %v", err)
			ex.AddGap(capture.GapRequestBody, err.Error())
		}
		req.Body = rd.capBody(body, ex, capture.GapRequestBody)
		if req.Headers.Get("Content-Type") == "" && pd.MimeType != "" {
			// Keep the media type the exporter recorded so form and JSON
			// bodies are recognised; the header list itself stays as captured.
			req.Headers = append(req.Headers, capture.Header{Name: "Content-Type", Value: pd.MimeType})
		}
	} else if r.BodySize > 0 {
		ex.AddGap(capture.GapRequestBody, fmt.Sprintf("request body of %d bytes not saved by the exporting tool", r.BodySize))
	}
	return req, nil
}

func parseURL(method, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("request URL is empty")
	}
	if method == "CONNECT" && !strings.Contains(raw, "://") {
		// authority-form: "host:port"
		return &url.URL{Host: raw}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("request URL %q cannot be parsed: %v", truncate(raw, 200), unwrapURLError(err))
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("request URL %q is not absolute (HAR wants scheme://host/path)", truncate(raw, 200))
	}
	return u, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func headers(in []NameValue) capture.Headers {
	out := make(capture.Headers, 0, len(in))
	for _, h := range in {
		out = append(out, capture.Header{Name: h.Name, Value: h.Value})
	}
	return out
}

func (rd *reader) noteCredentials(h capture.Headers, cookies bool) {
	if cookies || h.Has("Authorization") || h.Has("Cookie") || h.Has("Set-Cookie") || h.Has("Proxy-Authorization") {
		rd.credentials = true
	}
}

func postBody(pd *PostData) ([]byte, error) {
	if pd.Text != nil && *pd.Text != "" {
		if strings.EqualFold(pd.Encoding, "base64") {
			b, err := base64.StdEncoding.DecodeString(*pd.Text)
			if err != nil {
				return []byte(*pd.Text), fmt.Errorf("postData.text is not valid base64: %v", err)
			}
			return b, nil
		}
		return []byte(*pd.Text), nil
	}
	if len(pd.Params) == 0 {
		return nil, nil
	}
	// Rebuild a form body from params (Firefox, Charles).
	var b strings.Builder
	for j, p := range pd.Params {
		if j > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return []byte(b.String()), nil
}

func (rd *reader) capBody(b []byte, ex *capture.Exchange, kind capture.GapKind) []byte {
	if int64(len(b)) > rd.opts.MaxBody {
		ex.AddGap(kind, fmt.Sprintf("body truncated to %d of %d bytes (raise with --max-body)", rd.opts.MaxBody, len(b)))
		return b[:rd.opts.MaxBody]
	}
	return b
}

func (rd *reader) response(i int, off int64, r *Response, ex *capture.Exchange) *capture.Response {
	resp := &capture.Response{
		Status:     int(r.Status),
		StatusText: r.StatusText,
		Proto:      r.HTTPVersion,
		Headers:    headers(r.Headers),
		BodySize:   int64(r.BodySize),
	}
	rd.noteCredentials(resp.Headers, len(r.Cookies) > 0)
	if r.Status >= 300 && r.Status < 400 && r.RedirectURL != "" && !resp.Headers.Has("Location") {
		resp.Headers = append(resp.Headers, capture.Header{Name: "Location", Value: r.RedirectURL})
	}
	c := r.Content
	switch {
	case c.Text != nil:
		body := []byte(*c.Text)
		if strings.EqualFold(c.Encoding, "base64") {
			b, err := base64.StdEncoding.DecodeString(*c.Text)
			if err != nil {
				rd.warn(i, off, "response content is not valid base64: %v", err)
				ex.AddGap(capture.GapResponseBody, "content.text is not valid base64")
			} else {
				body = b
			}
		}
		if ce := resp.Headers.Get("Content-Encoding"); ce != "" && decode.LooksEncoded(ce, body) {
			dec, err := decode.Body(ce, body, rd.opts.MaxBody)
			switch {
			case errors.Is(err, decode.ErrTooLarge):
				ex.AddGap(capture.GapResponseBody, fmt.Sprintf("decoded body truncated to %d bytes (raise with --max-body)", rd.opts.MaxBody))
				body = dec
			case err != nil:
				ex.AddGap(capture.GapDecode, fmt.Sprintf("Content-Encoding %s: %v", ce, err))
			default:
				body = dec
			}
		}
		resp.Body = rd.capBody(body, ex, capture.GapResponseBody)
	case c.Size > 0:
		ex.AddGap(capture.GapResponseBody, fmt.Sprintf("response body of %d bytes not saved by the exporting tool", c.Size))
	}
	if c.MimeType != "" && !resp.Headers.Has("Content-Type") && len(resp.Body) > 0 {
		resp.Headers = append(resp.Headers, capture.Header{Name: "Content-Type", Value: c.MimeType})
	}
	return resp
}
