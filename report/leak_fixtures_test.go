package report

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
	"github.com/oauthlint/oauthlint/internal/secretscan"
	"github.com/oauthlint/oauthlint/rules"
	"github.com/oauthlint/oauthlint/rules/builtin"
)

// fixtureGlobs are every capture committed in the repository: the rule
// fixtures (fire and near-miss of every built-in rule), the examples, the
// reader corpora and the hostile corpus.
var fixtureGlobs = []string{
	"../rules/builtin/testdata/*/*.har",
	"../examples/*.har",
	"testdata/*.har",
	"../capture/har/testdata/*.har",
	"../internal/hostile/testdata/*.har",
	"../internal/hostile/testdata/*.pcap",
	"../internal/hostile/testdata/*.pcapng",
}

// TestNoSecretInAnyFormatAllFixtures extends TestNoSecretInAnyFormat from
// the one credential-laden capture to every capture in the repository:
// each is analyzed with every built-in rule and printed in every format,
// and no credential of the input (found by internal/secretscan, which
// does not share analyze's list) may appear in any output, raw or
// URL-encoded. Reports print redacted values of their own, so the test
// also checks that redaction happened where a credential was shown.
func TestNoSecretInAnyFormatAllFixtures(t *testing.T) {
	var files []string
	for _, g := range fixtureGlobs {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 100 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	builtins, err := builtin.Rules()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := rules.Compile(builtins)
	if err != nil {
		t.Fatal(err)
	}
	formats := make([]string, 0, len(allFormats))
	for f := range allFormats {
		formats = append(formats, f)
	}
	sort.Strings(formats)
	// Under the race detector (test.sh) or -short, every 16th fixture: the
	// whole sweep takes half a minute without the detector and four
	// minutes with it; scripts/hostile.sh runs it whole.
	step := 1
	if raceEnabled || testing.Short() {
		step = 16
	}
	var checked, withSecrets int
	kinds := map[string]bool{}
	for i, p := range files {
		if i%step != 0 && !strings.Contains(p, "testdata/secrets.har") {
			continue
		}
		exs, info, err := input.Read(p, input.Options{MaxBody: 16 << 20})
		if err != nil {
			continue // unreadable inputs print no report; internal/hostile covers their errors
		}
		secrets := secretscan.FromExchanges(exs)
		checked++
		if len(secrets) == 0 {
			continue
		}
		withSecrets++
		for _, k := range secrets.Kinds() {
			kinds[k] = true
		}
		res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
		fs := engine.Run(res, rules.RunOptions{})
		rep := Build(res, fs, Meta{Version: "test", MCPRevision: "auto", Packs: []string{"auto"}, FailOn: "high", Rules: len(builtins),
			Inputs: []Input{{File: info.File, Format: string(info.Format), Creator: info.Creator, Entries: info.Entries, Exchanges: info.Exchanges,
				Truncated: info.Truncated, Sanitized: info.Sanitized, Warnings: info.Warnings}}, Catalog: builtins})
		for _, format := range formats {
			out := secretscan.Plain(format, render(t, format, rep))
			if leaks := secrets.Find(out); len(leaks) > 0 {
				var ls []string
				for _, l := range leaks {
					ls = append(ls, l.String())
				}
				t.Errorf("%s: %s output leaks %d credential(s): %s", p, format, len(leaks), strings.Join(ls, "; "))
			}
		}
	}
	t.Logf("%d fixtures analyzed, %d holding credentials, kinds %v, formats %v", checked, withSecrets, sortedSet(kinds), formats)
	for _, want := range []string{"code", "access_token", "refresh_token", "client_secret", "Authorization credentials", "cookie"} {
		if !kinds[want] {
			t.Errorf("no fixture holds a %s: the test proves less than it claims", want)
		}
	}
}
