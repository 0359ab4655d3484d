// Package har reads and writes HTTP Archive (HAR 1.2) files.
//
// The reader streams the file entry by entry with a json.Decoder, so a large
// HAR never has to fit in memory as JSON; each entry becomes a
// capture.Exchange carrying its entry index and byte offset. It accepts the
// variants real tools write: Chrome/Edge (including the sanitized default
// export), Firefox, Safari, mitmproxy, Charles, Burp (Logger++) and Insomnia.
// testdata/README.md lists the quirks of each exporter and the fixture that
// covers it.
package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Log is the part of a HAR's "log" object outside the entries.
type Log struct {
	Version string  `json:"version"`
	Creator Creator `json:"creator"`
	Browser Creator `json:"browser,omitempty"`
	Comment string  `json:"comment,omitempty"`
}

// Creator names the tool that wrote the file.
type Creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Comment string `json:"comment,omitempty"`
}

// Entry is one HAR entry. Unknown fields (custom "_" fields) are ignored.
//
// Fields the reader only passes through are flexString: exporters disagree
// on their JSON type (null, number, string), and a wrong type there must not
// cost the whole entry. Fields that carry meaning (method, URL, headers,
// status, bodies) keep strict types: a wrong type there skips the entry with
// a warning.
type Entry struct {
	StartedDateTime flexString `json:"startedDateTime"`
	Time            flexFloat  `json:"time"`
	Request         Request    `json:"request"`
	Response        *Response  `json:"response"`
	ServerIPAddress flexString `json:"serverIPAddress,omitempty"`
	Connection      flexString `json:"connection,omitempty"`
	Comment         flexString `json:"comment,omitempty"`
	// Custom fields written by common tools.
	ClientAddress flexString      `json:"_clientAddress,omitempty"` // mitmproxy lab exports
	Error         flexString      `json:"_error,omitempty"`         // Chrome (blocked, failed)
	ResourceType  flexString      `json:"_resourceType,omitempty"`  // Chrome, mitmproxy
	WebSocket     json.RawMessage `json:"_webSocketMessages,omitempty"`
	// Gaps are written by oauthlint's own HAR writer: what its capture
	// knew to be missing (a body cut at the cap, a stream still open).
	Gaps json.RawMessage `json:"_gaps,omitempty"`
}

// Request is a HAR request.
type Request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion flexString  `json:"httpVersion"`
	Headers     []NameValue `json:"headers"`
	// QueryString is not used (the URL is authoritative) and not validated.
	QueryString json.RawMessage `json:"queryString"`
	// Cookies are only counted (a sanitized export has none); their members
	// vary too much between exporters to be worth decoding.
	Cookies     []json.RawMessage `json:"cookies"`
	PostData    *PostData         `json:"postData,omitempty"`
	HeadersSize flexInt           `json:"headersSize"`
	BodySize    flexInt           `json:"bodySize"`
}

// Response is a HAR response.
type Response struct {
	Status      statusCode        `json:"status"`
	StatusText  flexString        `json:"statusText"`
	HTTPVersion flexString        `json:"httpVersion"`
	Headers     []NameValue       `json:"headers"`
	Cookies     []json.RawMessage `json:"cookies"`
	Content     Content           `json:"content"`
	RedirectURL flexString        `json:"redirectURL"`
	HeadersSize flexInt           `json:"headersSize"`
	BodySize    flexInt           `json:"bodySize"`
	Error       flexString        `json:"_error,omitempty"`
}

// NameValue is a header or query parameter.
type NameValue struct {
	Name  flexString `json:"name"`
	Value flexString `json:"value"`
}

// Cookie is a HAR cookie (only the fields oauthlint uses).
type Cookie struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PostData is a request body. Charles, Insomnia and Burp extensions write
// form bodies as params, sometimes without any text.
type PostData struct {
	MimeType flexString  `json:"mimeType"`
	Text     *string     `json:"text,omitempty"`
	Params   []PostParam `json:"params,omitempty"`
	Encoding flexString  `json:"encoding,omitempty"` // non-standard: "base64"
}

// PostParam is one form parameter.
type PostParam struct {
	Name        flexString `json:"name"`
	Value       flexString `json:"value,omitempty"`
	FileName    flexString `json:"fileName,omitempty"`
	ContentType flexString `json:"contentType,omitempty"`
}

// Content is a response body.
type Content struct {
	Size        flexInt    `json:"size"`
	Compression flexInt    `json:"compression,omitempty"`
	MimeType    flexString `json:"mimeType"`
	Text        *string    `json:"text,omitempty"`
	Encoding    flexString `json:"encoding,omitempty"`
}

// flexString accepts a JSON string, null (""), a number or boolean (its
// literal text) and ignores objects and arrays ("").
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		*f = ""
		return nil
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case 'n', '{', '[':
		*f = ""
	default:
		*f = flexString(b)
	}
	return nil
}

// flexInt accepts a JSON number, a numeric string or null (-1, unknown):
// exporters disagree on all three. Fractions are dropped. It is used for
// sizes, which only inform gap messages, so anything else (a number too
// large for an int64, "n/a", an object) is read as unknown too rather than
// cost the entry.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	v, err := parseNumber(b)
	if err != nil {
		v = -1
	}
	*f = flexInt(v)
	return nil
}

// statusCode is a response status: like flexInt, but a number out of range
// is an error (the entry is skipped with a warning) rather than "unknown",
// which would silently turn a garbage response into "no response".
type statusCode int64

func (s *statusCode) UnmarshalJSON(b []byte) error {
	v, err := parseNumber(b)
	if err != nil {
		return fmt.Errorf("response.status: %w", err)
	}
	*s = statusCode(v)
	return nil
}

var errOutOfRange = errors.New("out of range")

// parseNumber reads a JSON number, numeric string or null (-1).
func parseNumber(b []byte) (int64, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return -1, nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		if s = strings.TrimSpace(s); s == "" {
			return -1, nil
		}
		b = []byte(s)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("expected a number, found %s", truncate(string(b), 40))
	}
	if err != nil || math.IsNaN(v) || v >= math.MaxInt64 || v <= math.MinInt64 {
		// Converting an out-of-range float to int64 is implementation
		// defined in Go; refuse it rather than invent a value.
		return 0, fmt.Errorf("number %s is %w", truncate(string(b), 40), errOutOfRange)
	}
	return int64(v), nil
}

// flexFloat accepts a JSON number or numeric string. It only feeds the
// exchange's duration, so anything else (null, a value too large for a
// float64, text) is read as unknown (-1).
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	*f = -1
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
		b = []byte(strings.TrimSpace(s))
	}
	if v, err := strconv.ParseFloat(string(b), 64); err == nil && !math.IsNaN(v) {
		*f = flexFloat(v)
	}
	return nil
}
