// Package harbuild writes realistic HAR files for tests, fixtures and
// examples: the exchanges an MCP client, a browser, an authorization server
// (ORY Hydra or a generic OAuth server) and an MCP server produce during
// discovery, registration, authorization, token exchange and MCP calls,
// with the headers those programs really send. Output is deterministic for
// a given scenario, so committed fixtures can be checked for staleness.
package harbuild

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/oauthlint/oauthlint/capture"
	"net/url"
	"sort"
	"strings"
	"time"
)

// HAR is a HAR document under construction.
type HAR struct {
	Creator        string
	CreatorVersion string
	// Comment is the log comment; fixtures put run options there
	// ("mcp-revision: 2025-06-18; packs: oauth2").
	Comment string
	Entries []*Entry
	// ClientRun, when set, marks the capture as covering the client's
	// whole run (oauthlint capture -- CMD).
	ClientRun *capture.ClientRun
	clock     time.Time
	step      int
}

// Entry is one exchange.
type Entry struct {
	Time        time.Time
	Method      string
	URL         string
	ReqHeaders  [][2]string
	ReqBody     string
	ReqMime     string
	Status      int
	RespHeaders [][2]string
	RespBody    string
	RespMime    string
	// NoResponse leaves the response out (status 0, like a failed request).
	NoResponse bool
	// Comment holds fixture expectations ("want: AZ-STATE").
	Comment  string
	ServerIP string
	Client   string
}

// New starts a HAR written by creator (e.g. "mitmproxy", "10.4.2") whose
// first exchange happens at start.
func New(creator, version string, start time.Time) *HAR {
	return &HAR{Creator: creator, CreatorVersion: version, clock: start}
}

// Add appends an entry, advancing the clock by a realistic gap.
func (h *HAR) Add(e *Entry) *Entry {
	h.step++
	// 20–60 ms between exchanges, deterministic.
	h.clock = h.clock.Add(time.Duration(20+(h.step*37)%41) * time.Millisecond)
	if e.Time.IsZero() {
		e.Time = h.clock
	} else {
		h.clock = e.Time
	}
	h.Entries = append(h.Entries, e)
	return e
}

// TruncateFrom drops e and every later entry: the capture stops there.
func (h *HAR) TruncateFrom(e *Entry) {
	for i, x := range h.Entries {
		if x == e {
			h.Entries = h.Entries[:i]
			return
		}
	}
}

// Wait advances the clock (user think time, token lifetime…).
func (h *HAR) Wait(d time.Duration) { h.clock = h.clock.Add(d) }

// Want adds an expectation to an entry's comment.
func (e *Entry) Want(ids ...string) *Entry {
	if len(ids) == 0 {
		return e
	}
	if e.Comment == "" {
		e.Comment = "want:"
	}
	e.Comment += " " + strings.Join(ids, " ")
	return e
}

type nv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPost struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
}

type harReq struct {
	Method      string   `json:"method"`
	URL         string   `json:"url"`
	HTTPVersion string   `json:"httpVersion"`
	Cookies     []nv     `json:"cookies"`
	Headers     []nv     `json:"headers"`
	QueryString []nv     `json:"queryString"`
	HeadersSize int      `json:"headersSize"`
	BodySize    int      `json:"bodySize"`
	PostData    *harPost `json:"postData,omitempty"`
}

type harContent struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
}

type harResp struct {
	Status      int        `json:"status"`
	StatusText  string     `json:"statusText"`
	HTTPVersion string     `json:"httpVersion"`
	Cookies     []nv       `json:"cookies"`
	Headers     []nv       `json:"headers"`
	Content     harContent `json:"content"`
	RedirectURL string     `json:"redirectURL"`
	HeadersSize int        `json:"headersSize"`
	BodySize    int        `json:"bodySize"`
}

type harTimings struct {
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

type harEntry struct {
	StartedDateTime string     `json:"startedDateTime"`
	Time            float64    `json:"time"`
	Request         harReq     `json:"request"`
	Response        harResp    `json:"response"`
	Cache           struct{}   `json:"cache"`
	Timings         harTimings `json:"timings"`
	ServerIPAddress string     `json:"serverIPAddress,omitempty"`
	ClientAddress   string     `json:"_clientAddress,omitempty"`
	Comment         string     `json:"comment,omitempty"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harLog struct {
	Version string     `json:"version"`
	Creator harCreator `json:"creator"`
	Pages   []struct{} `json:"pages"`
	Comment string     `json:"comment,omitempty"`
	Entries []harEntry `json:"entries"`
	// ClientRun is what oauthlint capture -- CMD writes at the end.
	ClientRun *capture.ClientRun `json:"_clientRun,omitempty"`
}

// Marshal renders the HAR as indented JSON.
func (h *HAR) Marshal() []byte {
	l := harLog{Version: "1.2", Creator: harCreator{h.Creator, h.CreatorVersion}, Pages: []struct{}{}, Comment: h.Comment, ClientRun: h.ClientRun}
	for i, e := range h.Entries {
		l.Entries = append(l.Entries, e.render(i))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"log": l}); err != nil {
		panic(err) // only plain data is encoded
	}
	return buf.Bytes()
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 204:
		return "No Content"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 500:
		return "Internal Server Error"
	}
	return ""
}

func (e *Entry) render(i int) harEntry {
	u, err := url.Parse(e.URL)
	if err != nil {
		panic(fmt.Sprintf("harbuild: bad URL %q: %v", e.URL, err))
	}
	var qs []nv
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// queryString in the order of the URL, as exporters write it.
	for _, part := range strings.Split(u.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, _ := url.QueryUnescape(k)
		dv, _ := url.QueryUnescape(v)
		qs = append(qs, nv{dk, dv})
	}
	if qs == nil {
		qs = []nv{}
	}
	headers := func(hs [][2]string) []nv {
		out := make([]nv, 0, len(hs))
		for _, h := range hs {
			out = append(out, nv{h[0], h[1]})
		}
		return out
	}
	req := harReq{Method: e.Method, URL: e.URL, HTTPVersion: "HTTP/1.1", Cookies: []nv{}, Headers: headers(e.ReqHeaders),
		QueryString: qs, HeadersSize: -1, BodySize: len(e.ReqBody)}
	if e.ReqBody != "" {
		req.PostData = &harPost{MimeType: e.ReqMime, Text: e.ReqBody}
	}
	resp := harResp{Status: e.Status, StatusText: statusText(e.Status), HTTPVersion: "HTTP/1.1", Cookies: []nv{},
		Headers: headers(e.RespHeaders), Content: harContent{Size: len(e.RespBody), MimeType: e.RespMime, Text: e.RespBody},
		HeadersSize: -1, BodySize: len(e.RespBody)}
	if e.NoResponse {
		resp = harResp{Status: 0, Cookies: []nv{}, Headers: []nv{}, HeadersSize: -1, BodySize: -1, Content: harContent{MimeType: "x-unknown"}}
	}
	for _, h := range e.RespHeaders {
		if strings.EqualFold(h[0], "Location") && e.Status >= 300 && e.Status < 400 {
			resp.RedirectURL = h[1]
		}
	}
	wait := float64(3 + (i*7)%11)
	ent := harEntry{
		StartedDateTime: e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"),
		Time:            wait + 1.5,
		Request:         req,
		Response:        resp,
		Timings:         harTimings{Send: 0.5, Wait: wait, Receive: 1},
		ServerIPAddress: e.ServerIP,
		ClientAddress:   e.Client,
		Comment:         e.Comment,
	}
	return ent
}
