package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/input"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
	"github.com/oauthlint/oauthlint/rules"
)

// tokenRules loads the built-in token endpoint rules (TQ, TR, RT, JWT,
// IDT) from their files.
func tokenRules(t *testing.T) *rules.Engine {
	t.Helper()
	files, err := filepath.Glob("builtin/rules/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rs []*rules.Rule
	for _, f := range files {
		b := filepath.Base(f)
		if !(strings.HasPrefix(b, "TQ-") || strings.HasPrefix(b, "TR-") || strings.HasPrefix(b, "RT-") ||
			strings.HasPrefix(b, "JWT-") || strings.HasPrefix(b, "IDT-")) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, issues := rules.Parse(f, data)
		if len(issues) > 0 {
			t.Fatalf("%s: %v", f, issues)
		}
		rs = append(rs, r)
	}
	if len(rs) < 50 {
		t.Fatalf("only %d token rules found", len(rs))
	}
	eng, err := rules.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestTokenRulesLongCapture runs the token rules on a long session (many
// refreshes, thousands of MCP calls, several re-authorizations): every
// rule must evaluate within the CEL cost limit (no error outcome), and the
// conforming session must produce no finding of these rules.
func TestTokenRulesLongCapture(t *testing.T) {
	if testing.Short() {
		t.Skip("long capture")
	}
	eng := tokenRules(t)
	h := hb.New("mitmproxy", "11.0.2", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	var client string
	for i := 0; i < 4; i++ {
		s := hb.Scenario{Seed: uint64(900 + i), Revision: "2025-11-25", ChallengeScope: "mcp:read mcp:write",
			PRMScopes: []string{"mcp:read", "mcp:write"}, ASScopes: []string{"mcp:read", "mcp:write", "offline_access"},
			DCRScope: hb.Str("mcp:read mcp:write offline_access"), AuthScope: hb.Str("mcp:read mcp:write offline_access"),
			TokenScopeInResponse: true, JWTAccessTokens: true}
		if n := len(h.Entries); n > 0 {
			// Build dates its JWTs from Start: keep them current.
			s.Start = h.Entries[n-1].Time
		}
		f := s.Build(h)
		if client == "" {
			client = f.ClientID
		}
		x := s.Session(h, f)
		for r := 0; r < 12; r++ {
			x.Refresh(hb.Refresh{})
			for c := 0; c < 50; c++ {
				x.Call(hb.Call{After: 40 * time.Second})
			}
		}
		// The grant ends (the refresh token is revoked), so the next
		// authorization is legitimate.
		x.Refresh(hb.Refresh{Error: "invalid_grant"})
	}
	path := filepath.Join(t.TempDir(), "long.har")
	if err := os.WriteFile(path, h.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	exs, _, err := input.Read(path, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	an := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	t1 := time.Now()
	if len(exs) < 2000 {
		t.Fatalf("only %d exchanges", len(exs))
	}
	findings := eng.Run(an, rules.RunOptions{})
	t.Logf("%d exchanges, %d flows: analysis %v, token rules %v", len(exs), len(an.Flows), t1.Sub(t0), time.Since(t1))
	for _, fd := range findings {
		switch fd.Rule {
		case "JWT-TYP", "JWT-SCOPE-FORMAT":
			// harbuild's Hydra-style JWTs (typ JWT, scp array): information.
			continue
		}
		t.Errorf("%s %s at #%d: %s", fd.Rule, fd.Outcome, fd.Anchor, fd.Message)
	}
}
