package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/rules"
)

// SARIF 2.1.0 (OASIS), the subset GitHub code scanning and other viewers
// read. One run per report; every rule of the run is in the driver's rule
// table, so a rule that passed is distinguishable from one never run.
//
// Mapping decisions (documented in docs/output.md):
//   - fail → kind "fail", level from the severity (error for critical and
//     high, warning for medium, note for low and info).
//   - not-available → kind "open", level "none": SARIF §3.27.9 defines
//     "open" as "the tool was unable to determine whether the problem
//     exists because of insufficient information", which is exactly what
//     not-available says; "notApplicable" would claim the rule does not
//     apply and "review" that a human must judge evidence we do not have.
//     §3.27.10 requires level "none" for any kind other than "fail".
//   - error (the rule could not be evaluated) → not a result but a tool
//     execution notification of level "error" on the invocation.

const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// fingerprintKey names our fingerprint scheme; bump the version when
	// the normalisation changes (old alerts then close and reopen once).
	fingerprintKey = "oauthlintFinding/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Artifacts   []sarifArtifact   `json:"artifacts,omitempty"`
	Results     []sarifResult     `json:"results"`
	Properties  *sarifRunProps    `json:"properties,omitempty"`
}

type sarifRunProps struct {
	MCPRevision string   `json:"mcpRevision,omitempty"`
	Packs       []string `json:"packs"`
	FailOn      string   `json:"failOn,omitempty"`
	ShowSecrets bool     `json:"showSecrets"`
	Flows       int      `json:"flows"`
	Exchanges   int      `json:"exchanges"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
	Tags             []string `json:"tags"`
	Severity         string   `json:"severity"`
	Party            string   `json:"party"`
	Level            string   `json:"requirementLevel,omitempty"`
	Packs            []string `json:"packs"`
	AppliesTo        []string `json:"appliesTo,omitempty"`
	References       []string `json:"references"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level          string         `json:"level"`
	Message        sarifText      `json:"message"`
	AssociatedRule *sarifRuleRef  `json:"associatedRule,omitempty"`
	Locations      []sarifLoc     `json:"locations,omitempty"`
	Properties     map[string]any `json:"properties,omitempty"`
}

type sarifRuleRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type sarifArtifact struct {
	Location   sarifArtifactLoc `json:"location"`
	Roles      []string         `json:"roles"`
	MimeType   string           `json:"mimeType,omitempty"`
	Properties map[string]any   `json:"properties,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
	Index     *int   `json:"index,omitempty"`
}

type sarifRegion struct {
	ByteOffset int64 `json:"byteOffset"`
	ByteLength int64 `json:"byteLength"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

type sarifLoc struct {
	ID               *int           `json:"id,omitempty"`
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	Message          *sarifText     `json:"message,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Kind                string            `json:"kind"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLoc        `json:"locations"`
	RelatedLocations    []sarifLoc        `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifResultProps struct {
	Severity   string          `json:"severity"`
	Outcome    string          `json:"outcome"`
	Party      string          `json:"party"`
	Flows      []string        `json:"flows"`
	Exchange   int             `json:"exchange"`
	Repeats    []int           `json:"repeats,omitempty"`
	Fix        string          `json:"fix"`
	Evidence   []sarifEvidence `json:"evidence"`
	References []string        `json:"references"`
	Packs      []string        `json:"packs"`
}

type sarifEvidence struct {
	Exchange int    `json:"exchange"`
	Where    string `json:"where,omitempty"`
	Field    string `json:"field"`
	Value    string `json:"value"`
	Secret   bool   `json:"secret,omitempty"`
}

type sarifPrinter struct{}

// Print writes one SARIF 2.1.0 log.
func (sarifPrinter) Print(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(buildSARIF(r))
}

// securitySeverity maps severities to GitHub's security-severity score
// (critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9).
func securitySeverity(s rules.Severity) string {
	switch s {
	case rules.Critical:
		return "9.5"
	case rules.High:
		return "8.0"
	case rules.Medium:
		return "5.5"
	case rules.Low:
		return "3.0"
	}
	return "1.0"
}

// sarifLevel maps a fail finding's severity to a SARIF level.
func sarifLevel(s rules.Severity) string {
	switch s {
	case rules.Critical, rules.High:
		return "error"
	case rules.Medium:
		return "warning"
	}
	return "note"
}

func buildSARIF(r *Report) sarifLog {
	table := ruleTable(r)
	index := make(map[string]int, len(table))
	run := sarifRun{
		Tool:    sarifTool{Driver: sarifDriver{Name: "oauthlint", Version: r.Tool.Version, Rules: make([]sarifRule, 0, len(table))}},
		Results: []sarifResult{},
		Properties: &sarifRunProps{MCPRevision: r.Tool.MCPRevision, Packs: nonNil(r.Tool.Packs), FailOn: r.Tool.FailOn,
			ShowSecrets: r.Tool.ShowSecrets, Flows: r.Stats.Flows, Exchanges: r.Stats.Exchanges},
	}
	for i, ri := range table {
		index[ri.ID] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(ri))
	}

	arts := newArtifacts(r)
	run.Artifacts = arts.list

	inv := sarifInvocation{ExecutionSuccessful: true}
	seen := map[string]int{}
	for _, f := range r.Findings {
		if f.Outcome == rules.Error {
			n := sarifNotification{Level: "error", Message: sarifText{Text: fmt.Sprintf("rule %s could not be evaluated on flow %s: %s", f.Rule, flowList(f), oneLine(f.Message))},
				AssociatedRule: &sarifRuleRef{ID: f.Rule, Index: index[f.Rule]}}
			if loc, ok := arts.location(r, f); ok {
				n.Locations = []sarifLoc{loc}
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
			continue
		}
		res := sarifResult{RuleID: f.Rule, RuleIndex: index[f.Rule], Kind: "fail", Level: sarifLevel(f.Severity),
			Message:   sarifText{Text: resultMessage(f)},
			Locations: []sarifLoc{},
			Properties: sarifResultProps{Severity: string(f.Severity), Outcome: string(f.Outcome), Party: string(f.Party),
				Flows: nonNil(findingFlows(f)), Exchange: f.Anchor, Repeats: f.Repeats, Fix: oneLine(f.Fix),
				Evidence: []sarifEvidence{}, References: nonNil(f.References), Packs: nonNil(f.Packs)},
		}
		if f.Outcome == rules.NotAvailable {
			res.Kind, res.Level = "open", "none"
		}
		if loc, ok := arts.location(r, f); ok {
			res.Locations = append(res.Locations, loc)
		}
		id := 1
		done := map[int]bool{f.Anchor: true}
		for _, e := range f.Evidence {
			res.Properties.Evidence = append(res.Properties.Evidence, sarifEvidence{Exchange: e.Exchange, Where: refString(e.Ref),
				Field: e.Field, Value: e.Value, Secret: e.Secret})
			if e.Exchange <= 0 || done[e.Exchange] {
				continue
			}
			done[e.Exchange] = true
			if loc, ok := arts.refLocation(r, e.Exchange, e.Ref); ok {
				n := id
				loc.ID = &n
				loc.Message = &sarifText{Text: fmt.Sprintf("%s = %s", e.Field, oneLine(e.Value))}
				res.RelatedLocations = append(res.RelatedLocations, loc)
				id++
			}
		}
		fp := fingerprint(r, f)
		seen[fp]++
		res.PartialFingerprints = map[string]string{
			fingerprintKey: fmt.Sprintf("%s:%d", fp, seen[fp]),
			// GitHub's upload action fills primaryLocationLineHash from the
			// file's text when it is absent; for a capture that text changes
			// with every recording, so we supply the stable hash instead.
			"primaryLocationLineHash": fmt.Sprintf("%s:%d", fp[:16], seen[fp]),
		}
		run.Results = append(run.Results, res)
	}
	run.Invocations = []sarifInvocation{inv}
	return sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
}

func sarifRuleOf(ri RuleInfo) sarifRule {
	full := ri.Title + "."
	if ri.Motivation != "" {
		full += " " + oneLine(ri.Motivation)
	}
	var text, md strings.Builder
	fmt.Fprintf(&text, "%s\n\nWho: %s. Severity: %s", ri.Title, ri.Party.Describe(), ri.Severity)
	fmt.Fprintf(&md, "**%s**\n\nWho: %s · Severity: %s", mdEscape(ri.Title), ri.Party.Describe(), ri.Severity)
	if ri.Level != "" {
		fmt.Fprintf(&text, " (%s)", ri.Level)
		fmt.Fprintf(&md, " (%s)", mdEscape(ri.Level))
	}
	text.WriteString(".\n")
	md.WriteString("\n")
	if ri.Motivation != "" {
		fmt.Fprintf(&text, "\nWhy: %s\n", oneLine(ri.Motivation))
		fmt.Fprintf(&md, "\n**Why:** %s\n", mdEscape(oneLine(ri.Motivation)))
	}
	if ri.Fix != "" {
		fmt.Fprintf(&text, "\nFix: %s\n", ri.Fix)
		fmt.Fprintf(&md, "\n**Fix:** %s\n", mdEscape(ri.Fix))
	}
	if len(ri.References) > 0 {
		text.WriteString("\nReferences:\n")
		md.WriteString("\n**References:**\n\n")
		for _, ref := range ri.References {
			fmt.Fprintf(&text, "- %s\n", ref)
			fmt.Fprintf(&md, "- %s\n", mdRefLink(ref))
		}
	}
	helpURI := ""
	for _, ref := range ri.References {
		if u := referenceURL(ref); u != "" {
			helpURI = u
			break
		}
	}
	tags := []string{"security", "oauth", partyTag(ri.Party)}
	tags = append(tags, ri.Packs...)
	if ri.Level != "" {
		tags = append(tags, strings.ToLower(ri.Level))
	}
	return sarifRule{
		ID: ri.ID, Name: ruleName(ri),
		ShortDescription:     sarifText{Text: ri.Title},
		FullDescription:      sarifText{Text: full},
		Help:                 sarifText{Text: strings.TrimSpace(text.String()), Markdown: strings.TrimSpace(md.String())},
		HelpURI:              helpURI,
		DefaultConfiguration: sarifConfig{Level: sarifLevel(ri.Severity)},
		Properties: sarifRuleProps{SecuritySeverity: securitySeverity(ri.Severity),
			// Findings are exact facts read from the traffic (a header is
			// there or not), not heuristics: high precision.
			Precision: "high", Tags: tags, Severity: string(ri.Severity), Party: string(ri.Party), Level: ri.Level,
			Packs: nonNil(ri.Packs), AppliesTo: ri.AppliesTo, References: nonNil(ri.References)},
	}
}

func partyTag(p rules.Party) string {
	switch p {
	case rules.Client:
		return "client"
	case rules.AS:
		return "authorization-server"
	case rules.RS:
		return "resource-server"
	}
	return string(p)
}

// ruleName is the rule's title in PascalCase ("TokenResponseWithout…"),
// the SARIF convention for a rule's readable identifier.
func ruleName(ri RuleInfo) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(ri.Title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	if b.Len() == 0 {
		return ri.ID
	}
	return b.String()
}

// resultMessage is the finding's message with the fix: code scanning
// shows only the message, and a reviewer needs both.
func resultMessage(f rules.Finding) string {
	msg := oneLine(f.Message)
	if msg == "" {
		msg = f.Title
	}
	if f.Outcome == rules.NotAvailable {
		msg = "Not checked: " + msg
	}
	if fix := oneLine(f.Fix); fix != "" && f.Outcome == rules.Fail {
		msg = strings.TrimSuffix(msg, ".") + ". Fix: " + fix
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// artifacts indexes the inputs as SARIF artifacts.
type artifacts struct {
	list  []sarifArtifact
	index map[string]int
}

func newArtifacts(r *Report) *artifacts {
	a := &artifacts{index: map[string]int{}}
	for _, in := range r.Inputs {
		loc, ok := artifactLocation(in.File)
		if !ok {
			continue
		}
		if _, dup := a.index[in.File]; dup {
			continue
		}
		a.index[in.File] = len(a.list)
		art := sarifArtifact{Location: loc, Roles: []string{"analysisTarget"},
			Properties: map[string]any{"format": in.Format, "entries": in.Entries, "exchanges": in.Exchanges}}
		switch in.Format {
		case "har":
			art.MimeType = "application/json"
		case "pcap", "pcapng":
			art.MimeType = "application/vnd.tcpdump.pcap"
		}
		a.list = append(a.list, art)
	}
	return a
}

// location is where a finding points: its anchor exchange.
func (a *artifacts) location(r *Report, f rules.Finding) (sarifLoc, bool) {
	s, ok := anchorRef(r, f)
	if !ok {
		return sarifLoc{}, false
	}
	loc, ok := a.refLocation(r, s.Exchange, s.Ref)
	if ok {
		loc.Message = &sarifText{Text: stepLabel(s)}
	}
	return loc, ok
}

func stepLabel(s Step) string {
	if s.Method == "" {
		return fmt.Sprintf("exchange #%d", s.Exchange)
	}
	l := fmt.Sprintf("exchange #%d %s: %s %s", s.Exchange, s.Kind, s.Method, s.URL)
	if s.Status > 0 {
		l += fmt.Sprintf(" → %d", s.Status)
	}
	return l
}

// refLocation renders a capture.Ref: HAR entries as a byte region of the
// file, pcap frames and proxy sequence numbers as logical locations (a
// packet capture has no text to point into), with the file as artifact
// when there is one.
func (a *artifacts) refLocation(r *Report, exchange int, ref capture.Ref) (sarifLoc, bool) {
	var loc sarifLoc
	art, hasFile := artifactLocation(ref.File)
	if hasFile {
		if i, ok := a.index[ref.File]; ok {
			n := i
			art.Index = &n
		}
	}
	switch {
	case ref.Entry >= 0 && hasFile:
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: art}
		if ref.Length > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{ByteOffset: ref.Offset, ByteLength: ref.Length}
		}
		loc.LogicalLocations = []sarifLogical{{Name: fmt.Sprintf("entries[%d]", ref.Entry),
			FullyQualifiedName: fmt.Sprintf("%s#entries[%d]", ref.File, ref.Entry), Kind: "element"}}
	case len(ref.Frames) > 0:
		if hasFile {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: art}
		}
		name := framesName(ref)
		loc.LogicalLocations = []sarifLogical{{Name: name, FullyQualifiedName: strings.TrimSpace(ref.File + " " + name)}}
	case ref.ProxySeq > 0:
		loc.LogicalLocations = []sarifLogical{{Name: fmt.Sprintf("proxy#%d", ref.ProxySeq)}}
	case ref.Entry >= 0 && ref.File != "":
		// A HAR read from standard input: no file to point into.
		loc.LogicalLocations = []sarifLogical{{Name: fmt.Sprintf("entries[%d]", ref.Entry),
			FullyQualifiedName: fmt.Sprintf("%s#entries[%d]", ref.File, ref.Entry), Kind: "element"}}
	default:
		if exchange <= 0 {
			return sarifLoc{}, false
		}
		loc.LogicalLocations = []sarifLogical{{Name: fmt.Sprintf("exchange #%d", exchange)}}
	}
	return loc, true
}

// framesName is "frames 10-14 10.0.0.1:50000 -> 10.0.0.2:443".
func framesName(ref capture.Ref) string {
	var b strings.Builder
	if len(ref.Frames) == 1 {
		fmt.Fprintf(&b, "frame %d", ref.Frames[0])
	} else {
		fmt.Fprintf(&b, "frames %d-%d", ref.Frames[0], ref.Frames[len(ref.Frames)-1])
	}
	if ref.Conn != "" {
		b.WriteString(" ")
		b.WriteString(ref.Conn)
	}
	return b.String()
}

// artifactLocation turns an input path into a SARIF URI: relative paths
// stay relative to the source root (where CI runs oauthlint, so code
// scanning can resolve them in the repository), absolute paths become
// file: URIs. Standard input has no location.
func artifactLocation(file string) (sarifArtifactLoc, bool) {
	if file == "" || file == "(stdin)" || file == "-" {
		return sarifArtifactLoc{}, false
	}
	p := filepath.ToSlash(file)
	if filepath.IsAbs(file) || strings.HasPrefix(p, "/") {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // C:/x → /C:/x
		}
		return sarifArtifactLoc{URI: (&url.URL{Scheme: "file", Path: p}).String()}, true
	}
	p = strings.TrimPrefix(p, "./")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return sarifArtifactLoc{URI: strings.Join(segs, "/"), URIBaseID: "%SRCROOT%"}, true
}

func refString(ref capture.Ref) string {
	if ref.File == "" && ref.Entry == 0 && ref.Offset == 0 && len(ref.Frames) == 0 && ref.ProxySeq == 0 {
		return ""
	}
	return ref.String()
}

// fingerprint identifies a finding across captures: the same rule, the
// same party, at the same kind of message of the same endpoint, with the
// same evidence fields and (normalised) values is the same finding, even
// when the capture, the flow numbering, the ports of loopback servers,
// the state, the code, the tokens or the timestamps differ. The hash
// covers:
//
//	rule id, party,
//	the anchor step's kind, method and endpoint (scheme, host, path; the
//	port dropped for loopback hosts, the query dropped),
//	each evidence field name with its normalised value, sorted.
//
// Secret values (and anything already redacted) hash as "<secret>":
// credentials differ on every run. Values are normalised by normalize.
func fingerprint(r *Report, f rules.Finding) string {
	h := sha256.New()
	fmt.Fprintf(h, "v1\x00%s\x00%s\x00", f.Rule, f.Party)
	if s, ok := anchorRef(r, f); ok && s.Method != "" {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", s.Kind, s.Method, endpoint(s.URL))
	}
	ev := make([]string, 0, len(f.Evidence))
	for _, e := range f.Evidence {
		v := "<secret>"
		if !e.Secret {
			v = normalize(e.Value)
		}
		ev = append(ev, e.Field+"\x01"+v)
	}
	sort.Strings(ev)
	for _, e := range ev {
		h.Write([]byte(e))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// endpoint is scheme://host/path of a URL with the port of a loopback
// host dropped (loopback servers and redirect URIs take a new ephemeral
// port on every run, RFC 8252 §7.3).
func endpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return normalize(raw)
	}
	return strings.ToLower(u.Scheme) + "://" + normHost(u) + normalize(u.EscapedPath())
}

func normHost(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if isLoopback(host) {
		return "loopback"
	}
	if p := u.Port(); p != "" {
		return net.JoinHostPort(host, p)
	}
	return host
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// volatileParams are query parameters whose values change on every
// authorization attempt.
var volatileParams = map[string]bool{
	"state": true, "nonce": true, "code": true, "code_challenge": true, "code_verifier": true, "session_state": true,
	"access_token": true, "id_token": true, "refresh_token": true, "client_assertion": true, "request": true,
	"request_uri": true, "jti": true, "iat": true, "exp": true, "login_challenge": true, "consent_challenge": true,
	"login_verifier": true, "consent_verifier": true,
}

var (
	reRedacted = regexp.MustCompile(`\S*…\(\d+ B, sha256:[0-9a-f]+\)`)
	reURL      = regexp.MustCompile(`https?://[^\s"'<>()\[\]{},]+`)
	reUUID     = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	reTime     = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b`)
	reToken    = regexp.MustCompile(`[A-Za-z0-9_\-.~+/]{20,}={0,2}`)
	reHex      = regexp.MustCompile(`\b[0-9a-fA-F]{16,}\b`)
	reDigits   = regexp.MustCompile(`\d{6,}`)
)

// normalize removes the volatile parts of an evidence value: redacted
// secrets, loopback ports, per-attempt query values (state, code, PKCE,
// tokens), UUIDs, timestamps, random-looking tokens (20+ characters
// mixing upper case, lower case and digits, as base64 does), long hex
// strings, and long digit runs (epoch times, generated client ids such as
// test-client-1795737403643).
func normalize(v string) string {
	v = reRedacted.ReplaceAllString(v, "<secret>")
	v = reURL.ReplaceAllStringFunc(v, normURL)
	v = reUUID.ReplaceAllString(v, "<uuid>")
	v = reTime.ReplaceAllString(v, "<time>")
	v = reToken.ReplaceAllStringFunc(v, func(t string) string {
		if strings.IndexFunc(t, unicode.IsDigit) >= 0 && strings.IndexFunc(t, unicode.IsUpper) >= 0 && strings.IndexFunc(t, unicode.IsLower) >= 0 {
			return "<random>"
		}
		return t
	})
	v = reHex.ReplaceAllStringFunc(v, func(t string) string {
		if strings.IndexFunc(t, unicode.IsDigit) >= 0 && strings.IndexFunc(t, unicode.IsLetter) >= 0 {
			return "<hex>"
		}
		return t
	})
	v = reDigits.ReplaceAllString(v, "<n>")
	return strings.Join(strings.Fields(v), " ")
}

func normURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	s := strings.ToLower(u.Scheme) + "://" + normHost(u) + u.EscapedPath()
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			if volatileParams[strings.ToLower(k)] {
				parts = append(parts, k+"=*")
				continue
			}
			for _, val := range q[k] {
				parts = append(parts, k+"="+normURLValue(val))
			}
		}
		s += "?" + strings.Join(parts, "&")
	}
	return s
}

// normURLValue normalises a query value that is itself a URL (a
// redirect_uri or resource): its loopback port is volatile too.
func normURLValue(v string) string {
	if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		return normURL(v)
	}
	return v
}
