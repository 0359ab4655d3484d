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

// Map returns the headers keyed by lower-case name.
func (h Headers) Map() map[string][]string {
	m := make(map[string][]string, len(h))
	for _, f := range h {
		k := strings.ToLower(f.Name)
		m[k] = append(m[k], f.Value)
	}
	return m
}

// MediaType returns the Content-Type without parameters, lower-cased.
func (h Headers) MediaType() string {
	ct := h.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}
