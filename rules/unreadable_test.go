package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

// A flow cut after its registration, judged with and without an
// undecrypted connection to the authorization server right after it.
func TestRulesNextToUnreadableTraffic(t *testing.T) {
	h := hb.New("mitmproxy", "11.0.2", time.Time{})
	f := hb.Scenario{Seed: 5, Revision: "2025-11-25"}.Build(h)
	h.TruncateFrom(f.Authorize)
	exs, _, err := har.Read(strings.NewReader(string(h.Marshal())), "cut.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	last := exs[len(exs)-1]
	at := last.Start.Add(last.Duration + 3*time.Second)
	und := []capture.Undecrypted{{Start: at, End: at.Add(time.Second), Client: "10.0.0.5:53936", Server: "10.0.0.9:443",
		ServerName: "auth.example.com", Kind: "no-keys", Reason: "no TLS 1.3 traffic secrets for client random 1f0b…e2 in the key log",
		Ref: capture.Ref{File: "login.pcap", Entry: -1, Frames: []int64{4, 37}, Conn: "10.0.0.5:53936 -> 10.0.0.9:443"}}}
	for _, tc := range []struct {
		name, rule string
		want       Outcome // with the connection; "" = no finding
	}{
		// "Never sent": depends on the authorization request that may be
		// in the connection.
		{"absence-of-a-lacking-leg", "applies-to: [registration]\ncondition: '!flow.authorize.has_scope'\n", NotAvailable},
		{"lacking-leg-variable", "applies-to: [flow]\ncondition: authorize.http.id == 0\n", NotAvailable},
		// A sequence read across flows, or by a helper given the whole
		// flow, may be incomplete.
		{"flows", "applies-to: [flow]\ncondition: size(flows) == 1\n", NotAvailable},
		{"list-of-present-kind", "applies-to: [registration]\ncondition: size(flow.registrations) == 1\n", NotAvailable},
		{"precondition", "applies-to: [registration]\nwhen: '!has(flow.authorize.http)'\ncondition: 'true'\n", NotAvailable},
		// A violation inside a captured message stands.
		{"content", "applies-to: [registration]\ncondition: registration.http.method == 'POST'\n", Fail},
		{"content-or-unknown", "applies-to: [registration]\ncondition: registration.http.method == 'POST' || authorize.http.id == 0\n", Fail},
		// A rule that passes on what was read stays silent.
		{"passes", "applies-to: [registration]\ncondition: flow.authorize.has_scope\n", ""},
		{"passes-regardless", "applies-to: [registration]\ncondition: registration.http.method == 'GET' && !flow.authorize.has_scope\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := compileOne(t, ruleHead+tc.rule+"message: m\n")
			plain := e.Run(analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"}), RunOptions{})
			got := e.Run(analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto", Undecrypted: und}), RunOptions{})
			if tc.want == "" {
				if len(plain) != 0 || len(got) != 0 {
					t.Fatalf("findings %+v / %+v, want none", plain, got)
				}
				return
			}
			if len(plain) != 1 || plain[0].Outcome != Fail {
				t.Fatalf("without the connection: %+v, want one failure", plain)
			}
			if len(got) != 1 || got[0].Outcome != tc.want {
				t.Fatalf("with the connection: %+v, want %s", got, tc.want)
			}
			if got[0].Anchor != plain[0].Anchor {
				t.Errorf("anchored at %d, the failure at %d", got[0].Anchor, plain[0].Anchor)
			}
			if tc.want == NotAvailable {
				fd := got[0]
				if !strings.Contains(fd.Message, "cannot be checked") || !strings.Contains(fd.Message,
					"may be in the encrypted connection to auth.example.com:443 at "+at.UTC().Format(time.RFC3339Nano)+" (frames 4-37), not decrypted: no TLS 1.3 traffic secrets") {
					t.Errorf("message %q", fd.Message)
				}
				if strings.Contains(tc.rule, "authorize") && !strings.Contains(fd.Message, "the authorization request may not have been captured") {
					t.Errorf("message does not name the leg: %q", fd.Message)
				}
				if len(fd.Evidence) != 1 || fd.Evidence[0].Ref.String() != "login.pcap frames 4-37 (10.0.0.5:53936 -> 10.0.0.9:443)" || fd.Evidence[0].Value != "(not readable: no-keys)" {
					t.Errorf("evidence %+v", fd.Evidence)
				}
			}
		})
	}
}
