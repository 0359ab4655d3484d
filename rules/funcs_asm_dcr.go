package rules

// Helper functions for the discovery and registration rules (catalog §4
// authorization server metadata, §5a/§5b dynamic client registration, §5c
// client ID metadata documents, §5d registration binding). They hold the
// URL parsing, JSON-member inspection and cross-flow lookups that are
// security-sensitive or awkward in CEL, so every rule gets them right in
// the same way.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"sort"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
)

var (
	regFlowType     = cel.ObjectType("analyze.Flow")
	regFlowListType = cel.ListType(regFlowType)
	regRegType      = cel.ObjectType("analyze.Registration")
	regDocType      = cel.MapType(cel.StringType, cel.DynType)
	regASMType      = cel.ObjectType("analyze.ASMetadata")
)

func init() {
	RegisterFunction("url_scheme(u)",
		"the lower-case scheme of a URL as a browser reads it (tabs and newlines removed, leading spaces and control characters trimmed); \"\" when there is none",
		strFn("url_scheme", "", URLScheme))
	RegisterFunction("url_host(u)",
		"the lower-case host name of an absolute URL, without port or IPv6 brackets (\"\" when u has no host)",
		strFn("url_host", "", URLHost))
	RegisterFunction("is_absolute_uri(u)",
		"true when u is an absolute URI (it has a scheme, RFC 3986 §4.3); custom schemes count",
		boolFn("is_absolute_uri", func(s string) bool { return URLScheme(s) != "" }))
	RegisterFunction("cimd_url_problems(u)",
		"how a client identifier URL breaks draft-ietf-oauth-client-id-metadata-document §3 (https, a path, no dot segments, no userinfo, no fragment; a query is a SHOULD NOT); [] when it is fine",
		cel.Function("cimd_url_problems", cel.Overload("cimd_url_problems_string", []*cel.Type{cel.StringType}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return listVal(CIMDURLProblems(string(v.(types.String)))) }))))
	RegisterFunction("web_url_problem(v)",
		"why a URL-valued metadata member (client_uri, logo_uri, …) is not an absolute http(s) URL: not a string, empty, a script/data/file scheme, relative; \"\" when it is one",
		cel.Function("web_url_problem", cel.Overload("web_url_problem_dyn", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(WebURLProblem(v.Value())) }))))
	RegisterFunction("zero_members(doc)",
		"the names (sorted) of the top-level members of a metadata document whose value is an empty array or empty string (RFC 8414/9728 §3.2: omit claims with zero elements); bearer_methods_supported is excepted, [] means no method",
		cel.Function("zero_members", cel.Overload("zero_members_map", []*cel.Type{regDocType}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return listVal(ZeroMembers(docOf(v))) }))))
	RegisterFunction("insecure_endpoints(doc)",
		"the endpoint members of a metadata document (*_endpoint, jwks_uri) whose URL is neither https nor http on a loopback host, as \"name value\" (sorted)",
		cel.Function("insecure_endpoints", cel.Overload("insecure_endpoints_map", []*cel.Type{regDocType}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return listVal(InsecureEndpoints(docOf(v))) }))))
	RegisterFunction("doc_strings(doc, key)",
		"a member of a JSON object as a list of strings: a string gives [it], an array its string elements, anything else (or absence) []",
		cel.Function("doc_strings", cel.Overload("doc_strings_map_string", []*cel.Type{regDocType, cel.StringType}, stringList,
			cel.BinaryBinding(func(d, k ref.Val) ref.Val { return listVal(DocStrings(docOf(d), string(k.(types.String)))) }))))
	RegisterFunction("jws_problem(v)",
		"why a value is not a signed JWT with an iss claim (RFC 8414 §2.1 signed_metadata): not a string, not a compact JWS, alg none, no iss; \"\" when it is one (the signature is not verified)",
		cel.Function("jws_problem", cel.Overload("jws_problem_dyn", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(JWSProblem(v.Value())) }))))
	RegisterFunction("jws_alg(v)",
		"the alg of a compact JWS header (\"\" when v is not a JWS), e.g. to tell client_secret_jwt (HS*) from private_key_jwt",
		cel.Function("jws_alg", cel.Overload("jws_alg_dyn", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(JWSAlg(v.Value())) }))))
	RegisterFunction("required_members_missing(doc, profile)",
		"the REQUIRED members a metadata document lacks (absent, null or \"\"): profile \"rfc8414\" (issuer, response_types_supported, and the authorization/token endpoints the advertised grants need) or \"oidc\" (jwks_uri, subject_types_supported, id_token_signing_alg_values_supported)",
		cel.Function("required_members_missing", cel.Overload("required_members_missing_map_string", []*cel.Type{regDocType, cel.StringType}, stringList,
			cel.BinaryBinding(func(d, p ref.Val) ref.Val { return listVal(RequiredMembersMissing(docOf(d), string(p.(types.String)))) }))))
	RegisterFunction("redirect_listed(redirect_uris, uri)",
		"true when uri is one of redirect_uris, exactly, or with another port when both are http on the same loopback IP literal (RFC 8252 §7.3; the name localhost is not covered)",
		cel.Function("redirect_listed", cel.Overload("redirect_listed_list_string", []*cel.Type{stringList, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(l, u ref.Val) ref.Val { return types.Bool(RedirectListed(strList(l), string(u.(types.String)))) }))))
	RegisterFunction("mismatched_metadata_use(flow, as_metadata)",
		"the endpoints of a metadata document whose issuer fails RFC 8414 §3.3 validation that the client used afterwards, as \"member URL (request)\", unless a validated document of the flow names the same endpoint; [] otherwise",
		cel.Function("mismatched_metadata_use", cel.Overload("mismatched_metadata_use_flow_asm", []*cel.Type{regFlowType, regASMType}, stringList,
			cel.BinaryBinding(func(f, a ref.Val) ref.Val { return listVal(MismatchedMetadataUse(regFlowOf(f), regASMOf(a))) }))))
	RegisterFunction("registration_abandoned(flows, registration)",
		"the exchange id showing that the client started over (registered again, or fetched discovery again) without ever using the client_id a successful registration returned; 0 when it used it or the capture cannot tell",
		cel.Function("registration_abandoned", cel.Overload("registration_abandoned_flows_registration",
			[]*cel.Type{regFlowListType, regRegType}, cel.IntType,
			cel.BinaryBinding(func(fl, r ref.Val) ref.Val {
				return types.Int(RegistrationAbandoned(regFlowsOf(fl), regRegOf(r)))
			}))))
	RegisterFunction("registration_abandon_reason(flows, registration)",
		"how the capture shows the client gave up a successful registration: \"started over at exchange N\", or, when the capture covers the client's whole run (oauthlint capture -- CMD), \"exited (…) N ms after the response\"; \"\" when it used the client_id or nothing tells",
		cel.Function("registration_abandon_reason", cel.Overload("registration_abandon_reason_flows_registration",
			[]*cel.Type{regFlowListType, regRegType}, cel.StringType,
			cel.BinaryBinding(func(fl, r ref.Val) ref.Val {
				return types.String(RegistrationAbandonReason(regFlowsOf(fl), regRegOf(r)))
			}))))
	RegisterFunction("dcr_response_mismatches(flow)",
		"where the client did not use what its registration response returned: another client_id, a redirect_uri outside the returned redirect_uris, another token endpoint auth method ([] when it did)",
		cel.Function("dcr_response_mismatches", cel.Overload("dcr_response_mismatches_flow", []*cel.Type{regFlowType}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return listVal(DCRResponseMismatches(regFlowOf(v))) }))))
	RegisterFunction("registered_at_other_as(flows, client_id, endpoint)",
		"the registration endpoint that issued client_id when that is another authorization server than the one serving endpoint (issuers from metadata, else origins); \"\" otherwise",
		cel.Function("registered_at_other_as", cel.Overload("registered_at_other_as_flows_string_string",
			[]*cel.Type{regFlowListType, cel.StringType, cel.StringType}, cel.StringType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return types.String(RegisteredAtOtherAS(regFlowsOf(args[0]), string(args[1].(types.String)), string(args[2].(types.String))))
			}))))
	RegisterFunction("earlier_same_registration(flows, registration)",
		"the exchange id of an earlier successful registration of the same client (same endpoint, client_name and redirect_uris) that nothing showed to be rejected since; 0 when there is none",
		cel.Function("earlier_same_registration", cel.Overload("earlier_same_registration_flows_registration",
			[]*cel.Type{regFlowListType, regRegType}, cel.IntType,
			cel.BinaryBinding(func(fl, r ref.Val) ref.Val {
				return types.Int(EarlierSameRegistration(regFlowsOf(fl), regRegOf(r)))
			}))))
}

// URLScheme returns the lower-case scheme of raw as a browser reads it:
// the WHATWG URL parser removes ASCII tabs and newlines anywhere and trims
// leading and trailing C0 controls and spaces, so "java\tscript:" and
// " javascript:" are javascript: URLs. It returns "" when raw has no
// RFC 3986 scheme.
func URLScheme(raw string) string {
	s := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, raw)
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return ""
	}
	for j := 0; j < i; j++ {
		c := s[j]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if j == 0 && !alpha {
			return ""
		}
		if !alpha && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return ""
		}
	}
	return strings.ToLower(s[:i])
}

// URLHost returns the lower-case host name of raw without port and IPv6
// brackets, or "" when raw is not an absolute URL with a host.
func URLHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// CIMDURLProblems lists how raw breaks the client identifier URL rules of
// draft-ietf-oauth-client-id-metadata-document §3. Every entry but the
// query one is a MUST; the query one starts with "has a query".
func CIMDURLProblems(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{"is not a valid URL (" + err.Error() + ")"}
	}
	var out []string
	if !strings.EqualFold(u.Scheme, "https") {
		out = append(out, fmt.Sprintf("uses the %q scheme instead of https", u.Scheme))
	}
	if u.User != nil {
		out = append(out, "contains a userinfo component")
	}
	if u.Host == "" {
		out = append(out, "has no host")
	}
	p := u.EscapedPath()
	if p == "" {
		out = append(out, "has no path component")
	}
	for _, seg := range strings.Split(p, "/") {
		// RFC 3986 §6.2.2.2: "%2E" is a dot too.
		if d, err := url.PathUnescape(seg); err == nil && (d == "." || d == "..") {
			out = append(out, "contains a \".\" or \"..\" path segment")
			break
		}
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		out = append(out, "contains a fragment")
	}
	if u.RawQuery != "" || u.ForceQuery {
		out = append(out, "has a query component (SHOULD NOT)")
	}
	return out
}

// dangerousSchemes are URL schemes a browser runs or loads locally.
var dangerousSchemes = map[string]bool{"javascript": true, "data": true, "vbscript": true, "file": true}

// WebURLProblem says why v (a URL-valued client metadata member) is not an
// absolute http(s) URL, or returns "" when it is one.
func WebURLProblem(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("is not a string but %s", jsonKind(v))
	}
	if s == "" {
		return "is an empty string"
	}
	sch := URLScheme(s)
	switch {
	case dangerousSchemes[sch]:
		return "uses the " + sch + ": scheme, which a consent page would execute or load from the user's machine"
	case sch == "":
		return "is not an absolute URL"
	case sch != "http" && sch != "https":
		return "uses the " + sch + ": scheme instead of https"
	}
	if u, err := url.Parse(s); err != nil || u.Host == "" {
		return "is not a valid absolute URL"
	}
	return ""
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// ZeroMembers returns the sorted names of doc's members whose value is an
// empty array or an empty string: RFC 8414 §3.2 and RFC 9728 §3.2 say
// claims with zero elements MUST be omitted, and an empty string is how
// serialisers write a single-valued claim with nothing in it
// ("userinfo_endpoint": ""). bearer_methods_supported: [] is the one
// explicit exception (RFC 9728 §2: the empty array means no bearer method
// is supported).
func ZeroMembers(doc map[string]any) []string {
	out := []string{}
	for k, v := range doc {
		if k == "bearer_methods_supported" {
			continue
		}
		switch x := v.(type) {
		case string:
			if x == "" {
				out = append(out, k)
			}
		case []any:
			if len(x) == 0 {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// InsecureEndpoints returns "name value" for every endpoint member of a
// metadata document (names ending in _endpoint, and jwks_uri) whose URL is
// neither https nor http on a loopback host. Non-string members are left to
// the rules that check types.
func InsecureEndpoints(doc map[string]any) []string {
	out := []string{}
	for k, v := range doc {
		if !strings.HasSuffix(k, "_endpoint") && k != "jwks_uri" {
			continue
		}
		s, ok := v.(string)
		if !ok || s == "" {
			continue
		}
		if !oauth.SecureOrLoopback(s) {
			out = append(out, k+" "+s)
		}
	}
	sort.Strings(out)
	return out
}

// DocStrings returns doc[key] as a list of strings: a string gives one
// element, an array its string elements; anything else gives [].
func DocStrings(doc map[string]any, key string) []string {
	out := []string{}
	switch x := doc[key].(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// JWSProblem says why v is not a compact JWS carrying an iss claim with an
// alg other than none (RFC 8414 §2.1 signed_metadata), or returns "". The
// signature is not verified: oauthlint holds no keys.
func JWSProblem(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("is %s, not a JWT", jsonKind(v))
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return fmt.Sprintf("is not a compact JWS (%d dot-separated parts instead of 3)", len(parts))
	}
	var hdr, claims map[string]any
	if err := decodeJOSEPart(parts[0], &hdr); err != nil {
		return "has a header that is not base64url-encoded JSON (" + err.Error() + ")"
	}
	if err := decodeJOSEPart(parts[1], &claims); err != nil {
		return "has a payload that is not base64url-encoded JSON (" + err.Error() + ")"
	}
	alg, _ := hdr["alg"].(string)
	switch {
	case alg == "":
		return "has no alg in its header"
	case strings.EqualFold(alg, "none") || parts[2] == "":
		return "is unsigned (alg \"" + alg + "\", empty signature)"
	}
	if iss, _ := claims["iss"].(string); iss == "" {
		return "has no iss claim naming the party that attests to the metadata"
	}
	return ""
}

// JWSAlg returns the alg of a compact JWS header, or "".
func JWSAlg(v any) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return ""
	}
	var hdr map[string]any
	if decodeJOSEPart(parts[0], &hdr) != nil {
		return ""
	}
	alg, _ := hdr["alg"].(string)
	return alg
}

// RequiredMembersMissing lists the REQUIRED members doc lacks (absent,
// null or an empty string) under profile "rfc8414" (RFC 8414 §2) or
// "oidc" (the members OpenID Connect Discovery §3 adds).
func RequiredMembersMissing(doc map[string]any, profile string) []string {
	out := []string{}
	missing := func(k string) bool {
		v, ok := doc[k]
		if !ok || v == nil {
			return true
		}
		s, isStr := v.(string)
		return isStr && s == ""
	}
	switch profile {
	case "rfc8414":
		for _, k := range []string{"issuer", "response_types_supported"} {
			if missing(k) {
				out = append(out, k)
			}
		}
		// authorization_endpoint is needed by the grants that use the
		// authorization endpoint, token_endpoint by every grant but
		// implicit; absent grant_types_supported means
		// ["authorization_code", "implicit"].
		grants := DocStrings(doc, "grant_types_supported")
		if _, ok := doc["grant_types_supported"]; !ok {
			grants = []string{"authorization_code", "implicit"}
		}
		needAuthz, needToken := false, false
		for _, g := range grants {
			if g == "authorization_code" || g == "implicit" {
				needAuthz = true
			}
			if g != "implicit" {
				needToken = true
			}
		}
		if needAuthz && missing("authorization_endpoint") {
			out = append(out, "authorization_endpoint")
		}
		if needToken && missing("token_endpoint") {
			out = append(out, "token_endpoint")
		}
	case "oidc":
		for _, k := range []string{"jwks_uri", "subject_types_supported", "id_token_signing_alg_values_supported"} {
			if missing(k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// issuerValidated reports whether a metadata document passes the RFC 8414
// §3.3 issuer check the way ASM-ISSUER-MATCH applies it: identical to the
// issuer the PRM named, else to the issuer the well-known URL was built
// from.
func issuerValidated(a *analyze.ASMetadata) bool {
	if !a.HasIssuer {
		return false
	}
	if a.IssuerFromPRM != "" {
		return oauth.SameURL(a.Issuer, a.IssuerFromPRM)
	}
	return regContains(a.ExpectedIssuers, a.Issuer)
}

// MismatchedMetadataUse lists the endpoints of a (whose issuer fails
// validation) that the client used after fetching it, as "member URL
// (request)". An endpoint a validated document of the flow also names is
// not counted: the client may have taken it from there.
func MismatchedMetadataUse(f *analyze.Flow, a *analyze.ASMetadata) []string {
	out := []string{}
	if a == nil || !a.OK || a.Form == "" || issuerValidated(a) {
		return out
	}
	var valid []*analyze.ASMetadata
	for _, b := range f.ASMetadatas {
		if b != a && b.OK && b.Form != "" && issuerValidated(b) {
			valid = append(valid, b)
		}
	}
	fromValid := func(member, ep string) bool {
		for _, b := range valid {
			if s, _ := b.Doc[member].(string); s != "" && oauth.WithoutQuery(s) == ep {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	check := func(member, request string, h analyze.HTTP) {
		s, _ := a.Doc[member].(string)
		if s == "" || h.ID <= a.HTTP.ID || oauth.WithoutQuery(s) != h.Endpoint || fromValid(member, h.Endpoint) {
			return
		}
		e := member + " " + s + " (" + request + ")"
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	for _, r := range f.Registrations {
		check("registration_endpoint", "registration request", r.HTTP)
	}
	if f.Authorize != nil {
		check("authorization_endpoint", "authorization request", f.Authorize.HTTP)
	}
	for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
		check("token_endpoint", "token request", t.HTTP)
	}
	return out
}

// restartWindowMS is how soon after a registration a fresh start counts as
// the client rejecting the response even when the capture holds no browser
// traffic: a person cannot complete a consent screen that fast.
const restartWindowMS = 10_000

// RegistrationAbandoned returns the exchange id that shows the client
// started over after the successful registration r without ever using the
// client_id it returned: a later registration at the same endpoint, or a
// later fetch of the same authorization server's metadata or a new 401
// challenge in r's flows. Because a proxy capture often lacks the browser
// leg (a user who closes the consent tab looks the same), the restart must
// come within restartWindowMS unless the capture holds authorization
// requests. It returns 0 when the client_id was used or nothing tells.
func RegistrationAbandoned(flows []*analyze.Flow, r *analyze.Registration) int {
	restart, _ := abandonment(flows, r)
	return restart
}

// abandonment returns the restart exchange id (0 when none) and whether
// the client_id r returned was used.
func abandonment(flows []*analyze.Flow, r *analyze.Registration) (restart int, used bool) {
	if r == nil || !r.Registered || r.ClientID == "" {
		return 0, false
	}
	browser := false
	var mine []*analyze.Flow
	for _, f := range flows {
		if f.Authorize != nil {
			browser = true
			if f.Authorize.ClientID == r.ClientID && f.Authorize.HTTP.ID > r.HTTP.ID {
				return 0, true
			}
		}
		for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
			// A sanitized export may have dropped the Basic header that
			// carried the client_id: any later token request to the same
			// server may be a use.
			if t.HTTP.ID > r.HTTP.ID && (t.ClientID == r.ClientID || (t.ClientID == "" && t.HTTP.Sanitized && t.HTTP.Origin == r.HTTP.Origin)) {
				return 0, true
			}
		}
		for _, x := range f.Registrations {
			if x == r {
				mine = append(mine, f)
				break
			}
		}
	}
	best := 0
	consider := func(h analyze.HTTP) {
		if h.ID <= r.HTTP.ID || (best != 0 && h.ID >= best) {
			return
		}
		if !browser && (h.TimeMS == 0 || r.HTTP.TimeMS == 0 || h.TimeMS-r.HTTP.TimeMS > restartWindowMS) {
			return
		}
		best = h.ID
	}
	for _, f := range flows {
		for _, x := range f.Registrations {
			if x.HTTP.Method == "POST" && x.HTTP.Endpoint == r.HTTP.Endpoint {
				consider(x.HTTP)
			}
		}
	}
	// Discovery restarts: the same authorization server's metadata, or a
	// challenge from a resource r's flows were challenged by.
	rsOrigins := map[string]bool{}
	for _, f := range mine {
		for _, c := range f.Challenges {
			rsOrigins[c.HTTP.Origin] = true
		}
	}
	for _, f := range flows {
		for _, a := range f.ASMetadatas {
			if a.HTTP.Origin == r.HTTP.Origin {
				consider(a.HTTP)
			}
		}
		for _, c := range f.Challenges {
			if rsOrigins[c.HTTP.Origin] && !c.HadToken {
				consider(c.HTTP)
			}
		}
	}
	return best, false
}

// RegistrationAbandonReason says how the capture shows that the client
// gave up the successful registration r: it started over (see
// RegistrationAbandoned), or, when the capture covers the client's whole
// run (oauthlint capture -- CMD), the client exited within
// restartWindowMS of the response without using the client_id and without
// any later request to the authorization server: too soon for a person
// to have abandoned a consent screen. "" when nothing tells.
func RegistrationAbandonReason(flows []*analyze.Flow, r *analyze.Registration) string {
	restart, used := abandonment(flows, r)
	switch {
	case restart != 0:
		return fmt.Sprintf("started over at exchange %d", restart)
	case used || r == nil || !r.Registered || r.ClientID == "" || len(flows) == 0:
		return ""
	}
	res := flows[0].Capture()
	if res == nil || res.ClientRun == nil || r.HTTP.TimeMS == 0 {
		return ""
	}
	run := res.ClientRun
	rx := r.HTTP.Exchange()
	if rx == nil {
		return ""
	}
	done := rx.Start.Add(rx.Duration).UnixMilli()
	if ended := run.Ended.UnixMilli(); ended < done || ended-done > restartWindowMS {
		return ""
	}
	for _, ex := range res.Exchanges[r.HTTP.ID:] {
		if ex.Request != nil && ex.Request.URL != nil && oauth.Origin(ex.Request.URL.String()) == r.HTTP.Origin {
			return ""
		}
	}
	cmd := run.Command
	if rs := []rune(cmd); len(rs) > 60 {
		cmd = string(rs[:57]) + "…"
	}
	return fmt.Sprintf("exited (%s, exit code %d) %d ms after the response",
		cmd, run.ExitCode, run.Ended.UnixMilli()-done)
}

func decodeJOSEPart(seg string, dst *map[string]any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return err
	}
	if *dst == nil {
		return fmt.Errorf("not a JSON object")
	}
	return nil
}

// DCRResponseMismatches lists where the client did not use what the
// registration response of its flow returned (RFC 7591 §3.2.1: the server
// may replace requested values, and the client uses the returned ones):
//   - a client_id other than the returned one in a later authorization
//     request (else token request);
//   - a redirect_uri outside the returned redirect_uris (the requested
//     ones when the response echoed none; a loopback redirect may change
//     its port);
//   - a token endpoint auth method other than the returned one; when the
//     response did not echo a method, the requested one, unless the method
//     used is one the server's metadata advertises (the client then
//     followed the server's own advertisement).
//
// The redirect URI and auth method parts overlap AZ-REDIRECT-URI-REGISTERED
// and TQ-CLIENT-AUTH-REGISTERED, as the catalog rows do.
func DCRResponseMismatches(f *analyze.Flow) []string {
	out := []string{}
	r := f.Registration
	if r == nil || !r.Registered {
		return out
	}
	// A client ID metadata document client whose flow picked up an
	// earlier registration at the same server: the registration is not
	// the one it uses (REG-PRIORITY's case, not this one).
	if f.ClientID != r.ClientID && isDocumentURL(f.ClientID) {
		return out
	}
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	after := func(h analyze.HTTP) bool { return h.ID > r.HTTP.ID }
	if az := f.Authorize; az != nil && after(az.HTTP) {
		// A client ID metadata document URL is the client switching to
		// another registration approach (REG-PRIORITY), not ignoring the
		// response.
		if az.ClientID != "" && az.ClientID != r.ClientID && !isDocumentURL(az.ClientID) {
			add(fmt.Sprintf("the authorization request sends client_id %q but the registration response returned %q", az.ClientID, r.ClientID))
		}
		// An incomplete echo (no redirect_uris) is compared with the
		// request instead.
		ret, src := DocStrings(r.Response, "redirect_uris"), "the registration response returned"
		if _, echoed := r.Response["redirect_uris"]; !echoed {
			ret, src = r.RedirectURIs, "the client registered (the response echoed none)"
		}
		if len(ret) > 0 && az.HasRedirectURI && !redirectRegistered(ret, az.RedirectURI) {
			add(fmt.Sprintf("the authorization request sends redirect_uri %q but %s redirect_uris %q", az.RedirectURI, src, strings.Join(ret, " ")))
		}
	}
	for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
		if !after(t.HTTP) {
			continue
		}
		// Without a captured authorization request the token request's
		// client_id is the one to compare.
		if f.Authorize == nil && t.ClientID != "" && t.ClientID != r.ClientID && !isDocumentURL(t.ClientID) {
			add(fmt.Sprintf("the token request sends client_id %q but the registration response returned %q", t.ClientID, r.ClientID))
		}
		// A sanitized export dropped the Authorization header: the method
		// on the wire cannot be told.
		used := authMethodOf(t.ClientAuth)
		if used == "" || t.HTTP.Sanitized {
			continue
		}
		registered, echoed := r.Response["token_endpoint_auth_method"].(string)
		if !echoed {
			registered = r.TokenEndpointAuthMethod
			if registered == "" || methodAdvertised(f, used) {
				continue
			}
		}
		if registered == "" || sameAuthMethod(registered, used) {
			continue
		}
		src := "the registration response returned"
		if !echoed {
			src = "the client registered (the response echoed no method)"
		}
		add(fmt.Sprintf("the %s request authenticates with %s but %s token_endpoint_auth_method %q", grantName(t), used, src, registered))
	}
	return out
}

// redirectRegistered reports whether used is one of the registered
// redirect URIs, exactly, or with another port on a loopback host (RFC 8252
// §7.3 for IP literals; OAuth 2.1 §4.1.1 extends it to localhost): a client
// whose listener port changed is the server's matching question
// (AZ-LOOPBACK-PORT), not a client ignoring the response.
func redirectRegistered(registered []string, used string) bool {
	if regContains(registered, used) {
		return true
	}
	u, err := url.Parse(used)
	if err != nil || u.Scheme != "http" || !oauth.IsLoopbackHost(u.Host) {
		return false
	}
	for _, x := range registered {
		p, err := url.Parse(x)
		if err == nil && p.Scheme == u.Scheme && p.Hostname() == u.Hostname() && p.EscapedPath() == u.EscapedPath() && p.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

// RedirectListed reports whether uri is one of listed, exactly, or with
// another port when both are http URLs on the same loopback IP literal
// (RFC 8252 §7.3 makes the server ignore the port there; the name
// localhost is not covered by that text).
func RedirectListed(listed []string, uri string) bool {
	if regContains(listed, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || net.ParseIP(u.Hostname()) == nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		return false
	}
	for _, x := range listed {
		p, err := url.Parse(x)
		if err == nil && p.Scheme == "http" && p.Hostname() == u.Hostname() && p.EscapedPath() == u.EscapedPath() && p.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

// authMethodOf names the RFC 7591 token_endpoint_auth_method a token
// request used, from analyze's ClientAuth ("" when it cannot be told).
func authMethodOf(clientAuth string) string {
	switch clientAuth {
	case "basic":
		return "client_secret_basic"
	case "post":
		return "client_secret_post"
	case "none":
		return "none"
	case "assertion":
		return "private_key_jwt or client_secret_jwt"
	}
	return ""
}

// sameAuthMethod reports whether a registered method and the method seen
// on the wire agree; methods invisible in HTTP (mutual TLS) always agree.
func sameAuthMethod(registered, used string) bool {
	switch registered {
	case "private_key_jwt", "client_secret_jwt":
		return used == "private_key_jwt or client_secret_jwt"
	case "tls_client_auth", "self_signed_tls_client_auth":
		return true
	}
	return registered == used
}

func grantName(t *analyze.Token) string {
	if t.GrantType == "refresh_token" {
		return "refresh"
	}
	return "token"
}

// methodAdvertised reports whether the flow's AS metadata lists method in
// token_endpoint_auth_methods_supported (RFC 8414 §2: absent means
// client_secret_basic only; no metadata at all is treated the same).
func methodAdvertised(f *analyze.Flow, method string) bool {
	a := f.ASMetadata
	if a == nil || !a.OK || !a.HasTokenEndpointAuthMethod {
		return method == "client_secret_basic"
	}
	return regContains(a.TokenEndpointAuthMethods, method)
}

// isDocumentURL reports whether a client_id has the shape of a client ID
// metadata document URL (an https URL).
func isDocumentURL(id string) bool {
	return URLScheme(id) == "https" && strings.Contains(id, "://")
}

// regContains reports whether l holds s.
func regContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// asOwning returns the issuer of the first successful metadata document in
// flows whose member field names endpoint (query ignored), or "".
func asOwning(flows []*analyze.Flow, endpoint string, fields ...string) string {
	for _, f := range flows {
		for _, a := range f.ASMetadatas {
			if !a.OK || a.Issuer == "" {
				continue
			}
			for _, fl := range fields {
				if s, _ := a.Doc[fl].(string); s != "" && oauth.WithoutQuery(s) == endpoint {
					return a.Issuer
				}
			}
		}
	}
	return ""
}

// RegisteredAtOtherAS finds a successful registration in flows that issued
// clientID at another authorization server than the one serving endpoint
// (an authorization or token endpoint). Two endpoints belong to the same
// server when metadata names both under the same issuer; without metadata
// for both, their origins decide. It returns the registration endpoint, or
// "" when clientID was issued by the same server or not seen issued.
func RegisteredAtOtherAS(flows []*analyze.Flow, clientID, endpoint string) string {
	if clientID == "" || endpoint == "" {
		return ""
	}
	endpoint = oauth.WithoutQuery(endpoint)
	useIss := asOwning(flows, endpoint, "authorization_endpoint", "token_endpoint", "pushed_authorization_request_endpoint")
	seen := map[int]bool{}
	for _, f := range flows {
		for _, r := range f.Registrations {
			if seen[r.HTTP.ID] || !r.Registered || r.ClientID != clientID {
				continue
			}
			seen[r.HTTP.ID] = true
			regIss := asOwning(flows, r.HTTP.Endpoint, "registration_endpoint")
			if useIss != "" && regIss != "" {
				if useIss != regIss {
					return r.HTTP.Endpoint
				}
				continue
			}
			if oauth.Origin(r.HTTP.Endpoint) != oauth.Origin(endpoint) {
				return r.HTTP.Endpoint
			}
		}
	}
	return ""
}

// EarlierSameRegistration returns the exchange id of an earlier successful
// registration of the same client install as r (same endpoint, same
// client_name, same redirect_uris), or 0. A re-registration is legitimate
// when the earlier client was rejected since (invalid_client or
// unauthorized_client at the token or authorization endpoint), or when the
// redirect URIs changed (another listener port); those give 0.
func EarlierSameRegistration(flows []*analyze.Flow, r *analyze.Registration) int {
	if r == nil || r.HTTP.ID == 0 || r.Metadata == nil {
		return 0
	}
	name, _ := r.Metadata["client_name"].(string)
	var all []*analyze.Registration
	seen := map[int]bool{}
	for _, f := range flows {
		for _, p := range f.Registrations {
			if !seen[p.HTTP.ID] {
				seen[p.HTTP.ID] = true
				all = append(all, p)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].HTTP.ID > all[j].HTTP.ID })
	for _, p := range all {
		if p.HTTP.ID >= r.HTTP.ID || !p.Registered || p.HTTP.Endpoint != r.HTTP.Endpoint || p.Metadata == nil {
			continue
		}
		pn, _ := p.Metadata["client_name"].(string)
		if pn != name || !oauth.SetEqual(p.RedirectURIs, r.RedirectURIs) || len(p.RedirectURIs) != len(r.RedirectURIs) {
			continue
		}
		if rejectedBetween(flows, p.ClientID, p.HTTP.ID, r.HTTP.ID) {
			return 0
		}
		return p.HTTP.ID
	}
	return 0
}

// rejectedBetween reports whether the capture shows clientID rejected by
// the authorization server between exchanges from and to.
func rejectedBetween(flows []*analyze.Flow, clientID string, from, to int) bool {
	bad := func(e string) bool { return e == "invalid_client" || e == "unauthorized_client" }
	for _, f := range flows {
		for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
			if t.HTTP.ID > from && t.HTTP.ID < to && t.ClientID == clientID && (bad(t.Response.Error) || t.Response.Status == 401) {
				return true
			}
		}
		if az := f.Authorize; az != nil && az.ClientID == clientID && az.HTTP.ID > from && az.HTTP.ID < to {
			if (az.HTTP.Status >= 400 && az.HTTP.Status < 500) || (f.Callback != nil && bad(f.Callback.Error)) {
				return true
			}
		}
	}
	return false
}

// docOf reads a CEL map argument as a Go map.
func docOf(v ref.Val) map[string]any {
	if m, ok := v.Value().(map[string]any); ok {
		return m
	}
	if n, err := v.ConvertToNative(reflect.TypeFor[map[string]any]()); err == nil {
		if m, ok := n.(map[string]any); ok {
			return m
		}
	}
	// A CEL map literal: convert member by member.
	out := map[string]any{}
	if m, ok := v.(traits.Mapper); ok {
		it := m.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			if ks, ok := k.(types.String); ok {
				out[string(ks)] = m.Get(k).Value()
			}
		}
	}
	return out
}

func regFlowOf(v ref.Val) *analyze.Flow {
	switch f := v.Value().(type) {
	case *analyze.Flow:
		if f != nil {
			return f
		}
	case analyze.Flow:
		return &f
	}
	return &analyze.Flow{}
}

func regFlowsOf(v ref.Val) []*analyze.Flow {
	l, ok := v.(traits.Lister)
	if !ok {
		return nil
	}
	n := int(l.Size().(types.Int))
	out := make([]*analyze.Flow, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, regFlowOf(l.Get(types.Int(i))))
	}
	return out
}

func regASMOf(v ref.Val) *analyze.ASMetadata {
	switch a := v.Value().(type) {
	case *analyze.ASMetadata:
		return a
	case analyze.ASMetadata:
		return &a
	}
	return nil
}

func regRegOf(v ref.Val) *analyze.Registration {
	switch r := v.Value().(type) {
	case *analyze.Registration:
		return r
	case analyze.Registration:
		return &r
	}
	return nil
}
