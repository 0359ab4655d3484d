package analyze

import (
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/oauthlint/oauthlint/analyze/oauth"
)

// Kind is what an exchange is in OAuth terms.
type Kind string

// Message kinds, one per section of the requirements catalog.
const (
	KindPRM           Kind = "prm"
	KindChallenge     Kind = "challenge"
	KindASMetadata    Kind = "as_metadata"
	KindRegistration  Kind = "registration"
	KindCIMD          Kind = "cimd"
	KindAuthorize     Kind = "authorize"
	KindCallback      Kind = "callback"
	KindToken         Kind = "token"
	KindRefresh       Kind = "refresh"
	KindResource      Kind = "resource"
	KindRevocation    Kind = "revocation"
	KindIntrospection Kind = "introspection"
	KindJWKS          Kind = "jwks"
	KindUserinfo      Kind = "userinfo"
	// KindPreflight is a CORS preflight (OPTIONS with
	// Access-Control-Request-Method) to a resource or AS endpoint.
	KindPreflight Kind = "preflight"
	// KindDeviceAuthorization is an RFC 8628 device authorization request.
	KindDeviceAuthorization Kind = "device_authorization"
	KindOther               Kind = "other"
)

// MessageKinds lists the kinds a rule can apply to, in flow order.
var MessageKinds = []Kind{KindChallenge, KindPRM, KindASMetadata, KindRegistration, KindCIMD, KindAuthorize, KindCallback, KindToken, KindRefresh, KindResource, KindRevocation, KindIntrospection, KindJWKS, KindUserinfo, KindPreflight, KindDeviceAuthorization}

// PRM is a protected resource metadata fetch (RFC 9728).
type PRM struct {
	HTTP HTTP `cel:"http"`
	// Via says how the client found the URL: "header" (the
	// resource_metadata of a challenge), "well-known-path" (inserted
	// before the resource's path), "well-known-root" or "other".
	Via string `cel:"via"`
	// ExpectedResource is the identifier the resource value must equal
	// (RFC 9728 §3.3): the URL the client requested when the PRM came from
	// a challenge, else the identifier the well-known URL was built from.
	ExpectedResource string `cel:"expected_resource"`
	// OK is true for a 200 response with a JSON object.
	OK                   bool           `cel:"ok"`
	Doc                  map[string]any `cel:"doc"`
	Resource             string         `cel:"resource"`
	HasResource          bool           `cel:"has_resource"`
	AuthorizationServers []string       `cel:"authorization_servers"`
	ScopesSupported      []string       `cel:"scopes_supported"`
	HasScopesSupported   bool           `cel:"has_scopes_supported"`
}

// Challenge is a 401 or 403 answer of a protected resource with its
// WWW-Authenticate header parsed.
type Challenge struct {
	HTTP HTTP `cel:"http"`
	// ResourceURL is the URL that was requested, without query.
	ResourceURL string `cel:"resource_url"`
	Status      int    `cel:"status"`
	// HadToken is true when the request carried an Authorization header.
	HadToken bool `cel:"had_token"`
	// Header holds the raw WWW-Authenticate values.
	Header    []string `cel:"header"`
	HasHeader bool     `cel:"has_header"`
	Schemes   []string `cel:"schemes"`
	Bearer    bool     `cel:"bearer"`
	// Params are the Bearer (else DPoP) challenge's parameters,
	// lower-case names, first value; ParamCounts counts repeats.
	Params              map[string]string `cel:"params"`
	ParamCounts         map[string]int    `cel:"param_counts"`
	ResourceMetadata    string            `cel:"resource_metadata"`
	HasResourceMetadata bool              `cel:"has_resource_metadata"`
	Scope               string            `cel:"scope"`
	Scopes              []string          `cel:"scopes"`
	HasScope            bool              `cel:"has_scope"`
	Error               string            `cel:"error"`
	ErrorDescription    string            `cel:"error_description"`
	ParseError          string            `cel:"parse_error"`
}

// ASMetadata is an authorization server metadata (RFC 8414) or OpenID
// provider configuration fetch.
type ASMetadata struct {
	HTTP HTTP `cel:"http"`
	// OIDC is true when fetched from an openid-configuration URL.
	OIDC bool `cel:"oidc"`
	// Form is "insert", "append" or "root" (how the URL was built).
	Form string `cel:"form"`
	// ExpectedIssuer is the issuer the URL was built from; for the root
	// form both with and without a trailing slash build the same URL, so
	// ExpectedIssuers lists both. When a PRM named the issuer that led
	// here, IssuerFromPRM holds that exact string.
	ExpectedIssuer  string   `cel:"expected_issuer"`
	ExpectedIssuers []string `cel:"expected_issuers"`
	IssuerFromPRM   string   `cel:"issuer_from_prm"`

	OK                         bool           `cel:"ok"`
	Doc                        map[string]any `cel:"doc"`
	Issuer                     string         `cel:"issuer"`
	HasIssuer                  bool           `cel:"has_issuer"`
	AuthorizationEndpoint      string         `cel:"authorization_endpoint"`
	TokenEndpoint              string         `cel:"token_endpoint"`
	RegistrationEndpoint       string         `cel:"registration_endpoint"`
	ScopesSupported            []string       `cel:"scopes_supported"`
	HasScopesSupported         bool           `cel:"has_scopes_supported"`
	CodeChallengeMethods       []string       `cel:"code_challenge_methods_supported"`
	HasCodeChallengeMethods    bool           `cel:"has_code_challenge_methods_supported"`
	TokenEndpointAuthMethods   []string       `cel:"token_endpoint_auth_methods_supported"`
	HasTokenEndpointAuthMethod bool           `cel:"has_token_endpoint_auth_methods_supported"`

	// authorizeAt and tokenAt are the authorization and token endpoints
	// without their query, as flows' endpoints are compared with them
	// (see correlator.latestASM).
	authorizeAt, tokenAt string
}

// Registration is a dynamic client registration (RFC 7591).
type Registration struct {
	HTTP HTTP `cel:"http"`
	// Metadata is the request body (client metadata).
	Metadata map[string]any `cel:"metadata"`
	// HasScope is true when the request registers a scope; ScopeIsString
	// is false when it was sent in another JSON type (an array).
	HasScope                bool     `cel:"has_scope"`
	ScopeIsString           bool     `cel:"scope_is_string"`
	Scope                   string   `cel:"scope"`
	Scopes                  []string `cel:"scopes"`
	RedirectURIs            []string `cel:"redirect_uris"`
	GrantTypes              []string `cel:"grant_types"`
	TokenEndpointAuthMethod string   `cel:"token_endpoint_auth_method"`
	// Response holds the registration response body (client information).
	Response           map[string]any `cel:"response"`
	ClientID           string         `cel:"client_id"`
	ClientSecretIssued bool           `cel:"client_secret_issued"`
	Registered         bool           `cel:"registered"`
}

// Authorize is an authorization request (front channel).
type Authorize struct {
	HTTP HTTP `cel:"http"`
	// Params are the request parameters (query, or form for POST).
	Params                 map[string][]string `cel:"params"`
	ClientID               string              `cel:"client_id"`
	ResponseType           string              `cel:"response_type"`
	RedirectURI            string              `cel:"redirect_uri"`
	HasRedirectURI         bool                `cel:"has_redirect_uri"`
	State                  string              `cel:"state"`
	HasState               bool                `cel:"has_state"`
	Scope                  string              `cel:"scope"`
	Scopes                 []string            `cel:"scopes"`
	HasScope               bool                `cel:"has_scope"`
	CodeChallenge          string              `cel:"code_challenge"`
	HasCodeChallenge       bool                `cel:"has_code_challenge"`
	CodeChallengeMethod    string              `cel:"code_challenge_method"`
	HasCodeChallengeMethod bool                `cel:"has_code_challenge_method"`
	Resources              []string            `cel:"resources"`
	HasResource            bool                `cel:"has_resource"`
	Nonce                  string              `cel:"nonce"`
	HasNonce               bool                `cel:"has_nonce"`
	// Location is where the AS sent the browser next (3xx Location).
	Location string `cel:"location"`
	// Hops counts further requests of the same authorization (login and
	// consent round trips back to the authorization endpoint).
	Hops int `cel:"hops"`
}

// Callback is the authorization response delivered to the redirect URI.
type Callback struct {
	HTTP HTTP `cel:"http"`
	// Synthesized is true when the callback request itself was not
	// captured and its parameters come from the AS's Location header.
	Synthesized      bool                `cel:"synthesized"`
	URL              string              `cel:"url"`
	Params           map[string][]string `cel:"params"`
	Code             string              `cel:"code"`
	HasCode          bool                `cel:"has_code"`
	State            string              `cel:"state"`
	HasState         bool                `cel:"has_state"`
	Iss              string              `cel:"iss"`
	HasIss           bool                `cel:"has_iss"`
	Error            string              `cel:"error"`
	ErrorDescription string              `cel:"error_description"`
}

// Token is a token endpoint request (any grant, refresh included) with
// its response.
type Token struct {
	HTTP            HTTP                `cel:"http"`
	GrantType       string              `cel:"grant_type"`
	Params          map[string][]string `cel:"params"`
	FormEncoded     bool                `cel:"form_encoded"`
	Code            string              `cel:"code"`
	HasCode         bool                `cel:"has_code"`
	CodeVerifier    string              `cel:"code_verifier"`
	HasCodeVerifier bool                `cel:"has_code_verifier"`
	RedirectURI     string              `cel:"redirect_uri"`
	HasRedirectURI  bool                `cel:"has_redirect_uri"`
	ClientID        string              `cel:"client_id"`
	HasClientID     bool                `cel:"has_client_id"`
	Resources       []string            `cel:"resources"`
	HasResource     bool                `cel:"has_resource"`
	Scope           string              `cel:"scope"`
	Scopes          []string            `cel:"scopes"`
	HasScope        bool                `cel:"has_scope"`
	RefreshToken    string              `cel:"refresh_token"`
	// ClientAuth is "basic", "post" (client_secret in the body),
	// "assertion" (private_key_jwt / client_secret_jwt) or "none".
	ClientAuth string        `cel:"client_auth"`
	Response   TokenResponse `cel:"response"`
}

// TokenResponse is the token endpoint's answer.
type TokenResponse struct {
	Status          int            `cel:"status"`
	Captured        bool           `cel:"captured"`
	OK              bool           `cel:"ok"`
	Doc             map[string]any `cel:"doc"`
	AccessToken     string         `cel:"access_token"`
	HasAccessToken  bool           `cel:"has_access_token"`
	TokenType       string         `cel:"token_type"`
	HasExpiresIn    bool           `cel:"has_expires_in"`
	Scope           string         `cel:"scope"`
	Scopes          []string       `cel:"scopes"`
	HasScope        bool           `cel:"has_scope"`
	RefreshToken    string         `cel:"refresh_token"`
	HasRefreshToken bool           `cel:"has_refresh_token"`
	IDToken         string         `cel:"id_token"`
	HasIDToken      bool           `cel:"has_id_token"`
	Error           string         `cel:"error"`
	// CacheControl is the Cache-Control header; NoStore is true when it
	// contains the no-store directive.
	CacheControl string `cel:"cache_control"`
	NoStore      bool   `cel:"no_store"`
	Pragma       string `cel:"pragma"`
	// AccessTokenJWT is the access token decoded without verification.
	AccessTokenJWT JWT `cel:"access_token_jwt"`
}

// Resource is a request to a protected resource (an MCP server call).
type Resource struct {
	HTTP HTTP `cel:"http"`
	// AuthScheme is the Authorization scheme ("Bearer", "DPoP") and Token
	// the credential; HasToken is false for unauthenticated calls.
	AuthScheme string `cel:"auth_scheme"`
	Token      string `cel:"token"`
	HasToken   bool   `cel:"has_token"`
	// MCPMethod is the JSON-RPC method of an MCP request.
	MCPMethod string `cel:"mcp_method"`
	// ProtocolVersion is the MCP-Protocol-Version header.
	ProtocolVersion string `cel:"protocol_version"`
}

// Aux is a context message: revocation, introspection, JWKS, userinfo,
// or a client ID metadata document.
type Aux struct {
	HTTP HTTP   `cel:"http"`
	Kind string `cel:"kind"`
}

func newPRM(h HTTP) *PRM {
	p := &PRM{HTTP: h, Via: "other"}
	if h.Status == 200 && h.ResponseJSONValid {
		p.OK = true
	}
	p.Doc = h.ResponseJSON
	if p.Doc != nil {
		p.Resource, p.HasResource = strField(p.Doc, "resource")
		p.AuthorizationServers, _ = strList(p.Doc, "authorization_servers")
		var ok bool
		p.ScopesSupported, ok = strList(p.Doc, "scopes_supported")
		p.HasScopesSupported = ok && len(p.ScopesSupported) > 0
	}
	if id, form := oauth.ParseWellKnown(h.URL, oauth.WellKnownPRM); form != oauth.FormNone {
		p.ExpectedResource = id
		if form == oauth.FormRoot {
			p.Via = "well-known-root"
		} else {
			p.Via = "well-known-path"
		}
	}
	return p
}

func newChallenge(h HTTP) *Challenge {
	c := &Challenge{HTTP: h, Status: h.Status, ResourceURL: h.Endpoint}
	ex := h.ex
	c.HadToken = ex.Request.Headers.Has("Authorization")
	c.Header = ex.Response.Headers.Values("WWW-Authenticate")
	c.HasHeader = len(c.Header) > 0
	chs, err := ParseWWWAuthenticate(c.Header...)
	if err != nil {
		c.ParseError = err.Error()
	}
	var pick *AuthChallenge
	for i := range chs {
		c.Schemes = append(c.Schemes, chs[i].Scheme)
		if strings.EqualFold(chs[i].Scheme, "Bearer") {
			c.Bearer = true
			if pick == nil {
				pick = &chs[i]
			}
		}
	}
	if pick == nil {
		for i := range chs {
			if strings.EqualFold(chs[i].Scheme, "DPoP") {
				pick = &chs[i]
				break
			}
		}
	}
	c.Params = map[string]string{}
	c.ParamCounts = map[string]int{}
	if pick != nil {
		c.Params = pick.Params
		c.ParamCounts = pick.Counts
	}
	c.ResourceMetadata, c.HasResourceMetadata = c.Params["resource_metadata"]
	c.Scope, c.HasScope = c.Params["scope"]
	c.Scopes = oauth.SplitScope(c.Scope)
	c.Error = c.Params["error"]
	c.ErrorDescription = c.Params["error_description"]
	return c
}

func newASMetadata(h HTTP) *ASMetadata {
	a := &ASMetadata{HTTP: h}
	suffix := oauth.WellKnownOAuth
	if strings.Contains(h.Path, oauth.WellKnownOIDC) {
		suffix = oauth.WellKnownOIDC
		a.OIDC = true
	}
	id, form := oauth.ParseWellKnown(h.URL, suffix)
	a.Form = string(form)
	a.ExpectedIssuer = id
	if id != "" {
		a.ExpectedIssuers = []string{id}
		if form == oauth.FormRoot {
			a.ExpectedIssuers = append(a.ExpectedIssuers, id+"/")
		}
	}
	if h.Status == 200 && h.ResponseJSONValid {
		a.OK = true
	}
	a.Doc = h.ResponseJSON
	if d := a.Doc; d != nil {
		a.Issuer, a.HasIssuer = strField(d, "issuer")
		a.AuthorizationEndpoint, _ = strField(d, "authorization_endpoint")
		a.TokenEndpoint, _ = strField(d, "token_endpoint")
		a.RegistrationEndpoint, _ = strField(d, "registration_endpoint")
		var ok bool
		a.ScopesSupported, ok = strList(d, "scopes_supported")
		a.HasScopesSupported = ok && len(a.ScopesSupported) > 0
		a.CodeChallengeMethods, a.HasCodeChallengeMethods = strList(d, "code_challenge_methods_supported")
		a.TokenEndpointAuthMethods, a.HasTokenEndpointAuthMethod = strList(d, "token_endpoint_auth_methods_supported")
		a.authorizeAt = oauth.WithoutQuery(a.AuthorizationEndpoint)
		a.tokenAt = oauth.WithoutQuery(a.TokenEndpoint)
	}
	return a
}

func newRegistration(h HTTP) *Registration {
	r := &Registration{HTTP: h, Metadata: h.RequestJSON}
	if r.Metadata != nil {
		if v, ok := r.Metadata["scope"]; ok {
			r.HasScope = true
			if s, ok := v.(string); ok {
				r.ScopeIsString = true
				r.Scope = s
				r.Scopes = oauth.SplitScope(s)
			} else if l, ok := strList(r.Metadata, "scope"); ok {
				r.Scopes = l
			}
		}
		r.RedirectURIs, _ = strList(r.Metadata, "redirect_uris")
		r.GrantTypes, _ = strList(r.Metadata, "grant_types")
		r.TokenEndpointAuthMethod, _ = strField(r.Metadata, "token_endpoint_auth_method")
	}
	if h.ResponseJSONValid {
		r.Response = h.ResponseJSON
		r.ClientID, _ = strField(r.Response, "client_id")
		if s, ok := strField(r.Response, "client_secret"); ok && s != "" {
			r.ClientSecretIssued = true
		}
	}
	r.Registered = h.Status >= 200 && h.Status < 300 && r.ClientID != ""
	return r
}

func newAuthorize(h HTTP) *Authorize {
	a := &Authorize{HTTP: h, Params: h.Query}
	if h.Method == "POST" && h.Form != nil {
		a.Params = h.Form
	}
	p := a.Params
	a.ClientID, _ = first(p, "client_id")
	a.ResponseType, _ = first(p, "response_type")
	a.RedirectURI, a.HasRedirectURI = first(p, "redirect_uri")
	a.State, a.HasState = nonEmpty(p, "state")
	a.Scope, a.HasScope = nonEmpty(p, "scope")
	a.Scopes = oauth.SplitScope(a.Scope)
	a.CodeChallenge, a.HasCodeChallenge = nonEmpty(p, "code_challenge")
	a.CodeChallengeMethod, a.HasCodeChallengeMethod = nonEmpty(p, "code_challenge_method")
	for _, r := range p["resource"] {
		if r != "" {
			a.Resources = append(a.Resources, r)
		}
	}
	a.HasResource = len(a.Resources) > 0
	a.Nonce, a.HasNonce = nonEmpty(p, "nonce")
	if h.ex.Response != nil {
		a.Location = h.ex.Response.Headers.Get("Location")
	}
	return a
}

// nonEmpty treats an empty parameter as omitted (OAuth 2.1 §3.1).
func nonEmpty(m map[string][]string, k string) (string, bool) {
	v, ok := first(m, k)
	return v, ok && v != ""
}

func newCallback(h HTTP, rawURL string, synthesized bool) *Callback {
	c := &Callback{HTTP: h, Synthesized: synthesized, URL: rawURL}
	c.Params = map[string][]string{}
	if u, err := url.Parse(rawURL); err == nil {
		c.Params = queryMap(u.RawQuery)
		// Implicit/hybrid responses arrive in the fragment; browsers keep
		// it out of requests, but HAR exports of redirects can show it.
		if u.Fragment != "" {
			for k, v := range queryMap(u.Fragment) {
				c.Params[k] = append(c.Params[k], v...)
			}
		}
	}
	c.Code, c.HasCode = nonEmpty(c.Params, "code")
	c.State, c.HasState = nonEmpty(c.Params, "state")
	c.Iss, c.HasIss = nonEmpty(c.Params, "iss")
	c.Error, _ = first(c.Params, "error")
	c.ErrorDescription, _ = first(c.Params, "error_description")
	return c
}

func newToken(h HTTP) *Token {
	t := &Token{HTTP: h}
	t.FormEncoded = h.RequestMediaType == "application/x-www-form-urlencoded"
	switch {
	case h.Form != nil:
		t.Params = h.Form
	case h.RequestJSON != nil:
		// Non-conformant JSON token requests: read them anyway so the
		// rest of the flow can be checked (TQ-FORM-ENCODED reports them).
		t.Params = map[string][]string{}
		for k, v := range h.RequestJSON {
			if s, ok := v.(string); ok {
				t.Params[k] = []string{s}
			}
		}
	default:
		t.Params = h.Query
	}
	p := t.Params
	t.GrantType, _ = first(p, "grant_type")
	t.Code, t.HasCode = nonEmpty(p, "code")
	t.CodeVerifier, t.HasCodeVerifier = nonEmpty(p, "code_verifier")
	t.RedirectURI, t.HasRedirectURI = nonEmpty(p, "redirect_uri")
	t.ClientID, t.HasClientID = nonEmpty(p, "client_id")
	for _, r := range p["resource"] {
		if r != "" {
			t.Resources = append(t.Resources, r)
		}
	}
	t.HasResource = len(t.Resources) > 0
	t.Scope, t.HasScope = nonEmpty(p, "scope")
	t.Scopes = oauth.SplitScope(t.Scope)
	t.RefreshToken, _ = nonEmpty(p, "refresh_token")
	t.ClientAuth = "none"
	authz := h.ex.Request.Headers.Get("Authorization")
	switch {
	case strings.HasPrefix(strings.ToLower(authz), "basic "):
		t.ClientAuth = "basic"
		if !t.HasClientID {
			if id, ok := basicUser(authz); ok {
				t.ClientID = id
			}
		}
	case p["client_assertion"] != nil:
		t.ClientAuth = "assertion"
	case p["client_secret"] != nil:
		t.ClientAuth = "post"
	}
	t.Response = newTokenResponse(h)
	return t
}

func basicUser(authz string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(authz[6:]))
	if err != nil {
		return "", false
	}
	user, _, ok := strings.Cut(string(b), ":")
	if !ok {
		return "", false
	}
	if u, err := url.QueryUnescape(user); err == nil {
		user = u
	}
	return user, true
}

func newTokenResponse(h HTTP) TokenResponse {
	r := TokenResponse{Status: h.Status, Captured: h.HasResponse}
	if !h.HasResponse {
		return r
	}
	r.Doc = h.ResponseJSON
	r.CacheControl = strings.Join(h.ResponseHeaders["cache-control"], ", ")
	r.Pragma = strings.Join(h.ResponseHeaders["pragma"], ", ")
	for _, d := range strings.Split(strings.ToLower(r.CacheControl), ",") {
		if strings.TrimSpace(d) == "no-store" {
			r.NoStore = true
		}
	}
	if d := r.Doc; d != nil {
		r.AccessToken, r.HasAccessToken = strField(d, "access_token")
		r.HasAccessToken = r.HasAccessToken && r.AccessToken != ""
		r.TokenType, _ = strField(d, "token_type")
		_, r.HasExpiresIn = d["expires_in"]
		r.Scope, r.HasScope = strField(d, "scope")
		r.Scopes = oauth.SplitScope(r.Scope)
		r.RefreshToken, r.HasRefreshToken = strField(d, "refresh_token")
		r.HasRefreshToken = r.HasRefreshToken && r.RefreshToken != ""
		r.IDToken, r.HasIDToken = strField(d, "id_token")
		r.Error, _ = strField(d, "error")
	}
	r.OK = h.Status >= 200 && h.Status < 300 && r.HasAccessToken
	if r.HasAccessToken {
		r.AccessTokenJWT = DecodeJWT(r.AccessToken)
	}
	return r
}

func newResource(h HTTP) *Resource {
	r := &Resource{HTTP: h}
	authz := h.ex.Request.Headers.Get("Authorization")
	if scheme, cred, ok := strings.Cut(strings.TrimSpace(authz), " "); ok {
		r.AuthScheme = scheme
		r.Token = strings.TrimSpace(cred)
		r.HasToken = r.Token != ""
	} else if t, ok := nonEmpty(h.Query, "access_token"); ok {
		// A token in the URL (EventSource workarounds): still the token
		// this request presents.
		r.AuthScheme = "query"
		r.Token = t
		r.HasToken = true
	}
	if m, ok := h.RequestJSON["method"].(string); ok {
		r.MCPMethod = m
	}
	r.ProtocolVersion = h.ex.Request.Headers.Get("MCP-Protocol-Version")
	return r
}
