package capture

import "net/url"

// encodings returns the forms a value takes inside URLs and form bodies.
func encodings(v string) []string {
	out := []string{url.QueryEscape(v), url.PathEscape(v)}
	return out
}
