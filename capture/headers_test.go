package capture

import (
	"reflect"
	"strings"
	"testing"
)

func TestHeadersMap(t *testing.T) {
	h := Headers{
		{"Content-Type", "application/json"},
		{"Set-Cookie", "a=1"},
		{"X-Custom-Thing", "x"},
		{"set-cookie", "b=2"},
		{"WWW-Authenticate", `Bearer realm="r"`},
		{"Www-Authenticate", `DPoP algs="ES256"`},
		{"Vary", "Origin"},
		{"SET-COOKIE", "c=3"},
	}
	m := h.Map()
	want := map[string][]string{
		"content-type":     {"application/json"},
		"set-cookie":       {"a=1", "b=2", "c=3"},
		"x-custom-thing":   {"x"},
		"www-authenticate": {`Bearer realm="r"`, `DPoP algs="ES256"`},
		"vary":             {"Origin"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("Map() = %v, want %v", m, want)
	}
	// Appending to one name's values must not change another's: the
	// values of single names share an array.
	m["content-type"] = append(m["content-type"], "text/plain")
	if got := m["set-cookie"]; !reflect.DeepEqual(got, []string{"a=1", "b=2", "c=3"}) {
		t.Errorf("set-cookie after an append to content-type: %v", got)
	}
	m2 := h.Map()
	m2["content-type"] = append(m2["content-type"], "text/plain")
	if got := m2["set-cookie"]; got[0] != "a=1" {
		t.Errorf("set-cookie after an append to content-type: %v", got)
	}
	if got := m2["x-custom-thing"]; !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("x-custom-thing after an append to content-type: %v", got)
	}
}

func TestLowerNamesAreLower(t *testing.T) {
	for canon, lower := range lowerNames {
		if lower != strings.ToLower(canon) {
			t.Errorf("lowerNames[%q] = %q", canon, lower)
		}
	}
	for _, n := range []string{"Content-Type", "content-type", "CONTENT-TYPE", "X-Ünïcode", ""} {
		if got := LowerName(n); got != strings.ToLower(n) {
			t.Errorf("LowerName(%q) = %q", n, got)
		}
	}
}

func BenchmarkHeadersMap(b *testing.B) {
	h := Headers{
		{"Content-Type", "application/json"}, {"Content-Length", "1234"}, {"Date", "Fri, 27 Nov 2026 20:00:00 GMT"},
		{"Server", "api"}, {"Cache-Control", "no-store"}, {"Vary", "Origin"}, {"X-Request-Id", "abc"},
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Map()
	}
}
