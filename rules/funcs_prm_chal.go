package rules

// Helper functions for the protected resource metadata (PRM-*), 401/403
// challenge (CHAL-*) and error response (ERR-*) rules: URL and charset
// checks whose edge cases are easy to get wrong in CEL, JSON-RPC and MCP
// body parsing, and the few flow walks those rules need. Each is written
// once here and tested in funcs_prm_chal_test.go.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
)

func init() {
	str1 := func(name, sig, doc string, fn func(string) string) {
		RegisterFunction(sig, doc, cel.Function(name, cel.Overload(name+"_string", []*cel.Type{cel.StringType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(fn(string(v.(types.String)))) }))))
	}
	str1("resource_id_problem", "resource_id_problem(s)",
		`"" when s is an RFC 9728 resource identifier (absolute https URL, no query, no fragment; http tolerated on loopback), else why not`,
		pcResourceIDProblem)
	str1("metadata_url_problem", "metadata_url_problem(s)",
		`"" when s is an absolute https URL without fragment (http tolerated on loopback), else why not (relative, no scheme, http, …)`,
		pcMetadataURLProblem)
	str1("auth_failure_text", "auth_failure_text(s)",
		`the phrase in s that reports an authentication failure ("Unauthorized", "missing access token", "invalid_token", …), or ""`,
		pcAuthFailureText)
	str1("scope_problem_text", "scope_problem_text(s)",
		`the phrase in s that reports a missing or insufficient scope ("insufficient_scope", "requires scope …"), or ""`,
		pcScopeProblemText)
	str1("rpc_auth_failure", "rpc_auth_failure(body)",
		`the message of a JSON-RPC error or MCP tool error (isError) in a JSON or text/event-stream body that reports an authentication failure, or ""`,
		pcRPCAuthFailure)

	RegisterFunction("well_known_form(url, suffix)",
		`how url was built from a well-known suffix: "insert" ({origin}{suffix}{path}), "root" ({origin}{suffix}), "append" ({origin}{path}{suffix}), or ""; works on scheme-less URLs too`,
		cel.Function("well_known_form", cel.Overload("well_known_form_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.StringType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				return types.String(pcWellKnownForm(string(a.(types.String)), string(b.(types.String))))
			}))))
	RegisterFunction("oauth_charset_problem(kind, s)",
		`"" when s only uses the characters RFC 6749/6750 allow for kind ("error": error and error_description, %x20-21/%x23-5B/%x5D-7E; "uri": error_uri, %x21/%x23-5B/%x5D-7E; "scope": scope-tokens and spaces), else the first offending character`,
		cel.Function("oauth_charset_problem", cel.Overload("oauth_charset_problem_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.StringType,
			cel.BinaryBinding(func(k, s ref.Val) ref.Val {
				out, err := pcOAuthCharsetProblem(string(k.(types.String)), string(s.(types.String)))
				if err != nil {
					return types.NewErr("oauth_charset_problem: %v", err)
				}
				return types.String(out)
			}))))

	RegisterFunction("json_text(value)",
		"a JSON value (a member of a document) as compact JSON text, for messages and evidence",
		cel.Function("json_text", cel.Overload("json_text_dyn", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(pcJSONText(v)) }))))

	dynMap := cel.MapType(cel.StringType, cel.DynType)
	mapFn := func(name, sig, doc string, out *cel.Type, fn func(map[string]any) ref.Val) {
		RegisterFunction(sig, doc, cel.Function(name, cel.Overload(name+"_map", []*cel.Type{dynMap}, out,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				m, err := pcNativeMap(v)
				if err != nil {
					return types.NewErr("%s: %v", name, err)
				}
				return fn(m)
			}))))
	}
	mapFn("jsonrpc_error_problem", "jsonrpc_error_problem(doc)",
		`"" when doc is a well-formed JSON-RPC 2.0 error response (jsonrpc "2.0", top-level id, error object with integer code and string message), else what is wrong`,
		cel.StringType, func(m map[string]any) ref.Val { return types.String(pcJSONRPCErrorProblem(m)) })
	mapFn("mcp_call", "mcp_call(request_json)",
		`the JSON-RPC method of an MCP request, with the tool/prompt name or resource URI for tools/call, prompts/get and resources/read ("tools/call search_notes"); "" when not JSON-RPC`,
		cel.StringType, func(m map[string]any) ref.Val { return types.String(pcMCPCall(m)) })

	listFn := func(name, sig, doc string, fn func([]string) []string) {
		RegisterFunction(sig, doc, cel.Function(name, cel.Overload(name+"_list", []*cel.Type{stringList}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return listVal(fn(strList(v))) }))))
	}
	listFn("broad_scopes", "broad_scopes(list)",
		`the scopes of list that grant everything or administration ("*", "mcp:*", "all", "admin", "full-access", …)`, pcBroadScopes)
	listFn("identity_scopes", "identity_scopes(list)",
		"the scopes of list that belong to an identity provider's catalogue rather than to a resource (openid, profile, email, address, phone, groups)", pcIdentityScopes)

	httpT := cel.ObjectType("analyze.HTTP")
	RegisterFunction("presented_token_expired_for(http)",
		"seconds by which the JWT access token presented in the request (Authorization Bearer/DPoP) had expired when the response was sent (Date header, else request time); 0 when not expired, not a JWT, without exp, or the time is unknown",
		cel.Function("presented_token_expired_for", cel.Overload("presented_token_expired_for_http", []*cel.Type{httpT}, cel.IntType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				h, ok := pcHTTPArg(v)
				if !ok {
					return types.NewErr("presented_token_expired_for: not an http part")
				}
				return types.Int(pcPresentedTokenExpiredFor(h))
			}))))
	RegisterFunction("login_redirect(http)",
		`the absolute Location of a 3xx answer that sends the client somewhere else (a login page), or "" (no redirect, or a mere canonicalisation: https upgrade, trailing slash)`,
		cel.Function("login_redirect", cel.Overload("login_redirect_http", []*cel.Type{httpT}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				h, ok := pcHTTPArg(v)
				if !ok {
					return types.NewErr("login_redirect: not an http part")
				}
				return types.String(pcLoginRedirect(h))
			}))))

	RegisterFunction("cors_problem(http, expose_www_authenticate)",
		`for a cross-origin browser request (an Origin header naming another origin): what the response lacks for the page to read it ("no Access-Control-Allow-Origin for https://app…", "WWW-Authenticate not in Access-Control-Expose-Headers"); "" when readable or not a cross-origin request`,
		cel.Function("cors_problem", cel.Overload("cors_problem_http_bool", []*cel.Type{httpT, cel.BoolType}, cel.StringType,
			cel.BinaryBinding(func(v, expose ref.Val) ref.Val {
				h, ok := pcHTTPArg(v)
				if !ok {
					return types.NewErr("cors_problem: not an http part")
				}
				return types.String(pcCORSProblem(h, bool(expose.(types.Bool))))
			}))))

	RegisterFunction("oauth_error_shape_problem(http)",
		`for a 4xx answer of an OAuth endpoint (404, 405, 408 and 429 excepted; bodies captured in full only): "" when the body is a JSON object with a string "error", else what it is instead ("an empty body", "text/html content …", "a JSON-RPC error object")`,
		cel.Function("oauth_error_shape_problem", cel.Overload("oauth_error_shape_problem_http", []*cel.Type{httpT}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				h, ok := pcHTTPArg(v)
				if !ok {
					return types.NewErr("oauth_error_shape_problem: not an http part")
				}
				return types.String(pcOAuthErrorShapeProblem(h))
			}))))
	RegisterFunction("error_body_charset_problem(http)",
		`"" unless the JSON body's error, error_description or error_uri uses characters OAuth forbids (see oauth_charset_problem); else "member: problem"`,
		cel.Function("error_body_charset_problem", cel.Overload("error_body_charset_problem_http", []*cel.Type{httpT}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				h, ok := pcHTTPArg(v)
				if !ok {
					return types.NewErr("error_body_charset_problem: not an http part")
				}
				return types.String(pcErrorFieldsCharsetProblem(h.ResponseJSON))
			}))))
	RegisterFunction("error_params_charset_problem(params)",
		`like error_body_charset_problem, for the error, error_description and error_uri parameters of an authorization response (callback query)`,
		cel.Function("error_params_charset_problem", cel.Overload("error_params_charset_problem_map", []*cel.Type{cel.MapType(cel.StringType, cel.ListType(cel.StringType))}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				n, err := v.ConvertToNative(reflect.TypeFor[map[string][]string]())
				if err != nil {
					return types.NewErr("error_params_charset_problem: %v", err)
				}
				m := map[string]any{}
				for k, vs := range n.(map[string][]string) {
					if len(vs) > 0 {
						m[k] = vs[0]
					}
				}
				return types.String(pcErrorFieldsCharsetProblem(m))
			}))))

	RegisterFunction("stated_error_code(http)",
		`the OAuth error code an answer states: the error parameter of its Bearer (else DPoP) WWW-Authenticate challenge, else the string "error" member of its JSON body; ""`,
		cel.Function("stated_error_code", cel.Overload("stated_error_code_http", []*cel.Type{httpT}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				h, ok := pcHTTPArg(v)
				if !ok {
					return types.NewErr("stated_error_code: not an http part")
				}
				return types.String(pcStatedErrorCode(h))
			}))))
	RegisterFunction("status_for_error(code)",
		"the HTTP status RFC 6750 §3.1 assigns to a resource-server error code: invalid_request 400, invalid_token 401, insufficient_scope 403; 0 for other codes",
		cel.Function("status_for_error", cel.Overload("status_for_error_string", []*cel.Type{cel.StringType}, cel.IntType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.Int(pcStatusForError(string(v.(types.String)))) }))))

	prmT := cel.ObjectType("analyze.PRM")
	flowT := cel.ObjectType("analyze.Flow")
	RegisterFunction("unauth_refusal(flow, resource)",
		`how a request that carried no access token, to an endpoint the flow shows is protected, was refused other than with 401: "redirected (302) to …", "answered 403 (\"Unauthorized\")", "answered 200 with the error \"…\""; "" when it was not (or the request was sanitized)`,
		cel.Function("unauth_refusal", cel.Overload("unauth_refusal_flow_resource", []*cel.Type{flowT, cel.ObjectType("analyze.Resource")}, cel.StringType,
			cel.BinaryBinding(func(fv, rv ref.Val) ref.Val {
				f, ok1 := fv.Value().(*analyze.Flow)
				r, ok2 := rv.Value().(*analyze.Resource)
				if !ok1 || !ok2 {
					return types.NewErr("unauth_refusal: wants a flow and a resource request")
				}
				return types.String(pcUnauthRefusal(f, r))
			}))))
	RegisterFunction("prm_resource_mismatch(prm)",
		"true when a 200 protected resource metadata document's resource is not identical to the identifier used to find it (RFC 9728 §3.3; the root-fallback document may name the origin, with or without a trailing slash)",
		cel.Function("prm_resource_mismatch", cel.Overload("prm_resource_mismatch_prm", []*cel.Type{prmT}, cel.BoolType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				p, ok := v.Value().(*analyze.PRM)
				if !ok {
					return types.NewErr("prm_resource_mismatch: not a PRM")
				}
				return types.Bool(pcPRMResourceMismatch(p))
			}))))
	RegisterFunction("prm_as_use(flow, prm)",
		`where, after this PRM, the client used an authorization server it can only have taken from the PRM's authorization_servers: {"id": first such exchange, "kind": as_metadata|registration|authorize|token, "url": …, "proceeded": first registration/authorization/token request (0 = it only fetched metadata)}; id 0 when none (or when another valid PRM, or an earlier request, explains the AS)`,
		cel.Function("prm_as_use", cel.Overload("prm_as_use_flow_prm", []*cel.Type{flowT, prmT}, dynMap,
			cel.BinaryBinding(func(fv, pv ref.Val) ref.Val {
				f, ok1 := fv.Value().(*analyze.Flow)
				p, ok2 := pv.Value().(*analyze.PRM)
				if !ok1 || !ok2 {
					return types.NewErr("prm_as_use: wants a flow and a PRM")
				}
				return types.DefaultTypeAdapter.NativeToValue(pcPRMASUse(f, p))
			}))))
}

// pcJSONText renders a CEL value as compact JSON.
func pcJSONText(v ref.Val) string {
	if b, err := json.Marshal(pcNative(v)); err == nil {
		return string(b)
	}
	return fmt.Sprint(v.Value())
}

// pcNative converts a CEL value to plain Go JSON values (map[string]any,
// []any, string, float64, bool, nil). Documents of views already hold
// such values and pass through; maps and lists built in CEL are walked.
func pcNative(v ref.Val) any {
	switch x := v.(type) {
	case types.Null:
		return nil
	case types.Int:
		return float64(x)
	case types.Uint:
		return float64(x)
	case traits.Mapper:
		if m, ok := x.Value().(map[string]any); ok {
			return m
		}
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			out[fmt.Sprint(k.Value())] = pcNative(x.Get(k))
		}
		return out
	case traits.Lister:
		if l, ok := x.Value().([]any); ok {
			return l
		}
		n, _ := x.Size().(types.Int)
		out := make([]any, 0, int(n))
		for i := types.Int(0); i < n; i++ {
			out = append(out, pcNative(x.Get(i)))
		}
		return out
	}
	return v.Value()
}

// pcNativeMap converts a CEL map to a Go JSON object.
func pcNativeMap(v ref.Val) (map[string]any, error) {
	m, ok := pcNative(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

func pcHTTPArg(v ref.Val) (*analyze.HTTP, bool) {
	switch h := v.Value().(type) {
	case *analyze.HTTP:
		return h, h != nil
	case analyze.HTTP:
		return &h, true
	}
	return nil, false
}

// pcSchemeProblem says why an absolute URL is not https (http is tolerated
// on loopback hosts: local development, RFC 8252 style).
func pcSchemeProblem(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	switch {
	case u.Host == "" && (scheme == "http" || scheme == "https"):
		return "has no host"
	case u.Host == "":
		// "example.com/path" parses as a path; "example.com:443/x" as
		// scheme "example.com". Either way there is no http(s) scheme.
		return "has no http(s) scheme (it reads as a host name or path, not an absolute URL)"
	case scheme == "https":
		return ""
	case scheme == "http" && oauth.IsLoopbackHost(u.Host):
		return ""
	case scheme == "http":
		return "uses http on a non-loopback host"
	}
	return "uses the " + u.Scheme + " scheme, not https"
}

// pcResourceIDProblem checks an RFC 9728 resource identifier: "a URL that
// uses the https scheme and has no query or fragment components" (§1.2,
// §2), which RFC 8707 also requires of resource indicators.
func pcResourceIDProblem(s string) string {
	if s == "" {
		return "is empty"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a URL (" + err.Error() + ")"
	}
	if strings.EqualFold(u.Scheme, "urn") {
		return "is a URN, not an https URL"
	}
	if u.Scheme == "" {
		return "is not an absolute URL (no scheme)"
	}
	if p := pcSchemeProblem(u); p != "" {
		return p
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return "has a fragment component"
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "has a query component"
	}
	return ""
}

// pcMetadataURLProblem checks a URL a client must fetch metadata from (the
// WWW-Authenticate resource_metadata, RFC 9728 §5.1; jwks_uri): absolute,
// https (loopback http tolerated), no fragment.
func pcMetadataURLProblem(s string) string {
	if s == "" {
		return "is empty"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a URL (" + err.Error() + ")"
	}
	if u.Scheme == "" {
		if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
			return "is a relative reference (a path), not an absolute URL"
		}
		if strings.HasPrefix(s, "//") {
			return "is a scheme-relative reference, not an absolute URL"
		}
		return "has no scheme (it reads as a host name or path, not an absolute URL)"
	}
	if p := pcSchemeProblem(u); p != "" {
		return p
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return "has a fragment component"
	}
	return ""
}

// pcWellKnownForm tells how a metadata URL was built from a well-known
// suffix. Unlike oauth.ParseWellKnown it also reads malformed, scheme-less
// pointers ("example.com/api/mcp/.well-known/…"), which real servers emit.
func pcWellKnownForm(raw, suffix string) string {
	var path string
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		path = u.EscapedPath()
	} else {
		s := raw
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[i+3:]
		}
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
		}
		if strings.HasPrefix(s, "/") {
			path = s
		} else if i := strings.IndexByte(s, '/'); i >= 0 {
			path = s[i:]
		}
	}
	i := strings.Index(path, suffix)
	if i < 0 {
		return ""
	}
	rest := path[i+len(suffix):]
	if rest != "" && !strings.HasPrefix(rest, "/") {
		return "" // e.g. "/.well-known/oauth-protected-resource-v2"
	}
	switch {
	case i > 0:
		return "append"
	case rest == "" || rest == "/":
		return "root"
	}
	return "insert"
}

// pcBroadAtoms are scope names (or their last segment after ':', '.', '/')
// that grant everything or administration.
var pcBroadAtoms = map[string]bool{"*": true, "all": true, "admin": true, "administrator": true, "full": true, "full-access": true,
	"full_access": true, "fullaccess": true, "root": true, "superuser": true, "everything": true, "sudo": true}

// pcBroadScopes returns the omnibus scopes of a list: wildcards and names
// like "all", "admin", "mcp:admin", "api.full_access" (MCP Security Best
// Practices, Scope Minimization).
func pcBroadScopes(l []string) []string {
	out := []string{}
	for _, s := range l {
		low := strings.ToLower(s)
		last := low
		if i := strings.LastIndexAny(low, ":./"); i >= 0 && i < len(low)-1 {
			last = low[i+1:]
		}
		if strings.Contains(low, "*") || pcBroadAtoms[low] || pcBroadAtoms[last] {
			out = append(out, s)
		}
	}
	return out
}

var pcIdentityAtoms = map[string]bool{"openid": true, "profile": true, "email": true, "address": true, "phone": true, "groups": true}

// pcIdentityScopes returns the identity-provider catalogue scopes of a list
// (OpenID Connect's own scopes and the common "groups"); offline_access is
// left to the rules about refresh tokens.
func pcIdentityScopes(l []string) []string {
	out := []string{}
	for _, s := range l {
		if pcIdentityAtoms[s] {
			out = append(out, s)
		}
	}
	return out
}

// pcOAuthCharsetProblem checks a value against the character sets of
// RFC 6749 §5.2 / §4.1.2.1 and RFC 6750 §3 (the same in OAuth 2.1 §3.2.4
// and §5.3.1):
//
//	error, error_description: %x20-21 / %x23-5B / %x5D-7E
//	error_uri:               %x21 / %x23-5B / %x5D-7E
//	scope:                   scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by SP
//
// so no '"', no '\', no control characters and nothing outside ASCII.
func pcOAuthCharsetProblem(kind, s string) (string, error) {
	var spaceOK bool
	switch kind {
	case "error", "scope":
		spaceOK = true
	case "uri":
	default:
		return "", fmt.Errorf("unknown kind %q (want error, uri or scope)", kind)
	}
	for i, r := range s {
		ok := r == 0x21 || (r >= 0x23 && r <= 0x5B) || (r >= 0x5D && r <= 0x7E) || (spaceOK && r == 0x20)
		if !ok {
			return fmt.Sprintf("character %s at byte %d", pcDescribeRune(r), i), nil
		}
	}
	return "", nil
}

func pcDescribeRune(r rune) string {
	switch {
	case r == '"':
		return `'"' (a double quote)`
	case r == '\\':
		return `'\' (a backslash)`
	case r < 0x20 || r == 0x7F:
		return fmt.Sprintf("U+%04X (a control character)", r)
	case r == 0x20:
		return "' ' (a space)"
	case r > 0x7F:
		return fmt.Sprintf("%q (U+%04X, not ASCII)", r, r)
	}
	return fmt.Sprintf("%q", r)
}

// pcJSONRPCErrorProblem checks a JSON-RPC 2.0 error response (JSON-RPC 2.0
// §5, §5.1): "jsonrpc": "2.0", an "id" member at the top level (null when
// the request id is unknown), an "error" object with an integer "code"
// and a string "message", and no "result".
func pcJSONRPCErrorProblem(doc map[string]any) string {
	var probs []string
	if v, ok := doc["jsonrpc"].(string); !ok || v != "2.0" {
		probs = append(probs, `"jsonrpc" is not "2.0"`)
	}
	errObj, isObj := doc["error"].(map[string]any)
	id, hasID := doc["id"]
	switch {
	case !hasID && isObj && pcHasKey(errObj, "id"):
		probs = append(probs, `"id" is inside "error" instead of at the top level`)
	case !hasID:
		probs = append(probs, `there is no top-level "id" (use null when the request id is unknown)`)
	default:
		switch id.(type) {
		case nil, string, float64:
		default:
			probs = append(probs, `"id" is neither a string, a number nor null`)
		}
	}
	if _, ok := doc["result"]; ok {
		probs = append(probs, `it has both "result" and "error"`)
	}
	if !isObj {
		if _, ok := doc["error"]; ok {
			probs = append(probs, `"error" is not an object`)
		} else {
			probs = append(probs, `there is no "error" object`)
		}
	} else {
		if c, ok := errObj["code"].(float64); !ok || c != float64(int64(c)) {
			probs = append(probs, `"error.code" is not an integer`)
		}
		if _, ok := errObj["message"].(string); !ok {
			probs = append(probs, `"error.message" is not a string`)
		}
	}
	return strings.Join(probs, "; ")
}

func pcHasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// pcMCPCall identifies an MCP request for "the same call": the JSON-RPC
// method, plus the tool or prompt name, or the resource URI.
func pcMCPCall(doc map[string]any) string {
	m, _ := doc["method"].(string)
	if m == "" {
		return ""
	}
	params, _ := doc["params"].(map[string]any)
	switch m {
	case "tools/call", "prompts/get":
		if n, ok := params["name"].(string); ok {
			return m + " " + n
		}
	case "resources/read", "resources/subscribe":
		if u, ok := params["uri"].(string); ok {
			return m + " " + u
		}
	}
	return m
}

var pcAuthFailureRe = regexp.MustCompile(`(?i)\b(unauthori[sz]ed|unauthenticated|not authenticated|authentication (is )?required|authentication failed|authori[sz]ation (is )?required|login required|(missing|no|invalid|expired|bad)( bearer| access| auth| oauth)? token|(missing|no) authori[sz]ation header|token (is )?(missing|invalid|expired)|invalid[_ -]token|invalid[_ -]authori[sz]ation|access token (is )?required)\b`)

// pcAuthFailureText finds a phrase reporting an authentication failure.
func pcAuthFailureText(s string) string {
	if len(s) > 1<<16 {
		s = s[:1<<16]
	}
	return pcAuthFailureRe.FindString(s)
}

var pcScopeProblemRe = regexp.MustCompile(`(?i)(\binsufficient[_ -]?scopes?\b|\binvalid[_ -]scopes?\b|\b(missing|required|requires|lacks?|lacking|needs?|needed)\b[^.\n]{0,40}\bscopes?\b|\bscopes?\b[^.\n]{0,40}\b(required|missing|not granted|insufficient)\b)`)

// pcScopeProblemText finds a phrase reporting a missing or insufficient scope.
func pcScopeProblemText(s string) string {
	if len(s) > 1<<16 {
		s = s[:1<<16]
	}
	return pcScopeProblemRe.FindString(s)
}

// pcRPCMessages reads the JSON-RPC messages of a body: one JSON object or
// array, or the data lines of a text/event-stream.
func pcRPCMessages(body string) []map[string]any {
	if len(body) > 1<<20 {
		return nil
	}
	var out []map[string]any
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		var one map[string]any
		if json.Unmarshal([]byte(s), &one) == nil && one != nil {
			out = append(out, one)
			return
		}
		var many []map[string]any
		if json.Unmarshal([]byte(s), &many) == nil {
			out = append(out, many...)
		}
	}
	t := strings.TrimSpace(body)
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		add(t)
		return out
	}
	var data []string
	flush := func() {
		if len(data) > 0 {
			add(strings.Join(data, "\n"))
			data = nil
		}
	}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			flush()
			continue
		}
		if d, ok := strings.CutPrefix(line, "data:"); ok {
			data = append(data, strings.TrimPrefix(d, " "))
		}
	}
	flush()
	return out
}

// pcRPCAuthFailure finds, in a JSON or SSE body, a JSON-RPC error or an MCP
// tool result with isError whose text reports an authentication failure:
// the "200 with a tool error" way of refusing a request without a token.
func pcRPCAuthFailure(body string) string {
	for _, m := range pcRPCMessages(body) {
		if e, ok := m["error"].(map[string]any); ok {
			msg, _ := e["message"].(string)
			extra := ""
			if d, ok := e["data"]; ok {
				if b, err := json.Marshal(d); err == nil {
					extra = string(b)
				}
			}
			if pcAuthFailureText(msg+" "+extra) != "" {
				return msg
			}
		}
		if r, ok := m["result"].(map[string]any); ok && r["isError"] == true {
			var texts []string
			if content, ok := r["content"].([]any); ok {
				for _, c := range content {
					if cm, ok := c.(map[string]any); ok {
						if t, ok := cm["text"].(string); ok {
							texts = append(texts, t)
						}
					}
				}
			}
			txt := strings.Join(texts, " ")
			if pcAuthFailureText(txt) != "" {
				if len(txt) > 200 {
					txt = txt[:200] + "…"
				}
				return txt
			}
		}
	}
	return ""
}

// pcPresentedTokenExpiredFor returns by how many seconds the JWT presented
// in the request had expired when the server answered.
func pcPresentedTokenExpiredFor(h *analyze.HTTP) int64 {
	var tok string
	for _, v := range h.RequestHeaders["authorization"] {
		scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok && (strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "dpop")) {
			tok = strings.TrimSpace(cred)
			break
		}
	}
	if tok == "" {
		return 0
	}
	j := decodeJWTCached(tok)
	if !j.Valid || j.Exp == 0 {
		return 0
	}
	var at int64
	if d := h.ResponseHeaders["date"]; len(d) > 0 {
		v := strings.TrimSpace(d[0])
		if t, err := http.ParseTime(v); err == nil {
			at = t.Unix()
		} else if t, err := time.Parse(time.RFC1123Z, v); err == nil {
			at = t.Unix()
		}
	}
	if at == 0 && h.TimeMS > 0 {
		at = h.TimeMS / 1000
	}
	if at == 0 || at <= j.Exp {
		return 0
	}
	return at - j.Exp
}

// pcLoginRedirect returns where a 3xx answer sends the client, unless the
// redirect only canonicalises the same resource (http→https, a trailing
// slash added or removed), which is not an authentication decision.
func pcLoginRedirect(h *analyze.HTTP) string {
	if h.Status < 300 || h.Status > 399 {
		return ""
	}
	locs := h.ResponseHeaders["location"]
	if len(locs) == 0 || strings.TrimSpace(locs[0]) == "" {
		return ""
	}
	base, err := url.Parse(h.URL)
	if err != nil {
		return ""
	}
	l, err := url.Parse(strings.TrimSpace(locs[0]))
	if err != nil {
		return locs[0]
	}
	to := base.ResolveReference(l)
	same := strings.EqualFold(to.Host, base.Host) || (strings.EqualFold(to.Hostname(), base.Hostname()) && strings.EqualFold(to.Scheme, "https"))
	if same && strings.TrimSuffix(to.Path, "/") == strings.TrimSuffix(base.Path, "/") {
		return ""
	}
	return to.String()
}

// pcCORSProblem says why a browser page could not read a cross-origin
// response (Fetch Standard, CORS protocol): the response must allow the
// page's origin (or "*"), and a header the page needs beyond the
// CORS-safelisted ones (WWW-Authenticate) must be exposed.
func pcCORSProblem(h *analyze.HTTP, exposeWWWAuthenticate bool) string {
	origins := h.RequestHeaders["origin"]
	if len(origins) == 0 || !h.HasResponse {
		return ""
	}
	o := strings.TrimSpace(origins[0])
	if o == "" || strings.EqualFold(o, h.Origin) {
		return "" // same-origin: CORS does not apply
	}
	allowed := false
	for _, v := range h.ResponseHeaders["access-control-allow-origin"] {
		if v = strings.TrimSpace(v); v == "*" || v == o {
			allowed = true
		}
	}
	if !allowed {
		return "no Access-Control-Allow-Origin for " + o
	}
	if exposeWWWAuthenticate {
		for _, v := range h.ResponseHeaders["access-control-expose-headers"] {
			for _, name := range strings.Split(v, ",") {
				if n := strings.TrimSpace(name); n == "*" || strings.EqualFold(n, "WWW-Authenticate") {
					return ""
				}
			}
		}
		return "WWW-Authenticate is not in Access-Control-Expose-Headers"
	}
	return ""
}

// pcUnauthRefusal says how a request without an access token was refused
// other than with the 401 MCP requires. It only judges endpoints the flow
// shows are protected (a 401 challenge there, or a token-bearing request
// served there), so public endpoints answering 200 are left alone, and it
// needs evidence that the refusal is about authentication:
//
//   - a 3xx to somewhere else (a login page), not a canonicalisation;
//   - a 400, 403 or 5xx whose body names the missing credentials;
//   - a 403 or 5xx for a call that succeeded once a token was sent (a 400
//     may have other causes, e.g. no session yet, so it needs the text);
//   - a 2xx whose JSON-RPC error or tool error (isError) reports it.
//
// Sanitized exchanges are skipped: their Authorization may have been removed.
func pcUnauthRefusal(f *analyze.Flow, r *analyze.Resource) string {
	h := &r.HTTP
	if f == nil || r == nil || r.HasToken || h.Sanitized || !h.HasResponse {
		return ""
	}
	ok2xx := func(s int) bool { return s >= 200 && s < 300 }
	protected := false
	for _, c := range f.Challenges {
		if c.Status == 401 && c.HTTP.Endpoint == h.Endpoint {
			protected = true
		}
	}
	for _, x := range f.Resources {
		if x.HasToken && x.HTTP.Endpoint == h.Endpoint && ok2xx(x.HTTP.Status) {
			protected = true
		}
	}
	if !protected {
		return ""
	}
	if to := pcLoginRedirect(h); to != "" {
		return fmt.Sprintf("redirected (%d) to %s", h.Status, to)
	}
	st := h.Status
	if ok2xx(st) {
		if e := pcRPCAuthFailure(h.ResponseBody); e != "" {
			return fmt.Sprintf("answered %d with the error %q", st, e)
		}
		return ""
	}
	if st != 400 && st != 403 && st < 500 {
		return ""
	}
	if t := pcAuthFailureText(h.ResponseBody); t != "" {
		return fmt.Sprintf("answered %d (%q)", st, t)
	}
	if st == 400 {
		return ""
	}
	call := pcMCPCall(h.RequestJSON)
	for _, x := range f.Resources {
		if x.HasToken && x.HTTP.ID > h.ID && x.HTTP.Endpoint == h.Endpoint && x.HTTP.Method == h.Method &&
			pcMCPCall(x.HTTP.RequestJSON) == call && ok2xx(x.HTTP.Status) {
			return fmt.Sprintf("answered %d (the same call succeeded once a token was sent, exchange %d)", st, x.HTTP.ID)
		}
	}
	return ""
}

// pcOAuthErrorShapeProblem checks an OAuth endpoint's error answer: a JSON
// object with a string "error" member (OAuth 2.1 §3.2.4, RFC 6749 §5.2,
// RFC 7591 §3.2.2). Only 4xx answers of an endpoint that exists are judged
// (404/405: endpoint or method missing; 408/429: transport-level), and only
// when the body was captured in full.
func pcOAuthErrorShapeProblem(h *analyze.HTTP) string {
	if !h.HasResponse || h.Status < 400 || h.Status > 499 {
		return ""
	}
	switch h.Status {
	case 404, 405, 408, 429:
		return ""
	}
	for _, g := range h.Gaps {
		switch g {
		case "response-body", "decode", "bytes-missing", "no-response":
			return ""
		}
	}
	if h.ResponseJSONValid {
		switch e := h.ResponseJSON["error"].(type) {
		case string:
			if e != "" {
				return ""
			}
			return `a JSON object whose "error" is empty`
		case map[string]any:
			if _, ok := h.ResponseJSON["jsonrpc"]; ok {
				return `a JSON-RPC error envelope ("error" is an object, not an OAuth error code)`
			}
			return `a JSON object whose "error" is an object, not a string`
		case nil:
			return `a JSON object without an "error" member`
		default:
			return `a JSON object whose "error" is not a string`
		}
	}
	body := strings.TrimSpace(h.ResponseBody)
	if body == "" {
		return "an empty body"
	}
	mt := h.ResponseMediaType
	if mt == "" {
		mt = "untyped"
	}
	if len(body) > 60 {
		body = body[:60] + "…"
	}
	return fmt.Sprintf("%s content that is not a JSON object (%q)", mt, body)
}

// pcErrorFieldsCharsetProblem checks the error, error_description and
// error_uri members of an OAuth error (JSON body or query parameters).
func pcErrorFieldsCharsetProblem(m map[string]any) string {
	for _, f := range []struct{ name, kind string }{{"error", "error"}, {"error_description", "error"}, {"error_uri", "uri"}} {
		v, ok := m[f.name].(string)
		if !ok {
			continue
		}
		if p, _ := pcOAuthCharsetProblem(f.kind, v); p != "" {
			return f.name + ": " + p
		}
	}
	return ""
}

// pcStatedErrorCode reads the error code an answer states, preferring the
// WWW-Authenticate challenge (RFC 6750 §3) over the body.
func pcStatedErrorCode(h *analyze.HTTP) string {
	if vals := h.ResponseHeaders["www-authenticate"]; len(vals) > 0 {
		chs, _ := analyze.ParseWWWAuthenticate(vals...)
		var dpop string
		for _, c := range chs {
			e := c.Params["error"]
			switch {
			case strings.EqualFold(c.Scheme, "Bearer") && e != "":
				return e
			case strings.EqualFold(c.Scheme, "DPoP") && e != "" && dpop == "":
				dpop = e
			}
		}
		if dpop != "" {
			return dpop
		}
	}
	if e, ok := h.ResponseJSON["error"].(string); ok {
		return e
	}
	return ""
}

// pcStatusForError is the RFC 6750 §3.1 mapping.
func pcStatusForError(code string) int64 {
	switch code {
	case "invalid_request":
		return 400
	case "invalid_token":
		return 401
	case "insufficient_scope":
		return 403
	}
	return 0
}

// pcPRMResourceMismatch is the RFC 9728 §3.3 validation, as rule
// PRM-RESOURCE-MATCH states it: identical strings, except that a document
// fetched from the root well-known URL describes the origin, which both
// "https://h" and "https://h/" name.
func pcPRMResourceMismatch(p *analyze.PRM) bool {
	if p == nil || !p.OK || !p.HasResource || p.ExpectedResource == "" {
		return false
	}
	if p.Via == "well-known-root" {
		return p.Resource != p.ExpectedResource && p.Resource != p.ExpectedResource+"/"
	}
	return !oauth.SameURL(p.Resource, p.ExpectedResource)
}

// pcPRMASUse finds where, after the PRM, the client used an authorization
// server listed in it: metadata built from an entry, or a registration,
// authorization or token request at an entry's origin. A use is not
// attributed to this PRM when another valid PRM of the flow lists the same
// server, or when the client contacted that server before this PRM arrived
// (it was configured, not discovered). The result holds the first use (id,
// kind, url; id 0 when none) and "proceeded", the first registration,
// authorization or token request among them (0 when the client stopped at
// fetching metadata).
func pcPRMASUse(f *analyze.Flow, p *analyze.PRM) map[string]any {
	out := map[string]any{"id": int64(0), "kind": "", "url": "", "proceeded": int64(0)}
	if f == nil || p == nil || len(p.AuthorizationServers) == 0 {
		return out
	}
	pid := p.HTTP.ID
	type use struct {
		id        int
		kind, url string
		as        string
	}
	var uses []use
	forAS := func(id int, kind, u string, match func(as string) bool) {
		for _, as := range p.AuthorizationServers {
			if match(as) {
				uses = append(uses, use{id, kind, u, as})
				return
			}
		}
	}
	for _, m := range f.ASMetadatas {
		forAS(m.HTTP.ID, "as_metadata", m.HTTP.URL, func(as string) bool {
			return m.IssuerFromPRM == as || m.HTTP.URL == oauth.InsertWellKnown(as, oauth.WellKnownOAuth) ||
				m.HTTP.URL == oauth.InsertWellKnown(as, oauth.WellKnownOIDC) || m.HTTP.URL == oauth.AppendWellKnown(as, oauth.WellKnownOIDC)
		})
	}
	atOrigin := func(kind string, h analyze.HTTP) {
		forAS(h.ID, kind, h.Endpoint, func(as string) bool { o := oauth.Origin(as); return o != "" && o == h.Origin })
	}
	for _, r := range f.Registrations {
		atOrigin("registration", r.HTTP)
	}
	if f.Authorize != nil {
		atOrigin("authorize", f.Authorize.HTTP)
	}
	for _, t := range f.Tokens {
		atOrigin("token", t.HTTP)
	}
	sort.SliceStable(uses, func(i, j int) bool { return uses[i].id < uses[j].id })
	for _, u := range uses {
		if u.id <= pid {
			continue
		}
		explained := false
		for _, q := range f.PRMs {
			if q != p && q.OK && !pcPRMResourceMismatch(q) && q.HTTP.ID < u.id && pcContains(q.AuthorizationServers, u.as) {
				explained = true
			}
		}
		for _, e := range uses {
			if e.id > 0 && e.id < pid && e.as == u.as {
				explained = true // contacted before the PRM: configured
			}
		}
		if explained {
			continue
		}
		if out["id"] == int64(0) {
			out["id"], out["kind"], out["url"] = int64(u.id), u.kind, u.url
		}
		if u.kind != "as_metadata" {
			out["proceeded"] = int64(u.id)
			break
		}
	}
	return out
}

func pcContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
