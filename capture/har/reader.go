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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// Truncated is set when the file ended before its JSON was complete;
	// the entries before that point were read.
	Truncated bool
	// Sanitized is set when the file is a Chrome/Edge export without any
	// credentials (Chrome's default "sanitized" HAR): rules that need
	// Authorization or cookies report not-available.
	Sanitized bool
	Warnings  []Warning
	// ClientRun is set by oauthlint capture -- CMD (log._clientRun): the
	// capture covers the whole run of that client.
	ClientRun *capture.ClientRun
}

// Warning is a problem that did not stop reading.
type Warning struct {
	File   string `json:"file"`
	Entry  int    `json:"entry"`
	Offset int64  `json:"offset"`
	Msg    string `json:"message"`
}

func (w Warning) String() string {
	switch {
	case w.Entry >= 0:
		return fmt.Sprintf("%s: entry %d at byte %d: %s", w.File, w.Entry, w.Offset, w.Msg)
	case w.Offset > 0:
		return fmt.Sprintf("%s: byte %d: %s", w.File, w.Offset, w.Msg)
	}
	return fmt.Sprintf("%s: %s", w.File, w.Msg)
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
//
// It returns an *Error when the input is not a usable HAR: not JSON, JSON
// without log.entries, malformed JSON (the offset is that of the offending
// byte), or a file that ends before its first complete entry. A file that
// ends later is not an error: the complete entries are returned,
// Info.Truncated is set and a warning says where the file stopped. Entries
// that cannot be used (no method, relative URL, wrong JSON types) are
// skipped with a warning naming the entry index and its byte offset.
func Read(r io.Reader, name string, opts Options) ([]*capture.Exchange, *Info, error) {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 16<<10)
	info := &Info{File: name}
	var base int64
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		// HAR 1.2: "tools must support and ignore a BOM".
		br.Discard(3)
		base = 3
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, info, &Error{File: name, Entry: -1, Msg: "the file is UTF-16 encoded, but HAR files must be UTF-8; convert it first (iconv -f UTF-16 -t UTF-8 in.har > out.har)"}
	}
	rd := &reader{
		name: name,
		opts: opts,
		src:  cr,
		dec:  json.NewDecoder(br),
		base: base,
		info: info,
	}
	err := rd.run()
	var te *truncation
	if errors.As(err, &te) {
		if rd.info.Entries == 0 {
			return nil, rd.info, rd.fail(te.entry, rd.end(), fmt.Sprintf("the file ends early (truncated HAR?) %s, before any complete entry; nothing can be analyzed", te.where), nil)
		}
		rd.info.Truncated = true
		rd.flushDropped()
		// Always kept, whatever came before: it says the analysis is partial.
		rd.info.Warnings = append(rd.info.Warnings, Warning{File: rd.name, Entry: te.entry, Offset: rd.end(),
			Msg: fmt.Sprintf("the file ends early (truncated HAR?) %s; analyzed the %d entries before that point", te.where, rd.info.Entries)})
		err = nil
	}
	if err != nil {
		rd.flushDropped()
		return nil, rd.info, err
	}
	rd.flushDropped()
	rd.final = true
	rd.finish()
	return rd.out, rd.info, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// truncation is the internal signal for "the input ended inside the JSON";
// Read turns it into Info.Truncated or, with no complete entry, an Error.
type truncation struct {
	entry int    // entry being read, or -1
	where string // "inside entry 3 (which starts at byte 1234)"
}

func (t *truncation) Error() string { return "truncated " + t.where }

type reader struct {
	name string
	opts Options
	src  *countingReader
	dec  *json.Decoder
	base int64
	info *Info
	out  []*capture.Exchange

	logAt       int64 // offset of the "log" object
	sawEntries  bool
	credentials bool // any Authorization/Cookie/Set-Cookie seen
	dropped     int  // warnings over maxWarnings, counted not kept
	final       bool // file-level warnings after the entries: always kept
}

func (rd *reader) offset() int64 { return rd.base + rd.dec.InputOffset() }

// end is the size of the input once it has been read to EOF.
func (rd *reader) end() int64 { return rd.src.n }

func (rd *reader) fail(entry int, off int64, msg string, err error) error {
	return &Error{File: rd.name, Entry: entry, Offset: off, Msg: msg, Err: err}
}

// maxWarnings bounds the warnings kept per file (a HAR of a million
// unusable entries must not print a million lines); the rest are counted
// and summed up in one last warning.
const maxWarnings = 200

func (rd *reader) warn(entry int, off int64, format string, args ...any) {
	if len(rd.info.Warnings) >= maxWarnings && !rd.final {
		rd.dropped++
		return
	}
	rd.info.Warnings = append(rd.info.Warnings, Warning{File: rd.name, Entry: entry, Offset: off, Msg: fmt.Sprintf(format, args...)})
}

// flushDropped adds the count of warnings not kept.
func (rd *reader) flushDropped() {
	if rd.dropped > 0 {
		rd.info.Warnings = append(rd.info.Warnings, Warning{File: rd.name, Entry: -1,
			Msg: fmt.Sprintf("%d more warnings not shown (the first %d are listed)", rd.dropped, maxWarnings)})
		rd.dropped = 0
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// jsonErr turns a decoder error into an *Error (malformed JSON, with the
// offset of the offending byte) or a *truncation (the input ended early).
// where describes the position for a truncation.
func (rd *reader) jsonErr(entry int, err error, where string) error {
	if isEOF(err) {
		return &truncation{entry: entry, where: where}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return rd.fail(entry, rd.syntaxPos(), "malformed JSON", err)
	}
	return rd.fail(entry, rd.offset(), "cannot read the HAR", err)
}

// syntaxPos finds the offset of the byte a syntax error is about. The
// decoder's own SyntaxError.Offset cannot be used: for errors raised while
// decoding a value it counts only the bytes its scanner has seen across
// values, not the input position. After a failed call the decoder has not
// moved past the start of the value it rejected, so re-scanning the
// buffered bytes from there with a fresh decoder reproduces the error with
// an offset relative to that start. Errors the fresh scan does not
// reproduce (a valid value in the wrong place, such as a missing ':') are
// reported by the decoder at the offending byte itself, which is where
// InputOffset points.
func (rd *reader) syntaxPos() int64 {
	start := rd.offset()
	buf, _ := io.ReadAll(rd.dec.Buffered())
	var raw json.RawMessage
	err := json.NewDecoder(bytes.NewReader(buf)).Decode(&raw)
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset >= 1 {
		return start + se.Offset - 1
	}
	return start
}

// valueStart is the offset of the next non-space byte: after a failed
// Decode the decoder stands before the value it rejected, possibly before
// whitespace.
func (rd *reader) valueStart() int64 {
	buf, _ := io.ReadAll(rd.dec.Buffered())
	n := len(buf) - len(bytes.TrimLeft(buf, " \t\r\n"))
	return rd.offset() + int64(n)
}

// nextValue is the offset of the value after an object key: the decoder
// stands before the ':'. The bytes are peeked from the decoder's buffer,
// which holds at least the byte after the key (the scanner needs it to end
// the string); should the buffer end before the value, the offset falls
// back to the last byte seen.
func (rd *reader) nextValue() int64 {
	buf, _ := io.ReadAll(rd.dec.Buffered())
	rest := bytes.TrimLeft(buf, " \t\r\n")
	rest = bytes.TrimPrefix(rest, []byte(":"))
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return rd.offset() + int64(len(buf)-len(rest))
}

func (rd *reader) run() error {
	// More has the decoder skip leading whitespace, so the offset is that
	// of the first value.
	rd.dec.More()
	top := rd.offset()
	tok, err := rd.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return rd.fail(-1, rd.end(), "the file is empty; expected a HAR (a JSON object with log.entries)", nil)
		}
		if isEOF(err) {
			return rd.fail(-1, rd.end(), "not a HAR file: the JSON ends before its first value is complete", nil)
		}
		return rd.fail(-1, rd.syntaxPos(), "not a HAR file (expected a JSON object with log.entries)", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return rd.fail(-1, top, fmt.Sprintf("not a HAR file: the top level is %s, not a JSON object (expected {\"log\":{\"entries\":[…]}})", describeToken(tok)), nil)
	}
	sawLog := false
	for rd.dec.More() {
		key, err := rd.key(-1, "in the top-level object")
		if err != nil {
			return err
		}
		if key != "log" {
			if err := rd.skip("in the top-level member \"" + key + "\""); err != nil {
				return err
			}
			continue
		}
		sawLog = true
		if err := rd.readLog(); err != nil {
			return err
		}
	}
	if _, err := rd.dec.Token(); err != nil { // closing '}'
		return rd.jsonErr(-1, err, "after "+rd.afterWhat())
	}
	if !sawLog {
		return rd.fail(-1, top, "not a HAR file: the top-level object has no \"log\" member (expected {\"log\":{\"entries\":[…]}})", nil)
	}
	if !rd.sawEntries {
		return rd.fail(-1, rd.logAt, "not a HAR file: \"log\" has no \"entries\" array", nil)
	}
	// Anything after the HAR object is ignored, but said: two HARs pasted
	// into one file would otherwise lose the second silently.
	off := rd.offset()
	if _, err := rd.dec.Token(); !errors.Is(err, io.EOF) {
		rd.warn(-1, off, "data after the end of the HAR object is ignored")
	}
	return nil
}

func (rd *reader) afterWhat() string {
	if rd.info.Entries > 0 {
		return fmt.Sprintf("entry %d", rd.info.Entries-1)
	}
	return "the start of the file"
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '[':
			return "a JSON array"
		case '{':
			return "a JSON object"
		}
		return "'" + v.String() + "'"
	case string:
		return "a JSON string"
	case float64, json.Number:
		return "a JSON number"
	case bool:
		return "a JSON boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

func (rd *reader) key(entry int, where string) (string, error) {
	tok, err := rd.dec.Token()
	if err != nil {
		return "", rd.jsonErr(entry, err, where)
	}
	k, ok := tok.(string)
	if !ok {
		return "", rd.fail(entry, rd.offset(), fmt.Sprintf("malformed JSON: expected an object key, found %s", describeToken(tok)), nil)
	}
	return k, nil
}

func (rd *reader) skip(where string) error {
	var raw json.RawMessage
	if err := rd.dec.Decode(&raw); err != nil {
		return rd.jsonErr(-1, err, where)
	}
	return nil
}

func (rd *reader) readLog() error {
	off := rd.nextValue()
	rd.logAt = off
	tok, err := rd.dec.Token()
	if err != nil {
		return rd.jsonErr(-1, err, "in \"log\"")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return rd.fail(-1, off, fmt.Sprintf("not a HAR file: \"log\" is %s, not an object", describeToken(tok)), nil)
	}
	for rd.dec.More() {
		key, err := rd.key(-1, "in \"log\"")
		if err != nil {
			return err
		}
		var dst any
		switch key {
		case "entries":
			if err := rd.readEntries(); err != nil {
				return err
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
		case "_clientRun":
			dst = &rd.info.ClientRun
		default:
			if err := rd.skip("in log." + key); err != nil {
				return err
			}
			continue
		}
		voff := rd.nextValue()
		if err := rd.dec.Decode(dst); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				rd.warn(-1, voff, "log.%s has an unexpected type (%s); ignored", key, te.Value)
				continue
			}
			return rd.jsonErr(-1, err, "in log."+key)
		}
	}
	if _, err := rd.dec.Token(); err != nil { // closing '}'
		return rd.jsonErr(-1, err, "after "+rd.afterWhat())
	}
	return nil
}

func (rd *reader) readEntries() error {
	off := rd.nextValue()
	tok, err := rd.dec.Token()
	if err != nil {
		return rd.jsonErr(-1, err, "in log.entries")
	}
	if tok == nil { // "entries": null
		rd.sawEntries = true
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return rd.fail(-1, off, fmt.Sprintf("not a HAR file: log.entries is %s, not an array", describeToken(tok)), nil)
	}
	if rd.sawEntries {
		rd.warn(-1, off, "log.entries appears more than once; its entries are numbered after the earlier ones")
	}
	rd.sawEntries = true
	for rd.dec.More() {
		i := rd.info.Entries
		var raw json.RawMessage
		if err := rd.dec.Decode(&raw); err != nil {
			if at := rd.valueStart(); !isEOF(err) || at < rd.end() {
				return rd.jsonErr(i, err, fmt.Sprintf("inside entry %d (which starts at byte %d)", i, at))
			}
			// The file ends after a comma: no byte of entry i exists.
			return rd.jsonErr(-1, err, "after "+rd.afterWhat())
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
		return rd.jsonErr(-1, err, "after "+rd.afterWhat())
	}
	return nil
}

func (rd *reader) entry(i int, off int64, raw json.RawMessage) {
	if len(raw) == 0 || raw[0] != '{' {
		var v any
		_ = json.Unmarshal(raw, &v)
		rd.warn(i, off, "entry skipped: it is %s, not a JSON object", jsonKind(v))
		return
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			rd.warn(i, off, "entry skipped: %s is a JSON %s where HAR wants %s", fieldName(te.Field), te.Value, harType(te.Type.String()))
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

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a JSON array"
	case string:
		return "a JSON string"
	case float64:
		return "a JSON number"
	case bool:
		return "a JSON boolean"
	}
	return "not an object"
}

func fieldName(f string) string {
	if f == "" {
		return "the entry"
	}
	return f
}

// harType names the JSON type a Go field type stands for.
func harType(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "har."):
		return "an object"
	}
	return goType
}

// finish applies what is only known once the whole file was read.
func (rd *reader) finish() {
	if isSanitizingExporter(rd.info.Creator.Name) && !rd.credentials && len(rd.out) > 0 {
		rd.info.Sanitized = true
		for _, ex := range rd.out {
			ex.AddGap(capture.GapSanitized, rd.info.Creator.Name+" export holds no Authorization, Cookie or Set-Cookie header: credentials were probably removed (Chrome's default sanitized export)")
		}
	}
}

// isSanitizingExporter reports whether the creator can write HARs with the
// credentials stripped. Only Chromium DevTools (creator "WebInspector":
// Chrome, Edge, Brave, Opera) does, and by default since Chrome 130.
// Firefox, Safari ("WebKit Web Inspector") and the proxies export what they
// saw, so an export of theirs without credentials is evidence that none were
// sent, not a gap.
func isSanitizingExporter(creator string) bool {
	return strings.EqualFold(strings.TrimSpace(creator), "WebInspector")
}

var timeLayouts = []string{
	time.RFC3339Nano,                       // 2025-01-06T10:41:12.345Z, +05:30, no fraction
	"2006-01-02T15:04:05.999999999Z0700",   // Java SimpleDateFormat "Z": +0200 (Burp Logger++)
	"2006-01-02T15:04:05.999999999Z07",     // +02
	"2006-01-02 15:04:05.999999999Z07:00",  // space instead of T
	"2006-01-02T15:04:05.999999999",        // no zone: read as UTC
	"2006-01-02 15:04:05.999999999",        // no zone, space
	"2006-01-02T15:04:05.999999999 -07:00", // space before the offset
}

func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	// RFC 3339 allows lower-case t and z.
	if len(s) > 10 && s[10] == 't' {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return parseEpoch(s)
}

// parseEpoch reads a non-standard numeric startedDateTime: seconds or, for
// values beyond 1e11 (year 5138 in seconds), milliseconds since 1970. The
// digits are split rather than parsed as a float, which would not keep
// milliseconds exact.
func parseEpoch(s string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 14 || len(frac) > 9 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	n, _ := strconv.ParseInt(whole, 10, 64)
	ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	if n == 0 && ns == 0 {
		return time.Time{}, false
	}
	if n > 1e11 { // milliseconds
		return time.UnixMilli(n).Add(time.Duration(ns / 1e3)).UTC(), true
	}
	return time.Unix(n, ns).UTC(), true
}

func (rd *reader) convert(i int, off, length int64, e *Entry) (*capture.Exchange, error) {
	ex := &capture.Exchange{
		Ref:        capture.Ref{File: rd.name, Entry: i, Offset: off, Length: length},
		ServerAddr: string(e.ServerIPAddress),
		ClientAddr: string(e.ClientAddress),
		Error:      string(e.Error),
		Comment:    string(e.Comment),
	}
	req, err := rd.request(i, off, &e.Request, ex)
	if err != nil {
		return nil, err
	}
	ex.Request = req
	if t, ok := parseTime(string(e.StartedDateTime)); ok {
		ex.Start = t
	} else {
		rd.warn(i, off, "startedDateTime %q is not an ISO 8601 time; the entry keeps its file position in the timeline", truncate(string(e.StartedDateTime), 60))
	}
	// A duration beyond a day is not a real HTTP exchange, and beyond
	// ~292 years it would overflow time.Duration.
	if e.Time > 0 && float64(e.Time) < float64(24*time.Hour/time.Millisecond) {
		ex.Duration = time.Duration(float64(e.Time) * float64(time.Millisecond))
	}
	r := e.Response
	switch {
	case r == nil:
		ex.AddGap(capture.GapNoResponse, "the HAR entry has no response")
	case r.Status == 0 || r.Status < 0:
		// 0: failed, blocked or never sent (Chrome, Firefox, Safari,
		// mitmproxy, Insomnia); -1: Burp Logger++ without a response.
		ex.AddGap(capture.GapNoResponse, "the HAR entry has no response (status "+strconv.FormatInt(int64(r.Status), 10)+")")
		if r.Error != "" && ex.Error == "" {
			ex.Error = string(r.Error)
		}
	case r.Status < 100 || r.Status > 999:
		rd.warn(i, off, "response status %d is not an HTTP status code; the response is ignored", r.Status)
		ex.AddGap(capture.GapNoResponse, fmt.Sprintf("the HAR entry's response status %d is not an HTTP status code", r.Status))
	default:
		ex.Response = rd.response(i, off, r, ex)
	}
	if len(e.Gaps) > 0 {
		var gaps []capture.Gap
		if json.Unmarshal(e.Gaps, &gaps) == nil {
			for _, g := range gaps {
				if g.Kind != "" {
					ex.AddGap(g.Kind, g.Detail)
				}
			}
		}
	}
	if redactedByOauthlint(ex) {
		ex.AddGap(capture.GapSanitized, "credentials were redacted when this HAR was saved (oauthlint capture without --show-secrets): rules that need their values report not-available")
	}
	return ex, nil
}

func (rd *reader) request(i int, off int64, r *Request, ex *capture.Exchange) (*capture.Request, error) {
	method := strings.ToUpper(strings.TrimSpace(r.Method))
	if method == "" {
		return nil, fmt.Errorf("request.method is missing or empty")
	}
	if !isToken(method) {
		return nil, fmt.Errorf("request.method %q is not an HTTP method", truncate(method, 40))
	}
	u, err := parseURL(method, r.URL)
	if err != nil {
		return nil, err
	}
	req := &capture.Request{
		Method:   method,
		URL:      u,
		Proto:    string(r.HTTPVersion),
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
		if len(body) == 0 && r.BodySize > 0 && err == nil {
			ex.AddGap(capture.GapRequestBody, fmt.Sprintf("request body of %d bytes not saved by the exporting tool", r.BodySize))
		}
		req.Body = rd.capBody(body, ex, capture.GapRequestBody)
		if req.Headers.Get("Content-Type") == "" && pd.MimeType != "" {
			// Keep the media type the exporter recorded so form and JSON
			// bodies are recognised; the header list itself stays as captured.
			req.Headers = append(req.Headers, capture.Header{Name: "Content-Type", Value: string(pd.MimeType)})
		}
	} else if r.BodySize > 0 {
		ex.AddGap(capture.GapRequestBody, fmt.Sprintf("request body of %d bytes not saved by the exporting tool", r.BodySize))
	}
	return req, nil
}

// isToken reports whether s is an RFC 9110 token (a valid method name).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return s != ""
}

func parseURL(method, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("request.url is empty")
	}
	if method == "CONNECT" && !strings.Contains(raw, "://") {
		// Authority form ("host:port"). CONNECT opens a tunnel that in
		// practice carries TLS; mitmproxy writes these as https://host:port/.
		u, err := url.Parse("https://" + raw)
		if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("request.url %q of a CONNECT request is not host:port", shownURL(raw))
		}
		return u, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("request.url %q cannot be parsed: %v", shownURL(raw), unwrapURLError(err))
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("request.url %q is not absolute (HAR wants scheme://host/path)", shownURL(raw))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ws", "wss":
	default:
		return nil, fmt.Errorf("request.url %q is not an HTTP URL (scheme %q)", shownURL(raw), u.Scheme)
	}
	return u, nil
}

// shownURL is a URL as warnings may print it: without query and fragment,
// which can hold codes, tokens and state (warnings are printed as they
// are, outside the redaction of findings), and shortened.
func shownURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i] + "?…"
	}
	return truncate(raw, 200)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// truncate shortens s to at most n bytes without splitting a UTF-8
// sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func headers(in []NameValue) capture.Headers {
	out := make(capture.Headers, 0, len(in))
	for _, h := range in {
		out = append(out, capture.Header{Name: string(h.Name), Value: string(h.Value)})
	}
	return out
}

func (rd *reader) noteCredentials(h capture.Headers, cookies bool) {
	if cookies || h.Has("Authorization") || h.Has("Cookie") || h.Has("Set-Cookie") || h.Has("Proxy-Authorization") {
		rd.credentials = true
	}
}

// decodeBase64 accepts what exporters write: standard or URL alphabet, with
// or without padding, wrapped at 76 columns (MIME) or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func postBody(pd *PostData) ([]byte, error) {
	if pd.Text != nil && *pd.Text != "" {
		if strings.EqualFold(string(pd.Encoding), "base64") {
			b, err := decodeBase64(*pd.Text)
			if err != nil {
				return []byte(*pd.Text), fmt.Errorf("postData.text is marked base64 but is not valid base64: %v", err)
			}
			return b, nil
		}
		return []byte(*pd.Text), nil
	}
	if len(pd.Params) == 0 {
		return nil, nil
	}
	mt := strings.ToLower(strings.TrimSpace(string(pd.MimeType)))
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	if mt != "" && mt != "application/x-www-form-urlencoded" {
		// A multipart body cannot be rebuilt byte for byte (boundary,
		// part headers); leave it out rather than invent one.
		return nil, fmt.Errorf("the %s body was saved only as postData.params and cannot be reconstructed", mt)
	}
	// Rebuild a form body from params (Charles, Insomnia write no text).
	var b strings.Builder
	for j, p := range pd.Params {
		if j > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(string(p.Name)))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(string(p.Value)))
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
		StatusText: string(r.StatusText),
		Proto:      string(r.HTTPVersion),
		Headers:    headers(r.Headers),
		BodySize:   int64(r.BodySize),
	}
	rd.noteCredentials(resp.Headers, len(r.Cookies) > 0)
	// Burp Logger++ writes the string "null" when there is no redirect.
	if redir := strings.TrimSpace(string(r.RedirectURL)); r.Status >= 300 && r.Status < 400 && redir != "" && redir != "null" && !resp.Headers.Has("Location") {
		resp.Headers = append(resp.Headers, capture.Header{Name: "Location", Value: redir})
	}
	c := r.Content
	switch {
	case c.Text != nil:
		body := []byte(*c.Text)
		if strings.EqualFold(string(c.Encoding), "base64") {
			b, err := decodeBase64(*c.Text)
			if err != nil {
				rd.warn(i, off, "response content is marked base64 but is not valid base64: %v", err)
				ex.AddGap(capture.GapResponseBody, "content.text is marked base64 but is not valid base64")
			} else {
				body = b
			}
		}
		if ce := resp.Headers.Get("Content-Encoding"); ce != "" {
			body = rd.decodeContent(ce, body, ex)
		}
		resp.Body = rd.capBody(body, ex, capture.GapResponseBody)
	case c.Size > 0:
		ex.AddGap(capture.GapResponseBody, fmt.Sprintf("response body of %d bytes not saved by the exporting tool", c.Size))
	}
	if mt := strings.TrimSpace(string(c.MimeType)); mt != "" && mt != "x-unknown" && !resp.Headers.Has("Content-Type") && len(resp.Body) > 0 {
		resp.Headers = append(resp.Headers, capture.Header{Name: "Content-Type", Value: mt})
	}
	return resp
}

// decodeContent undoes a Content-Encoding when the stored body still
// carries it. Most exporters store the decoded body and keep the header, so
// the body is decoded only when it looks encoded: gzip, zlib and zstd have
// magic numbers; brotli has none, so a body that is not text is tried and,
// when it does not decode, taken to be already decoded (mitmproxy stores a
// decoded binary body as base64 with the br header kept).
//
// Burp extensions store the raw body as a string with one character per
// byte; in the JSON file each byte above 0x7F became a two-byte UTF-8
// sequence. A body whose characters all fit in a byte and whose bytes then
// carry a magic number is decoded from those bytes.
func (rd *reader) decodeContent(ce string, body []byte, ex *capture.Exchange) []byte {
	candidate := body
	guessed := false
	if !decode.LooksEncoded(ce, body) {
		lat, ok := latin1Bytes(body)
		if !ok || !hasMagic(ce, lat) {
			return body
		}
		candidate = lat
	} else if !hasMagic(ce, body) {
		guessed = true
	}
	dec, err := decode.Body(ce, candidate, rd.opts.MaxBody)
	switch {
	case errors.Is(err, decode.ErrTooLarge):
		ex.AddGap(capture.GapResponseBody, fmt.Sprintf("decoded body truncated to %d bytes (raise with --max-body)", rd.opts.MaxBody))
		return dec
	case err != nil && guessed:
		return body
	case err != nil:
		ex.AddGap(capture.GapDecode, fmt.Sprintf("Content-Encoding %s: the stored body looks encoded but does not decode: %v", ce, err))
		return body
	}
	return dec
}

// hasMagic reports whether body starts with the signature of the last
// coding in ce (the one applied last, undone first).
func hasMagic(ce string, body []byte) bool {
	codings := strings.Split(ce, ",")
	switch strings.ToLower(strings.TrimSpace(codings[len(codings)-1])) {
	case "gzip", "x-gzip", "zstd", "deflate":
		return decode.LooksEncoded(ce, body)
	}
	return false
}

// latin1Bytes maps a UTF-8 string whose runes are all below U+0100 back to
// one byte per rune; ok is false when that is not possible or changes
// nothing.
func latin1Bytes(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	changed := false
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 || r > 0xFF {
			return nil, false
		}
		if r >= 0x80 {
			changed = true
		}
		out = append(out, byte(r))
		b = b[n:]
	}
	return out, changed
}

// redactedByOauthlint reports whether an exchange carries values that
// oauthlint's HAR writer redacted.
func redactedByOauthlint(ex *capture.Exchange) bool {
	has := func(s string) bool { return strings.Contains(s, capture.RedactedTokenPrefix) }
	if has(ex.Request.URL.String()) || has(string(ex.Request.Body)) {
		return true
	}
	for _, h := range ex.Request.Headers {
		if has(h.Value) {
			return true
		}
	}
	if r := ex.Response; r != nil {
		if has(string(r.Body)) {
			return true
		}
		for _, h := range r.Headers {
			if has(h.Value) {
				return true
			}
		}
	}
	return false
}
