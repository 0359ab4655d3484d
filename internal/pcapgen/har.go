package pcapgen

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HARWriter writes the generated exchanges as a HAR 1.2 file, entry by
// entry, with the bodies decoded (as browsers and proxies export them) and
// the headers exactly as sent.
type HARWriter struct {
	w       *bufio.Writer
	entries int
	err     error
}

// NewHARWriter starts a HAR on w.
func NewHARWriter(w io.Writer) *HARWriter {
	h := &HARWriter{w: bufio.NewWriterSize(w, 1<<20)}
	_, h.err = h.w.WriteString(`{"log":{"version":"1.2","creator":{"name":"oauthlint pcapgen","version":"1"},"entries":[` + "\n")
	return h
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	ServerIPAddress string      `json:"serverIPAddress"`
	Connection      string      `json:"connection"`
	ClientAddress   string      `json:"_clientAddress"`
	Comment         string      `json:"comment,omitempty"`
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	Cookies     []harNV      `json:"cookies"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int          `json:"bodySize"`
}

type harPostData struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	Encoding string `json:"encoding,omitempty"`
}

type harResponse struct {
	Status      int        `json:"status"`
	StatusText  string     `json:"statusText"`
	HTTPVersion string     `json:"httpVersion"`
	Headers     []harNV    `json:"headers"`
	Cookies     []harNV    `json:"cookies"`
	Content     harContent `json:"content"`
	RedirectURL string     `json:"redirectURL"`
	HeadersSize int        `json:"headersSize"`
	BodySize    int        `json:"bodySize"`
}

type harContent struct {
	Size     int     `json:"size"`
	MimeType string  `json:"mimeType"`
	Text     *string `json:"text,omitempty"`
	Encoding string  `json:"encoding,omitempty"`
}

func nvs(hs []Header) []harNV {
	out := make([]harNV, 0, len(hs))
	for _, h := range hs {
		out = append(out, harNV(h))
	}
	return out
}

func headerValue(hs []Header, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Write adds exchanges (already written to the capture) as entries.
func (h *HARWriter) Write(exs []*Exchange) error {
	for _, e := range exs {
		if h.err != nil {
			return h.err
		}
		host := headerValue(e.wireReqHdr, "Host")
		if host == "" {
			host = e.Server.String()
		}
		u := "http://" + host + e.Target
		if e.Method == "CONNECT" {
			u = e.Target // authority-form, as the HAR reader takes it
		}
		var qs []harNV // in the order of the URL, as browsers write it
		if pu, err := url.Parse(u); err == nil && pu.RawQuery != "" {
			for _, kv := range strings.Split(pu.RawQuery, "&") {
				k, v, _ := strings.Cut(kv, "=")
				if uk, err := url.QueryUnescape(k); err == nil {
					k = uk
				}
				if uv, err := url.QueryUnescape(v); err == nil {
					v = uv
				}
				qs = append(qs, harNV{k, v})
			}
		}
		if qs == nil {
			qs = []harNV{}
		}
		ent := harEntry{
			StartedDateTime: e.Start.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"),
			Time:            float64(e.End.Sub(e.Start).Microseconds()) / 1000,
			ServerIPAddress: e.Server.Addr().String(),
			Connection:      strconv.Itoa(int(e.Client.Port())),
			ClientAddress:   e.Client.String(),
			Comment:         e.Comment,
			Request: harRequest{
				Method: e.Method, URL: u, HTTPVersion: "HTTP/1.1",
				Headers: nvs(e.wireReqHdr), QueryString: qs, Cookies: []harNV{},
				HeadersSize: -1, BodySize: len(e.ReqBody),
			},
		}
		if len(e.ReqBody) > 0 {
			pd := &harPostData{MimeType: headerValue(e.wireReqHdr, "Content-Type")}
			pd.Text, pd.Encoding = bodyText(e.ReqBody)
			ent.Request.PostData = pd
		}
		if e.NoResponse {
			ent.Response = harResponse{Headers: []harNV{}, Cookies: []harNV{}, HTTPVersion: "", HeadersSize: -1, BodySize: -1}
		} else {
			r := harResponse{
				Status: e.Status, StatusText: e.Reason, HTTPVersion: "HTTP/1.1",
				Headers: nvs(e.wireRspHdr), Cookies: []harNV{},
				RedirectURL: headerValue(e.wireRspHdr, "Location"),
				HeadersSize: -1, BodySize: len(e.RespBody),
			}
			r.Content.MimeType = headerValue(e.wireRspHdr, "Content-Type")
			noBody := e.Method == "HEAD" || e.Status == 204 || e.Status == 304
			if len(e.RespBody) > 0 && !noBody {
				r.Content.Size = len(e.RespBody)
				t, enc := bodyText(e.RespBody)
				r.Content.Text, r.Content.Encoding = &t, enc
			}
			ent.Response = r
		}
		b, err := json.Marshal(ent)
		if err != nil {
			return err
		}
		if h.entries > 0 {
			h.w.WriteString(",\n")
		}
		h.entries++
		_, h.err = h.w.Write(b)
	}
	return h.err
}

// bodyText returns the body as HAR text: as is when it is UTF-8, else
// base64.
func bodyText(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// Close ends the HAR.
func (h *HARWriter) Close() error {
	if h.err != nil {
		return h.err
	}
	if _, err := h.w.WriteString("\n]}}\n"); err != nil {
		return err
	}
	return h.w.Flush()
}
