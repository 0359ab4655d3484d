package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/rules"
)

// The official SARIF 2.1.0 JSON Schema (see testdata/README.md for where
// the copy comes from).
const sarifSchemaFile = "testdata/sarif-schema-2.1.0.json"

func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	// Check "format" too (uri, uri-reference, date-time): viewers rely
	// on artifact URIs being URIs.
	c.AssertFormat()
	sch, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compiling %s: %v", path, err)
	}
	return sch
}

func validateJSON(t *testing.T, sch *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return sch.Validate(inst)
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := compileSchema(t, sarifSchemaFile)
	for name, r := range cases(t, false) {
		out := render(t, "sarif", r)
		if err := validateJSON(t, sch, out); err != nil {
			t.Errorf("%s: SARIF output does not validate against the SARIF 2.1.0 schema:\n%v", name, err)
		}
	}
	// The validator does reject what the schema forbids.
	bad := bytes.Replace(render(t, "sarif", synthetic()), []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1)
	if err := validateJSON(t, sch, bad); err == nil {
		t.Error("a SARIF log with level \"fatal\" validated: the schema check is not effective")
	}
}

func sarifOf(t *testing.T, r *Report) sarifLog {
	t.Helper()
	var log sarifLog
	if err := json.Unmarshal(render(t, "sarif", r), &log); err != nil {
		t.Fatal(err)
	}
	return log
}

func TestSARIFMapping(t *testing.T) {
	r := synthetic()
	log := sarifOf(t, r)
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "oauthlint" || run.Tool.Driver.Version != "test" {
		t.Errorf("driver = %+v", run.Tool.Driver)
	}
	// Every rule of the catalog plus the custom rule only seen in a finding.
	if got, want := len(run.Tool.Driver.Rules), len(r.Rules)+1; got != want {
		t.Errorf("%d rules in the driver, want %d", got, want)
	}
	rulesByID := map[string]sarifRule{}
	for i, ru := range run.Tool.Driver.Rules {
		rulesByID[ru.ID] = ru
		if i > 0 && run.Tool.Driver.Rules[i-1].ID >= ru.ID {
			t.Errorf("rules not sorted: %s before %s", run.Tool.Driver.Rules[i-1].ID, ru.ID)
		}
	}
	tr := rulesByID["TR-NO-STORE"]
	if tr.ShortDescription.Text != "Token response without Cache-Control no-store" || tr.Name != "TokenResponseWithoutCacheControlNoStore" {
		t.Errorf("TR-NO-STORE descriptor: %+v", tr)
	}
	if tr.Properties.SecuritySeverity != "8.0" || tr.Properties.Precision != "high" || tr.DefaultConfiguration.Level != "error" {
		t.Errorf("TR-NO-STORE properties: %+v", tr.Properties)
	}
	for _, tag := range []string{"security", "authorization-server", "oauth2"} {
		if !containsStr(tr.Properties.Tags, tag) {
			t.Errorf("TR-NO-STORE tags %v lack %q", tr.Properties.Tags, tag)
		}
	}
	if !strings.Contains(tr.Help.Text, "Fix: send Cache-Control no-store") || tr.HelpURI != "https://www.rfc-editor.org/rfc/rfc6749#section-5.1" {
		t.Errorf("TR-NO-STORE help: %q %q", tr.Help.Text, tr.HelpURI)
	}
	if got := rulesByID["AZ-STATE"].Properties.SecuritySeverity; got != "5.5" {
		t.Errorf("medium security-severity = %s", got)
	}
	if got := rulesByID["DCRQ-SCOPE"].Properties.SecuritySeverity; got != "3.0" {
		t.Errorf("low security-severity = %s", got)
	}

	// Results: every fail and not-available finding; the rule error is a
	// notification.
	if len(run.Results) != 6 {
		t.Fatalf("%d results, want 6 (5 fail + 1 not-available)", len(run.Results))
	}
	byRule := map[string]sarifResult{}
	for _, res := range run.Results {
		byRule[res.RuleID] = res
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("%s: ruleIndex %d points to %s", res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
		}
		if res.PartialFingerprints[fingerprintKey] == "" || res.PartialFingerprints["primaryLocationLineHash"] == "" {
			t.Errorf("%s: no fingerprints", res.RuleID)
		}
	}
	for rule, want := range map[string][2]string{
		"TQ-VERIFIER-MATCH": {"fail", "error"}, "TR-NO-STORE": {"fail", "error"}, "PRM-SCOPES-RECOMMENDED": {"fail", "warning"},
		"CHAL-SCOPE-HINT": {"fail", "note"}, "X-HOSTILE": {"fail", "note"}, "AZ-STATE": {"open", "none"},
	} {
		res, ok := byRule[rule]
		if !ok {
			t.Errorf("no result for %s", rule)
			continue
		}
		if res.Kind != want[0] || res.Level != want[1] {
			t.Errorf("%s: kind %q level %q, want %q %q", rule, res.Kind, res.Level, want[0], want[1])
		}
	}
	if n := run.Invocations[0].ToolExecutionNotifications; len(n) != 1 || n[0].AssociatedRule.ID != "AZ-SCOPE-SELECTION" || n[0].Level != "error" {
		t.Errorf("rule error notification: %+v", n)
	}
	if m := byRule["TR-NO-STORE"].Message.Text; !strings.Contains(m, "Fix: send Cache-Control") {
		t.Errorf("result message lacks the fix: %q", m)
	}

	// Locations. Proxy ref: logical. pcap: file + logical frames and
	// 4-tuple. HAR: byte region. stdin: logical only.
	loc := func(rule string) sarifLoc {
		res := byRule[rule]
		if len(res.Locations) != 1 {
			t.Fatalf("%s: %d locations", rule, len(res.Locations))
		}
		return res.Locations[0]
	}
	if l := loc("TR-NO-STORE"); l.PhysicalLocation != nil || l.LogicalLocations[0].Name != "proxy#7" {
		t.Errorf("proxy location: %+v", l)
	}
	if l := loc("CHAL-SCOPE-HINT"); l.PhysicalLocation == nil || l.PhysicalLocation.ArtifactLocation.URI != "captures/login.pcapng" ||
		l.PhysicalLocation.Region != nil || l.LogicalLocations[0].Name != "frames 41-45 10.0.0.5:51234 -> 10.0.0.9:443" {
		t.Errorf("pcap location: %+v %+v", l.PhysicalLocation, l.LogicalLocations)
	}
	if l := loc("X-HOSTILE"); l.PhysicalLocation != nil || l.LogicalLocations[0].FullyQualifiedName != "(stdin)#entries[0]" {
		t.Errorf("stdin location: %+v", l)
	}
	// The secondary evidence (the challenge) is a related location.
	rel := byRule["TQ-VERIFIER-MATCH"].RelatedLocations
	if len(rel) != 1 || rel[0].LogicalLocations[0].Name != "frame 60 10.0.0.5:51240 -> 10.0.0.9:443" {
		t.Errorf("related locations: %+v", rel)
	}

	// HAR region: the ref's offset and length, relative URI.
	hr := synthetic()
	hr.Findings[1].Anchor = 3
	hr.Findings[1].Evidence[0].Exchange = 3
	hr.Findings[1].Evidence[0].Ref = hr.Flows[0].Steps[2].Ref
	l := sarifOf(t, hr).Runs[0].Results[1].Locations[0]
	if l.PhysicalLocation == nil || l.PhysicalLocation.Region == nil {
		t.Fatalf("HAR location without a region: %+v", l)
	}
	pl := l.PhysicalLocation
	if pl.ArtifactLocation.URI != "exports/browser%20session.har" || pl.ArtifactLocation.URIBaseID != "%SRCROOT%" ||
		pl.Region.ByteOffset != 2048 || pl.Region.ByteLength != 1500 {
		t.Errorf("HAR location: %+v %+v", pl.ArtifactLocation, pl.Region)
	}
	if pl.ArtifactLocation.Index == nil || run.Artifacts[*pl.ArtifactLocation.Index].Location.URI != pl.ArtifactLocation.URI {
		t.Errorf("artifact index does not point to the artifact")
	}
}

func TestArtifactLocation(t *testing.T) {
	for in, want := range map[string]string{
		"flow.har":                "flow.har",
		"./captures/a b.har":      "captures/a%20b.har",
		"/work/captures/x.har":    "file:///work/captures/x.har",
		"/tmp/100% done#1.har":    "file:///tmp/100%25%20done%231.har",
		"captures/ünïcode.pcapng": "captures/%C3%BCn%C3%AFcode.pcapng",
	} {
		got, ok := artifactLocation(in)
		if !ok || got.URI != want {
			t.Errorf("artifactLocation(%q) = %q, want %q", in, got.URI, want)
		}
	}
	for _, in := range []string{"", "-", "(stdin)"} {
		if _, ok := artifactLocation(in); ok {
			t.Errorf("artifactLocation(%q) has a location", in)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"(absent)": "(absent)",
		"http://localhost:44333/authorize?state=abc&scope=a+b&redirect_uri=http%3A%2F%2F127.0.0.1%3A8090%2Fcb": "http://loopback/authorize?redirect_uri=http://loopback/cb&scope=a b&state=*",
		"https://as.example.com:8443/token":                                       "https://as.example.com:8443/token",
		"client test-client-1795737403643":                                        "client test-client-<n>",
		"jti 0b9f3c2e-1d4a-4e5f-9a8b-7c6d5e4f3a2b at 2026-11-26T23:56:15.161790Z": "jti <uuid> at <time>",
		"code_challenge WM4UQ0YUybQFwKxOEWxJXQtoj3HTcPFKTaCRrH4qNGw":              "code_challenge <random>",
		"pw_I097V…(43 B, sha256:4ec90320)":                                        "<secret>",
		"oauth-protected-resource scopes":                                         "oauth-protected-resource scopes",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// TestFingerprints: the same finding in another capture (other ports,
// state, code, tokens, flow numbers) keeps its fingerprint; another rule,
// party, endpoint or evidence changes it.
func TestFingerprints(t *testing.T) {
	base := func() (*Report, rules.Finding) {
		r := &Report{Flows: []Flow{{ID: "F1", Steps: []Step{{Exchange: 9, Kind: "token", Method: "POST", URL: "http://localhost:44333/token?x=1"}}}}}
		f := rules.Finding{Rule: "TQ-REDIRECT-URI-IDENTICAL", Party: rules.Client, Flow: "F1", Anchor: 9, Evidence: []rules.Evidence{
			{Exchange: 9, Field: "token request parameter redirect_uri", Value: "http://127.0.0.1:33418/cb?state=s1"},
			{Exchange: 9, Field: "code", Value: capture.Redact("code-one-very-secret"), Secret: true},
		}}
		return r, f
	}
	r0, f0 := base()
	want := fingerprint(r0, f0)
	same := map[string]func(*Report, *rules.Finding){
		"other port and flow": func(r *Report, f *rules.Finding) {
			r.Flows[0].ID, f.Flow = "F7", "F7"
			r.Flows[0].Steps[0].URL = "http://localhost:51000/token"
			r.Flows[0].Steps[0].Exchange, f.Anchor = 90, 90
		},
		"other state and loopback port": func(r *Report, f *rules.Finding) {
			f.Evidence[0].Value = "http://127.0.0.1:50111/cb?state=s2"
		},
		"other secret": func(r *Report, f *rules.Finding) { f.Evidence[1].Value = capture.Redact("code-two-also-secret") },
		"evidence order": func(r *Report, f *rules.Finding) {
			f.Evidence[0], f.Evidence[1] = f.Evidence[1], f.Evidence[0]
		},
	}
	differ := map[string]func(*Report, *rules.Finding){
		"other rule":     func(r *Report, f *rules.Finding) { f.Rule = "TQ-RESOURCE-PRESENT" },
		"other party":    func(r *Report, f *rules.Finding) { f.Party = rules.AS },
		"other host":     func(r *Report, f *rules.Finding) { r.Flows[0].Steps[0].URL = "https://as.example.com/token" },
		"other path":     func(r *Report, f *rules.Finding) { r.Flows[0].Steps[0].URL = "http://localhost:44333/oauth2/token" },
		"other field":    func(r *Report, f *rules.Finding) { f.Evidence[0].Field = "authorization request redirect_uri" },
		"other value":    func(r *Report, f *rules.Finding) { f.Evidence[0].Value = "http://127.0.0.1:33418/callback" },
		"fewer evidence": func(r *Report, f *rules.Finding) { f.Evidence = f.Evidence[:1] },
	}
	for name, mod := range same {
		r, f := base()
		mod(r, &f)
		if got := fingerprint(r, f); got != want {
			t.Errorf("%s changed the fingerprint", name)
		}
	}
	for name, mod := range differ {
		r, f := base()
		mod(r, &f)
		if got := fingerprint(r, f); got == want {
			t.Errorf("%s kept the fingerprint", name)
		}
	}
}

// TestFingerprintsAcrossFlows: the conformance capture runs the same
// client against servers on fresh loopback ports; TR-NO-STORE fires at
// the same /token endpoint in several flows. Those share one fingerprint,
// told apart by the occurrence suffix (1, 2, … in report order), and
// every result's fingerprint is unique.
func TestFingerprintsAcrossFlows(t *testing.T) {
	log := sarifOf(t, pipeline(t, false, "testdata/conformance.har"))
	seen := map[string]bool{}
	occurrences := map[string][]int{}
	for _, res := range log.Runs[0].Results {
		fp := res.PartialFingerprints[fingerprintKey]
		if seen[fp] {
			t.Errorf("duplicate fingerprint %s", fp)
		}
		seen[fp] = true
		hash, n, _ := strings.Cut(fp, ":")
		k, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("fingerprint %q has no occurrence number", fp)
		}
		if res.RuleID == "TR-NO-STORE" {
			occurrences[hash] = append(occurrences[hash], k)
		}
	}
	shared := false
	for hash, ks := range occurrences {
		for i, k := range ks {
			if k != i+1 {
				t.Errorf("hash %s: occurrences %v, want 1..%d", hash[:12], ks, len(ks))
				break
			}
		}
		shared = shared || len(ks) > 1
	}
	if !shared {
		t.Errorf("TR-NO-STORE at the same endpoint in different flows got different fingerprints: %v", occurrences)
	}
}
