package analyze_test

import (
	"strings"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	hb "github.com/oauthlint/oauthlint/internal/harbuild"
)

// registeredOnly is an MCP client's traffic cut after the registration:
// discovery and registration captured, the authorization request and
// everything after it not.
func registeredOnly(t *testing.T) []*capture.Exchange {
	t.Helper()
	h := hb.New("mitmproxy", "11.0.2", time.Time{})
	f := hb.Scenario{Seed: 5, Revision: "2025-11-25"}.Build(h)
	h.TruncateFrom(f.Authorize)
	return readHAR(t, "cut.har", h.Marshal())
}

func undecryptedAt(at time.Time, sni, server string) capture.Undecrypted {
	return capture.Undecrypted{Start: at, End: at.Add(800 * time.Millisecond), Client: "10.0.0.5:53936", Server: server,
		ServerName: sni, ALPN: "h2", Kind: "no-keys", Reason: "no TLS 1.3 traffic secrets for client random 1f0b…e2 in the key log",
		Ref: capture.Ref{File: "login.pcap", Entry: -1, Frames: []int64{4, 37}, Conn: "10.0.0.5:53936 -> " + server}}
}

func legKinds(ls []analyze.MissingLeg) string {
	var ks []string
	for _, l := range ls {
		ks = append(ks, string(l.Kind))
	}
	return strings.Join(ks, " ")
}

func TestUnreadableTrafficLinksFlows(t *testing.T) {
	exs := registeredOnly(t)
	last := exs[len(exs)-1]
	after := last.Start.Add(last.Duration + 5*time.Second)
	for _, tc := range []struct {
		name  string
		und   []capture.Undecrypted
		addr  string // ServerAddr given to the AS exchanges
		legs  string // possibly missing legs of the flow ("" = not linked)
		where string // in the reason
	}{
		{name: "none"},
		{name: "as-by-server-name", und: []capture.Undecrypted{undecryptedAt(after, "AUTH.example.com", "10.0.0.9:443")},
			legs: "authorize token", where: "may be in the encrypted connection (ALPN h2) to auth.example.com:443 at " + after.UTC().Format(time.RFC3339Nano) + " (frames 4-37), not decrypted: no TLS 1.3 traffic secrets"},
		{name: "as-by-address", und: []capture.Undecrypted{undecryptedAt(after, "", "10.0.0.9:443")}, addr: "10.0.0.9:443",
			legs: "authorize token", where: "to 10.0.0.9:443 at"},
		{name: "within-margin-before", und: []capture.Undecrypted{undecryptedAt(exs[0].Start.Add(-time.Minute), "auth.example.com", "10.0.0.9:443")},
			legs: "authorize token"},
		{name: "resource-host", und: []capture.Undecrypted{undecryptedAt(after, "mcp.example.com", "10.0.0.7:443")},
			legs: "resource"},
		{name: "another-host", und: []capture.Undecrypted{undecryptedAt(after, "cdn.example.net", "10.0.0.8:443")}},
		{name: "long-after", und: []capture.Undecrypted{undecryptedAt(after.Add(analyze.UnreadableMargin+time.Minute), "auth.example.com", "10.0.0.9:443")}},
		{name: "long-before", und: []capture.Undecrypted{undecryptedAt(exs[0].Start.Add(-analyze.UnreadableMargin-time.Minute), "auth.example.com", "10.0.0.9:443")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs := registeredOnly(t)
			if tc.addr != "" {
				for _, ex := range exs {
					if ex.Request.URL.Hostname() == "auth.example.com" {
						ex.ServerAddr = tc.addr
					}
				}
			}
			res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto", Undecrypted: tc.und})
			if len(res.Flows) != 1 {
				t.Fatalf("%d flows", len(res.Flows))
			}
			f := res.Flows[0]
			if f.Registration == nil || f.Authorize != nil {
				t.Fatalf("flow %s: registration %v, authorize %v", f.Kind, f.Registration != nil, f.Authorize != nil)
			}
			if len(f.MissingLegs()) != 0 {
				t.Errorf("proven missing legs %v: nothing proves them", f.MissingLegs())
			}
			if got := legKinds(f.PossiblyMissingLegs()); got != tc.legs {
				t.Errorf("possibly missing %q, want %q", got, tc.legs)
			}
			if (len(f.Unreadable) > 0) != (tc.legs != "") {
				t.Fatalf("unreadable %+v", f.Unreadable)
			}
			for _, m := range f.PossiblyMissingLegs() {
				if !m.Possible || m.ImpliedBy != 0 || !strings.Contains(m.Reason, tc.where) {
					t.Errorf("%s: %+v, want a possible leg whose reason has %q", m.Kind, m, tc.where)
				}
			}
		})
	}
}

// An exchange whose connection lost bytes is unreadable traffic too:
// after a hole the reader cannot frame what follows on the connection.
func TestUnreadableFromExchangeGaps(t *testing.T) {
	exs := registeredOnly(t)
	var reg *capture.Exchange
	for _, ex := range exs {
		if strings.HasSuffix(ex.Request.URL.Path, "/register") {
			reg = ex
		}
	}
	reg.Ref = capture.Ref{File: "login.pcap", Entry: -1, Frames: []int64{40, 44}, Conn: "10.0.0.5:53940 -> 10.0.0.9:443"}
	reg.ServerAddr = "10.0.0.9:443"
	reg.AddGap(capture.GapUndecrypted, "the client's TLS records could not be decrypted from frame 44 on: 120 bytes of the client's TLS stream are missing from the capture")
	res := analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto"})
	f := res.Flows[0]
	if len(f.Unreadable) != 1 {
		t.Fatalf("unreadable %+v", f.Unreadable)
	}
	u := f.Unreadable[0]
	if u.Exchange != reg.Seq+1 || u.Kind != "undecrypted" || u.Host != "auth.example.com" ||
		!strings.Contains(u.Reason, "may be in the connection to auth.example.com:443 that was not read in full from POST https://auth.example.com/") ||
		!strings.Contains(u.Reason, "(frames 40-44, exchange #") || !strings.Contains(u.Reason, "could not be decrypted from frame 44 on") {
		t.Errorf("%+v", u)
	}
	if got := legKinds(f.PossiblyMissingLegs()); got != "authorize token" {
		t.Errorf("possibly missing %q", got)
	}
	// The same connection listed by the reader as well: one record.
	und := []capture.Undecrypted{undecryptedAt(reg.Start, "auth.example.com", "10.0.0.9:443")}
	und[0].Ref.Conn = reg.Ref.Conn
	und[0].Ref.File = reg.Ref.File
	res = analyze.Analyze(capture.Timeline(exs), analyze.Options{MCPRevision: "auto", Undecrypted: und})
	if n := len(res.Flows[0].Unreadable); n != 1 || res.Flows[0].Unreadable[0].Exchange != 0 {
		t.Errorf("unreadable %+v, want the reader's record only", res.Flows[0].Unreadable)
	}
}
