package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRead feeds arbitrary bytes to the reader. Whatever the input, Read
// must not panic, must fail only with a *har.Error that points inside the
// input, and every exchange it returns must be usable: a request with an
// absolute http(s)/ws(s) URL and a Ref whose bytes are a JSON object.
//
// Seeds: every fixture in testdata plus testdata/fuzz/FuzzRead (inputs
// that once broke an invariant, and small shapes of each kind of bad
// input). Run with: go test ./capture/har -run '^$' -fuzz FuzzRead -fuzztime 2m
func FuzzRead(f *testing.F) {
	// From each fixture, its header and smallest entry: whole fixtures
	// (up to 70 KB) make the fuzzer's input minimization crawl.
	files, _ := filepath.Glob("testdata/*.har")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		exs, _, err := Read(bytes.NewReader(data), p, Options{})
		if err != nil || len(exs) == 0 {
			f.Fatalf("%s: %v", p, err)
		}
		small := exs[0].Ref
		for _, ex := range exs {
			if ex.Ref.Length < small.Length {
				small = ex.Ref
			}
		}
		seed := append([]byte{}, data[:exs[0].Ref.Offset]...)
		seed = append(seed, data[small.Offset:small.Offset+small.Length]...)
		f.Add(append(seed, "]}}"...))
	}
	for _, s := range []string{
		``, `{}`, `[]`, `{"log":{}}`, `{"log":{"entries":[]}}`, `{"log":{"entries":null}}`,
		"\xEF\xBB\xBF" + har("WebInspector", entry(`"method":"GET","url":"https://a.example/"`, `"status":200`)),
		har("x", entry(`"method":"CONNECT","url":"a.example:443"`, ``)),
		har("x", entry(`"method":"POST","url":"https://a.example/t","postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"a","value":"b"}]}`, `"status":302,"redirectURL":"/x"`)),
		har("x", entry(`"method":"GET","url":"https://a.example/"`, `"status":200,"headers":[{"name":"Content-Encoding","value":"gzip"}],"content":{"text":"H4sIAAAAAAAA/w==","encoding":"base64"}`)),
		`{"log":{"entries":[{"request":{"method":"GET","url":"/rel"}},42,null,`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		exs, info, err := Read(bytes.NewReader(data), "fuzz.har", Options{MaxBody: 1 << 16})
		if info == nil {
			t.Fatal("nil Info")
		}
		if err != nil {
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("error %T is not a *har.Error: %v", err, err)
			}
			if he.Offset < 0 || he.Offset > int64(len(data)) {
				t.Fatalf("error offset %d outside the input (%d bytes): %v", he.Offset, len(data), err)
			}
			if exs != nil {
				t.Fatal("exchanges returned with an error")
			}
			return
		}
		if len(exs) != info.Exchanges || info.Exchanges > info.Entries {
			t.Fatalf("%d exchanges, Info %d/%d", len(exs), info.Exchanges, info.Entries)
		}
		last := -1
		for _, ex := range exs {
			if ex == nil || ex.Request == nil || ex.Request.URL == nil {
				t.Fatalf("exchange without a request: %+v", ex)
			}
			u := ex.Request.URL
			if !u.IsAbs() || u.Host == "" {
				t.Fatalf("URL %q is not absolute", u)
			}
			switch u.Scheme {
			case "http", "https", "ws", "wss":
			default:
				t.Fatalf("URL %q: scheme %q", u, u.Scheme)
			}
			if ex.Request.Method == "" || !utf8.ValidString(ex.Request.Method) {
				t.Fatalf("method %q", ex.Request.Method)
			}
			r := ex.Ref
			if r.Entry <= last || r.Entry >= info.Entries {
				t.Fatalf("entry %d after %d (of %d)", r.Entry, last, info.Entries)
			}
			last = r.Entry
			if r.Offset < 0 || r.Length < 2 || r.Offset+r.Length > int64(len(data)) {
				t.Fatalf("ref %d+%d outside the input (%d bytes)", r.Offset, r.Length, len(data))
			}
			if data[r.Offset] != '{' || data[r.Offset+r.Length-1] != '}' {
				t.Fatalf("ref %d+%d is not a JSON object: %q", r.Offset, r.Length, data[r.Offset:r.Offset+r.Length])
			}
			if len(ex.Request.Body) > 1<<16 || (ex.Response != nil && len(ex.Response.Body) > 1<<16) {
				t.Fatal("body over MaxBody")
			}
			if ex.Response != nil && (ex.Response.Status < 100 || ex.Response.Status > 999) {
				t.Fatalf("response status %d", ex.Response.Status)
			}
		}
		for _, w := range info.Warnings {
			if w.Offset < 0 || w.Offset > int64(len(data)) {
				t.Fatalf("warning offset %d outside the input: %v", w.Offset, w)
			}
		}
		// Differential check against a whole-document decode: for a
		// valid HAR skeleton the streaming reader must agree on the
		// entries and on the exact bytes of each.
		if entries, ok := referenceEntries(data); ok {
			if info.Truncated || info.Entries != len(entries) {
				t.Fatalf("reader saw %d entries (truncated %v), encoding/json %d", info.Entries, info.Truncated, len(entries))
			}
			for _, ex := range exs {
				r := ex.Ref
				if !bytes.Equal(data[r.Offset:r.Offset+r.Length], entries[r.Entry]) {
					t.Fatalf("entry %d: ref bytes differ from encoding/json's", r.Entry)
				}
			}
		}
	})
}

// referenceEntries decodes a whole HAR with encoding/json and returns
// log.entries, when the input is valid JSON with exactly one "log" and one
// "entries" key (encoding/json keeps the last of duplicate keys and matches
// keys case-insensitively; the reader does neither).
func referenceEntries(data []byte) ([]json.RawMessage, bool) {
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if !json.Valid(data) {
		return nil, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil || keyCount(data, "log") != 1 {
		return nil, false
	}
	var log map[string]json.RawMessage
	if json.Unmarshal(top["log"], &log) != nil || keyCount(top["log"], "entries") != 1 {
		return nil, false
	}
	var entries []json.RawMessage
	if json.Unmarshal(log["entries"], &entries) != nil || !bytes.HasPrefix(bytes.TrimSpace(log["entries"]), []byte("[")) {
		return nil, false
	}
	return entries, true
}

// keyCount counts the keys of the object in data equal to key, and
// returns -1 if another key matches it case-insensitively only.
func keyCount(data []byte, key string) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return -1
	}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return -1
		}
		k, _ := tok.(string)
		switch {
		case k == key:
			n++
		case strings.EqualFold(k, key):
			return -1
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return -1
		}
	}
	return n
}
