package capture

import "strings"

// Header is one header line as captured; names keep their original case.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Headers is an ordered header list. Lookups are case-insensitive; order
// and duplicates are kept because rules about repeated parameters need them.
type Headers []Header

// Get returns the first value of the named header, or "".
func (h Headers) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether the header is present (even with an empty value).
func (h Headers) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns every value of the named header in order.
func (h Headers) Values(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// Map returns the headers keyed by lower-case name, each name's values in
// order.
//
// Every analysis view holds two of these, so it is built with few
// allocations: the lower-case form of a common name comes from a table
// rather than strings.ToLower (which copies any name with a capital, and
// Go's HTTP stack capitalizes them all), and the values of names that
// occur once share one array.
func (h Headers) Map() map[string][]string {
	m := make(map[string][]string, len(h))
	vals := make([]string, len(h))
	for i, f := range h {
		k := LowerName(f.Name)
		if prev, ok := m[k]; ok {
			// prev's capacity is its length: append copies it rather
			// than write into the next name's value.
			m[k] = append(prev, f.Value)
			continue
		}
		vals[i] = f.Value
		m[k] = vals[i : i+1 : i+1]
	}
	return m
}

// lowerNames maps header names as Go's HTTP stack writes them (canonical
// form) to lower case, for the names most messages carry.
var lowerNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Access-Control-Allow-Credentials",
		"Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin",
		"Access-Control-Expose-Headers", "Access-Control-Max-Age", "Access-Control-Request-Headers",
		"Access-Control-Request-Method", "Authorization", "Cache-Control", "Connection",
		"Content-Encoding", "Content-Length", "Content-Security-Policy", "Content-Type", "Cookie",
		"Date", "Dpop", "Dpop-Nonce", "Etag", "Expires", "Host", "Last-Event-Id", "Last-Modified",
		"Link", "Location", "Mcp-Protocol-Version", "Mcp-Session-Id", "Origin", "Pragma", "Referer",
		"Referrer-Policy", "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security",
		"Transfer-Encoding", "User-Agent", "Vary", "Www-Authenticate", "X-Content-Type-Options",
		"X-Forwarded-For", "X-Frame-Options", "X-Request-Id",
	} {
		m[n] = strings.ToLower(n)
	}
	return m
}()

// LowerName is strings.ToLower(name) for a header name, without a copy
// for the common names.
func LowerName(name string) string {
	if l, ok := lowerNames[name]; ok {
		return l
	}
	return strings.ToLower(name)
}

// MediaType returns the Content-Type without parameters, lower-cased.
func (h Headers) MediaType() string {
	ct := h.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}
