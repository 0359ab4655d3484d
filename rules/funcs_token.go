package rules

// Helper functions for the token endpoint rules (catalog §8 token request,
// §9 token response, §10 refresh, §12 JWT and ID token contents). They hold
// the logic that is security-sensitive or awkward in CEL: decoding the
// Basic credentials, the OAuth error-text charset, the original grant of a
// flow, refresh timing, device-flow polling and JWT claims.

import (
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
)

var (
	tokTokenType = cel.ObjectType("analyze.Token")
	tokFlowType  = cel.ObjectType("analyze.Flow")
	tokHTTPType  = cel.ObjectType("analyze.HTTP")
	tokFlowList  = cel.ListType(tokFlowType)
	tokDynMap    = cel.MapType(cel.StringType, cel.DynType)
)

func init() {
	RegisterFunction("basic_credentials(token)",
		"the client_id and secret of the token request's Basic Authorization header, base64-decoded but not URL-decoded ([] without a Basic header)",
		cel.Function("basic_credentials", cel.Overload("basic_credentials_token", []*cel.Type{tokTokenType}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return listVal(tokBasicCredentials(tokAsToken(v))) }))))
	RegisterFunction("form_urlencoded(s)",
		"true when s can be the application/x-www-form-urlencoded encoding of a value (only unreserved characters, '+' and %XX escapes)",
		boolFn("form_urlencoded", tokFormURLEncoded))
	RegisterFunction("form_urlencode(s)",
		"s encoded as application/x-www-form-urlencoded (RFC 6749 Appendix B), as Basic credentials must be",
		strFn("form_urlencode", "", url.QueryEscape))
	RegisterFunction("error_charset_ok(s)",
		"true when s only holds the characters OAuth allows in error and error_description (%x20-21 / %x23-5B / %x5D-7E)",
		boolFn("error_charset_ok", tokErrorCharsetOK))
	RegisterFunction("error_uri_ok(s)",
		"true when s is an absolute URI made of the characters OAuth allows in error_uri (%x21 / %x23-5B / %x5D-7E)",
		boolFn("error_uri_ok", tokErrorURIOK))
	RegisterFunction("known_grant_type(s)",
		"true for grant types defined by an RFC or OpenID specification (authorization_code, refresh_token, client_credentials, device_code, jwt-bearer, token-exchange, …)",
		boolFn("known_grant_type", func(s string) bool { return tokKnownGrantTypes[s] }))
	RegisterFunction("known_token_error(s)",
		"true for error codes a token endpoint may return (RFC 6749 §5.2 and the registered extensions: invalid_target, authorization_pending, slow_down, use_dpop_nonce, …)",
		boolFn("known_token_error", func(s string) bool { return tokKnownErrors[s] }))
	RegisterFunction("member_string(doc, name)",
		"the member of a JSON object when it is a string, else \"\" (absent, null, number, array…)",
		cel.Function("member_string", cel.Overload("member_string_map_string", []*cel.Type{tokDynMap, cel.StringType}, cel.StringType,
			cel.BinaryBinding(func(m, k ref.Val) ref.Val {
				s, _ := tokMember(m, string(k.(types.String))).(types.String)
				return s
			}))))
	RegisterFunction("member_map(doc, name)",
		"the member of a JSON object when it is an object, else {} (to read nested metadata such as mtls_endpoint_aliases)",
		cel.Function("member_map", cel.Overload("member_map_map_string", []*cel.Type{tokDynMap, cel.StringType}, tokDynMap,
			cel.BinaryBinding(func(m, k ref.Val) ref.Val {
				if mp, ok := tokMember(m, string(k.(types.String))).(traits.Mapper); ok {
					return mp
				}
				return tokMapVal(nil)
			}))))
	RegisterFunction("member_strings(doc, name)",
		"the string elements of a JSON object's array member, [] when absent or not an array",
		cel.Function("member_strings", cel.Overload("member_strings_map_string", []*cel.Type{tokDynMap, cel.StringType}, stringList,
			cel.BinaryBinding(func(m, k ref.Val) ref.Val {
				out := []string{}
				if l, ok := tokMember(m, string(k.(types.String))).(traits.Lister); ok {
					n := int(l.Size().(types.Int))
					for i := 0; i < n; i++ {
						if s, ok := l.Get(types.Int(i)).(types.String); ok {
							out = append(out, string(s))
						}
					}
				}
				return listVal(out)
			}))))
	RegisterFunction("is_id_token(flows, value)",
		"true when value is an id_token some token response of the capture returned",
		cel.Function("is_id_token", cel.Overload("is_id_token_flows_string", []*cel.Type{tokFlowList, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(fs, v ref.Val) ref.Val {
				return types.Bool(tokIsIDToken(tokAsFlows(fs), string(v.(types.String))))
			}))))
	RegisterFunction("unused_refresh_token_flow(flows, flow)",
		"the id of an earlier flow at the same authorization endpoint and resource whose latest refresh token, issued before this flow's authorization request, was never presented, and whose grant covers the scope requested now (\"\" when there is none)",
		cel.Function("unused_refresh_token_flow", cel.Overload("unused_refresh_token_flow_flows_flow", []*cel.Type{tokFlowList, tokFlowType}, cel.StringType,
			cel.BinaryBinding(func(fs, f ref.Val) ref.Val {
				return types.String(tokUnusedRefreshTokenFlow(tokAsFlows(fs), tokAsFlow(f)))
			}))))
	RegisterFunction("jwt_claims(s)",
		"the claims of a compact JWS decoded without verification ({} when s is not a JWT)",
		cel.Function("jwt_claims", cel.Overload("jwt_claims_string", []*cel.Type{cel.StringType}, tokDynMap,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return tokMapVal(decodeJWTCached(string(v.(types.String))).Claims) }))))
	RegisterFunction("jwt_header(s)",
		"the JOSE header of a compact JWS decoded without verification ({} when s is not a JWT)",
		cel.Function("jwt_header", cel.Overload("jwt_header_string", []*cel.Type{cel.StringType}, tokDynMap,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return tokMapVal(decodeJWTCached(string(v.(types.String))).Header) }))))
	RegisterFunction("jwt_aud(s)",
		"the aud claim of a JWT as a list (RFC 7519 allows a string or an array); [] when absent",
		cel.Function("jwt_aud", cel.Overload("jwt_aud_string", []*cel.Type{cel.StringType}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				return listVal(tokStrings(decodeJWTCached(string(v.(types.String))).Aud))
			}))))
	RegisterFunction("grant_scopes(flow)",
		"the scopes of the flow's original grant: the code exchange's response scope, else the access token's scope claim, else the scope requested",
		cel.Function("grant_scopes", cel.Overload("grant_scopes_flow", []*cel.Type{tokFlowType}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				s, _ := tokGrantScopes(tokAsFlow(v))
				return listVal(s)
			}))))
	RegisterFunction("grant_scopes_known(flow)",
		"true when the flow's original grant is captured and its scope can be told (stated, in the token, or requested)",
		cel.Function("grant_scopes_known", cel.Overload("grant_scopes_known_flow", []*cel.Type{tokFlowType}, cel.BoolType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				_, ok := tokGrantScopes(tokAsFlow(v))
				return types.Bool(ok)
			}))))
	RegisterFunction("response_scopes(token, flow)",
		"the scopes a token response granted: its scope member, else the access token's scope claim, else what was requested (for a refresh without scope, the original grant)",
		cel.Function("response_scopes", cel.Overload("response_scopes_token_flow", []*cel.Type{tokTokenType, tokFlowType}, stringList,
			cel.BinaryBinding(func(t, f ref.Val) ref.Val { return listVal(tokResponseScopes(tokAsToken(t), tokAsFlow(f))) }))))
	RegisterFunction("ended_ms(http)",
		"the time the exchange's response was complete, in Unix milliseconds (start + duration; 0 when unknown)",
		cel.Function("ended_ms", cel.Overload("ended_ms_http", []*cel.Type{tokHTTPType}, cel.IntType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.Int(tokEndedMS(tokAsHTTP(v))) }))))
	RegisterFunction("bearer_of(http)",
		"the credential of the request's Authorization header (Bearer or DPoP scheme), or \"\"",
		cel.Function("bearer_of", cel.Overload("bearer_of_http", []*cel.Type{tokHTTPType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(tokBearerOf(tokAsHTTP(v))) }))))
	RegisterFunction("access_token_expiry_ms(flow, token)",
		"when the access token value expires by the flow's token responses (issue time + expires_in, or the JWT exp), in Unix milliseconds; 0 when unknown",
		cel.Function("access_token_expiry_ms", cel.Overload("access_token_expiry_ms_flow_string", []*cel.Type{tokFlowType, cel.StringType}, cel.IntType,
			cel.BinaryBinding(func(f, s ref.Val) ref.Val {
				return types.Int(tokAccessTokenExpiryMS(tokAsFlow(f), string(s.(types.String))))
			}))))
	RegisterFunction("device_poll_gap_ms(token, flows)",
		"milliseconds since the previous device-code poll for the same device_code at the same token endpoint (-1 for the first poll)",
		cel.Function("device_poll_gap_ms", cel.Overload("device_poll_gap_ms_token_flows", []*cel.Type{tokTokenType, tokFlowList}, cel.IntType,
			cel.BinaryBinding(func(t, fs ref.Val) ref.Val {
				gap, _ := tokDevicePoll(tokAsToken(t), tokAsFlows(fs))
				return types.Int(gap)
			}))))
	RegisterFunction("device_poll_min_ms(token, flows)",
		"the minimum wait before this device-code poll: 5 s (RFC 8628 default interval) plus 5 s for every slow_down answered before it",
		cel.Function("device_poll_min_ms", cel.Overload("device_poll_min_ms_token_flows", []*cel.Type{tokTokenType, tokFlowList}, cel.IntType,
			cel.BinaryBinding(func(t, fs ref.Val) ref.Val {
				_, min := tokDevicePoll(tokAsToken(t), tokAsFlows(fs))
				return types.Int(min)
			}))))
}

// tokDeviceCodeGrant is the RFC 8628 grant type URN.
const tokDeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code"

// tokKnownGrantTypes are the grant_type values defined by RFCs and OpenID
// specifications (IANA "OAuth URI" registry and RFC 6749 §4).
var tokKnownGrantTypes = map[string]bool{
	"authorization_code": true, "refresh_token": true, "client_credentials": true, "password": true,
	tokDeviceCodeGrant: true,
	"urn:ietf:params:oauth:grant-type:jwt-bearer":     true, // RFC 7523
	"urn:ietf:params:oauth:grant-type:saml2-bearer":   true, // RFC 7522
	"urn:ietf:params:oauth:grant-type:token-exchange": true, // RFC 8693
	"urn:openid:params:grant-type:ciba":               true, // OpenID CIBA
	"urn:ietf:params:oauth:grant-type:uma-ticket":     true, // UMA 2.0
}

// tokKnownErrors are the error codes a token endpoint may return: RFC
// 6749 §5.2 plus the extensions registered in the IANA "OAuth Extensions
// Error" registry that apply to the token endpoint.
var tokKnownErrors = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true,
	"invalid_target":                   true, // RFC 8707
	"authorization_pending":            true, // RFC 8628, CIBA
	"slow_down":                        true, // RFC 8628, CIBA
	"access_denied":                    true, // RFC 8628, CIBA
	"expired_token":                    true, // RFC 8628, CIBA
	"transaction_failed":               true, // CIBA
	"use_dpop_nonce":                   true, // RFC 9449
	"invalid_dpop_proof":               true, // RFC 9449
	"invalid_authorization_details":    true, // RFC 9396
	"unsupported_token_type":           true, // RFC 8693 (token exchange)
	"server_error":                     true, // used for the token endpoint by RFC 8628 deployments and OAuth 2.1 implementations
	"temporarily_unavailable":          true,
	"insufficient_user_authentication": true, // RFC 9470
}

func tokAsToken(v ref.Val) *analyze.Token {
	switch t := v.Value().(type) {
	case *analyze.Token:
		if t != nil {
			return t
		}
	case analyze.Token:
		return &t
	}
	return &analyze.Token{}
}

func tokAsFlow(v ref.Val) *analyze.Flow {
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

func tokAsHTTP(v ref.Val) *analyze.HTTP {
	switch h := v.Value().(type) {
	case *analyze.HTTP:
		if h != nil {
			return h
		}
	case analyze.HTTP:
		return &h
	}
	return &analyze.HTTP{}
}

func tokAsFlows(v ref.Val) []*analyze.Flow {
	// The flows variable is the native slice behind the CEL list.
	if fs, ok := v.Value().([]*analyze.Flow); ok {
		return fs
	}
	l, ok := v.(traits.Lister)
	if !ok {
		return nil
	}
	n := int(l.Size().(types.Int))
	out := make([]*analyze.Flow, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, tokAsFlow(l.Get(types.Int(i))))
	}
	return out
}

// tokMember returns a member of a CEL map holding JSON (nil when absent).
func tokMember(m ref.Val, k string) ref.Val {
	mp, ok := m.(traits.Mapper)
	if !ok {
		return nil
	}
	v, found := mp.Find(types.String(k))
	if !found {
		return nil
	}
	return v
}

func tokMapVal(m map[string]any) ref.Val {
	if m == nil {
		m = map[string]any{}
	}
	return types.DefaultTypeAdapter.NativeToValue(m)
}

func tokStrings(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// tokBasicCredentials returns the user and password of the request's Basic
// Authorization header, base64-decoded but not URL-decoded, so that rules
// can tell whether the client form-urlencoded them (RFC 6749 §2.3.1).
// It returns nil when there is no well-formed Basic header.
func tokBasicCredentials(t *analyze.Token) []string {
	for _, v := range t.HTTP.RequestHeaders["authorization"] {
		v = strings.TrimSpace(v)
		if len(v) < 6 || !strings.EqualFold(v[:6], "basic ") {
			continue
		}
		raw := strings.TrimSpace(v[6:])
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			// Some clients drop the padding.
			if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(raw, "=")); err != nil {
				return nil
			}
		}
		user, pass, ok := strings.Cut(string(b), ":")
		if !ok {
			return nil
		}
		return []string{user, pass}
	}
	return nil
}

// tokFormURLEncoded reports whether s can be the output of
// application/x-www-form-urlencoded encoding: every byte is an unreserved
// character, '*' (left alone by the WHATWG serializer), '+' (an encoded
// space) or part of a %XX escape. A value holding anything else (':', '/',
// '@', a raw space, non-ASCII) was certainly not encoded.
func tokFormURLEncoded(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~' || c == '*' || c == '+':
		case c == '%':
			if i+2 >= len(s) || !tokIsHex(s[i+1]) || !tokIsHex(s[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

func tokIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// tokErrorCharsetOK reports whether s only holds the characters OAuth allows
// in error and error_description: %x20-21 / %x23-5B / %x5D-7E (printable
// ASCII without '"' and '\').
func tokErrorCharsetOK(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// tokErrorURIOK reports whether s is an absolute URI whose characters are in
// %x21 / %x23-5B / %x5D-7E (RFC 6749 §5.2 error_uri).
func tokErrorURIOK(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.IsAbs()
}

// tokGrantScopes returns the scopes of the flow's original grant and whether
// they can be told: the code exchange's (else first token request's)
// response scope, else the access token's scope claim, else the scope
// requested (RFC 6749 §5.1: an omitted scope means "as requested"). When
// nothing was requested and nothing is stated, the AS applied a default
// the capture cannot see.
func tokGrantScopes(f *analyze.Flow) ([]string, bool) {
	t := f.Token
	if t == nil || !t.Response.OK {
		return []string{}, false
	}
	switch {
	case t.Response.HasScope:
		return tokStrings(t.Response.Scopes), true
	case t.Response.AccessTokenJWT.HasScopeClaim:
		return tokStrings(t.Response.AccessTokenJWT.Scopes), true
	}
	if req := f.RequestedScopesRaw(); len(req) > 0 {
		return req, true
	}
	return []string{}, false
}

// tokResponseScopes returns the scopes a token response granted: its scope
// member, else the access token's scope claim, else the scope the request
// asked for; a refresh that asked for no scope gets the original grant
// (RFC 6749 §6).
func tokResponseScopes(t *analyze.Token, f *analyze.Flow) []string {
	switch {
	case t.Response.HasScope:
		return tokStrings(t.Response.Scopes)
	case t.Response.AccessTokenJWT.HasScopeClaim:
		return tokStrings(t.Response.AccessTokenJWT.Scopes)
	case t.HasScope:
		return tokStrings(t.Scopes)
	}
	if t.GrantType == "refresh_token" {
		s, _ := tokGrantScopes(f)
		return s
	}
	if t == f.Token {
		return tokStrings(f.RequestedScopesRaw())
	}
	return []string{}
}

// tokEndedMS is when the exchange's response was complete (start plus the
// duration the capture recorded), in Unix milliseconds; 0 when the start
// is unknown.
func tokEndedMS(h *analyze.HTTP) int64 {
	ex := h.Exchange()
	if ex == nil || ex.Start.IsZero() {
		return h.TimeMS
	}
	return ex.Start.Add(ex.Duration).UnixMilli()
}

// tokBearerOf returns the credential of the request's Authorization header
// when its scheme is Bearer or DPoP.
func tokBearerOf(h *analyze.HTTP) string {
	for _, v := range h.RequestHeaders["authorization"] {
		scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) {
			return strings.TrimSpace(cred)
		}
	}
	return ""
}

// tokAccessTokenExpiryMS returns when the access token value expires by the
// responses of the flow that issued it: the earlier of issue time +
// expires_in and the JWT exp claim, in Unix milliseconds; 0 when the flow
// did not issue it or says nothing about its lifetime.
func tokAccessTokenExpiryMS(f *analyze.Flow, tok string) int64 {
	if tok == "" {
		return 0
	}
	for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
		r := t.Response
		if !r.HasAccessToken || r.AccessToken != tok {
			continue
		}
		var exp int64
		if n, ok := r.Doc["expires_in"].(float64); ok && n > 0 && t.HTTP.TimeMS > 0 {
			exp = tokEndedMS(&t.HTTP) + int64(n*1000)
		}
		if j := r.AccessTokenJWT; j.Valid && j.Exp > 0 {
			if e := j.Exp * 1000; exp == 0 || e < exp {
				exp = e
			}
		}
		return exp
	}
	return 0
}

// tokIsIDToken reports whether v is an ID token a token response of the
// capture returned (an ID token presented as a bearer is not linked to the
// flow that issued it: the analysis links access tokens only).
func tokIsIDToken(flows []*analyze.Flow, v string) bool {
	return v != "" && factsOf(flows).idTokens[v]
}

// tokUnusedRefreshTokenFlow finds an earlier flow at the same
// authorization endpoint and for the same resource that holds a refresh
// token the client could have used instead of authorizing again: the
// latest one issued before this authorization request, never presented
// before it, from a grant that covers the scope requested now (a
// re-authorization for more scope is a step-up, not a missed refresh).
func tokUnusedRefreshTokenFlow(flows []*analyze.Flow, f *analyze.Flow) string {
	az := f.Authorize
	if az == nil {
		return ""
	}
	at := az.HTTP.ID
	for _, g := range flows {
		if g == f || g.Authorize == nil || g.Authorize.HTTP.ID >= at ||
			g.Authorize.HTTP.Endpoint != az.HTTP.Endpoint || g.Resource != f.Resource {
			continue
		}
		var latest *analyze.Token
		for _, t := range append(append([]*analyze.Token{}, g.Tokens...), g.Refreshes...) {
			if t.Response.OK && t.Response.HasRefreshToken && t.HTTP.ID < at && (latest == nil || t.HTTP.ID > latest.HTTP.ID) {
				latest = t
			}
		}
		if latest == nil {
			continue
		}
		used := false
		for _, r := range g.Refreshes {
			if r.RefreshToken == latest.Response.RefreshToken && r.HTTP.ID < at {
				used = true
				break
			}
		}
		if used {
			continue
		}
		if az.HasScope {
			granted, known := tokGrantScopes(g)
			if !known || !oauth.Subset(az.Scopes, granted) {
				continue
			}
		}
		return g.ID
	}
	return ""
}

// tokDevicePollDefault is RFC 8628 §3.2's default polling interval, and the
// increase §3.5 requires after every slow_down.
const tokDevicePollDefault = 5 * time.Second

// tokDevicePoll returns, for a device-code token request, the milliseconds
// since the previous poll for the same device_code at the same token
// endpoint (-1 for the first poll) and the minimum wait RFC 8628 requires
// before it: the default interval plus 5 s per slow_down answered before.
// The device authorization response (which may set another interval) is
// not part of the flows, so the default is assumed.
func tokDevicePoll(t *analyze.Token, flows []*analyze.Flow) (gapMS, minMS int64) {
	code := tokFirst(t.Params, "device_code")
	minMS = tokDevicePollDefault.Milliseconds()
	if code == "" {
		return -1, minMS
	}
	var prev *analyze.Token
	seen := map[*analyze.Token]bool{}
	for _, f := range flows {
		for _, o := range f.Tokens {
			if seen[o] || o == t || o.HTTP.ID >= t.HTTP.ID || o.HTTP.Endpoint != t.HTTP.Endpoint || tokFirst(o.Params, "device_code") != code {
				continue
			}
			seen[o] = true
			if o.Response.Error == "slow_down" {
				minMS += tokDevicePollDefault.Milliseconds()
			}
			if prev == nil || o.HTTP.ID > prev.HTTP.ID {
				prev = o
			}
		}
	}
	if prev == nil || prev.HTTP.TimeMS == 0 || t.HTTP.TimeMS == 0 {
		return -1, minMS
	}
	return t.HTTP.TimeMS - prev.HTTP.TimeMS, minMS
}

func tokFirst(m map[string][]string, k string) string {
	if v := m[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}
