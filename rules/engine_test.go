package rules

import (
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

func analyzeScenario(t *testing.T, s hb.Scenario) *analyze.Result {
	t.Helper()
	h := hb.New("mitmproxy", "11.0.2", s.Start)
	s.Build(h)
	exs, _, err := har.Read(strings.NewReader(string(h.Marshal())), "s.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
}

func compileOne(t *testing.T, src string) *Engine {
	t.Helper()
	r, issues := Parse("t.yaml", []byte(src))
	if len(issues) > 0 {
		t.Fatalf("parse: %v", issues)
	}
	e, err := Compile([]*Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const ruleHead = `id: TEST-RULE
engine: 1
title: test
severity: medium
party: client
packs: [oauth2]
references: ["RFC 6749"]
fix: f
`

func TestRuntimeErrorIsErrorOutcome(t *testing.T) {
	e := compileOne(t, ruleHead+`applies-to: [flow]
condition: flow.advertised[7].source == 'prm'
message: m
`)
	fs := e.Run(analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25"}), RunOptions{})
	if len(fs) != 1 || fs[0].Outcome != Error || !strings.Contains(fs[0].Message, "TEST-RULE") || !strings.Contains(fs[0].Message, "t.yaml") {
		t.Fatalf("findings = %+v", fs)
	}
}

func TestCostLimit(t *testing.T) {
	// 200^3 comprehension steps: far over the cost limit.
	e := compileOne(t, ruleHead+`applies-to: [flow]
condition: >
  lists.range(200).all(a, lists.range(200).all(b, lists.range(200).all(c, a + b + c >= 0)))
message: m
`)
	fs := e.Run(analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25"}), RunOptions{})
	if len(fs) != 1 || fs[0].Outcome != Error || !strings.Contains(fs[0].Message, "cost") {
		t.Fatalf("findings = %+v", fs)
	}
}

func TestMissingLegIsNotAvailableOnlyWhenUndecided(t *testing.T) {
	e := compileOne(t, ruleHead+`applies-to: [authorize]
when: flow.scope_hint.present && authorize.response_type == 'code'
condition: "!authorize.has_scope"
message: m
`)
	// Scope hint present, browser leg missing: the rule applies but
	// cannot be checked.
	res := analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25", ChallengeScope: "mcp:read", NoBrowserLeg: true})
	fs := e.Run(res, RunOptions{})
	if len(fs) != 1 || fs[0].Outcome != NotAvailable {
		t.Fatalf("with hint: %+v", fs)
	}
	// No hint: the precondition is false whatever the missing leg says.
	res = analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25", NoBrowserLeg: true})
	if fs := e.Run(res, RunOptions{}); len(fs) != 0 {
		t.Fatalf("without hint: %+v", fs)
	}
}

func TestSeverityCasesAndEvidence(t *testing.T) {
	e := compileOne(t, ruleHead+`applies-to: [token]
severity-cases:
  - when: token.grant_type == 'authorization_code'
    severity: low
condition: token.has_code_verifier
message: "verifier {{ token.code_verifier }}"
evidence:
  - at: token
    field: code_verifier
    value: token.code_verifier
    secret: true
`)
	res := analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25"})
	fs := e.Run(res, RunOptions{})
	if len(fs) != 1 || fs[0].Severity != Low || !fs[0].Evidence[0].Secret || fs[0].Evidence[0].Exchange == 0 {
		t.Fatalf("findings = %+v", fs)
	}
	if fs[0].Evidence[0].Ref.Entry < 0 {
		t.Errorf("evidence ref not resolved: %+v", fs[0].Evidence[0].Ref)
	}
}

func TestPacksSelection(t *testing.T) {
	e := compileOne(t, strings.Replace(ruleHead, "packs: [oauth2]", "packs: [mcp-2025-06-18]", 1)+`applies-to: [flow]
condition: "true"
message: m
`)
	res := analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25"})
	if fs := e.Run(res, RunOptions{}); len(fs) != 0 {
		t.Fatalf("2025-06-18 rule ran on a 2025-11-25 flow: %+v", fs)
	}
	if fs := e.Run(res, RunOptions{Packs: []string{"mcp-2025-06-18"}}); len(fs) != 1 {
		t.Fatalf("explicit pack: %+v", fs)
	}
}

func TestParseWants(t *testing.T) {
	ws, err := ParseWants("first request. want: AZ-STATE AZ-SCOPE-MISSING(low), TQ-VERIFIER-MATCH(not-available) X-Y(fail,high)")
	if err != nil {
		t.Fatal(err)
	}
	want := []Want{{"AZ-STATE", Fail, ""}, {"AZ-SCOPE-MISSING", Fail, Low}, {"TQ-VERIFIER-MATCH", NotAvailable, ""}, {"X-Y", Fail, High}}
	if len(ws) != len(want) {
		t.Fatalf("got %v", ws)
	}
	for i := range want {
		if ws[i] != want[i] {
			t.Errorf("%d: got %v want %v", i, ws[i], want[i])
		}
	}
	if _, err := ParseWants("want: AZ-STATE(sometimes)"); err == nil {
		t.Error("bad qualifier accepted")
	}
	if ws, _ := ParseWants("no expectations here"); ws != nil {
		t.Errorf("got %v", ws)
	}
}

// A rule that supersedes another hides the other's failure on the same
// exchange only; when it is not active (its pack is off) or fails on
// another exchange, the general rule still reports.
func TestSupersedes(t *testing.T) {
	general, is := Parse("g.yaml", []byte(strings.Replace(ruleHead, "TEST-RULE", "TEST-GENERAL", 1)+`applies-to: [authorize]
condition: "true"
message: general
`))
	if len(is) > 0 {
		t.Fatal(is)
	}
	specific, is := Parse("s.yaml", []byte(strings.Replace(strings.Replace(ruleHead, "TEST-RULE", "TEST-SPECIFIC", 1), "packs: [oauth2]", "packs: [mcp-2025-11-25]", 1)+`applies-to: [authorize]
supersedes: [TEST-GENERAL, TEST-NOT-LOADED]
condition: "true"
message: specific
`))
	if len(is) > 0 {
		t.Fatal(is)
	}
	e, err := Compile([]*Rule{general, specific})
	if err != nil {
		t.Fatal(err)
	}
	res := analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25"})
	rulesOf := func(fs []Finding) string {
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.Rule)
		}
		return strings.Join(ids, " ")
	}
	if got := rulesOf(e.Run(res, RunOptions{})); got != "TEST-SPECIFIC" {
		t.Errorf("both active: %q, want only TEST-SPECIFIC", got)
	}
	if got := rulesOf(e.Run(res, RunOptions{Packs: []string{"oauth2"}})); got != "TEST-GENERAL" {
		t.Errorf("specific pack off: %q, want TEST-GENERAL", got)
	}
	if _, is := Parse("x.yaml", []byte(ruleHead+"applies-to: [flow]\nsupersedes: [TEST-RULE, lower]\ncondition: \"true\"\nmessage: m\n")); len(is) != 2 {
		t.Errorf("self and malformed supersedes: %v", is)
	}
}

// A rule compiled with CompileDeferred whose message does not compile is
// accepted, and reported as an error finding when it fires (Compile
// refuses it outright).
func TestDeferredPartsFailAsErrorFinding(t *testing.T) {
	src := ruleHead + `applies-to: [flow]
condition: "true"
message: "{{ flow.no_such_field }}"
`
	r, issues := Parse("t.yaml", []byte(src))
	if len(issues) > 0 {
		t.Fatalf("parse: %v", issues)
	}
	if _, err := Compile([]*Rule{r}); err == nil {
		t.Fatal("Compile accepted a message that does not compile")
	}
	e, err := CompileDeferred([]*Rule{r})
	if err != nil {
		t.Fatalf("CompileDeferred: %v", err)
	}
	fs := e.Run(analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25"}), RunOptions{})
	if len(fs) == 0 {
		t.Fatal("no finding")
	}
	for _, f := range fs {
		if f.Outcome != Error || !strings.Contains(f.Message, "no_such_field") {
			t.Errorf("finding %s %s: %s; want an error naming the field", f.Rule, f.Outcome, f.Message)
		}
	}
}

func TestBounded(t *testing.T) {
	env, err := Env()
	if err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string]bool{
		`authorize.http.method == 'GET' && size(scopes(authorize.http.query['scope'][0])) > 0`: true,
		`has(flow.token) ? flow.token.http.status : 0`:                                         true,
		`resource.auth_scheme.lowerAscii() == 'bearer' && bearer_jwt(resource.token).exp > 0`:  true,
		`authorize.http.url.split('?').size() > 1 && flow.?token.hasValue()`:                   true,
		`flow.resources.exists(r, r.has_token)`:                                                false,
		`size(flow.resources.map(r, r.http.url)) > 0`:                                          false,
		`[1, 2].all(i, i > 0) || false`:                                                        false,
		`flow.resources.filter(r, r.has_token).size() > 1`:                                     false,
		// Functions whose result can be a multiple of their input.
		`size('a'.replace('a', 'aa')) > 0`:                   false,
		`size(strings.quote(authorize.http.url)) > 0`:        false,
		`size(['a', 'b'].join(authorize.http.url)) > 0`:      false,
		`size('%s%s'.format([authorize.http.url, 'x'])) > 0`: false,
		`size(lists.range(10)) > 0`:                          false,
		`size(form_urlencode(authorize.http.url)) > 0`:       false,
		`size(json_text(authorize.http.url)) > 0`:            false,
	} {
		ast, iss := env.Compile(src)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", src, iss.Err())
		}
		if got := bounded(ast); got != want {
			t.Errorf("bounded(%s) = %v, want %v", src, got, want)
		}
	}
	// A misspelt name would leave its function tracked (or, in
	// amplifying, untracked): every name must be a function of the
	// environment.
	fns := env.Functions()
	for _, name := range append(append([]string{}, linearExtensions...), "form_urlencode", "json_text", "redact") {
		if _, ok := fns[name]; !ok {
			t.Errorf("%s is not a function of the rules' environment", name)
		}
	}
	for name := range amplifying {
		if linearFunctions[name] {
			t.Errorf("%s amplifies its input but is listed as linear", name)
		}
	}
}

// A bounded expression runs untracked: its work is linear in its input,
// so a large input gets a verdict instead of a cost error. The same calls
// repeated by a comprehension are still stopped, and so is a chain of
// calls that multiplies its input.
func TestCostLimitOnlyStopsUnbounded(t *testing.T) {
	// 2 MB of scope: each scopes() call is charged 200 000 (a tenth of
	// its input), so six calls are over the limit when tracked.
	scope := strings.TrimSuffix(strings.Repeat("s ", 1_000_000), " ")
	res := analyzeScenario(t, hb.Scenario{Seed: 1, Revision: "2025-11-25", AuthScope: hb.Str(scope)})
	call := `size(scopes(authorize.http.query['scope'][0]))`
	for _, tc := range []struct {
		cond string
		want Outcome
	}{
		{strings.Repeat(call+" + ", 5) + call + " > 0", Fail},
		{`[1, 2, 3, 4, 5, 6].all(i, ` + call + ` > 0)`, Error},
		// Doubling: the cost of the 20th call's 5 MB input passes the
		// limit (what a call makes is charged after it returns).
		{`size('aaaaaaaaaa'` + strings.Repeat(`.replace('a', 'aa')`, 20) + `) > 0`, Error},
	} {
		e := compileOne(t, ruleHead+"applies-to: [authorize]\ncondition: \""+tc.cond+"\"\nmessage: m\n")
		fs := e.Run(res, RunOptions{})
		if len(fs) != 1 || fs[0].Outcome != tc.want {
			t.Errorf("%s: findings %+v, want one %s", tc.cond, fs, tc.want)
		} else if tc.want == Error && !strings.Contains(fs[0].Message, "cost") {
			t.Errorf("%s: %s, want the cost limit", tc.cond, fs[0].Message)
		}
	}
}
