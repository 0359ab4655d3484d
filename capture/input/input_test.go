package input

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/capture/har"
)

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func fixture(name string) string { return filepath.Join("..", "har", "testdata", name) }

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		head string
		want Format
	}{
		{"HAR", `{"log":{}}`, HAR},
		{"HAR after whitespace", " \r\n\t{", HAR},
		{"HAR after a BOM", "\xEF\xBB\xBF{", HAR},
		{"HAR after a BOM and a newline", "\xEF\xBB\xBF\n  {", HAR},
		{"pcap little-endian µs", "\xd4\xc3\xb2\xa1\x02\x00", PCAP},
		{"pcap big-endian µs", "\xa1\xb2\xc3\xd4\x00\x02", PCAP},
		{"pcap little-endian ns", "\x4d\x3c\xb2\xa1\x02\x00", PCAP},
		{"pcap big-endian ns", "\xa1\xb2\x3c\x4d\x00\x02", PCAP},
		{"pcapng", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", PCAPNG},
		{"HAR in UTF-16LE", "\xFF\xFE{\x00\"\x00l\x00", HAR},
		{"HAR in UTF-16BE after a newline", "\xFE\xFF\x00\n\x00{\x00\"", HAR},
		{"UTF-16 text that is not JSON", "\xFF\xFEh\x00i\x00", Unknown},
		{"empty", "", Unknown},
		{"blank", "   \n", Unknown},
		{"JSON array", `[{"log":{}}]`, Unknown},
		{"HTTP text", "GET / HTTP/1.1\r\n", Unknown},
		{"gzip", "\x1f\x8b\x08\x00", Unknown},
		{"three bytes of pcap magic", "\xd4\xc3\xb2", Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "format", Sniff([]byte(tc.head)), tc.want)
		})
	}
}

func TestReadHAR(t *testing.T) {
	for _, tc := range []struct {
		file      string
		creator   string
		entries   int
		sanitized bool
	}{
		{"firefox-130.har", "Firefox 130.0", 10, false},
		{"chrome-131-sanitized.har", "WebInspector 537.36", 14, true},
		{"mitmproxy-11.har", "mitmproxy 11.1.3", 11, false},
		{"insomnia-10.har", "Insomnia REST Client insomnia.desktop.app:v10.3.1", 4, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := fixture(tc.file)
			exs, info, err := Read(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			check(t, "info", info, Info{File: path, Format: HAR, Creator: tc.creator, Entries: tc.entries, Exchanges: tc.entries, Sanitized: tc.sanitized})
			check(t, "exchanges", len(exs), tc.entries)
			for _, ex := range exs {
				if ex.Ref.File != path {
					t.Fatalf("ref file %q", ex.Ref.File)
				}
			}
		})
	}
}

func TestReadHARWarningsAndComment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.har")
	doc := `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"comment":"mcp-revision: 2025-06-18","entries":[` +
		`{"request":{"method":"GET","url":"/relative"}},` +
		`{"startedDateTime":"2025-01-06T10:41:12Z","request":{"method":"GET","url":"https://as.example/"},"response":{"status":200}}]}}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	exs, info, err := Read(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "exchanges", len(exs), 1)
	check(t, "entries", info.Entries, 2)
	check(t, "comment", info.Comment, "mcp-revision: 2025-06-18")
	at := strings.Index(doc, `{"request"`)
	check(t, "warnings", info.Warnings, []string{fmt.Sprintf(`%s: entry 0 at byte %d: entry skipped: request.url "/relative" is not absolute (HAR wants scheme://host/path)`, path, at)})
}

func TestReadTruncatedHAR(t *testing.T) {
	data, err := os.ReadFile(fixture("firefox-130.har"))
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.Index(data, []byte(`"https://auth.example.com/token"`)) // inside entry 7
	path := filepath.Join(t.TempDir(), "cut.har")
	if err := os.WriteFile(path, data[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	exs, info, err := Read(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "exchanges", len(exs), 7)
	check(t, "truncated", info.Truncated, true)
	if len(info.Warnings) != 1 || !strings.HasPrefix(info.Warnings[0], path+": entry 7 at byte ") || !strings.Contains(info.Warnings[0], "analyzed the 7 entries before that point") {
		t.Errorf("warnings = %q", info.Warnings)
	}
}

func TestReadStdin(t *testing.T) {
	data, err := os.ReadFile(fixture("safari-18.har"))
	if err != nil {
		t.Fatal(err)
	}
	exs, info, err := Read("-", Options{Stdin: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "file", info.File, "(stdin)")
	check(t, "format", info.Format, HAR)
	check(t, "exchanges", len(exs), 8)
	check(t, "ref file", exs[0].Ref.File, "(stdin)")

	_, _, err = Read("-", Options{})
	if err == nil || !strings.Contains(err.Error(), "no standard input") {
		t.Errorf("err = %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		path   string
		want   string
		harErr bool
		notExs bool
	}{
		{"missing", filepath.Join(dir, "nope.har"), "nope.har", false, true},
		{"directory", dir, "is a directory; give capture files (HAR)", false, false},
		{"empty", write("empty.har", ""), "the file is empty; expected a HAR capture", false, false},
		{"not a capture", write("notes.txt", "GET /authorize HTTP/1.1"), `not a capture oauthlint can read (expected a HAR file, which starts with '{'); the file starts with "GET /authorize H"`, false, false},
		{"binary", write("x.bin", "\x00\xff\x10abc"), `the file starts with "\x00?\x10abc"`, false, false},
		{"JSON but not HAR", write("obj.json", `{"entries":[]}`), `har: ` + filepath.Join(dir, "obj.json") + `: byte 0: not a HAR file: the top-level object has no "log" member`, true, false},
		{"malformed HAR", write("bad.har", `{"log":{"entries":[{"request":}]}}`), "malformed JSON", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs, _, err := Read(tc.path, Options{})
			if err == nil {
				t.Fatalf("no error, %d exchanges", len(exs))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			var he *har.Error
			check(t, "is a *har.Error", errors.As(err, &he), tc.harErr)
			if tc.notExs && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("err %v is not fs.ErrNotExist", err)
			}
		})
	}
}

func TestReadProgress(t *testing.T) {
	path := fixture("mitmproxy-11.har")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		read, total int64
		entries     int
	}
	var calls []call
	exs, _, err := Read(path, Options{Progress: func(read, total int64, entries int) { calls = append(calls, call{read, total, entries}) }})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "calls", len(calls), len(exs))
	for i, c := range calls {
		check(t, "total", c.total, st.Size())
		check(t, "entries", c.entries, i+1)
		check(t, "read", c.read, exs[i].Ref.Offset+exs[i].Ref.Length)
	}
}

func TestReadMaxBody(t *testing.T) {
	exs, _, err := Read(fixture("chrome-131-sensitive.har"), Options{MaxBody: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exs {
		if len(ex.Request.Body) > 10 || (ex.Response != nil && len(ex.Response.Body) > 10) {
			t.Errorf("%s: body over MaxBody", ex)
		}
	}
	check(t, "token request body capped", string(exs[2].Request.Body), "grant_type")
}
