package rules

import (
	"fmt"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/internal/repocaptures"
)

// Which verdicts may be shared between flows: only a rule whose
// precondition and condition read nothing but the message it applies to,
// and that requires no other leg (parts of the message's own exchange
// are fine).
func TestJudgesTargetOnly(t *testing.T) {
	for _, c := range []struct {
		src  string
		kind string
		want bool
	}{
		{"applies-to: [as_metadata]\nwhen: as_metadata.ok\ncondition: as_metadata.issuer == ''\n", "as_metadata", true},
		{"applies-to: [as_metadata]\ncondition: as_metadata.issuer == ''\n", "as_metadata", true},
		{"applies-to: [resource]\nrequires: [response-body]\ncondition: resource.http.status == 200\n", "resource", true},
		{"applies-to: [as_metadata]\ncondition: as_metadata.issuer == '' && flow.kind == 'refresh'\n", "as_metadata", false},
		{"applies-to: [as_metadata]\nwhen: size(flows) > 1\ncondition: as_metadata.issuer == ''\n", "as_metadata", false},
		{"applies-to: [as_metadata]\ncondition: as_metadata.issuer != token.http.url\n", "as_metadata", false},
		{"applies-to: [as_metadata]\nrequires: [token]\ncondition: as_metadata.issuer == ''\n", "as_metadata", false},
		{"applies-to: [flow]\ncondition: flow.kind == ''\n", "flow", false},
	} {
		e := compileOne(t, ruleHead+c.src+"message: m\n")
		if got := e.rules[0].judgesTargetOnly(c.kind); got != c.want {
			t.Errorf("%q: judgesTargetOnly(%s) = %v, want %v", c.src, c.kind, got, c.want)
		}
	}
	// What a firing rule reports must read the message only, too, for
	// its failure to be shared.
	e := compileOne(t, ruleHead+"applies-to: [as_metadata]\ncondition: as_metadata.issuer == ''\nmessage: 'in {{ flow.id }}'\n")
	if e.rules[0].firingReadsOnly("as_metadata") {
		t.Error("a message naming the flow was taken to read the metadata only")
	}
}

// Judging each message flows share once per rule (Run) must find exactly
// what judging it in every flow finds: on every rule fixture and example
// capture, and on a long client-credentials capture where each AS
// metadata document, failing three rules, is in the discovery of several
// flows.
func TestSharedVerdictsMatchJudgingEachFlow(t *testing.T) {
	e := builtinEngine(t)
	captures := repocaptures.Read(t, "..")
	captures["grants sharing metadata"] = grantsSharingMetadata(40, 1)
	for name, exs := range captures {
		analysis := func() *analyze.Result {
			return analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
		}
		memo := &verdicts{}
		shared := e.run(analysis(), RunOptions{}, memo)
		each := e.run(analysis(), RunOptions{}, nil)
		if !reflect.DeepEqual(shared, each) {
			t.Errorf("%s: judged once per shared message:\n%s\njudged in every flow:\n%s", name, describe(shared), describe(each))
		}
		if name != "grants sharing metadata" {
			continue
		}
		// The capture does what it is for: documents shared and failing,
		// verdicts remembered.
		res := analysis()
		refs := 0
		for _, f := range res.Flows {
			refs += len(f.ASMetadatas)
		}
		fails, passes := 0, 0
		memo.m.Range(func(_, v any) bool {
			if v.(verdict).fail != nil {
				fails++
			} else {
				passes++
			}
			return true
		})
		if refs < 2*40-1 || fails == 0 || passes == 0 {
			t.Errorf("%s: %d metadata references in %d flows, %d failures and %d passes remembered", name, refs, len(res.Flows), fails, passes)
		}
		if len(each) == 0 {
			t.Errorf("%s: no findings", name)
		}
	}
}

// A failure whose message names the flow is not shared: each flow that
// holds the document reports it with its own name.
func TestSharedVerdictsKeepFlowSpecificMessages(t *testing.T) {
	e := compileOne(t, ruleHead+"applies-to: [as_metadata]\ncondition: as_metadata.issuer == 'https://as.example'\nmessage: 'seen in {{ flow.id }}'\n")
	exs := grantsSharingMetadata(5, 1)
	analysis := func() *analyze.Result {
		return analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	}
	shared := e.run(analysis(), RunOptions{}, &verdicts{})
	each := e.run(analysis(), RunOptions{}, nil)
	if len(each) != 5 || !reflect.DeepEqual(shared, each) {
		t.Errorf("judged once per shared message:\n%s\njudged in every flow:\n%s", describe(shared), describe(each))
	}
}

// builtinEngine compiles the built-in rules from their directory.
func builtinEngine(tb testing.TB) *Engine {
	tb.Helper()
	rs, err := LoadDir("builtin/rules")
	if err != nil {
		tb.Fatal(err)
	}
	e, err := Compile(rs)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func describe(fs []Finding) string {
	out := ""
	for _, f := range fs {
		out += fmt.Sprintf("  %s %s #%d %v %v %q\n", f.Rule, f.Outcome, f.Anchor, f.Flows, f.Repeats, f.Message)
	}
	return out
}

// grantsSharingMetadata is a client that fetches its AS metadata before
// each of n client-credentials grants and keeps calling an API with each
// of its former lag tokens after the next fetch (slow connections still
// using them), so that each document falls in the discovery window of
// lag+1 flows. The metadata names an issuer other than the one its URL
// was built from, and no response_types_supported.
func grantsSharingMetadata(n, lag int) []*capture.Exchange {
	json := capture.Headers{{Name: "Content-Type", Value: "application/json"}}
	form := capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}
	asmURL, _ := url.Parse("https://127.0.0.7/.well-known/oauth-authorization-server")
	asmBody := []byte(`{"issuer":"https://as.example","token_endpoint":"https://127.0.0.7/oauth/token","grant_types_supported":["client_credentials"]}`)
	tokenURL, _ := url.Parse("https://127.0.0.7/oauth/token")
	apiURL, _ := url.Parse("https://api.example/api/items")
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var exs []*capture.Exchange
	add := func(ex *capture.Exchange) {
		at = at.Add(10 * time.Millisecond)
		ex.Start = at
		exs = append(exs, ex)
	}
	call := func(token string) {
		add(&capture.Exchange{
			Request:  &capture.Request{Method: "GET", URL: apiURL, Headers: capture.Headers{{Name: "Authorization", Value: "Bearer " + token}}},
			Response: &capture.Response{Status: 200, Headers: json, Body: []byte(`{"items":[]}`)}})
	}
	var former []string
	for i := range n {
		add(&capture.Exchange{
			Request:  &capture.Request{Method: "GET", URL: asmURL},
			Response: &capture.Response{Status: 200, Headers: json, Body: asmBody}})
		for _, tok := range former {
			call(tok)
		}
		token := fmt.Sprintf("tok-%04d-abcdefgh", i)
		add(&capture.Exchange{
			Request: &capture.Request{Method: "POST", URL: tokenURL, Body: []byte("grant_type=client_credentials&client_id=svc&client_secret=s3cr3t-value"),
				Headers: form},
			Response: &capture.Response{Status: 200, Headers: append(capture.Headers{{Name: "Cache-Control", Value: "no-store"}}, json...),
				Body: []byte(`{"access_token":"` + token + `","token_type":"Bearer","expires_in":300}`)}})
		call(token)
		call(token)
		former = append(former, token)
		if len(former) > lag {
			former = former[1:]
		}
	}
	return exs
}

// BenchmarkRunSharedMetadata judges 500 client-credentials grants whose
// AS metadata documents are each shared by 16 flows (about what
// bench/proxybench's 16 connections produce), with every built-in rule:
// once per shared message (as Run does) and in every flow.
func BenchmarkRunSharedMetadata(b *testing.B) {
	e := builtinEngine(b)
	res := analyze.Analyze(capture.Timeline(grantsSharingMetadata(500, 15)), analyze.Options{MCPRevision: "auto"})
	b.Run("shared", func(b *testing.B) {
		for b.Loop() {
			e.run(res, RunOptions{}, &verdicts{})
		}
	})
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			e.run(res, RunOptions{}, nil)
		}
	})
}
