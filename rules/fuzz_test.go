package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

// Fuzz targets of rule loading: the YAML parser and validator (a rule
// file from a shared pack is untrusted input), and CEL compilation and
// evaluation of arbitrary expressions under the cost limit.
// Run: go test ./rules -run '^$' -fuzz '^FuzzParse$' -fuzztime 1m

// FuzzParse: Parse never panics; every issue names the file and a line
// inside it; a rule without issues compiles or fails with a *LoadError.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("builtin/rules/*.yaml")
	for i, p := range files {
		if i%20 != 0 { // a sample: whole packs make minimization crawl
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		``, `---`, `[]`, `id: X`, "id: X\nid: Y\n", `{id: [1, {2: 3}]}`, "\t", `id: !!binary AAAA`,
		// Alias expansion ("billion laughs"): yaml.v3 must refuse it.
		"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nid: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
		ruleHead + "applies-to: [flow]\ncondition: true\nmessage: m\nseverity-cases:\n  - when: 1\n    severity: x\nevidence:\n  - at: nowhere\n",
		ruleHead + "applies-to: [authorize]\ncondition: \"authorize.\"\nmessage: \"{{ \"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		r, issues := Parse("fuzz.yaml", data)
		// YAML breaks lines at CR LF, CR and LF alike (a file from an old
		// Mac editor is all CRs), and so do the issues' line numbers.
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n")) + 2
		for _, is := range issues {
			if is.File != "fuzz.yaml" || is.Msg == "" || is.Line < 0 || is.Line > lines {
				t.Fatalf("issue %+v outside the file (%d lines)", is, lines)
			}
		}
		if r == nil || len(issues) > 0 {
			return
		}
		_, err := Compile([]*Rule{r})
		var le *LoadError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("Compile error %T: %v", err, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("loading one rule file took %v", d)
		}
	})
}

// fuzzRes is one analyzed conforming flow plus a token flow, evaluated by
// every expression FuzzExpression compiles.
var fuzzRes = sync.OnceValue(func() *analyze.Result {
	h := hb.New("mitmproxy", "11.0.2", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	hb.Scenario{Seed: 1, Revision: "2025-11-25", ChallengeScope: "a b", PRMScopes: []string{"a", "b"}, JWTAccessTokens: true}.Build(h)
	exs, _, err := har.Read(bytes.NewReader(h.Marshal()), "fuzz.har", har.Options{})
	if err != nil {
		panic(err)
	}
	return analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
})

// FuzzExpression compiles an arbitrary condition and message template in
// a rule and runs the rule on a real flow. Whatever the expressions, the
// engine must not panic, must report compile problems as issues with a
// position, and must finish each evaluation quickly: the CEL cost limit
// (CostLimit) stops runaway comprehensions, which the fuzzer can write.
func FuzzExpression(f *testing.F) {
	for _, s := range [][2]string{
		{"authorize.code_challenge_method != 'S256'", "method {{ authorize.code_challenge_method }}"},
		{"flow.advertised.exists(a, a.source == 'prm')", "{{ flow.scope_hint }}"},
		{"[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, a+b+c > 0)))", "x"},
		{"authorize.http.url.matches('^(a+)+$')", "{{ authorize.http.url }}"},
		{"size(authorize.http.query) > 0 && authorize.http.query['scope'][0] == ''", "{{ authorize.http.query['nope'][0] }}"},
		{"1 / 0 == 1", "{{ 1 / 0 }}"},
		{"flows.exists(g, g.id != flow.id)", "{{ flows.map(g, g.id) }}"},
		{"((((((((((((((((((((true))))))))))))))))))))", "{{"},
		{"authorize.http.request_body + authorize.http.request_body == ''", "}}{{ }}"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, cond, msg string) {
		qc, _ := json.Marshal(cond)
		qm, _ := json.Marshal(msg)
		src := ruleHead + "applies-to: [authorize]\ncondition: " + string(qc) + "\nmessage: " + string(qm) + "\n"
		r, issues := Parse("fuzz.yaml", []byte(src))
		if r == nil || len(issues) > 0 {
			return
		}
		e, err := Compile([]*Rule{r})
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Compile error %T: %v", err, err)
			}
			for _, is := range le.Issues {
				if is.Line <= 0 || is.Msg == "" {
					t.Fatalf("issue without a position: %+v", is)
				}
			}
			return
		}
		start := time.Now()
		fs := e.Run(fuzzRes(), RunOptions{Packs: []string{"oauth2"}})
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("one rule took %v on one flow: the cost limit did not stop %q / %q", d, cond, msg)
		}
		for _, fd := range fs {
			if fd.Rule != "TEST-RULE" || fd.Outcome == "" {
				t.Fatalf("finding %+v", fd)
			}
			if fd.Outcome == Error && !strings.Contains(fd.Message, "fuzz.yaml") {
				t.Fatalf("error finding does not name the rule file: %s", fd.Message)
			}
		}
	})
}
