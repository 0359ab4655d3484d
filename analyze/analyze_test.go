package analyze_test

import (
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

func readHAR(t *testing.T, name string, data []byte) []*capture.Exchange {
	t.Helper()
	exs, _, err := har.Read(strings.NewReader(string(data)), name, har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return exs
}

func build(t *testing.T, s hb.Scenario) (*hb.Flow, []*capture.Exchange) {
	t.Helper()
	h := hb.New("mitmproxy", "11.0.2", s.Start)
	f := s.Build(h)
	return f, readHAR(t, "s.har", h.Marshal())
}

// The real capture: the MCP SDK example client against 22 conformance
// scenarios, one after the other, all with the same code value
// "test-auth-code" and mostly the same client_id, so only PKCE, the AS
// endpoints and time order can tell the flows apart.
func TestConformanceCaptureFlows(t *testing.T) {
	exs, _, err := har.ReadFile("testdata/conformance-auth.sdk-example.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	var codeFlows, withToken, discovery int
	for _, f := range res.Flows {
		switch f.Kind {
		case "authorization_code":
			codeFlows++
		case "discovery":
			discovery++
		default:
			t.Errorf("%s: unexpected kind %s", f.ID, f.Kind)
		}
		if f.Authorize != nil && f.Token != nil {
			withToken++
			// Flows must never be crossed: the token goes to the AS that
			// authorized, and the verifier answers the challenge.
			if oauth.Origin(f.Token.HTTP.URL) != oauth.Origin(f.Authorize.HTTP.URL) {
				t.Errorf("%s: authorize at %s but token at %s", f.ID, f.Authorize.HTTP.URL, f.Token.HTTP.URL)
			}
			if !oauth.PKCEMatches(f.Token.CodeVerifier, f.Authorize.CodeChallenge, f.Authorize.CodeChallengeMethod) {
				t.Errorf("%s: token verifier does not answer the challenge: flows crossed", f.ID)
			}
		}
		if f.Authorize != nil && f.MCP.Revision != "2025-11-25" {
			t.Errorf("%s: MCP revision %q (%s)", f.ID, f.MCP.Revision, f.MCP.Source)
		}
		if len(f.MissingLegs()) > 0 {
			t.Errorf("%s: unexpected missing legs %v", f.ID, f.MissingLegs())
		}
	}
	// 20 authorizations (two of them never reached the client: the
	// callback listener was gone) and two discovery-only attempts
	// (resource mismatch, and an AS the client refused).
	if codeFlows != 20 || discovery != 2 || withToken != 18 {
		t.Errorf("flows: %d code (want 20), %d discovery (want 2), %d with token (want 18)", codeFlows, discovery, withToken)
	}
	// Every OAuth exchange belongs to some flow.
	for _, m := range res.Messages {
		if m.Kind != analyze.KindOther && len(m.Flows) == 0 {
			t.Errorf("exchange %d (%s %s) belongs to no flow", m.HTTP.ID, m.Kind, m.HTTP.URL)
		}
	}
}

func TestScopeProvenanceOnConformanceCapture(t *testing.T) {
	exs, _, err := har.ReadFile("testdata/conformance-auth.sdk-example.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	hints := map[string]string{}
	for _, f := range res.Flows {
		if f.Authorize != nil {
			hints[f.Authorize.HTTP.Origin] = f.ScopeHint.Source + ":" + strings.Join(f.ScopeHint.Scopes, " ")
		}
	}
	// scope-from-www-authenticate: the 401 names mcp:basic.
	if got := hints["http://localhost:33877"]; got != "challenge:mcp:basic" {
		t.Errorf("scope-from-www-authenticate hint = %q", got)
	}
	// scope-from-scopes-supported: only the PRM lists scopes.
	if got := hints["http://localhost:35019"]; got != "prm:mcp:basic mcp:read mcp:write" {
		t.Errorf("scope-from-scopes-supported hint = %q", got)
	}
	// scope-omitted-when-undefined: nothing anywhere.
	if got := hints["http://localhost:35709"]; got != "none:" {
		t.Errorf("scope-omitted-when-undefined hint = %q", got)
	}
}

// A browser HAR (authorize, login, consent, callback) and a proxy HAR of
// the same login (discovery, registration, token, MCP) merge into one
// complete flow.
func TestBrowserAndProxyHARMerge(t *testing.T) {
	s := hb.Scenario{Seed: 7, Revision: "2025-11-25", ChallengeScope: "mcp:read", PRMScopes: []string{"mcp:read"}, AuthScope: hb.Str("mcp:read"), DCRScope: hb.Str("mcp:read")}
	bs, ps := s, s
	bs.NoBackChannel = true
	ps.NoBrowserLeg = true
	_, browser := build(t, bs)
	_, proxy := build(t, ps)
	res := analyze.Analyze(capture.Timeline(browser, proxy), analyze.Options{MCPRevision: "auto"})
	var code []*analyze.Flow
	for _, f := range res.Flows {
		if f.Kind == "authorization_code" {
			code = append(code, f)
		}
	}
	if len(code) != 1 {
		t.Fatalf("%d authorization flows, want 1", len(code))
	}
	f := code[0]
	if f.Authorize == nil || f.Callback == nil || f.Callback.Synthesized || f.Token == nil || f.Registration == nil || f.PRM == nil || f.Challenge == nil {
		t.Fatalf("incomplete flow: az=%v cb=%v tok=%v reg=%v prm=%v ch=%v", f.Authorize != nil, f.Callback != nil, f.Token != nil, f.Registration != nil, f.PRM != nil, f.Challenge != nil)
	}
	if len(f.MissingLegs()) != 0 || !f.Complete || f.Authorize.Hops != 2 {
		t.Errorf("missing=%v complete=%v hops=%d", f.MissingLegs(), f.Complete, f.Authorize.Hops)
	}
	if f.MCP.Revision != "2025-11-25" || f.ScopeHint.Source != "challenge" {
		t.Errorf("revision %q hint %q", f.MCP.Revision, f.ScopeHint.Source)
	}
}

// Without the browser leg the flow says so: the authorization request
// and callback are missing, implied by the token request.
func TestBackchannelOnlyMissingLegs(t *testing.T) {
	fl, exs := build(t, hb.Scenario{Seed: 8, Revision: "2025-11-25", NoBrowserLeg: true})
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	var f *analyze.Flow
	for _, x := range res.Flows {
		if x.Token != nil {
			f = x
		}
	}
	if f == nil {
		t.Fatal("no flow with the token request")
	}
	if f.Missing["authorize"] == "" || f.Missing["callback"] == "" {
		t.Fatalf("missing = %v", f.Missing)
	}
	for _, m := range f.MissingLegs() {
		if m.ImpliedBy != f.Token.HTTP.ID {
			t.Errorf("%s implied by %d, want the token request %d", m.Kind, m.ImpliedBy, f.Token.HTTP.ID)
		}
	}
	_ = fl
}

// Two concurrent authorizations of the same client with distinct state
// values are paired by state, not by order.
func TestInterleavedFlowsPairedByState(t *testing.T) {
	s1 := hb.Scenario{Seed: 11, Revision: "2025-11-25", ChallengeScope: "mcp:read", AuthScope: hb.Str("mcp:read"), DCRScope: hb.Str("mcp:read"), AS: hb.Generic}
	s2 := s1
	s2.Seed = 12
	_, a := build(t, s1)
	_, b := build(t, s2)
	// Interleave: b's exchanges shifted by 5 ms so the two flows overlap.
	for _, ex := range b {
		ex.Start = ex.Start.Add(5_000_000)
		ex.Ref.File = "b.har"
	}
	res := analyze.Analyze(capture.Timeline(a, b), analyze.Options{MCPRevision: "auto"})
	n := 0
	for _, f := range res.Flows {
		if f.Kind != "authorization_code" {
			continue
		}
		n++
		if f.Callback == nil || f.Token == nil {
			t.Fatalf("%s incomplete", f.ID)
		}
		if f.Callback.State != f.Authorize.State {
			t.Errorf("%s: callback state %q for request state %q", f.ID, f.Callback.State, f.Authorize.State)
		}
		if !oauth.PKCEMatches(f.Token.CodeVerifier, f.Authorize.CodeChallenge, "S256") {
			t.Errorf("%s: crossed token", f.ID)
		}
	}
	if n != 2 {
		t.Fatalf("%d flows, want 2", n)
	}
}

func TestRevisionFor(t *testing.T) {
	for v, want := range map[string]string{
		"2024-11-05": "", "2025-03-26": "2025-03-26", "2025-04-01": "2025-03-26", "2025-06-18": "2025-06-18",
		"2025-11-25": "2025-11-25", "2026-07-28": "2026-07-28", "2027-01-01": "2026-07-28", "DRAFT-2026-v1": "2026-07-28", "garbage": "",
	} {
		if got := analyze.RevisionFor(v); got != want {
			t.Errorf("RevisionFor(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestForcedRevision(t *testing.T) {
	_, exs := build(t, hb.Scenario{Seed: 9, Revision: "2025-11-25"})
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "2025-06-18"})
	for _, f := range res.Flows {
		if f.MCP.Revision != "2025-06-18" || !f.MCP.Forced {
			t.Errorf("%s: %+v", f.ID, f.MCP)
		}
	}
}

func TestSecretsCollected(t *testing.T) {
	fl, exs := build(t, hb.Scenario{Seed: 10, Revision: "2025-11-25", Confidential: true})
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{})
	for _, v := range []string{fl.Code, fl.Verifier, fl.AccessToken} {
		if !res.Secrets.Contains(v) {
			t.Errorf("secret %q… not collected", v[:10])
		}
	}
	if s := res.Secrets.Scrub("token=" + fl.AccessToken); strings.Contains(s, fl.AccessToken) {
		t.Errorf("scrub left the token: %s", s)
	}
}

// MCP traffic that never states a version (initialize not captured, no
// MCP-Protocol-Version header) is judged as 2025-03-26, the version the
// MCP transport spec tells servers to assume, and says so.
func TestUnversionedMCPAssumesOldestRevision(t *testing.T) {
	_, exs := build(t, hb.Scenario{Seed: 9, Revision: "2025-11-25"})
	for _, ex := range exs {
		kept := ex.Request.Headers[:0]
		for _, h := range ex.Request.Headers {
			if !strings.EqualFold(h.Name, "mcp-protocol-version") {
				kept = append(kept, h)
			}
		}
		ex.Request.Headers = kept
		ex.Request.Body = []byte(strings.ReplaceAll(string(ex.Request.Body), `"protocolVersion"`, `"protocolVersionGone"`))
		if ex.Response != nil {
			ex.Response.Body = []byte(strings.ReplaceAll(string(ex.Response.Body), `"protocolVersion"`, `"protocolVersionGone"`))
		}
	}
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	var judged int
	for _, f := range res.Flows {
		if f.Resource == "" {
			continue
		}
		judged++
		if f.MCP.Revision != "2025-03-26" || !f.MCP.Detected || f.MCP.Version != "" || !strings.Contains(f.MCP.Source, "assumed 2025-03-26") {
			t.Errorf("%s: %+v", f.ID, f.MCP)
		}
	}
	if judged == 0 {
		t.Fatal("no flow with a resource")
	}
}
