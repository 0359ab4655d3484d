package harbuild

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

// AS styles.
const (
	// Hydra is ORY Hydra v2: OpenID configuration only, /oauth2/* paths,
	// login and consent round trips, ory_ac_/ory_at_ tokens.
	Hydra = "hydra"
	// Generic is a plain RFC 8414 authorization server (node-style).
	Generic = "generic"
)

// Scenario describes one authorization of an MCP (or plain OAuth) client.
// The zero value of every knob is the conforming behaviour; set a knob to
// reproduce a real-world bug.
type Scenario struct {
	Seed uint64
	// Revision is the MCP protocol version the client proposes and the
	// server accepts in initialize; "" makes a plain OAuth flow with no
	// MCP traffic.
	Revision string
	// MCPURL is the MCP endpoint (default https://mcp.example.com/mcp).
	MCPURL string

	// Resource server.
	NoChallengeRM      bool     // 401 without resource_metadata
	ChallengeScope     string   // scope in the 401 ("" = none)
	NoPRM              bool     // PRM answers 404 everywhere
	PRMAtRoot          bool     // PRM only at the root (path variant 404)
	PRMScopes          []string // scopes_supported (nil = omitted)
	PRMResource        string   // resource member ("" = MCPURL, or origin at root)
	PRMAuthServers     []string // authorization_servers ("" = the issuer)
	NoWWWAuthenticate  bool     // 401 without any WWW-Authenticate header
	MCPUnauthenticated bool     // MCP server answers without asking for a token

	// Authorization server.
	AS                   string   // Hydra (default) or Generic
	Issuer               string   // default https://auth.example.com
	MetadataIssuer       string   // issuer member when it differs from Issuer
	ASScopes             []string // scopes_supported (nil = omitted)
	ASCodeChallenge      []string // code_challenge_methods_supported (nil = default)
	NoRegistrationEP     bool     // no registration_endpoint (pre-registered client)
	TokenNoStore         bool     // omit Cache-Control: no-store on token responses
	TokenCacheControl    string   // explicit Cache-Control for token responses
	TokenScopeInResponse bool     // include scope in the token response
	JWTAccessTokens      bool     // JWT access tokens (Hydra strategy jwt)
	GrantedScopes        []string // what the AS grants when the client asks for nothing

	// Client.
	ClientName       string
	DCR              bool    // register dynamically (default true unless PreRegistered)
	PreRegistered    bool    // use a pre-registered client_id
	DCRScope         *string // scope member of the registration request (nil = omitted)
	AuthScope        *string // scope of the authorization request (nil = omitted)
	PKCE             string  // "S256" (default), "plain", "none", "nomethod"
	NoState          bool
	NoResource       bool   // omit resource in the authorization request
	NoTokenResource  bool   // omit resource in the token request
	RedirectURI      string // default http://127.0.0.1:33418/oauth/callback
	TokenRedirectURI string // redirect_uri sent to the token endpoint ("" = same; "-" = omitted)
	WrongVerifier    bool   // send a verifier of another flow
	Confidential     bool   // client_secret_basic client
	Nonce            bool   // send an OIDC nonce

	// Capture.
	NoBrowserLeg     bool // a proxy capture of the client only: no authorize/callback
	NoBackChannel    bool // a browser capture only: no DCR/token/MCP calls
	NoCallback       bool // the callback request is not captured
	DeniedWithError  string
	Creator          string
	Start            time.Time
	SkipMCPDiscovery bool // plain OAuth: no 401/PRM
}

// Flow points at the entries a scenario wrote, for annotations.
type Flow struct {
	Challenge, PRM, PRMProbe, ASMProbe, ASM, Register *Entry
	Authorize, Callback, Token, Init, Initialized     *Entry
	ToolsList                                         *Entry
	Hops                                              []*Entry
	Code, Verifier, State, AccessToken, ClientID      string
}

func (s *Scenario) defaults() {
	if s.MCPURL == "" {
		s.MCPURL = "https://mcp.example.com/mcp"
	}
	if s.AS == "" {
		s.AS = Hydra
	}
	if s.Issuer == "" {
		s.Issuer = "https://auth.example.com"
	}
	if s.PKCE == "" {
		s.PKCE = "S256"
	}
	if s.RedirectURI == "" {
		s.RedirectURI = "http://127.0.0.1:33418/oauth/callback"
	}
	if s.ClientName == "" {
		s.ClientName = "Acme MCP Client"
	}
	if !s.PreRegistered && !s.NoRegistrationEP {
		s.DCR = true
	}
	if s.Start.IsZero() {
		s.Start = time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)
	}
	if s.Revision == "" {
		s.SkipMCPDiscovery = true
	}
}

// rng is the scenario's deterministic source of token-like values.
type rng struct{ r *rand.Rand }

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func (g rng) str(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = b64url[g.r.IntN(len(b64url))]
	}
	return string(b)
}

func (g rng) uuid() string {
	h := "0123456789abcdef"
	b := make([]byte, 36)
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
		case 14:
			b[i] = '4'
		default:
			b[i] = h[g.r.IntN(16)]
		}
	}
	return string(b)
}

func origin(u string) string {
	p, _ := url.Parse(u)
	return p.Scheme + "://" + p.Host
}

func path(u string) string {
	p, _ := url.Parse(u)
	return p.Path
}

func host(u string) string {
	p, _ := url.Parse(u)
	return p.Host
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Headers real programs send.
func nodeClientHeaders(u, contentType string, body string, extra ...[2]string) [][2]string {
	h := [][2]string{{"host", host(u)}, {"connection", "keep-alive"}}
	if contentType != "" {
		h = append(h, [2]string{"content-type", contentType})
	}
	h = append(h, extra...)
	h = append(h, [][2]string{{"accept-language", "*"}, {"sec-fetch-mode", "cors"}, {"user-agent", "node"}, {"accept-encoding", "gzip, deflate"}}...)
	if body != "" {
		h = append(h, [2]string{"content-length", fmt.Sprint(len(body))})
	}
	return h
}

const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func browserHeaders(u string) [][2]string {
	return [][2]string{
		{"Host", host(u)},
		{"Connection", "keep-alive"},
		{"Upgrade-Insecure-Requests", "1"},
		{"User-Agent", chromeUA},
		{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Mode", "navigate"},
		{"Sec-Fetch-Dest", "document"},
		{"Accept-Encoding", "gzip, deflate, br, zstd"},
		{"Accept-Language", "en-US,en;q=0.9"},
	}
}

var httpDate = "Fri, 20 Nov 2026 09:14:03 GMT"

func expressHeaders(contentType string, body string, extra ...[2]string) [][2]string {
	h := [][2]string{{"X-Powered-By", "Express"}}
	h = append(h, extra...)
	if contentType != "" {
		h = append(h, [2]string{"Content-Type", contentType})
	}
	h = append(h, [][2]string{{"Content-Length", fmt.Sprint(len(body))}, {"Date", httpDate}, {"Connection", "keep-alive"}, {"Keep-Alive", "timeout=5"}}...)
	return h
}

func hydraHeaders(contentType, body string, extra ...[2]string) [][2]string {
	h := [][2]string{}
	if contentType != "" {
		h = append(h, [2]string{"Content-Type", contentType})
	}
	h = append(h, extra...)
	h = append(h, [][2]string{{"Vary", "Origin"}, {"Date", httpDate}, {"Content-Length", fmt.Sprint(len(body))}}...)
	return h
}

func (s *Scenario) asHeaders(contentType, body string, extra ...[2]string) [][2]string {
	if s.AS == Hydra {
		return hydraHeaders(contentType, body, extra...)
	}
	return expressHeaders(contentType, body, extra...)
}

func (s *Scenario) ep(name string) string {
	iss := strings.TrimSuffix(s.Issuer, "/")
	if s.AS == Hydra {
		switch name {
		case "authorize":
			return iss + "/oauth2/auth"
		case "token":
			return iss + "/oauth2/token"
		case "register":
			return iss + "/oauth2/register"
		case "revoke":
			return iss + "/oauth2/revoke"
		case "userinfo":
			return iss + "/userinfo"
		case "jwks":
			return iss + "/.well-known/jwks.json"
		}
	}
	switch name {
	case "jwks":
		return iss + "/jwks"
	}
	return iss + "/" + name
}

func (s *Scenario) metadataURL() string {
	if s.AS == Hydra {
		return wellKnown(s.Issuer, "/.well-known/openid-configuration")
	}
	return wellKnown(s.Issuer, "/.well-known/oauth-authorization-server")
}

func wellKnown(id, suffix string) string {
	u, _ := url.Parse(id)
	return u.Scheme + "://" + u.Host + suffix + strings.TrimSuffix(u.Path, "/")
}

func (s *Scenario) metadata() map[string]any {
	iss := s.Issuer
	if s.MetadataIssuer != "" {
		iss = s.MetadataIssuer
	}
	ccm := s.ASCodeChallenge
	if ccm == nil {
		if s.AS == Hydra {
			ccm = []string{"plain", "S256"}
		} else {
			ccm = []string{"S256"}
		}
	}
	m := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                s.ep("authorize"),
		"token_endpoint":                        s.ep("token"),
		"jwks_uri":                              s.ep("jwks"),
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":      ccm,
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic", "private_key_jwt", "none"},
		"revocation_endpoint":                   s.ep("revoke"),
	}
	if s.AS == Hydra {
		m["response_types_supported"] = []string{"code", "code id_token", "id_token", "token id_token", "token", "token id_token code"}
		m["subject_types_supported"] = []string{"public"}
		m["id_token_signing_alg_values_supported"] = []string{"RS256"}
		m["userinfo_endpoint"] = s.ep("userinfo")
		m["response_modes_supported"] = []string{"query", "fragment", "form_post"}
		m["claims_supported"] = []string{"sub"}
		m["request_parameter_supported"] = true
		m["request_uri_parameter_supported"] = true
		m["require_request_uri_registration"] = true
		m["claims_parameter_supported"] = false
		m["backchannel_logout_supported"] = true
		m["backchannel_logout_session_supported"] = true
		m["frontchannel_logout_supported"] = true
		m["frontchannel_logout_session_supported"] = true
		m["end_session_endpoint"] = strings.TrimSuffix(s.Issuer, "/") + "/oauth2/sessions/logout"
		m["request_object_signing_alg_values_supported"] = []string{"none", "RS256", "ES256"}
		m["userinfo_signing_alg_values_supported"] = []string{"none", "RS256"}
	}
	if s.ASScopes != nil {
		m["scopes_supported"] = s.ASScopes
	}
	if !s.NoRegistrationEP {
		m["registration_endpoint"] = s.ep("register")
	}
	return m
}

// jwt builds an unsigned-looking but well-formed RS256 JWS (the signature
// is random bytes: oauthlint never verifies without keys).
func (g rng) jwt(header, claims map[string]any) string {
	enc := func(v any) string { return base64.RawURLEncoding.EncodeToString([]byte(mustJSON(v))) }
	return enc(header) + "." + enc(claims) + "." + g.str(342)
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Build writes the scenario's exchanges into h and returns the entries.
func (s Scenario) Build(h *HAR) *Flow {
	s.defaults()
	g := rng{rand.New(rand.NewPCG(s.Seed, 0x6f61757468))}
	f := &Flow{}
	mcpOrigin := origin(s.MCPURL)
	mcpPath := path(s.MCPURL)
	prmURL := wellKnown(s.MCPURL, "/.well-known/oauth-protected-resource")
	prmRoot := mcpOrigin + "/.well-known/oauth-protected-resource"
	initBody := func(id int) string {
		return mustJSON(map[string]any{"method": "initialize", "params": map[string]any{"protocolVersion": s.Revision, "capabilities": map[string]any{},
			"clientInfo": map[string]any{"name": "acme-mcp-client", "version": "2.4.1"}}, "jsonrpc": "2.0", "id": id})
	}
	// Every leg is written so the clock advances as in a full capture;
	// legs the capture does not hold are removed at the end.
	legOf := map[*Entry]string{}
	mark := func(from int, leg string) {
		for _, e := range h.Entries[from:] {
			if _, ok := legOf[e]; !ok {
				legOf[e] = leg
			}
		}
	}
	defer s.dropLegs(h, f, legOf)
	start := len(h.Entries)

	// 1. Unauthenticated MCP request → 401 challenge.
	if !s.SkipMCPDiscovery {
		var chal []string
		if !s.NoChallengeRM {
			chal = append(chal, fmt.Sprintf(`resource_metadata="%s"`, prmURL))
		}
		if s.ChallengeScope != "" {
			chal = append(chal, fmt.Sprintf(`scope="%s"`, s.ChallengeScope))
		}
		body := `{"error":"invalid_token","error_description":"Missing Authorization header"}`
		var extra [][2]string
		if !s.NoWWWAuthenticate {
			v := "Bearer"
			if len(chal) > 0 {
				v += " " + strings.Join(chal, ", ")
			}
			extra = append(extra, [2]string{"WWW-Authenticate", v})
		}
		b := initBody(0)
		f.Challenge = h.Add(&Entry{Method: "POST", URL: s.MCPURL,
			ReqHeaders: nodeClientHeaders(s.MCPURL, "application/json", b, [2]string{"accept", "application/json, text/event-stream"}),
			ReqBody:    b, ReqMime: "application/json",
			Status: 401, RespHeaders: expressHeaders("application/json; charset=utf-8", body, extra...), RespBody: body, RespMime: "application/json; charset=utf-8"})

		// 2. Protected resource metadata.
		prm := map[string]any{}
		res := s.PRMResource
		if res == "" {
			res = s.MCPURL
			if s.PRMAtRoot {
				res = mcpOrigin
			}
		}
		prm["resource"] = res
		as := s.PRMAuthServers
		if as == nil {
			as = []string{s.Issuer}
		}
		prm["authorization_servers"] = as
		if s.PRMScopes != nil {
			prm["scopes_supported"] = s.PRMScopes
		}
		prm["bearer_methods_supported"] = []string{"header"}
		prm["resource_name"] = "Acme Notes MCP"
		notFound := "Cannot GET " + path(prmURL)
		notFoundPage := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>" + notFound + "</pre>\n</body>\n</html>\n"
		get := func(u string) [][2]string {
			return nodeClientHeaders(u, "", "", [2]string{"accept", "*/*"}, [2]string{"mcp-protocol-version", s.Revision})
		}
		switch {
		case s.NoPRM:
			f.PRMProbe = h.Add(&Entry{Method: "GET", URL: prmURL, ReqHeaders: get(prmURL), Status: 404,
				RespHeaders: expressHeaders("text/html; charset=utf-8", notFoundPage, [2]string{"Content-Security-Policy", "default-src 'none'"}, [2]string{"X-Content-Type-Options", "nosniff"}),
				RespBody:    notFoundPage, RespMime: "text/html; charset=utf-8"})
			if mcpPath != "" && mcpPath != "/" {
				nf := strings.Replace(notFoundPage, notFound, "Cannot GET /.well-known/oauth-protected-resource", 1)
				h.Add(&Entry{Method: "GET", URL: prmRoot, ReqHeaders: get(prmRoot), Status: 404,
					RespHeaders: expressHeaders("text/html; charset=utf-8", nf, [2]string{"Content-Security-Policy", "default-src 'none'"}, [2]string{"X-Content-Type-Options", "nosniff"}),
					RespBody:    nf, RespMime: "text/html; charset=utf-8"})
			}
		case s.PRMAtRoot:
			if !s.NoChallengeRM {
				prmURL = prmRoot
			} else {
				f.PRMProbe = h.Add(&Entry{Method: "GET", URL: prmURL, ReqHeaders: get(prmURL), Status: 404,
					RespHeaders: expressHeaders("text/html; charset=utf-8", notFoundPage, [2]string{"Content-Security-Policy", "default-src 'none'"}, [2]string{"X-Content-Type-Options", "nosniff"}),
					RespBody:    notFoundPage, RespMime: "text/html; charset=utf-8"})
			}
			body := mustJSON(prm)
			f.PRM = h.Add(&Entry{Method: "GET", URL: prmRoot, ReqHeaders: get(prmRoot), Status: 200,
				RespHeaders: expressHeaders("application/json; charset=utf-8", body), RespBody: body, RespMime: "application/json; charset=utf-8"})
			if !s.NoChallengeRM {
				// The pointer named the root document.
				f.Challenge.RespHeaders = replaceHeader(f.Challenge.RespHeaders, "WWW-Authenticate", func(v string) string {
					return strings.Replace(v, wellKnown(s.MCPURL, "/.well-known/oauth-protected-resource"), prmRoot, 1)
				})
			}
		default:
			body := mustJSON(prm)
			f.PRM = h.Add(&Entry{Method: "GET", URL: prmURL, ReqHeaders: get(prmURL), Status: 200,
				RespHeaders: expressHeaders("application/json; charset=utf-8", body), RespBody: body, RespMime: "application/json; charset=utf-8"})
		}
	}

	// 3. Authorization server metadata (MCP 2025-11-25 probing order for
	// an issuer without a path: OAuth, then OpenID).
	{
		md := mustJSON(s.metadata())
		if s.AS == Hydra {
			probe := wellKnown(s.Issuer, "/.well-known/oauth-authorization-server")
			nf := `{"error":"Not Found","error_description":"The requested resource could not be found"}`
			f.ASMProbe = h.Add(&Entry{Method: "GET", URL: probe, ReqHeaders: nodeClientHeaders(probe, "", "", [2]string{"accept", "application/json"}),
				Status: 404, RespHeaders: hydraHeaders("application/json", nf), RespBody: nf, RespMime: "application/json"})
		}
		mu := s.metadataURL()
		f.ASM = h.Add(&Entry{Method: "GET", URL: mu, ReqHeaders: nodeClientHeaders(mu, "", "", [2]string{"accept", "application/json"}),
			Status: 200, RespHeaders: s.asHeaders("application/json; charset=utf-8", md, [2]string{"Cache-Control", "public, max-age=3600"}), RespBody: md, RespMime: "application/json; charset=utf-8"})
	}

	// 4. Registration.
	clientID := "acme-mcp-client"
	secret := ""
	authMethod := "none"
	if s.Confidential {
		authMethod = "client_secret_basic"
	}
	if s.DCR {
		meta := map[string]any{
			"client_name":                s.ClientName,
			"redirect_uris":              []string{s.RedirectURI},
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"response_types":             []string{"code"},
			"token_endpoint_auth_method": authMethod,
		}
		if s.DCRScope != nil {
			meta["scope"] = *s.DCRScope
		}
		body := mustJSON(meta)
		clientID = g.uuid()
		regScope := "offline_access offline openid" // Hydra's default when none is registered
		if s.DCRScope != nil {
			regScope = *s.DCRScope
		}
		resp := map[string]any{
			"client_id": clientID, "client_name": s.ClientName, "redirect_uris": []string{s.RedirectURI},
			"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
			"scope": regScope, "audience": []string{}, "owner": "", "policy_uri": "", "allowed_cors_origins": []string{},
			"tos_uri": "", "client_uri": "", "logo_uri": "", "client_secret_expires_at": 0, "subject_type": "public",
			"jwks": map[string]any{}, "token_endpoint_auth_method": authMethod, "userinfo_signed_response_alg": "none",
			"created_at": "2026-11-20T09:14:03Z", "updated_at": "2026-11-20T09:14:03.251866Z", "metadata": map[string]any{},
			"registration_access_token": "ory_at_" + g.str(43) + "." + g.str(43),
			"registration_client_uri":   strings.TrimSuffix(s.Issuer, "/") + "/oauth2/register/" + clientID,
			"skip_consent":              false, "skip_logout_consent": nil,
		}
		if s.Confidential {
			secret = g.str(32)
			resp["client_secret"] = secret
		}
		rb := mustJSON(resp)
		{
			f.Register = h.Add(&Entry{Method: "POST", URL: s.ep("register"),
				ReqHeaders: nodeClientHeaders(s.ep("register"), "application/json", body, [2]string{"accept", "application/json"}),
				ReqBody:    body, ReqMime: "application/json",
				Status: 201, RespHeaders: s.asHeaders("application/json; charset=utf-8", rb, [2]string{"Cache-Control", "no-store"}, [2]string{"Pragma", "no-cache"}), RespBody: rb, RespMime: "application/json; charset=utf-8"})
		}
	}
	f.ClientID = clientID

	// 5. Authorization request in the browser.
	verifier := g.str(43)
	state := g.str(32)
	nonce := g.str(24)
	q := url.Values{}
	params := [][2]string{{"response_type", "code"}, {"client_id", clientID}}
	switch s.PKCE {
	case "S256":
		params = append(params, [2]string{"code_challenge", s256(verifier)}, [2]string{"code_challenge_method", "S256"})
	case "plain":
		params = append(params, [2]string{"code_challenge", verifier}, [2]string{"code_challenge_method", "plain"})
	case "nomethod":
		params = append(params, [2]string{"code_challenge", verifier})
	}
	params = append(params, [2]string{"redirect_uri", s.RedirectURI})
	if !s.NoState {
		params = append(params, [2]string{"state", state})
	}
	if s.AuthScope != nil {
		params = append(params, [2]string{"scope", *s.AuthScope})
	}
	if !s.NoResource && !s.SkipMCPDiscovery {
		params = append(params, [2]string{"resource", s.MCPURL})
	}
	if s.Nonce {
		params = append(params, [2]string{"nonce", nonce})
	}
	var qs []string
	for _, p := range params {
		q.Set(p[0], p[1])
		qs = append(qs, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
	}
	authURL := s.ep("authorize") + "?" + strings.Join(qs, "&")
	code := "ory_ac_" + g.str(43) + "." + g.str(43)
	cb := s.RedirectURI + "?code=" + url.QueryEscape(code)
	if s.DeniedWithError != "" {
		cb = s.RedirectURI + "?error=" + url.QueryEscape(s.DeniedWithError) + "&error_description=" + url.QueryEscape("The requested scope is invalid, unknown, or malformed.")
	}
	granted := s.GrantedScopes
	if s.AuthScope != nil {
		granted = strings.Fields(*s.AuthScope)
	}
	if s.AS == Hydra && s.DeniedWithError == "" {
		cb += "&scope=" + url.QueryEscape(strings.Join(granted, " "))
	}
	if !s.NoState {
		cb += "&state=" + url.QueryEscape(state)
	}
	f.Code, f.Verifier, f.State = code, verifier, state
	mark(start, "back")
	start = len(h.Entries)
	{
		if s.AS == Hydra {
			loginChallenge := g.str(43)
			login := "https://login.example.com/login?login_challenge=" + loginChallenge
			f.Authorize = h.Add(&Entry{Method: "GET", URL: authURL, ReqHeaders: browserHeaders(authURL), Status: 302,
				RespHeaders: hydraHeaders("", "", [2]string{"Location", login}, [2]string{"Set-Cookie", "ory_hydra_login_csrf_dev_134972871=" + g.str(88) + "; Path=/; Expires=Fri, 20 Nov 2026 09:44:03 GMT; Max-Age=1800; HttpOnly; Secure; SameSite=None"})})
			lp := h.Add(&Entry{Method: "GET", URL: login, ReqHeaders: browserHeaders(login), Status: 302,
				RespHeaders: expressHeaders("text/plain; charset=utf-8", "", [2]string{"Location", authURL + "&login_verifier=" + g.str(32)})})
			f.Hops = append(f.Hops, lp)
			lv := lp.RespHeaders[1][1]
			consent := "https://login.example.com/consent?consent_challenge=" + g.str(43)
			hop1 := h.Add(&Entry{Method: "GET", URL: lv, ReqHeaders: append(browserHeaders(lv), [2]string{"Cookie", "ory_hydra_login_csrf_dev_134972871=" + g.str(88)}), Status: 302,
				RespHeaders: hydraHeaders("", "", [2]string{"Location", consent})})
			cp := h.Add(&Entry{Method: "GET", URL: consent, ReqHeaders: browserHeaders(consent), Status: 302,
				RespHeaders: expressHeaders("text/plain; charset=utf-8", "", [2]string{"Location", authURL + "&consent_verifier=" + g.str(32)})})
			cv := cp.RespHeaders[1][1]
			hop2 := h.Add(&Entry{Method: "GET", URL: cv, ReqHeaders: append(browserHeaders(cv), [2]string{"Cookie", "ory_hydra_consent_csrf_dev_134972871=" + g.str(88)}), Status: 303,
				RespHeaders: hydraHeaders("", "", [2]string{"Location", cb})})
			f.Hops = append(f.Hops, hop1, cp, hop2)
		} else {
			f.Authorize = h.Add(&Entry{Method: "GET", URL: authURL, ReqHeaders: browserHeaders(authURL), Status: 302,
				RespHeaders: expressHeaders("text/plain; charset=utf-8", "Found. Redirecting to "+cb, [2]string{"Location", cb}), RespBody: "Found. Redirecting to " + cb, RespMime: "text/plain; charset=utf-8"})
		}
		if !s.NoCallback {
			page := "<html><body><h1>Authorization complete</h1><p>You can close this window and return to Acme.</p></body></html>"
			f.Callback = h.Add(&Entry{Method: "GET", URL: cb, ReqHeaders: browserHeaders(cb), Status: 200,
				RespHeaders: [][2]string{{"Content-Type", "text/html"}, {"Date", httpDate}, {"Connection", "close"}, {"Content-Length", fmt.Sprint(len(page))}},
				RespBody:    page, RespMime: "text/html"})
		}
	}
	mark(start, "browser")
	start = len(h.Entries)
	defer func() { mark(start, "back") }()
	if s.DeniedWithError != "" {
		return f
	}

	// 6. Token request.
	form := [][2]string{{"grant_type", "authorization_code"}, {"code", code}}
	if s.PKCE != "none" {
		v := verifier
		if s.WrongVerifier {
			v = g.str(43)
		}
		form = append(form, [2]string{"code_verifier", v})
	}
	switch s.TokenRedirectURI {
	case "":
		form = append(form, [2]string{"redirect_uri", s.RedirectURI})
	case "-":
	default:
		form = append(form, [2]string{"redirect_uri", s.TokenRedirectURI})
	}
	if !s.NoTokenResource && !s.SkipMCPDiscovery {
		form = append(form, [2]string{"resource", s.MCPURL})
	}
	extraAuth := [][2]string{}
	if s.Confidential {
		extraAuth = append(extraAuth, [2]string{"authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secret)))})
	} else {
		form = append(form, [2]string{"client_id", clientID})
	}
	var fb []string
	for _, p := range form {
		fb = append(fb, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
	}
	tokBody := strings.Join(fb, "&")
	var at string
	if s.JWTAccessTokens {
		now := s.Start.Unix() + 5
		claims := map[string]any{"aud": []string{}, "client_id": clientID, "exp": now + 3600, "ext": map[string]any{}, "iat": now,
			"iss": s.Issuer, "jti": g.uuid(), "nbf": now, "scp": granted, "sub": "user-8f14e45f"}
		if !s.NoResource && !s.SkipMCPDiscovery {
			claims["aud"] = []string{s.MCPURL}
		}
		at = g.jwt(map[string]any{"alg": "RS256", "kid": g.uuid(), "typ": "JWT"}, claims)
	} else {
		at = "ory_at_" + g.str(43) + "." + g.str(43)
	}
	f.AccessToken = at
	tr := map[string]any{"access_token": at, "expires_in": 3599, "token_type": "bearer"}
	if s.TokenScopeInResponse {
		tr["scope"] = strings.Join(granted, " ")
	}
	if containsStr(granted, "offline_access") || containsStr(granted, "offline") {
		tr["refresh_token"] = "ory_rt_" + g.str(43) + "." + g.str(43)
	}
	if containsStr(granted, "openid") {
		// An OpenID provider answers an openid request with an ID token.
		now := s.Start.Unix() + 5
		claims := map[string]any{"iss": s.Issuer, "sub": "user-8f14e45f", "aud": []string{clientID}, "iat": now, "exp": now + 3600,
			"auth_time": now - 2, "at_hash": g.str(22), "jti": g.uuid(), "rat": now - 4, "sid": g.uuid()}
		if s.Nonce {
			claims["nonce"] = nonce
		}
		tr["id_token"] = g.jwt(map[string]any{"alg": "RS256", "kid": g.uuid(), "typ": "JWT"}, claims)
	}
	trb := mustJSON(tr)
	cc := [][2]string{{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}}
	if s.TokenCacheControl != "" {
		cc = [][2]string{{"Cache-Control", s.TokenCacheControl}}
	}
	if s.TokenNoStore {
		cc = nil
	}
	reqExtra := append([][2]string{{"accept", "application/json"}}, extraAuth...)
	f.Token = h.Add(&Entry{Method: "POST", URL: s.ep("token"),
		ReqHeaders: nodeClientHeaders(s.ep("token"), "application/x-www-form-urlencoded", tokBody, reqExtra...),
		ReqBody:    tokBody, ReqMime: "application/x-www-form-urlencoded",
		Status: 200, RespHeaders: s.asHeaders("application/json;charset=UTF-8", trb, cc...), RespBody: trb, RespMime: "application/json;charset=UTF-8"})

	// 7. MCP session with the token.
	if s.SkipMCPDiscovery {
		return f
	}
	sid := g.uuid()
	b := initBody(1)
	res := fmt.Sprintf("event: message\ndata: %s\n\n", mustJSON(map[string]any{"result": map[string]any{"protocolVersion": s.Revision,
		"capabilities": map[string]any{"tools": map[string]any{"listChanged": true}}, "serverInfo": map[string]any{"name": "acme-notes", "version": "0.9.3"}}, "jsonrpc": "2.0", "id": 1}))
	bearer := [2]string{"authorization", "Bearer " + at}
	f.Init = h.Add(&Entry{Method: "POST", URL: s.MCPURL,
		ReqHeaders: nodeClientHeaders(s.MCPURL, "application/json", b, [2]string{"accept", "application/json, text/event-stream"}, bearer),
		ReqBody:    b, ReqMime: "application/json",
		Status: 200, RespHeaders: expressHeaders("text/event-stream", res, [2]string{"mcp-session-id", sid}, [2]string{"Cache-Control", "no-cache"}), RespBody: res, RespMime: "text/event-stream"})
	nb := `{"method":"notifications/initialized","jsonrpc":"2.0"}`
	f.Initialized = h.Add(&Entry{Method: "POST", URL: s.MCPURL,
		ReqHeaders: nodeClientHeaders(s.MCPURL, "application/json", nb, [2]string{"accept", "application/json, text/event-stream"}, bearer, [2]string{"mcp-session-id", sid}, [2]string{"mcp-protocol-version", s.Revision}),
		ReqBody:    nb, ReqMime: "application/json", Status: 202, RespHeaders: expressHeaders("", "", [2]string{"mcp-session-id", sid})})
	lb := `{"method":"tools/list","params":{},"jsonrpc":"2.0","id":2}`
	lr := fmt.Sprintf("event: message\ndata: %s\n\n", `{"result":{"tools":[{"name":"search_notes","description":"Full-text search over the user's notes","inputSchema":{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}}]},"jsonrpc":"2.0","id":2}`)
	f.ToolsList = h.Add(&Entry{Method: "POST", URL: s.MCPURL,
		ReqHeaders: nodeClientHeaders(s.MCPURL, "application/json", lb, [2]string{"accept", "application/json, text/event-stream"}, bearer, [2]string{"mcp-session-id", sid}, [2]string{"mcp-protocol-version", s.Revision}),
		ReqBody:    lb, ReqMime: "application/json", Status: 200, RespHeaders: expressHeaders("text/event-stream", lr, [2]string{"mcp-session-id", sid}), RespBody: lr, RespMime: "text/event-stream"})
	return f
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func replaceHeader(hs [][2]string, name string, fn func(string) string) [][2]string {
	for i := range hs {
		if strings.EqualFold(hs[i][0], name) {
			hs[i][1] = fn(hs[i][1])
		}
	}
	return hs
}

// Str returns a pointer to s, for the optional scope knobs.
func Str(s string) *string { return &s }

// dropLegs removes the entries of legs the capture does not hold (their
// time still passed) and clears the Flow's pointers to them.
func (s *Scenario) dropLegs(h *HAR, f *Flow, legOf map[*Entry]string) {
	drop := func(e *Entry) bool {
		switch legOf[e] {
		case "back":
			return s.NoBackChannel
		case "browser":
			return s.NoBrowserLeg || (s.NoCallback && e == f.Callback)
		}
		return false
	}
	kept := h.Entries[:0]
	for _, e := range h.Entries {
		if !drop(e) {
			kept = append(kept, e)
		}
	}
	h.Entries = kept
	for _, p := range []**Entry{&f.Challenge, &f.PRM, &f.PRMProbe, &f.ASMProbe, &f.ASM, &f.Register, &f.Authorize, &f.Callback, &f.Token, &f.Init, &f.Initialized, &f.ToolsList} {
		if *p != nil && drop(*p) {
			*p = nil
		}
	}
	var hops []*Entry
	for _, e := range f.Hops {
		if !drop(e) {
			hops = append(hops, e)
		}
	}
	f.Hops = hops
}
