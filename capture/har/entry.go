package har

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/oauthlint/oauthlint/capture"
)

// appendEntry appends ex's HAR entry to b as one line of JSON.
//
// The entry is written by hand rather than by encoding/json from a struct:
// the live proxy writes every exchange it forwards, and building an entry
// struct, walking it by reflection and copying the encoder's output cost
// about as much as the redaction scan. The output is what json.Marshal
// writes for the entry struct, byte for byte (entry_test.go compares them);
// that includes escaping <, > and & as json.Encoder does by default.
func (w *Writer) appendEntry(b []byte, ex *capture.Exchange) []byte {
	req := ex.Request
	ms := float64(ex.Duration) / float64(time.Millisecond)
	b = append(b, `{"startedDateTime":"`...)
	b = ex.Start.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","time":`...)
	b = appendFloat(b, ms)

	rawURL := w.s(req.URL.String())
	b = append(b, `,"request":{"method":`...)
	b = appendString(b, req.Method)
	b = append(b, `,"url":`...)
	b = appendString(b, rawURL)
	b = append(b, `,"httpVersion":`...)
	b = appendString(b, orDefault(req.Proto, "HTTP/1.1"))
	b = append(b, `,"cookies":[],"headers":`...)
	b = w.appendHeaders(b, req.Headers)
	b = append(b, `,"queryString":[`...)
	if u, err := url.Parse(rawURL); err == nil {
		first := true
		for kv := range strings.SplitSeq(u.RawQuery, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			dk, _ := url.QueryUnescape(k)
			dv, _ := url.QueryUnescape(v)
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendNameValue(b, dk, dv)
		}
	}
	b = append(b, ']')
	if len(req.Body) > 0 {
		b = append(b, `,"postData":{"mimeType":`...)
		b = appendString(b, req.Headers.Get("Content-Type"))
		text, enc := w.body(req.Body)
		b = append(b, `,"text":`...)
		b = appendString(b, text)
		if enc != "" {
			b = append(b, `,"encoding":`...)
			b = appendString(b, enc)
		}
		b = append(b, '}')
	}
	b = append(b, `,"headersSize":-1,"bodySize":`...)
	b = strconv.AppendInt(b, int64(len(req.Body)), 10)

	if r := ex.Response; r != nil {
		b = append(b, `},"response":{"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
		b = append(b, `,"statusText":`...)
		b = appendString(b, r.StatusText)
		b = append(b, `,"httpVersion":`...)
		b = appendString(b, orDefault(r.Proto, "HTTP/1.1"))
		b = append(b, `,"cookies":[],"headers":`...)
		b = w.appendHeaders(b, r.Headers)
		b = append(b, `,"content":{"size":`...)
		b = strconv.AppendInt(b, int64(len(r.Body)), 10)
		b = append(b, `,"mimeType":`...)
		b = appendString(b, r.Headers.Get("Content-Type"))
		text, enc := w.body(r.Body)
		if text != "" {
			b = append(b, `,"text":`...)
			b = appendString(b, text)
		}
		if enc != "" {
			b = append(b, `,"encoding":`...)
			b = appendString(b, enc)
		}
		b = append(b, `},"redirectURL":`...)
		b = appendString(b, w.s(r.Headers.Get("Location")))
		b = append(b, `,"headersSize":-1,"bodySize":`...)
		b = strconv.AppendInt(b, int64(len(r.Body)), 10)
		b = append(b, '}')
	} else {
		b = append(b, `},"response":{"status":0,"statusText":"","httpVersion":"","cookies":[],"headers":[],"content":{"size":0,"mimeType":"x-unknown"},"redirectURL":"","headersSize":-1,"bodySize":-1}`...)
	}

	b = append(b, `,"cache":{},"timings":{"receive":0,"send":0,"wait":`...)
	b = appendFloat(b, ms)
	b = append(b, '}')
	if ex.ServerAddr != "" {
		b = append(b, `,"serverIPAddress":`...)
		b = appendString(b, ex.ServerAddr)
	}
	if ex.ClientAddr != "" {
		b = append(b, `,"_clientAddress":`...)
		b = appendString(b, ex.ClientAddr)
	}
	if e := w.s(ex.Error); e != "" {
		b = append(b, `,"_error":`...)
		b = appendString(b, e)
	}
	if len(ex.Gaps) > 0 {
		gaps, _ := json.Marshal(ex.Gaps) // a slice of plain structs: cannot fail
		b = append(b, `,"_gaps":`...)
		b = append(b, gaps...)
	}
	if ex.Comment != "" {
		b = append(b, `,"comment":`...)
		b = appendString(b, ex.Comment)
	}
	return append(b, '}')
}

func (w *Writer) appendHeaders(b []byte, hs capture.Headers) []byte {
	b = append(b, '[')
	for i, h := range hs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNameValue(b, h.Name, w.s(h.Value))
	}
	return append(b, ']')
}

func appendNameValue(b []byte, name, value string) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, name)
	b = append(b, `,"value":`...)
	b = appendString(b, value)
	return append(b, '}')
}

func (w *Writer) s(v string) string {
	if w.redact == nil {
		return v
	}
	return w.redact(v)
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

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// appendFloat writes f as encoding/json does (durations are finite).
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// jsonPlain marks the bytes a JSON string holds as they are: ASCII, not
// a control character, quote or backslash, and not <, > or & (escaped as
// encoding/json's Encoder does by default, so that the file is the
// same). A byte of 0x80 or more starts or continues a character that is
// checked.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string as encoding/json does: invalid
// UTF-8 becomes U+FFFD, and U+2028 and U+2029 are escaped.
func appendString(b []byte, s string) []byte {
	return appendStringChunked(b, s, escapeChunk)
}

// escapeChunk is how much of a string is escaped into room reserved at
// once: up to six bytes out for each byte in, so a large body does not
// reserve six times its size.
const escapeChunk = 4 << 10

// appendStringChunked is appendString escaping chunk bytes at a time
// (chunk ≥ utf8.UTFMax; tests use small ones). A chunk ends before a
// byte that is not a UTF-8 continuation byte, so that no character is
// cut; when the last three bytes before the end are all continuation
// bytes, no valid character can span the end either.
func appendStringChunked(b []byte, s string, chunk int) []byte {
	b = append(b, '"')
	for len(s) > 0 {
		n := len(s)
		if n > chunk {
			n = chunk
			for n > chunk-(utf8.UTFMax-1) && s[n]&0xC0 == 0x80 {
				n--
			}
			if s[n]&0xC0 == 0x80 {
				n = chunk
			}
		}
		b = appendEscaped(b, s[:n])
		s = s[n:]
	}
	return append(b, '"')
}

// appendEscaped writes s escaped (without quotes) into room reserved for
// the worst case, byte by byte: a JSON body has a quote every few bytes,
// and copying the short runs between them cost more than the bytes.
func appendEscaped(b []byte, s string) []byte {
	b = slices.Grow(b, 6*len(s))
	n := len(b)
	d := b[:cap(b)]
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			d[n] = c
			n++
			i++
			continue
		}
		if c < utf8.RuneSelf {
			i++
			d[n] = '\\'
			switch c {
			case '\\', '"':
				d[n+1] = c
			case '\b':
				d[n+1] = 'b'
			case '\f':
				d[n+1] = 'f'
			case '\n':
				d[n+1] = 'n'
			case '\r':
				d[n+1] = 'r'
			case '\t':
				d[n+1] = 't'
			default:
				d[n+1], d[n+2], d[n+3], d[n+4], d[n+5] = 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF]
				n += 4
			}
			n += 2
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += copy(d[n:], `\ufffd`)
		case r == '\u2028' || r == '\u2029':
			d[n], d[n+1], d[n+2], d[n+3], d[n+4], d[n+5] = '\\', 'u', '2', '0', '2', hexDigits[r&0xF]
			n += 6
		default:
			n += copy(d[n:], s[i:i+size])
		}
		i += size
	}
	return d[:n]
}
