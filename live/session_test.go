package live

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture/har"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
	"github.com/oauthlint/oauthlint/rules"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFindingsPrintedOnceWhenFlowCompletes(t *testing.T) {
	r, issues := rules.Parse("state.yaml", []byte(`id: AZ-STATE
engine: 1
title: no state
severity: medium
party: client
packs: [oauth2]
applies-to: [authorize]
condition: "!authorize.has_state"
message: the authorization request has no state
fix: send state
references: ["RFC 6749 §10.12"]
`))
	if len(issues) > 0 {
		t.Fatal(issues)
	}
	eng, err := rules.Compile([]*rules.Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	// A flow without state: AZ-STATE must be printed once, when the flow
	// completes, and not again.
	h := hb.New("t", "1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	s := hb.Scenario{Seed: 3, Revision: "2025-11-25", NoState: true, ChallengeScope: "mcp:read", PRMScopes: []string{"mcp:read"},
		AuthScope: hb.Str("mcp:read"), DCRScope: hb.Str("mcp:read"), TokenScopeInResponse: true}
	s.Build(h)
	exs, _, err := har.Read(strings.NewReader(string(h.Marshal())), "x.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuf
	sess := New(Options{Engine: eng, MCPRevision: "auto", Out: &out, Debounce: time.Millisecond, Quiet: time.Hour,
		Now: func() time.Time { return time.Date(2026, 11, 20, 9, 0, 1, 0, time.UTC) }})
	for i, ex := range exs {
		ex.Ref.ProxySeq = int64(i + 1)
		sess.Add(ex)
		time.Sleep(5 * time.Millisecond)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(out.String(), "AZ-STATE") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "MEDIUM AZ-STATE (client)") {
		t.Fatalf("AZ-STATE not printed live:\n%s", out.String())
	}
	sess.Close()
	if n := strings.Count(out.String(), "AZ-STATE"); n != 1 {
		t.Errorf("AZ-STATE printed %d times:\n%s", n, out.String())
	}
	_, fs, _ := sess.Analyze()
	if len(fs) != 1 || fs[0].Rule != "AZ-STATE" {
		t.Errorf("final findings %v", fs)
	}
}
