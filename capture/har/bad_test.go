package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Bad input: every case must end in an *Error or in warnings that say
// where (file, entry index, byte offset) and what, never in a panic.

func readErr(t *testing.T, data []byte) (*Error, *Info) {
	t.Helper()
	exs, info, err := Read(bytes.NewReader(data), "bad.har", Options{})
	if err == nil {
		t.Fatalf("no error; %d exchanges, warnings %v", len(exs), info.Warnings)
	}
	if exs != nil {
		t.Errorf("exchanges returned with an error: %d", len(exs))
	}
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("error %T (%v) is not a *har.Error", err, err)
	}
	if he.File != "bad.har" {
		t.Errorf("error file = %q", he.File)
	}
	if info == nil {
		t.Fatal("nil Info with the error")
	}
	return he, info
}

func TestNotHAR(t *testing.T) {
	for _, tc := range []struct {
		name   string
		input  string
		offset int64
		msg    string
		syntax bool // Err is a *json.SyntaxError
	}{
		{"empty", "", 0, "the file is empty", false},
		{"blank", "  \n\t", 4, "the file is empty", false},
		{"BOM only", "\xEF\xBB\xBF", 3, "the file is empty", false},
		// 'n' could start null: the 'o' is the first wrong byte.
		{"text", "not json", 1, "not a HAR file (expected a JSON object with log.entries)", true},
		{"HTML after blank lines", "\n\n  <html><body>Sign in</body></html>", 4, "not a HAR file", true},
		{"unterminated string", `"abc`, 4, "the JSON ends before its first value is complete", false},
		{"array", `[{"log":{}}]`, 0, "not a HAR file: the top level is a JSON array, not a JSON object", false},
		{"string", `"log"`, 0, "the top level is a JSON string", false},
		{"number", `42`, 0, "the top level is a JSON number", false},
		{"null", `null`, 0, "the top level is null", false},
		{"object without log", `{"entries":[]}`, 0, `the top-level object has no "log" member`, false},
		{"empty object", `{}`, 0, `the top-level object has no "log" member`, false},
		{"log without entries", `{"log":{"version":"1.2","creator":{"name":"x","version":"1"}}}`, 7, `"log" has no "entries" array`, false},
		{"array after whitespace", "\n\n  [1]", 4, "the top level is a JSON array", false},
		{"no log after a BOM and whitespace", "\xEF\xBB\xBF \n{}", 5, `the top-level object has no "log" member`, false},
		{"log is an array", `{"log":[]}`, 7, `"log" is a JSON array, not an object`, false},
		{"log is null", `{"log":null}`, 7, `"log" is null, not an object`, false},
		{"log is a string", `{"log":"har"}`, 7, `"log" is a JSON string, not an object`, false},
		{"entries is an object", `{"log":{"entries":{}}}`, 18, "log.entries is a JSON object, not an array", false},
		{"entries is a string", `{"log":{"entries":"[]"}}`, 18, "log.entries is a JSON string, not an array", false},
		{"entries is a number", `{"log":{"entries":0}}`, 18, "log.entries is a JSON number, not an array", false},
		{"UTF-16 LE", "\xFF\xFE{\x00\"\x00l\x00", 0, "UTF-16 encoded", false},
		{"UTF-16 BE", "\xFE\xFF\x00{\x00\"", 0, "UTF-16 encoded", false},
		{"zlib (mitmproxy .zhar)", "\x78\xda\xad\x52", 0, "not a HAR file", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			he, _ := readErr(t, []byte(tc.input))
			eq(t, "entry", he.Entry, -1)
			eq(t, "offset", he.Offset, tc.offset)
			if !strings.Contains(he.Msg, tc.msg) {
				t.Errorf("message = %q, want it to contain %q", he.Msg, tc.msg)
			}
			var se *json.SyntaxError
			eq(t, "syntax error wrapped", errors.As(he, &se), tc.syntax)
			eq(t, "Error()", strings.HasPrefix(he.Error(), fmt.Sprintf("har: bad.har: byte %d: ", tc.offset)), true)
		})
	}
	t.Run("entries null is an empty HAR", func(t *testing.T) {
		exs, info := read(t, `{"log":{"entries":null}}`, Options{})
		eq(t, "exchanges", len(exs), 0)
		eq(t, "entries", info.Entries, 0)
	})
	t.Run("missing file", func(t *testing.T) {
		_, _, err := ReadFile(filepath.Join(t.TempDir(), "nope.har"), Options{})
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.har") {
			t.Errorf("err = %v", err)
		}
	})
}

// corrupt returns data with the first occurrence of old after from
// replaced by new, and the offset of that occurrence.
func corrupt(t *testing.T, data []byte, from int64, old, new string) ([]byte, int64) {
	t.Helper()
	i := bytes.Index(data[from:], []byte(old))
	if i < 0 {
		t.Fatalf("%q not found after byte %d", old, from)
	}
	at := from + int64(i)
	out := append(append(append([]byte{}, data[:at]...), new...), data[at+int64(len(old)):]...)
	return out, at
}

func TestMalformedJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/chrome-131-sensitive.har")
	if err != nil {
		t.Fatal(err)
	}
	good, _ := read(t, string(data), Options{})
	ref := func(i int) int64 { return good[i].Ref.Offset }

	for _, tc := range []struct {
		name  string
		make  func() ([]byte, int64) // input and the offset of the bad byte
		entry int
		want  string // the JSON error text
	}{
		{"colon replaced inside entry 3", func() ([]byte, int64) {
			b, at := corrupt(t, data, ref(3), `"method": "POST"`, `"method"= "POST"`)
			return b, at + len64(`"method"`)
		}, 3, "invalid character '=' after object key"},
		{"control character in a string of entry 2", func() ([]byte, int64) {
			b, at := corrupt(t, data, ref(2), `"grant_type"`, "\"grant\x01type\"")
			return b, at + 6
		}, 2, `invalid character '\x01' in string literal`},
		{"NaN in entry 5", func() ([]byte, int64) {
			b, at := corrupt(t, data, ref(5), `"time": `, `"time": NaN, "x": `)
			return b, at + len64(`"time": `)
		}, 5, "invalid character 'N' looking for beginning of value"},
		{"missing comma between entries 3 and 4", func() ([]byte, int64) {
			end := good[3].Ref.Offset + good[3].Ref.Length
			b, _ := corrupt(t, data, end, ",", " ")
			return b, ref(4)
		}, 4, "expected comma after array element"},
		{"truncated value followed by more JSON in entry 1", func() ([]byte, int64) {
			b, at := corrupt(t, data, ref(1), `"httpVersion": "HTTP/1.1"`, `"httpVersion": HTTP/1.1"`)
			return b, at + len64(`"httpVersion": `)
		}, 1, "invalid character 'H' looking for beginning of value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input, at := tc.make()
			he, _ := readErr(t, input)
			eq(t, "entry", he.Entry, tc.entry)
			eq(t, "offset", he.Offset, at)
			eq(t, "message", he.Msg, "malformed JSON")
			var se *json.SyntaxError
			if !errors.As(he, &se) || se.Error() != tc.want {
				t.Errorf("wrapped error = %v, want %q", he.Err, tc.want)
			}
			eq(t, "Error()", he.Error(), fmt.Sprintf("har: bad.har: entry %d at byte %d: malformed JSON: %s", tc.entry, at, tc.want))
			// With a BOM every offset moves by 3.
			he2, _ := readErr(t, append([]byte{0xEF, 0xBB, 0xBF}, input...))
			eq(t, "offset after BOM", he2.Offset, at+3)
		})
	}

	for _, tc := range []struct {
		name   string
		input  string
		offset int
		entry  int
		want   string
	}{
		{"single quotes", `{'log':{}}`, 1, -1, "invalid character '\\''"},
		{"before the entries", `{"log":{"version":"1.2" "creator":{}}}`, 24, -1, "invalid character '\"' after object key:value pair"},
		{"trailing comma in entries", `{"log":{"entries":[` + entry(`"method":"GET","url":"https://a.example/"`, `"status":200`) + `,]}}`, 0, 1, "invalid character ']' looking for beginning of value"},
		{"extra bracket after entries", `{"log":{"entries":[]]}}`, 20, -1, "invalid character ']' after object key:value pair"},
		{"comment in JSON", "{\"log\":{ // exported\n\"entries\":[]}}", 9, -1, "invalid character '/'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offset := int64(tc.offset)
			if tc.offset == 0 {
				offset = int64(strings.LastIndex(tc.input, "]"))
			}
			he, _ := readErr(t, []byte(tc.input))
			eq(t, "entry", he.Entry, tc.entry)
			eq(t, "offset", he.Offset, offset)
			eq(t, "bad byte", tc.input[he.Offset], tc.input[offset])
			if he.Err == nil || he.Err.Error() != tc.want {
				t.Errorf("wrapped error = %v, want %q", he.Err, tc.want)
			}
		})
	}
}

func len64(s string) int64 { return int64(len(s)) }

// TestTruncated cuts a real export at chosen points.
func TestTruncated(t *testing.T) {
	path := "testdata/mitmproxy-11.har"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	full, _, err := Read(bytes.NewReader(data), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	end := func(i int) int { return int(full[i].Ref.Offset + full[i].Ref.Length) }
	start := func(i int) int { return int(full[i].Ref.Offset) }
	entriesAt := bytes.Index(data, []byte(`"entries": [`))
	for _, tc := range []struct {
		name      string
		cut       int
		exchanges int    // -1: an error
		entry     int    // entry of the error or warning
		msg       string // substring of the error or warning
	}{
		{"inside the creator", bytes.Index(data, []byte(`"mitmproxy"`)) + 4, -1, -1, "the file ends early (truncated HAR?) in log.creator, before any complete entry"},
		{"right after \"entries\": [", entriesAt + 12, -1, -1, "after the start of the file, before any complete entry"},
		{"inside entry 0", start(0) + 200, -1, 0, fmt.Sprintf("inside entry 0 (which starts at byte %d), before any complete entry", start(0))},
		{"at the start of entry 0", start(0) + 1, -1, 0, "inside entry 0"},
		{"right after entry 0", end(0), 1, -1, "after entry 0; analyzed the 1 entries before that point"},
		{"after entry 0 and its comma", end(0) + 1, 1, -1, "after entry 0; analyzed the 1 entries"},
		{"after entry 0, comma and indent", end(0) + 10, 1, -1, "after entry 0; analyzed the 1 entries"},
		{"inside entry 5", start(5) + 700, 5, 5, fmt.Sprintf("inside entry 5 (which starts at byte %d); analyzed the 5 entries", start(5))},
		{"inside a string of entry 7", bytes.Index(data[start(7):], []byte(`"content-encoding"`)) + start(7) + 5, 7, 7, "inside entry 7"},
		{"inside a number of entry 9", bytes.Index(data[start(9):], []byte(`"time": `)) + start(9) + 10, 9, 9, "inside entry 9"},
		{"after the last entry", end(10), 11, -1, "after entry 10; analyzed the 11 entries"},
		{"after the entries array", end(10) + 10, 11, -1, "after entry 10"},
		{"only the final brace missing", len(data) - 1, 11, -1, "after entry 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cut := data[:tc.cut]
			exs, info, err := Read(bytes.NewReader(cut), path, Options{})
			if tc.exchanges < 0 {
				var he *Error
				if !errors.As(err, &he) {
					t.Fatalf("err = %v, want a *har.Error", err)
				}
				eq(t, "entry", he.Entry, tc.entry)
				eq(t, "offset (end of the file)", he.Offset, int64(tc.cut))
				if !strings.Contains(he.Msg, tc.msg) {
					t.Errorf("message %q, want %q", he.Msg, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			eq(t, "exchanges", len(exs), tc.exchanges)
			eq(t, "entries", info.Entries, tc.exchanges)
			eq(t, "truncated", info.Truncated, true)
			if len(info.Warnings) != 1 {
				t.Fatalf("warnings = %v", info.Warnings)
			}
			w := info.Warnings[0]
			eq(t, "warning entry", w.Entry, tc.entry)
			eq(t, "warning offset (end of the file)", w.Offset, int64(tc.cut))
			eq(t, "warning file", w.File, path)
			if !strings.Contains(w.Msg, tc.msg) {
				t.Errorf("warning %q, want %q", w.Msg, tc.msg)
			}
			for i, ex := range exs {
				eq(t, "ref", ex.Ref, full[i].Ref)
			}
		})
	}
	t.Run("complete file", func(t *testing.T) {
		_, info := read(t, string(data), Options{})
		eq(t, "truncated", info.Truncated, false)
		warningsMatch(t, info)
	})
	t.Run("ReadFile", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "cut.har")
		if err := os.WriteFile(p, data[:start(3)+50], 0o600); err != nil {
			t.Fatal(err)
		}
		exs, info, err := ReadFile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "exchanges", len(exs), 3)
		eq(t, "warning", info.Warnings[0].String(), fmt.Sprintf("%s: entry 3 at byte %d: the file ends early (truncated HAR?) inside entry 3 (which starts at byte %d); analyzed the 3 entries before that point", p, start(3)+50, start(3)))
	})
}

// TestTruncatedEverywhere cuts files at many points: the result must be an
// *Error when no entry is complete, else exactly the complete entries with
// Truncated set and one warning at the cut. A small HAR is cut at every
// byte; two exporter fixtures every 11th byte and at every byte near the
// start and end of each entry (each cut re-reads the prefix, so cutting
// every byte costs minutes under -race for little more coverage;
// TestTruncated cuts a large export at chosen points).
func TestTruncatedEverywhere(t *testing.T) {
	small := har("x",
		entry(`"method":"GET","url":"https://as.example/a"`, `"status":200,"headers":[{"name":"a","value":"b"}]`),
		entry(`"method":"POST","url":"https://as.example/t","postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"k","value":"v"}]}`, `"status":200,"content":{"size":2,"mimeType":"application/json","text":"{}"}`),
		entry(`"method":"GET","url":"https://as.example/c"`, ``))
	for _, tc := range []struct {
		name string
		data []byte
		all  bool
	}{
		{"small", []byte(small), true},
		{"insomnia-10.har", mustRead(t, "testdata/insomnia-10.har"), false},
		{"burp-loggerplusplus.har", mustRead(t, "testdata/burp-loggerplusplus.har"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			full, _ := read(t, string(data), Options{})
			cuts := map[int]bool{}
			for cut := 0; cut < len(data); cut++ {
				if tc.all || cut%11 == 0 {
					cuts[cut] = true
				}
			}
			for _, ex := range full {
				for _, edge := range []int64{ex.Ref.Offset, ex.Ref.Offset + ex.Ref.Length} {
					for d := int64(-4); d <= 4; d++ {
						if c := edge + d; c >= 0 && c < int64(len(data)) {
							cuts[int(c)] = true
						}
					}
				}
			}
			for c := len(data) - 12; c < len(data); c++ {
				cuts[c] = true
			}
			for cut := range cuts {
				complete := 0
				for _, ex := range full {
					if ex.Ref.Offset+ex.Ref.Length <= int64(cut) {
						complete++
					}
				}
				exs, info, err := Read(bytes.NewReader(data[:cut]), "t.har", Options{})
				if complete == 0 {
					var he *Error
					if !errors.As(err, &he) || he.Offset < 0 || he.Offset > int64(cut) {
						t.Fatalf("cut %d: err = %v, want a *har.Error within the input", cut, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				if len(exs) != complete || !info.Truncated || len(info.Warnings) != 1 || info.Warnings[0].Offset != int64(cut) {
					t.Fatalf("cut %d: %d exchanges (want %d), truncated %v, warnings %v", cut, len(exs), complete, info.Truncated, info.Warnings)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSkippedEntries(t *testing.T) {
	good := func(path string) string {
		return entry(`"method":"GET","url":"https://as.example/`+path+`"`, `"status":200`)
	}
	entries := []struct {
		json string
		keep bool
		msg  string
	}{
		{good("0"), true, ""},
		{`{"request":{"method":"GET","url":"/relative"},"response":{"status":200}}`, false, `entry skipped: request.url "/relative" is not absolute`},
		{`{"request":{"method":"GET","url":"https://as.example/","headers":"Host: as.example"}}`, false, "entry skipped: request.headers is a JSON string where HAR wants an array"},
		{`{"request":"GET https://as.example/"}`, false, "entry skipped: request is a JSON string where HAR wants an object"},
		{`42`, false, "entry skipped: it is a JSON number, not a JSON object"},
		{`null`, false, "entry skipped: it is null, not a JSON object"},
		{`"GET /"`, false, "entry skipped: it is a JSON string, not a JSON object"},
		{`[{"request":{}}]`, false, "entry skipped: it is a JSON array, not a JSON object"},
		{`{"request":{"url":"https://as.example/"}}`, false, "entry skipped: request.method is missing or empty"},
		{`{}`, false, "entry skipped: request.method is missing or empty"},
		{good("10"), true, ""},
		{`{"request":{"method":"GET","url":5}}`, false, "entry skipped: request.url is a JSON number where HAR wants a string"},
		{`{"request":{"method":"POST","url":"https://as.example/","postData":{"text":5}}}`, false, "entry skipped: request.postData.text is a JSON number where HAR wants a string"},
		{`{"request":{"method":"GET","url":"https://as.example/"},"response":"200 OK"}`, false, "entry skipped: response is a JSON string where HAR wants an object"},
		{`{"request":{"method":"GET","url":"https://as.example/"},"response":{"status":"OK"}}`, false, "entry skipped: response.status: expected a number, found OK"},
		{`{"request":{"method":"GET","url":"https://as.example/","headers":[{"name":"a","value":"b"},"c: d"]}}`, false, "entry skipped: request.headers is a JSON string where HAR wants an object"},
		{good("16"), true, ""},
	}
	var parts []string
	for _, e := range entries {
		parts = append(parts, e.json)
	}
	doc := `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[` + "\n" + strings.Join(parts, ",\n") + "\n]}}"
	exs, info := read(t, doc, Options{})
	eq(t, "entries", info.Entries, len(entries))
	var kept []int
	for _, ex := range exs {
		kept = append(kept, ex.Ref.Entry)
	}
	eq(t, "kept", kept, []int{0, 10, 16})
	eq(t, "exchanges", info.Exchanges, 3)
	var wi int
	pos := strings.Index(doc, "[\n") + 2
	for i, e := range entries {
		if i > 0 {
			pos += len(entries[i-1].json) + 2 // ",\n"
		}
		if e.keep {
			continue
		}
		if wi >= len(info.Warnings) {
			t.Fatalf("missing warning for entry %d", i)
		}
		w := info.Warnings[wi]
		wi++
		eq(t, fmt.Sprintf("entry %d: warning entry", i), w.Entry, i)
		eq(t, fmt.Sprintf("entry %d: warning offset", i), w.Offset, int64(pos))
		eq(t, fmt.Sprintf("entry %d: offset points at the entry", i), doc[w.Offset:w.Offset+int64(len(e.json))], e.json)
		if !strings.HasPrefix(w.Msg, e.msg) {
			t.Errorf("entry %d: warning %q, want prefix %q", i, w.Msg, e.msg)
		}
		eq(t, fmt.Sprintf("entry %d: String()", i), strings.HasPrefix(w.String(), fmt.Sprintf("t.har: entry %d at byte %d: entry skipped: ", i, pos)), true)
	}
	eq(t, "warnings", len(info.Warnings), wi)
}

func TestLenientFields(t *testing.T) {
	// Fields that only pass through accept any JSON type rather than cost
	// the entry.
	doc := har("x", `{"startedDateTime":"2025-01-06T10:41:12Z","time":"12.5","serverIPAddress":12345,"connection":443,"comment":{"note":"x"},"_error":false,"_clientAddress":null,`+
		`"request":{"method":"GET","url":"https://as.example/","httpVersion":2,"queryString":"a=b","cookies":[1,"x",null],"headersSize":"n/a","bodySize":null},`+
		`"response":{"status":200,"statusText":404,"httpVersion":null,"headers":[{"name":"X-Num","value":1.5},{"name":true,"value":null}],"cookies":[],"redirectURL":[],"content":{"size":"12","mimeType":7,"text":"ok","encoding":null},"headersSize":1e400,"bodySize":-5}}`)
	exs, info := read(t, doc, Options{})
	warningsMatch(t, info)
	if len(exs) != 1 {
		t.Fatalf("%d exchanges", len(exs))
	}
	ex := exs[0]
	eq(t, "server", ex.ServerAddr, "12345")
	eq(t, "comment", ex.Comment, "")
	eq(t, "error", ex.Error, "false")
	eq(t, "proto", ex.Request.Proto, "2")
	eq(t, "status text", ex.Response.StatusText, "404")
	headersEqual(t, "response", ex.Response.Headers, []string{"X-Num: 1.5", "true: ", "Content-Type: 7"})
	bodyEqual(t, "body", ex.Response.Body, "ok")
	eq(t, "bodySize", ex.Request.BodySize, int64(-1))
	eq(t, "duration", ex.Duration.String(), "12.5ms")
	eq(t, "cookies count as credentials", info.Sanitized, false)
}

func TestHugeNumbers(t *testing.T) {
	digits := "1" + strings.Repeat("0", 5000)
	for _, tc := range []struct {
		name    string
		entry   string
		kept    bool
		warning string
	}{
		{"status 1e400", entry(`"method":"GET","url":"https://as.example/"`, `"status":1e400`), false, "entry skipped: response.status: number 1e400 is out of range"},
		{"status 20 digits", entry(`"method":"GET","url":"https://as.example/"`, `"status":99999999999999999999`), false, "entry skipped: response.status: number 99999999999999999999 is out of range"},
		{"status 5000 digits", entry(`"method":"GET","url":"https://as.example/"`, `"status":`+digits), false, "is out of range"},
		{"status -1e30", entry(`"method":"GET","url":"https://as.example/"`, `"status":-1e30`), false, "is out of range"},
		{"bodySize 1e400", entry(`"method":"POST","url":"https://as.example/","bodySize":1e400`, `"status":200`), true, ""},
		{"content.size 5000 digits", entry(`"method":"GET","url":"https://as.example/"`, `"status":200,"content":{"size":`+digits+`}`), true, ""},
		{"headersSize -1e400", entry(`"method":"GET","url":"https://as.example/","headersSize":-1e400`, `"status":200`), true, ""},
		{"time 5000 digits", `{"startedDateTime":"2025-01-06T10:41:12Z","time":` + digits + `,"request":{"method":"GET","url":"https://as.example/"}}`, true, ""},
		{"startedDateTime as a huge number", `{"startedDateTime":` + digits + `,"request":{"method":"GET","url":"https://as.example/"}}`, true, "startedDateTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs, info := read(t, har("x", tc.entry), Options{})
			eq(t, "kept", len(exs) == 1, tc.kept)
			if tc.warning == "" {
				warningsMatch(t, info)
			} else {
				warningsMatch(t, info, tc.warning)
			}
			if strings.HasPrefix(tc.name, "time ") {
				eq(t, "duration", exs[0].Duration, time.Duration(0))
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	t.Run("inside an entry", func(t *testing.T) {
		e := `{"_x":` + deep + `,"request":{"method":"GET","url":"https://as.example/"}}`
		doc := har("x", entry(`"method":"GET","url":"https://as.example/0"`, `"status":200`), e)
		he, _ := readErr(t, []byte(doc))
		eq(t, "entry", he.Entry, 1)
		eq(t, "message", he.Msg, "malformed JSON")
		if he.Err == nil || !strings.Contains(he.Err.Error(), "exceeded max depth") {
			t.Errorf("wrapped = %v", he.Err)
		}
		// The offending byte is a '[' inside entry 1's _x member.
		entryAt := int64(strings.LastIndex(doc, `{"_x":`))
		if he.Offset <= entryAt || doc[he.Offset] != '[' {
			t.Errorf("offset %d (entry at %d) is not inside the nesting", he.Offset, entryAt)
		}
	})
	t.Run("before log", func(t *testing.T) {
		he, _ := readErr(t, []byte(`{"x":`+deep+`,"log":{"entries":[]}}`))
		eq(t, "entry", he.Entry, -1)
		if he.Err == nil || !strings.Contains(he.Err.Error(), "exceeded max depth") || he.Offset < 5 {
			t.Errorf("err = %v at %d", he.Err, he.Offset)
		}
	})
	t.Run("top level", func(t *testing.T) {
		he, _ := readErr(t, []byte(deep))
		eq(t, "message", he.Msg, "not a HAR file: the top level is a JSON array, not a JSON object (expected {\"log\":{\"entries\":[…]}})")
	})
	t.Run("below the limit", func(t *testing.T) {
		nested := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
		exs, _ := read(t, har("x", `{"_x":`+nested+`,"request":{"method":"GET","url":"https://as.example/"}}`), Options{})
		eq(t, "exchanges", len(exs), 1)
	})
}

func TestInvalidUTF8(t *testing.T) {
	// HAR must be UTF-8; invalid bytes become U+FFFD (as encoding/json
	// decodes them) and the entry is kept.
	doc := har("x", entry("\"method\":\"POST\",\"url\":\"https://as.example/p\xff\xfeth\",\"headers\":[{\"name\":\"X-Bad\",\"value\":\"a\xc3\x28b\"}],\"postData\":{\"mimeType\":\"text/plain\",\"text\":\"\xe2\x82\"}",
		"\"status\":200,\"content\":{\"size\":3,\"mimeType\":\"text/plain\",\"text\":\"\xf0\x9f\x98\"}"))
	exs, info := read(t, doc, Options{})
	warningsMatch(t, info)
	ex := exs[0]
	eq(t, "header", ex.Request.Headers.Get("X-Bad"), "a\uFFFD(b")
	// One U+FFFD per invalid byte.
	bodyEqual(t, "request", ex.Request.Body, "\uFFFD\uFFFD")
	bodyEqual(t, "response", ex.Response.Body, "\uFFFD\uFFFD\uFFFD")
	eq(t, "path", ex.Request.URL.Path, "/p\uFFFD\uFFFDth")
	checkRefs(t, []byte(doc), "t.har")
}

func TestTrailingData(t *testing.T) {
	doc := har("x", entry(`"method":"GET","url":"https://as.example/"`, `"status":200`))
	for _, tc := range []struct {
		name, tail string
		warn       bool
	}{
		{"whitespace", "\n\r\n\t ", false},
		{"a second HAR", "\n" + doc, true},
		{"garbage", "garbage", true},
		{"NUL padding", "\x00\x00\x00", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs, info := read(t, doc+tc.tail, Options{})
			eq(t, "exchanges", len(exs), 1)
			if tc.warn {
				warningsMatch(t, info, "data after the end of the HAR object is ignored")
				eq(t, "offset", info.Warnings[0].Offset, int64(len(doc)))
				eq(t, "entry", info.Warnings[0].Entry, -1)
			} else {
				warningsMatch(t, info)
			}
		})
	}
}

func TestDuplicateEntriesKey(t *testing.T) {
	e := func(p string) string { return entry(`"method":"GET","url":"https://as.example/`+p+`"`, `"status":200`) }
	exs, info := read(t, `{"log":{"entries":[`+e("a")+`],"entries":[`+e("b")+`,`+e("c")+`]}}`, Options{})
	var got []string
	for _, ex := range exs {
		got = append(got, fmt.Sprintf("%d %s", ex.Ref.Entry, ex.Request.URL.Path))
	}
	eq(t, "entries", got, []string{"0 /a", "1 /b", "2 /c"})
	warningsMatch(t, info, "log.entries appears more than once")
}
