// Package har reads and writes HTTP Archive (HAR 1.2) files.
//
// The reader streams the file entry by entry with a json.Decoder, so a large
// HAR never has to fit in memory as JSON; each entry becomes a
// capture.Exchange carrying its entry index and byte offset. It accepts the
// variants real tools write: Chrome/Edge (including the sanitized default
// export), Firefox, Safari, mitmproxy, Charles, Burp and Insomnia.
package har

import (
	"bytes"
	"encoding/json"
	"strconv"
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
type Entry struct {
	StartedDateTime string    `json:"startedDateTime"`
	Time            flexFloat `json:"time"`
	Request         Request   `json:"request"`
	Response        *Response `json:"response"`
	ServerIPAddress string    `json:"serverIPAddress,omitempty"`
	Connection      string    `json:"connection,omitempty"`
	Comment         string    `json:"comment,omitempty"`
	// Custom fields written by common tools.
	ClientAddress string          `json:"_clientAddress,omitempty"` // mitmproxy
	Error         string          `json:"_error,omitempty"`         // Chrome (blocked, failed)
	ResourceType  string          `json:"_resourceType,omitempty"`  // Chrome
	WebSocket     json.RawMessage `json:"_webSocketMessages,omitempty"`
}

// Request is a HAR request.
type Request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Headers     []NameValue `json:"headers"`
	QueryString []NameValue `json:"queryString"`
	Cookies     []Cookie    `json:"cookies"`
	PostData    *PostData   `json:"postData,omitempty"`
	HeadersSize flexInt     `json:"headersSize"`
	BodySize    flexInt     `json:"bodySize"`
}

// Response is a HAR response.
type Response struct {
	Status      flexInt     `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Headers     []NameValue `json:"headers"`
	Cookies     []Cookie    `json:"cookies"`
	Content     Content     `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize flexInt     `json:"headersSize"`
	BodySize    flexInt     `json:"bodySize"`
	Error       string      `json:"_error,omitempty"`
}

// NameValue is a header or query parameter.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Cookie is a HAR cookie (only the fields oauthlint uses).
type Cookie struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PostData is a request body. Firefox and some proxies write form bodies
// as params with an empty text.
type PostData struct {
	MimeType string      `json:"mimeType"`
	Text     *string     `json:"text,omitempty"`
	Params   []PostParam `json:"params,omitempty"`
	Encoding string      `json:"encoding,omitempty"` // non-standard: "base64"
}

// PostParam is one form parameter.
type PostParam struct {
	Name        string `json:"name"`
	Value       string `json:"value,omitempty"`
	FileName    string `json:"fileName,omitempty"`
	ContentType string `json:"contentType,omitempty"`
}

// Content is a response body.
type Content struct {
	Size        flexInt `json:"size"`
	Compression flexInt `json:"compression,omitempty"`
	MimeType    string  `json:"mimeType"`
	Text        *string `json:"text,omitempty"`
	Encoding    string  `json:"encoding,omitempty"`
}

// flexInt accepts a JSON number, a numeric string or null: exporters
// disagree on all three.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = -1
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*f = -1
			return nil
		}
		b = []byte(s)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*f = flexInt(int64(v))
	return nil
}

// flexFloat accepts a JSON number, a numeric string or null.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = -1
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*f = flexFloat(v)
	return nil
}
