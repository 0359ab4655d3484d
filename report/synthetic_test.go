package report

import (
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/rules"
)

// hostile is text a capture could carry into a report (a URL, a header,
// an error message) built to break out of every format: HTML and SVG
// markup, attribute quotes, Markdown links and tables, XML entities,
// control characters.
const hostile = "<script>alert(\"x\")</script> ]]> | a*b* _c_ [link](javascript:alert(1)) `tick` &amp; ' \x01"

// synthetic is a hand-built report with what real captures rarely show
// at once: pcap, proxy and stdin refs, a HAR path with a space, missing
// legs, every outcome, a finding shared by two flows, repeats, secondary
// evidence, a rule that never fired, and hostile strings everywhere a
// capture could put them.
func synthetic() *Report {
	pcap1 := capture.Ref{File: "captures/login.pcapng", Entry: -1, Frames: []int64{41, 42, 45}, Conn: "10.0.0.5:51234 -> 10.0.0.9:443"}
	pcap2 := capture.Ref{File: "captures/login.pcapng", Entry: -1, Frames: []int64{60}, Conn: "10.0.0.5:51240 -> 10.0.0.9:443"}
	har := capture.Ref{File: "exports/browser session.har", Entry: 3, Offset: 2048, Length: 1500}
	proxy := capture.Ref{Entry: -1, ProxySeq: 7}
	stdin := capture.Ref{File: "(stdin)", Entry: 0, Offset: 12, Length: 300}
	redacted := capture.Redact("Yk2dXbH0T3oQ_vYp9-2Jd5mZk8bq1LrW0cN4sA7eF6g")

	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool: Tool{Name: "oauthlint", Version: "test", MCPRevision: "auto", Packs: []string{"auto"}, FailOn: "high",
			Rules: 9},
		Inputs: []Input{
			{File: "captures/login.pcapng", Format: "pcapng", Entries: 0, Exchanges: 4, Warnings: []string{"frames 50-52: 1200 bytes missing (TCP gap) " + hostile},
				Undecrypted: []capture.Undecrypted{{Start: time.Date(2026, 11, 20, 9, 14, 3, 80_000_000, time.UTC), End: time.Date(2026, 11, 20, 9, 14, 4, 500_000_000, time.UTC),
					Client: "10.0.0.5:51250", Server: "10.0.0.9:443", ServerName: "auth.example.com", ALPN: "h2", Kind: "no-keys",
					Reason: "no TLS 1.3 traffic secrets for client random 1f0b…e2 in the key log",
					Ref:    capture.Ref{File: "captures/login.pcapng", Entry: -1, Frames: []int64{70, 95}, Conn: "10.0.0.5:51250 -> 10.0.0.9:443"}}}},
			{File: "exports/browser session.har", Format: "har", Creator: "Chrome 131", Entries: 12, Exchanges: 12, Sanitized: true, Warnings: []string{}},
			{File: "(stdin)", Format: "har", Creator: "mitmproxy 11", Entries: 1, Exchanges: 1, Truncated: true, Warnings: []string{}},
		},
		Flows: []Flow{
			{
				ID: "F1", Kind: "authorization_code", ClientID: "acme-mcp-client", ClientType: "public",
				Issuer: "https://auth.example.com", Resource: "https://mcp.example.com/mcp",
				MCP:      analyze.MCPInfo{Revision: "2025-11-25", Version: "2025-11-25", Source: "initialize request protocolVersion at captures/login.pcapng frames 41-45", Detected: true},
				Packs:    []string{"oauth2", "mcp-2025-11-25"},
				Complete: false,
				Steps: []Step{
					{Exchange: 1, Kind: "challenge", Method: "POST", URL: "https://mcp.example.com/mcp", Status: 401, Time: "2026-11-20T09:14:03.021Z", Ref: pcap1},
					{Exchange: 2, Kind: "prm", Method: "GET", URL: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", Status: 200, Time: "2026-11-20T09:14:03.060Z", Ref: pcap2},
					{Exchange: 3, Kind: "as_metadata", Method: "GET", URL: "https://auth.example.com/.well-known/oauth-authorization-server", Status: 200, Ref: har},
					{Exchange: 5, Kind: "token", Method: "POST", URL: "https://auth.example.com/oauth2/token", Status: 400, Ref: proxy},
					{Exchange: 6, Kind: "resource", Method: "POST", URL: "https://mcp.example.com/mcp?q=" + hostile, Status: 0, Ref: proxy, Gaps: []string{"no-response"}},
				},
				Missing: []analyze.MissingLeg{
					{Kind: analyze.KindAuthorize, Reason: "the token request redeems an authorization code, so an authorization request happened, but the capture does not hold it (browser leg not captured?)", ImpliedBy: 5},
					{Kind: analyze.KindCallback, Reason: "the code came back through a callback the capture does not hold", ImpliedBy: 5},
				},
				Scopes: Scopes{
					Hint:       ScopeList{Source: "challenge", Document: "401 challenge", Field: "scope", Exchange: 1, Scopes: []string{"notes:read", "notes:write"}},
					Advertised: []ScopeList{{Source: "prm", Document: "PRM https://mcp.example.com/.well-known/oauth-protected-resource/mcp", Field: "scopes_supported", Exchange: 2, Scopes: []string{"notes:read", "notes:write", "admin"}}},
					Requested:  []string{},
					Granted:    []string{"notes:read"},
				},
			},
			{
				ID: "F2", Kind: "discovery", ClientType: "unknown", Issuer: "https://auth.example.com", Resource: "https://mcp.example.com/mcp",
				MCP:   analyze.MCPInfo{Source: ""},
				Packs: []string{"oauth2"}, Complete: false,
				Steps: []Step{
					{Exchange: 2, Kind: "prm", Method: "GET", URL: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", Status: 200, Ref: pcap2},
					{Exchange: 7, Kind: "as_metadata", Method: "GET", URL: "https://auth.example.com/.well-known/openid-configuration?x=\"><svg onload=alert(1)>", Status: 200, Ref: stdin},
					{Exchange: 8, Kind: "cimd", Method: "GET", URL: "https://client.example.net/oauth/metadata.json", Status: 200, Ref: stdin},
				},
				Missing: []analyze.MissingLeg{},
				Scopes:  Scopes{Hint: ScopeList{Source: "none", Scopes: []string{}}, Advertised: []ScopeList{}, Requested: []string{}, Granted: []string{}},
			},
		},
		Findings: []rules.Finding{
			{Rule: "TQ-VERIFIER-MATCH", Title: "Token request's code_verifier does not answer the authorization request's code_challenge", Level: "MUST",
				Severity: rules.Critical, Outcome: rules.Fail, Party: rules.Client, Flow: "F1", Flows: []string{"F1"}, Anchor: 5,
				Message: "BASE64URL(SHA256(code_verifier)) is 3qK… but the authorization request sent code_challenge E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
				Fix:     "keep the code_verifier generated for this authorization request and send exactly that value",
				Evidence: []rules.Evidence{
					{Exchange: 5, Ref: proxy, Field: "token request parameter code_verifier", Value: redacted, Secret: true},
					{Exchange: 2, Ref: pcap2, Field: "authorization request query parameter code_challenge", Value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
				},
				References: []string{"RFC 7636 §4.1, §4.6", "OAuth 2.1 (draft-ietf-oauth-v2-1-13) §4.1.3"}, Packs: []string{"oauth2", "mcp-2025-11-25"}},
			{Rule: "TR-NO-STORE", Title: "Token response without Cache-Control no-store", Level: "MUST", Severity: rules.High, Outcome: rules.Fail,
				Party: rules.AS, Flow: "F1", Flows: []string{"F1"}, Anchor: 5,
				Message:    "the token endpoint answered with an access token and no Cache-Control header",
				Fix:        "send Cache-Control no-store on every response that carries tokens",
				Evidence:   []rules.Evidence{{Exchange: 5, Ref: proxy, Field: "token response header Cache-Control", Value: "(absent)"}},
				References: []string{"RFC 6749 §5.1"}, Packs: []string{"oauth2"}},
			{Rule: "PRM-SCOPES-RECOMMENDED", Title: "Protected resource metadata without scopes_supported", Level: "SHOULD", Severity: rules.Medium,
				Outcome: rules.Fail, Party: rules.RS, Flow: "F1", Flows: []string{"F1", "F2"}, Anchor: 2,
				Message:    "the protected resource metadata at https://mcp.example.com/.well-known/oauth-protected-resource/mcp lists no scopes_supported",
				Fix:        "list the scopes clients may request in scopes_supported",
				Evidence:   []rules.Evidence{{Exchange: 2, Ref: pcap2, Field: "PRM member scopes_supported", Value: "(absent)"}},
				References: []string{"RFC 9728 §2", "MCP 2025-11-25 Authorization: Scope Selection Strategy"}, Packs: []string{"oauth2"}},
			{Rule: "CHAL-SCOPE-HINT", Title: "401 challenge without a scope parameter", Level: "SHOULD", Severity: rules.Low, Outcome: rules.Fail,
				Party: rules.RS, Flow: "F1", Flows: []string{"F1"}, Anchor: 1, Repeats: []int{6},
				Message:    "the 401 challenge names no scope",
				Fix:        "add scope=\"notes:read\" to the WWW-Authenticate challenge",
				Evidence:   []rules.Evidence{{Exchange: 1, Ref: pcap1, Field: "WWW-Authenticate", Value: "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""}},
				References: []string{"MCP 2025-11-25 Authorization: Scope Selection Strategy", "RFC 6750 §3"}, Packs: []string{"mcp-2025-11-25"}},
			{Rule: "X-HOSTILE", Title: "Custom rule " + hostile, Severity: rules.Info, Outcome: rules.Fail, Party: rules.AS, Flow: "F2", Flows: []string{"F2"}, Anchor: 7,
				Message: "message " + hostile, Fix: "fix " + hostile,
				Evidence:   []rules.Evidence{{Exchange: 7, Ref: stdin, Field: "field " + hostile, Value: hostile}},
				References: []string{"a reference " + hostile}, Packs: []string{"oauth2"}},
			{Rule: "AZ-STATE", Title: "Authorization request without state", Level: "SHOULD", Severity: rules.Medium, Outcome: rules.NotAvailable,
				Party: rules.Client, Flow: "F1", Flows: []string{"F1"}, Anchor: 5,
				Message: "the authorization request was not captured (implied by exchange #5): cannot check state",
				Fix:     "capture the browser leg (export a HAR from the browser) to check this rule", Evidence: []rules.Evidence{},
				References: []string{"RFC 6749 §10.12"}, Packs: []string{"oauth2", "mcp-2025-11-25"}},
			{Rule: "AZ-SCOPE-SELECTION", Title: "Authorization request omits the scopes the resource advertised", Severity: rules.Medium, Outcome: rules.Error,
				Party: rules.Client, Flow: "F1", Flows: []string{"F1"}, Anchor: 0,
				Message: "evaluating condition: no such key: scope_hint", Evidence: []rules.Evidence{}, References: []string{}, Packs: []string{"mcp-2025-11-25"}},
		},
	}
	r.Rules = []RuleInfo{
		{ID: "AZ-PKCE-S256", Title: "Authorization request without S256 PKCE", Level: "MUST", Severity: rules.High, Party: rules.Client,
			Packs: []string{"oauth2"}, AppliesTo: []string{"authorize"}, Fix: "send code_challenge_method=S256", References: []string{"RFC 7636 §4.3"}},
		{ID: "AZ-SCOPE-SELECTION", Title: "Authorization request omits the scopes the resource advertised", Severity: rules.Medium, Party: rules.Client,
			Packs: []string{"mcp-2025-11-25"}, AppliesTo: []string{"authorize"}, Fix: "add scope=… to the authorization request", References: []string{"MCP 2025-11-25 Authorization: Scope Selection Strategy"}},
		{ID: "AZ-STATE", Title: "Authorization request without state", Level: "SHOULD", Severity: rules.Medium, Party: rules.Client,
			Packs: []string{"oauth2", "mcp-2025-11-25"}, AppliesTo: []string{"authorize"}, Fix: "send a fresh, unguessable state", References: []string{"RFC 6749 §10.12"},
			Motivation: "Many MCP clients omit state."},
		{ID: "CHAL-SCOPE-HINT", Title: "401 challenge without a scope parameter", Level: "SHOULD", Severity: rules.Low, Party: rules.RS,
			Packs: []string{"mcp-2025-11-25"}, AppliesTo: []string{"challenge"}, Fix: "add scope=… to the challenge", References: []string{"RFC 6750 §3"}},
		{ID: "DCRQ-SCOPE", Title: "Registration request without scope", Level: "SHOULD", Severity: rules.Low, Party: rules.Client,
			Packs: []string{"oauth2"}, AppliesTo: []string{"registration"}, Fix: "send scope in the registration request", References: []string{"RFC 7591 §2"}},
		{ID: "PRM-SCOPES-RECOMMENDED", Title: "Protected resource metadata without scopes_supported", Level: "SHOULD", Severity: rules.Medium, Party: rules.RS,
			Packs: []string{"oauth2"}, AppliesTo: []string{"prm"}, Fix: "list the scopes in scopes_supported", References: []string{"RFC 9728 §2"}},
		{ID: "TQ-VERIFIER-MATCH", Title: "Token request's code_verifier does not answer the authorization request's code_challenge", Level: "MUST",
			Severity: rules.High, Party: rules.Client, Packs: []string{"oauth2", "mcp-2025-11-25"}, AppliesTo: []string{"token"},
			Fix: "keep the code_verifier generated for this authorization request", References: []string{"RFC 7636 §4.1, §4.6"}},
		{ID: "TR-NO-STORE", Title: "Token response without Cache-Control no-store", Level: "MUST", Severity: rules.High, Party: rules.AS,
			Packs: []string{"oauth2"}, AppliesTo: []string{"token"}, Fix: "send Cache-Control no-store", References: []string{"RFC 6749 §5.1"}},
	}
	r.Stats = statsOf(r, 9, 8)
	return r
}

// statsOf counts like Build does.
func statsOf(r *Report, exchanges, oauth int) Stats {
	st := Stats{Exchanges: exchanges, OAuthExchanges: oauth, Flows: len(r.Flows), Findings: len(r.Findings),
		BySeverity: map[string]int{}, ByOutcome: map[string]int{}, ByParty: map[string]int{}}
	for _, f := range r.Findings {
		st.ByOutcome[string(f.Outcome)]++
		if f.Outcome == rules.Fail {
			st.BySeverity[string(f.Severity)]++
			st.ByParty[string(f.Party)]++
		}
	}
	return st
}

// emptyReport is a run that found nothing in a capture without OAuth.
func emptyReport() *Report {
	r := Build(&analyze.Result{Secrets: capture.NewSecretSet()}, nil, Meta{Version: "test", MCPRevision: "auto", Packs: []string{"auto"},
		FailOn: "high", Inputs: []Input{{File: "plain.har", Format: "har", Entries: 0, Exchanges: 0, Warnings: []string{}}}})
	return r
}
