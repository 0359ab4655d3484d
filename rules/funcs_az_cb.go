package rules

// Helper functions for the authorization request (AZ-*) and authorization
// response (CB-*) rules. Everything that compares redirect URIs, reads the
// registered set, walks the authorization round trips of a flow, decodes
// state values or parses HTML lives here, once, so the rules stay short and
// the security-sensitive comparisons are tested in one place.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
)

var azFlowType = cel.ObjectType("analyze.Flow")

// azFlowFn declares a function of one flow argument.
func azFlowFn(name string, out *cel.Type, fn func(*analyze.Flow) ref.Val) cel.EnvOption {
	return cel.Function(name, cel.Overload(name+"_flow", []*cel.Type{azFlowType}, out,
		cel.UnaryBinding(func(v ref.Val) ref.Val {
			f, ok := v.Value().(*analyze.Flow)
			if !ok || f == nil {
				return types.NewErr("%s: argument is not a flow", name)
			}
			return fn(f)
		})))
}

func init() {
	RegisterFunction("redirect_uri_match(uri, registered)",
		"how a redirect URI matches a registered list: \"exact\", \"loopback-ip-port\" (loopback IP literal, only the port differs: allowed by RFC 8252 §7.3), \"localhost-port\" (localhost, only the port differs: allowed by OAuth 2.1 only) or \"\" (no match)",
		cel.Function("redirect_uri_match", cel.Overload("redirect_uri_match_string_list", []*cel.Type{cel.StringType, stringList}, cel.StringType,
			cel.BinaryBinding(func(u, l ref.Val) ref.Val {
				return types.String(azRedirectURIMatch(string(u.(types.String)), strList(l)))
			}))))
	RegisterFunction("registered_redirect_uris(flow)",
		"the redirect URIs registered for the flow's client_id (DCR response redirect_uris, else the DCR request's, else the client ID metadata document's); empty when unknown (pre-registration)",
		azFlowFn("registered_redirect_uris", stringList, func(f *analyze.Flow) ref.Val {
			uris, _ := azRegisteredRedirectURIs(f)
			return listVal(uris)
		}))
	RegisterFunction("registered_redirect_source(flow)",
		"names the document registered_redirect_uris(flow) came from",
		azFlowFn("registered_redirect_source", cel.StringType, func(f *analyze.Flow) ref.Val {
			_, src := azRegisteredRedirectURIs(f)
			return types.String(src)
		}))
	RegisterFunction("metadata_authorization_endpoints(flow)",
		"authorization_endpoint (and pushed_authorization_request_endpoint) values, without query, of the AS metadata the flow discovered or the PRM named; empty when none was fetched",
		azFlowFn("metadata_authorization_endpoints", stringList, func(f *analyze.Flow) ref.Val {
			return listVal(azMetadataAuthorizationEndpoints(f))
		}))
	RegisterFunction("authorization_error_answer(flow)",
		"the error the AS answered the authorization request with instead of redirecting to the client (status, error, description or page text), or \"\"",
		azFlowFn("authorization_error_answer", cel.StringType, func(f *analyze.Flow) ref.Val {
			return types.String(azAuthorizationErrorAnswer(f))
		}))
	RegisterFunction("callback_redirect(flow)",
		"the exchange of the authorization round trip whose Location sent the browser to the redirect URI: {id, status, method, url, time_ms}; empty map when the capture does not show it",
		azFlowFn("callback_redirect", cel.MapType(cel.StringType, cel.DynType), func(f *analyze.Flow) ref.Val {
			return types.DefaultTypeAdapter.NativeToValue(azCallbackRedirect(f))
		}))
	RegisterFunction("state_entropy_bits(s)",
		"a conservative estimate of the random bits in a state value, taken on its most random-looking part (structured state with a nonce is judged by the nonce)",
		cel.Function("state_entropy_bits", cel.Overload("state_entropy_bits_string", []*cel.Type{cel.StringType}, cel.IntType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.Int(azStateEntropyBits(string(v.(types.String)))) }))))
	RegisterFunction("sensitive_in_value(value, known)",
		"what sensitive data a state or scope value carries once decoded (JSON, base64url, JWT payload, query string): credentials (\"credential: …\") and personal data (\"personal data: …\"); known maps a name to a secret of the flow to look for (e.g. {'code_verifier': token.code_verifier})",
		cel.Function("sensitive_in_value", cel.Overload("sensitive_in_value_string_map", []*cel.Type{cel.StringType, cel.MapType(cel.StringType, cel.StringType)}, stringList,
			cel.BinaryBinding(func(v, known ref.Val) ref.Val {
				return listVal(azSensitiveInValue(string(v.(types.String)), azStrMap(known)))
			}))))
	RegisterFunction("dpop_proof_jkt(proof)",
		"the JWK SHA-256 thumbprint (RFC 7638) of the public key in a DPoP proof's header, or \"\" when the proof cannot be read",
		cel.Function("dpop_proof_jkt", cel.Overload("dpop_proof_jkt_string", []*cel.Type{cel.StringType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(azDPoPProofJKT(string(v.(types.String)))) }))))
	RegisterFunction("external_subresources(html, page_url)",
		"sub-resources (script, img, iframe, stylesheet, …) an HTML page loads from another origin than page_url",
		cel.Function("external_subresources", cel.Overload("external_subresources_string_string", []*cel.Type{cel.StringType, cel.StringType}, stringList,
			cel.BinaryBinding(func(h, u ref.Val) ref.Val {
				return listVal(azExternalSubresources(string(h.(types.String)), string(u.(types.String))))
			}))))
	RegisterFunction("referrer_policy(headers, html)",
		"the effective referrer policy of a page: the last valid token of its Referrer-Policy header, else its <meta name=\"referrer\">; \"\" when it sets none",
		cel.Function("referrer_policy", cel.Overload("referrer_policy_map_string", []*cel.Type{cel.MapType(cel.StringType, stringList), cel.StringType}, cel.StringType,
			cel.BinaryBinding(func(h, body ref.Val) ref.Val {
				return types.String(azReferrerPolicy(azHeaderMap(h), string(body.(types.String))))
			}))))
	RegisterFunction("unframed_authorization_pages(flow)",
		"HTML pages (200) the authorization endpoint served in the flow's round trips without X-Frame-Options or a CSP frame-ancestors directive",
		azFlowFn("unframed_authorization_pages", stringList, func(f *analyze.Flow) ref.Val {
			return listVal(azUnframedAuthorizationPages(f))
		}))
	RegisterFunction("canonical_resources(flow)",
		"the resource values a client should send for the flow's MCP server: the PRM resource when the PRM is valid (plus the challenged URL for a root PRM), else the URL the 401 challenge answered; empty when unknown",
		azFlowFn("canonical_resources", stringList, func(f *analyze.Flow) ref.Val {
			l, _ := azCanonicalResources(f)
			return listVal(l)
		}))
	RegisterFunction("canonical_resource_source(flow)",
		"names where canonical_resources(flow) came from",
		azFlowFn("canonical_resource_source", cel.StringType, func(f *analyze.Flow) ref.Val {
			_, src := azCanonicalResources(f)
			return types.String(src)
		}))
	RegisterFunction("url_unescape(s)",
		"s URL-decoded once more (query rules: '+' is a space); s itself when it is not valid percent-encoding. For messages that explain a double-encoded value",
		cel.Function("url_unescape", cel.Overload("url_unescape_string", []*cel.Type{cel.StringType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				s := string(v.(types.String))
				if u, err := url.QueryUnescape(s); err == nil {
					return types.String(u)
				}
				return types.String(s)
			}))))
	RegisterFunction("authorize_chained(flow)",
		"true when the flow's authorization request was reached by a redirect from another flow's authorization round trip: an authorization server that delegates to an upstream one (MCP proxy servers); that request is the upstream leg, not one the client made",
		azFlowFn("authorize_chained", cel.BoolType, func(f *analyze.Flow) ref.Val { return types.Bool(azChained(f)) }))
	RegisterFunction("known_resources(flow)",
		"canonical_resources of every flow of the capture: resource identifiers some valid discovery document or challenge vouches for",
		azFlowFn("known_resources", stringList, func(f *analyze.Flow) ref.Val { return listVal(azKnownResources(f)) }))
	RegisterFunction("same_resource_uri(a, b)",
		"true when two resource URIs are equal up to the case of scheme and host and a default port (RFC 3986 §6.2.2.1, §6.2.3); path, query and trailing slash compared exactly",
		cel.Function("same_resource_uri", cel.Overload("same_resource_uri_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				return types.Bool(azSameResourceURI(string(a.(types.String)), string(b.(types.String))))
			}))))
}

func azStrMap(v ref.Val) map[string]string {
	m, ok := v.(traits.Mapper)
	if !ok {
		return nil
	}
	out := map[string]string{}
	it := m.Iterator()
	for it.HasNext() == types.True {
		k := it.Next()
		ks, ok := k.(types.String)
		if !ok {
			continue
		}
		if s, ok := m.Get(k).(types.String); ok {
			out[string(ks)] = string(s)
		}
	}
	return out
}

func azHeaderMap(v ref.Val) map[string][]string {
	m, ok := v.(traits.Mapper)
	if !ok {
		return nil
	}
	out := map[string][]string{}
	it := m.Iterator()
	for it.HasNext() == types.True {
		k := it.Next()
		if ks, ok := k.(types.String); ok {
			out[strings.ToLower(string(ks))] = strList(m.Get(k))
		}
	}
	return out
}

// ---- redirect URIs --------------------------------------------------------

// azSplitAuthority cuts an absolute URI into scheme, host, port and the rest
// (path, query, fragment) without normalising anything, so that the rest
// can be compared byte for byte (OAuth 2.1 §2.3.1 simple string
// comparison). ok is false for URIs without an authority.
func azSplitAuthority(raw string) (scheme, host, port, rest string, ok bool) {
	scheme, after, found := strings.Cut(raw, "://")
	if !found || scheme == "" {
		return "", "", "", "", false
	}
	end := strings.IndexAny(after, "/?#")
	auth := after
	if end >= 0 {
		auth, rest = after[:end], after[end:]
	}
	if strings.Contains(auth, "@") || auth == "" {
		return "", "", "", "", false
	}
	host = auth
	if strings.HasPrefix(auth, "[") {
		i := strings.Index(auth, "]")
		if i < 0 {
			return "", "", "", "", false
		}
		host = auth[:i+1]
		if p := auth[i+1:]; p != "" {
			if !strings.HasPrefix(p, ":") {
				return "", "", "", "", false
			}
			port = p[1:]
		}
	} else if i := strings.LastIndex(auth, ":"); i >= 0 {
		host, port = auth[:i], auth[i+1:]
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return "", "", "", "", false
		}
	}
	return scheme, host, port, rest, true
}

// Redirect URI match kinds.
const (
	azMatchExact         = "exact"
	azMatchLoopbackPort  = "loopback-ip-port"
	azMatchLocalhostPort = "localhost-port"
)

// azRedirectURIMatch says how uri matches one of the registered redirect
// URIs. Matching is by simple string comparison; the only exception is the
// port of a loopback redirect URI: RFC 8252 §7.3 makes the AS ignore it for
// loopback IP literals (azMatchLoopbackPort), OAuth 2.1 extends that to
// "localhost" (azMatchLocalhostPort, weaker: not every AS applies it).
func azRedirectURIMatch(uri string, registered []string) string {
	for _, r := range registered {
		if r == uri {
			return azMatchExact
		}
	}
	best := ""
	us, uh, up, ur, ok := azSplitAuthority(uri)
	if !ok {
		return ""
	}
	for _, r := range registered {
		rs, rh, rp, rr, ok := azSplitAuthority(r)
		if !ok || !strings.EqualFold(us, rs) || !strings.EqualFold(uh, rh) || ur != rr || up == rp {
			continue
		}
		h := strings.ToLower(strings.Trim(uh, "[]"))
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			return azMatchLoopbackPort
		}
		if h == "localhost" {
			best = azMatchLocalhostPort
		}
	}
	return best
}

// azRegisteredRedirectURIs returns the redirect URIs registered for the
// flow's client, and which document says so. The AS's registration
// response is authoritative (RFC 7591 §3.2.1: it returns the registered
// metadata); the request is used when the response does not echo them.
// Nothing is returned when the registration in the capture is for another
// client_id, or when the client was registered out of band.
func azRegisteredRedirectURIs(f *analyze.Flow) ([]string, string) {
	cid := f.ClientID
	if f.Authorize != nil && f.Authorize.ClientID != "" {
		cid = f.Authorize.ClientID
	}
	if r := f.Registration; r != nil && r.Registered && (cid == "" || r.ClientID == cid) {
		if uris, ok := azStrings(r.Response, "redirect_uris"); ok && len(uris) > 0 {
			return uris, "the registration response of " + r.HTTP.Endpoint
		}
		if len(r.RedirectURIs) > 0 {
			return r.RedirectURIs, "the registration request to " + r.HTTP.Endpoint
		}
	}
	if strings.HasPrefix(cid, "https://") {
		// A client ID metadata document: the URL is the client_id.
		flows := append([]*analyze.Flow{f}, f.All...)
		for _, g := range flows {
			for _, a := range g.Aux {
				if a.Kind == string(analyze.KindCIMD) && a.HTTP.URL == cid && a.HTTP.Status == 200 {
					if uris, ok := azStrings(a.HTTP.ResponseJSON, "redirect_uris"); ok && len(uris) > 0 {
						return uris, "the client ID metadata document " + cid
					}
				}
			}
		}
	}
	return []string{}, ""
}

func azStrings(m map[string]any, k string) ([]string, bool) {
	v, ok := m[k]
	if !ok {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// ---- authorization endpoint --------------------------------------------

// azMetadataAuthorizationEndpoints lists the authorization endpoints (and
// PAR endpoints) the flow's discovery established: the AS metadata
// documents of the flow, and, when the flow's PRM names authorization
// servers, their metadata wherever it appears in the capture (a client
// that guessed another endpoint does not get that metadata attached to its
// flow).
func azMetadataAuthorizationEndpoints(f *analyze.Flow) []string {
	out := []string{}
	seen := map[string]bool{}
	add := func(a *analyze.ASMetadata) {
		if a == nil || !a.OK {
			return
		}
		eps := []string{a.AuthorizationEndpoint}
		if par, ok := a.Doc["pushed_authorization_request_endpoint"].(string); ok {
			eps = append(eps, par)
		}
		for _, e := range eps {
			if e = oauth.WithoutQuery(e); e != "" && !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	for _, a := range f.ASMetadatas {
		add(a)
	}
	add(f.ASMetadata)
	if f.PRM != nil && f.PRM.OK && len(f.PRM.AuthorizationServers) > 0 {
		named := map[string]bool{}
		for _, s := range f.PRM.AuthorizationServers {
			named[s] = true
		}
		for _, g := range f.All {
			for _, a := range g.ASMetadatas {
				if a.OK && a.HasIssuer && (named[a.Issuer] || (a.IssuerFromPRM != "" && named[a.IssuerFromPRM])) {
					add(a)
				}
			}
		}
	}
	return out
}

// azAuthorizeSteps returns the exchanges of the flow's authorization round
// trips (the request and every return to the authorization endpoint), in
// time order.
func azAuthorizeSteps(f *analyze.Flow) []analyze.Step {
	var out []analyze.Step
	for _, s := range f.Steps() {
		if s.Kind == analyze.KindAuthorize && s.Ex != nil && s.Ex.Request != nil {
			out = append(out, s)
		}
	}
	return out
}

func azRedirectTarget(f *analyze.Flow) string {
	if f.Authorize != nil && f.Authorize.HasRedirectURI && f.Authorize.RedirectURI != "" {
		return oauth.WithoutQuery(f.Authorize.RedirectURI)
	}
	if f.Callback != nil {
		return oauth.WithoutQuery(f.Callback.URL)
	}
	return ""
}

func azLocation(s analyze.Step) string {
	if s.Ex.Response == nil {
		return ""
	}
	loc := s.Ex.Response.Headers.Get("Location")
	if loc == "" {
		return ""
	}
	l, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	return s.Ex.Request.URL.ResolveReference(l).String()
}

// azCallbackRedirect finds the round-trip exchange whose Location header
// sent the browser to the client's redirect URI (the authorization
// response). It returns an empty map when the capture does not show it.
func azCallbackRedirect(f *analyze.Flow) map[string]any {
	target := azRedirectTarget(f)
	if target == "" {
		return map[string]any{}
	}
	var hit *analyze.Step
	steps := azAuthorizeSteps(f)
	for i := range steps {
		if loc := azLocation(steps[i]); loc != "" && (loc == target || strings.HasPrefix(loc, target+"?") || strings.HasPrefix(loc, target+"#")) {
			hit = &steps[i]
		}
	}
	if hit == nil {
		return map[string]any{}
	}
	ex := hit.Ex
	var ms int64
	if !ex.Start.IsZero() {
		ms = ex.Start.UnixMilli()
	}
	return map[string]any{
		"id":      int64(hit.ID),
		"status":  int64(ex.Response.Status),
		"method":  ex.Request.Method,
		"url":     oauth.WithoutQuery(ex.Request.URL.String()),
		"time_ms": ms,
	}
}

var (
	azTagRe   = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	azSpaceRe = regexp.MustCompile(`\s+`)
)

// azPageText reduces an HTML or text body to a short line for messages.
func azPageText(body string, max int) string {
	if len(body) > 64<<10 {
		body = body[:64<<10]
	}
	t := azTagRe.ReplaceAllString(body, " ")
	t = strings.NewReplacer("&quot;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(t)
	t = strings.TrimSpace(azSpaceRe.ReplaceAllString(t, " "))
	if len(t) > max {
		t = t[:max] + "…"
	}
	return t
}

// azAuthorizationErrorAnswer returns the error the AS gave in answer to the
// authorization request without redirecting to the client: an error
// status with a JSON or HTML body, a 2xx JSON error, or a redirect to an
// error page of its own carrying error parameters. "" when the round trips
// show none.
func azAuthorizationErrorAnswer(f *analyze.Flow) string {
	target := azRedirectTarget(f)
	for _, s := range azAuthorizeSteps(f) {
		resp := s.Ex.Response
		if resp == nil {
			continue
		}
		if loc := azLocation(s); loc != "" && (target == "" || !strings.HasPrefix(loc, target)) {
			if u, err := url.Parse(loc); err == nil {
				q := u.Query()
				if e := q.Get("error"); e != "" {
					out := fmt.Sprintf("%d redirect to %s with error=%s", resp.Status, oauth.WithoutQuery(loc), e)
					// error_hint is ORY Hydra's (fosite's) detail, often the
					// only place that names the offending parameter; its
					// error_description is then a generic sentence.
					d := q.Get("error_hint")
					if d == "" {
						d = q.Get("error_description")
					}
					if d != "" {
						out += ": " + azPageText(d, 240)
					}
					return out
				}
			}
		}
		isErr := resp.Status >= 400
		var doc map[string]any
		if len(resp.Body) > 0 && len(resp.Body) < 1<<20 {
			_ = json.Unmarshal(resp.Body, &doc)
		}
		e, _ := doc["error"].(string)
		if !isErr && e == "" {
			continue
		}
		if e != "" {
			out := fmt.Sprintf("%d error=%s", resp.Status, e)
			if d, _ := doc["error_description"].(string); d != "" {
				out += ": " + azPageText(d, 240)
			}
			return out
		}
		out := fmt.Sprintf("%d", resp.Status)
		if t := azPageText(string(resp.Body), 240); t != "" {
			out += ": " + t
		}
		return out
	}
	return ""
}

// ---- state ------------------------------------------------------------------

var azTokenSplitRe = regexp.MustCompile(`[^A-Za-z0-9_~-]+`)

// azStateEntropyBits estimates the random bits of a state value. The value
// is cut into tokens at punctuation (structured state: JSON, "key:value",
// URLs), and each token is scored by the smaller of its length × log2 of
// the alphabet it draws from and its length × log2 of the distinct
// symbols it uses; the state's score is its best token's. A random
// base64url nonce of 22 characters scores about 93, a UUID 144, a
// 13-digit timestamp 43, "aaaaaaaaaaaaaaaa" 0. It is a heuristic meant to
// catch clearly guessable values, not a measurement.
func azStateEntropyBits(s string) int {
	best := 0.0
	for _, t := range azTokenSplitRe.Split(s, -1) {
		if t == "" {
			continue
		}
		var digits, lowerHex, lower, upperHex, upper, other bool
		distinct := map[rune]bool{}
		for _, c := range t {
			distinct[c] = true
			switch {
			case c >= '0' && c <= '9':
				digits = true
			case c >= 'a' && c <= 'f':
				lowerHex = true
			case c >= 'a' && c <= 'z':
				lower = true
			case c >= 'A' && c <= 'F':
				upperHex = true
			case c >= 'A' && c <= 'Z':
				upper = true
			default:
				other = true
			}
		}
		alphabet := 0
		if digits {
			alphabet += 10
		}
		switch {
		case lower:
			alphabet += 26
		case lowerHex:
			alphabet += 6
		}
		switch {
		case upper:
			alphabet += 26
		case upperHex:
			alphabet += 6
		}
		if other {
			alphabet += 3 // - _ ~
		}
		n := float64(len([]rune(t)))
		bits := n * math.Log2(float64(alphabet))
		if d := n * math.Log2(float64(len(distinct))); d < bits {
			bits = d
		}
		if bits > best {
			best = bits
		}
	}
	return int(best)
}

var (
	azEmailRe = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	azJWTRe   = regexp.MustCompile(`^eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$`)
)

// azCredentialKeys are members whose non-empty value is a credential.
// Generic names ("token", "secret") are left out: clients use them for the
// CSRF nonce that state is meant to carry.
var azCredentialKeys = map[string]bool{
	"access_token": true, "refresh_token": true, "id_token": true, "code_verifier": true,
	"verifier": true, "pkce_verifier": true, "client_secret": true, "password": true, "passwd": true,
	"api_key": true, "apikey": true, "private_key": true, "assertion": true, "client_assertion": true,
	"session_token": true, "bearer": true,
}

// azPersonalKeys are members whose value is personal data.
var azPersonalKeys = map[string]bool{"email": true, "e-mail": true, "mail": true, "phone": true, "phone_number": true}

// azSensitiveInValue decodes a state (or scope) value the ways clients
// encode structured state — JSON, base64url/base64 JSON, a JWT's payload,
// a query string — and reports the credentials and personal data it
// carries, one description each ("credential: member access_token",
// "personal data: an email address"). known maps names of the flow's own
// secrets (the PKCE verifier) to their values; finding one of them in the
// value is a credential leak too.
func azSensitiveInValue(v string, known map[string]string) []string {
	out := []string{}
	seen := map[string]bool{}
	note := func(d string) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	if v == "" || len(v) > 64<<10 {
		return out
	}
	texts := azDecodings(v)
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, t := range texts {
		for _, n := range names {
			if s := known[n]; len(s) >= 8 && strings.Contains(t, s) {
				note("credential: this flow's own " + n)
			}
		}
		var doc map[string]any
		if json.Unmarshal([]byte(t), &doc) == nil {
			azWalkSensitive(doc, "", 0, note)
			continue
		}
		if strings.Contains(t, "=") && !strings.ContainsAny(t, " \n") {
			if q, err := url.ParseQuery(t); err == nil {
				for k, vs := range q {
					for _, x := range vs {
						azClassifyMember(strings.ToLower(k), x, "parameter ", note)
					}
				}
			}
		}
		if azEmailRe.MatchString(t) {
			note("personal data: an email address")
		}
	}
	sort.Strings(out)
	return out
}

func azWalkSensitive(m map[string]any, prefix string, depth int, note func(string)) {
	if depth > 8 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch x := m[k].(type) {
		case string:
			azClassifyMember(strings.ToLower(k), x, "member "+prefix, note)
		case map[string]any:
			azWalkSensitive(x, prefix+k+".", depth+1, note)
		}
	}
}

func azClassifyMember(k, v, where string, note func(string)) {
	if v == "" {
		return
	}
	switch {
	case azCredentialKeys[k]:
		note("credential: " + where + k)
	case azPersonalKeys[k] || azEmailRe.MatchString(v):
		note("personal data: " + where + k)
	case azJWTRe.MatchString(v):
		// A JWT nested in state is a bearer credential unless it is the
		// state itself (a signed state is fine and never reaches here).
		note("credential: a JWT in " + where + k)
	}
}

// azDecodings returns v and what it decodes to: a JWT's payload, base64url
// or base64 text, and URL-decoded text, each only when azPrintable.
func azDecodings(v string) []string {
	out := []string{v}
	add := func(b []byte) {
		s := string(b)
		if s == "" || !azPrintable(s) {
			return
		}
		for _, x := range out {
			if x == s {
				return
			}
		}
		out = append(out, s)
	}
	cands := []string{v}
	if azJWTRe.MatchString(v) {
		cands = []string{strings.Split(v, ".")[1]}
		out = out[:0] // the JWT itself is not the sensitive part; its payload may be
	}
	if u, err := url.QueryUnescape(v); err == nil && u != v {
		cands = append(cands, u)
		add([]byte(u))
	}
	for _, c := range cands {
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
			if b, err := enc.DecodeString(c); err == nil {
				add(b)
				break
			}
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func azPrintable(s string) bool {
	for _, c := range s {
		if c == '\uFFFD' || (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
			return false
		}
	}
	return true
}

// ---- DPoP ---------------------------------------------------------------------

// azDPoPProofJKT returns the RFC 7638 thumbprint (SHA-256, base64url) of the
// jwk in a DPoP proof's JOSE header, or "" when the proof is not a JWS
// with a usable public JWK.
func azDPoPProofJKT(proof string) string {
	parts := strings.Split(strings.TrimSpace(proof), ".")
	if len(parts) != 3 || len(proof) > 16<<10 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil {
		return ""
	}
	var hdr struct {
		JWK map[string]any `json:"jwk"`
	}
	if json.Unmarshal(b, &hdr) != nil || hdr.JWK == nil {
		return ""
	}
	return azJWKThumbprint(hdr.JWK)
}

// azJWKThumbprint computes the RFC 7638 SHA-256 thumbprint of a public JWK:
// the required members for its kty, in lexicographic order, no
// whitespace. "" for unknown key types or missing members.
func azJWKThumbprint(jwk map[string]any) string {
	kty, _ := jwk["kty"].(string)
	var members []string
	switch kty {
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "RSA":
		members = []string{"e", "kty", "n"}
	case "OKP":
		members = []string{"crv", "kty", "x"}
	default:
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range members {
		s, ok := jwk[m].(string)
		if !ok || s == "" {
			return ""
		}
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m)
		v, _ := json.Marshal(s)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ---- HTML pages ---------------------------------------------------------------

var (
	azSubresourceRe = regexp.MustCompile(`(?is)<(script|img|iframe|frame|link|source|embed|video|audio|object|input)\b([^>]*)>`)
	azAttrRe        = regexp.MustCompile(`(?is)\b(src|href|data|rel|type)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)`)
	azMetaRe        = regexp.MustCompile(`(?is)<meta\b([^>]*)>`)
	azMetaAttrRe    = regexp.MustCompile(`(?is)\b(name|content)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)`)
)

func azAttrs(re *regexp.Regexp, s string) map[string]string {
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		k := strings.ToLower(m[1])
		if _, ok := out[k]; !ok {
			out[k] = strings.Trim(m[2], `"'`)
		}
	}
	return out
}

// azFetchingRel is true for <link rel> values that make the browser fetch
// the target (and send a Referer).
func azFetchingRel(rel string) bool {
	for _, r := range strings.Fields(strings.ToLower(rel)) {
		switch r {
		case "stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "prefetch", "modulepreload", "manifest", "prerender":
			return true
		}
	}
	return false
}

// azExternalSubresources lists the URLs of sub-resources an HTML page loads
// from other origins (scripts, images, frames, stylesheets, media): each
// of those requests carries a Referer with the page URL unless a referrer
// policy strips it. Links the user must click are not counted.
func azExternalSubresources(html, pageURL string) []string {
	out := []string{}
	base, err := url.Parse(pageURL)
	if err != nil {
		return out
	}
	if len(html) > 1<<20 {
		html = html[:1<<20]
	}
	own := oauth.Origin(pageURL)
	seen := map[string]bool{}
	for _, m := range azSubresourceRe.FindAllStringSubmatch(html, -1) {
		tag := strings.ToLower(m[1])
		a := azAttrs(azAttrRe, m[2])
		ref := a["src"]
		switch tag {
		case "link":
			if !azFetchingRel(a["rel"]) {
				continue
			}
			ref = a["href"]
		case "object":
			ref = a["data"]
		case "input":
			if !strings.EqualFold(a["type"], "image") {
				continue
			}
		}
		if ref == "" || strings.HasPrefix(strings.ToLower(ref), "data:") {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(ref))
		if err != nil {
			continue
		}
		abs := base.ResolveReference(u).String()
		if o := oauth.Origin(abs); o != "" && o != own && !seen[abs] {
			seen[abs] = true
			out = append(out, abs)
		}
	}
	return out
}

var azReferrerPolicies = map[string]bool{
	"no-referrer": true, "no-referrer-when-downgrade": true, "same-origin": true, "origin": true,
	"strict-origin": true, "origin-when-cross-origin": true, "strict-origin-when-cross-origin": true, "unsafe-url": true,
}

// azReferrerPolicy returns the effective referrer policy a page sets: the
// last recognised token of its Referrer-Policy header(s) (W3C Referrer
// Policy §11.1), else the content of its <meta name="referrer">.
func azReferrerPolicy(headers map[string][]string, html string) string {
	policy := ""
	for _, v := range headers["referrer-policy"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); azReferrerPolicies[t] {
				policy = t
			}
		}
	}
	if policy != "" {
		return policy
	}
	if len(html) > 1<<20 {
		html = html[:1<<20]
	}
	for _, m := range azMetaRe.FindAllStringSubmatch(html, -1) {
		a := azAttrs(azMetaAttrRe, m[1])
		if strings.EqualFold(a["name"], "referrer") {
			if t := strings.ToLower(strings.TrimSpace(a["content"])); azReferrerPolicies[t] {
				policy = t
			}
		}
	}
	return policy
}

// azFramingProtected reports whether response headers forbid framing by
// other origins: X-Frame-Options DENY/SAMEORIGIN, or a CSP frame-ancestors
// directive that does not allow every origin.
func azFramingProtected(get func(string) []string) bool {
	for _, v := range get("X-Frame-Options") {
		switch strings.ToUpper(strings.TrimSpace(v)) {
		case "DENY", "SAMEORIGIN":
			return true
		}
	}
	for _, v := range get("Content-Security-Policy") {
		for _, d := range strings.Split(v, ";") {
			f := strings.Fields(strings.ToLower(d))
			if len(f) > 0 && f[0] == "frame-ancestors" {
				open := false
				for _, src := range f[1:] {
					if src == "*" || src == "https:" || src == "http:" {
						open = true
					}
				}
				if !open {
					return true
				}
			}
		}
	}
	return false
}

// azUnframedAuthorizationPages lists the HTML pages (status 200) served at
// the authorization endpoint during the flow's round trips that another
// site could frame: no X-Frame-Options and no restricting CSP
// frame-ancestors (RFC 9700 §4.16). Login or consent pages served by
// another host are not seen here (they are not authorization requests).
func azUnframedAuthorizationPages(f *analyze.Flow) []string {
	out := []string{}
	for _, s := range azAuthorizeSteps(f) {
		resp := s.Ex.Response
		if resp == nil || resp.Status != 200 {
			continue
		}
		mt := resp.Headers.MediaType()
		body := strings.ToLower(strings.TrimSpace(string(resp.Body[:min(len(resp.Body), 512)])))
		html := strings.Contains(mt, "html") || (mt == "" && (strings.HasPrefix(body, "<!doctype html") || strings.HasPrefix(body, "<html")))
		if !html {
			continue
		}
		if target := azRedirectTarget(f); target != "" && strings.Contains(string(resp.Body), `action="`+target) {
			// A response_mode=form_post page posting the response to the
			// client: nothing there to click.
			continue
		}
		if azFramingProtected(resp.Headers.Values) {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s (exchange %d)", s.Ex.Request.Method, oauth.WithoutQuery(s.Ex.Request.URL.String()), s.ID))
	}
	return out
}

// azChained reports whether the flow's authorization request is the
// target of a redirect in another flow's authorization round trips (an AS
// that forwards to an upstream AS): the client did not build that request.
func azChained(f *analyze.Flow) bool {
	if f.Authorize == nil || f.Authorize.HTTP.URL == "" {
		return false
	}
	for _, g := range f.All {
		if g == f || g.Authorize == nil {
			continue
		}
		for _, s := range azAuthorizeSteps(g) {
			if azLocation(s) == f.Authorize.HTTP.URL {
				return true
			}
		}
	}
	return false
}

// ---- resource -----------------------------------------------------------------

// azKnownResources is the union of every flow's canonical resources: in a
// capture with several MCP servers on one authorization server, the PRM
// in effect for a flow may be another server's.
func azKnownResources(f *analyze.Flow) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, g := range append([]*analyze.Flow{f}, f.All...) {
		l, _ := azCanonicalResources(g)
		for _, r := range l {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// azCanonicalResources returns the resource values that identify the flow's
// MCP server, and where they come from. A PRM whose resource matches the
// identifier it was found by is authoritative (RFC 9728 §3.3); a root PRM
// describes the origin, so both the origin it names and the challenged
// endpoint URL are accepted. Without a usable PRM the URL the 401 answered
// is the canonical URI (MCP "Canonical Server URI").
func azCanonicalResources(f *analyze.Flow) ([]string, string) {
	if p := f.PRM; p != nil && p.OK && p.HasResource && p.Resource != "" {
		valid := p.ExpectedResource == "" || p.Resource == p.ExpectedResource ||
			(p.Via == "well-known-root" && p.Resource == p.ExpectedResource+"/")
		if valid {
			out := []string{p.Resource}
			src := "the protected resource metadata resource (" + p.HTTP.URL + ")"
			if p.Via == "well-known-root" && f.Challenge != nil && f.Challenge.ResourceURL != "" && f.Challenge.ResourceURL != p.Resource {
				out = append(out, f.Challenge.ResourceURL)
				src += " or the MCP endpoint the 401 challenge answered"
			}
			return out, src
		}
	}
	if c := f.Challenge; c != nil && c.ResourceURL != "" {
		return []string{c.ResourceURL}, "the MCP endpoint the 401 challenge answered (" + c.HTTP.Method + " " + c.ResourceURL + ")"
	}
	if p := f.PRM; p != nil && p.ExpectedResource != "" {
		return []string{p.ExpectedResource}, "the resource the protected resource metadata URL was built from"
	}
	return []string{}, ""
}

// azSameResourceURI compares two resource URIs after the normalisations
// RFC 3986 calls safe (§6.2.2.1 case of scheme and host, §6.2.3 default
// port); path, query and trailing slash are compared exactly, because
// resource servers compare audience strings exactly.
func azSameResourceURI(a, b string) bool {
	if a == b {
		return true
	}
	na, ok1 := azNormResource(a)
	nb, ok2 := azNormResource(b)
	return ok1 && ok2 && na == nb
}

func azNormResource(raw string) (string, bool) {
	scheme, host, port, rest, ok := azSplitAuthority(raw)
	if !ok {
		return "", false
	}
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host + rest, true
}
