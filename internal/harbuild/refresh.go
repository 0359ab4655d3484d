package harbuild

// Token endpoint traffic beyond the first code exchange: refreshes and
// later MCP calls of a built scenario (Session), client_credentials
// clients and device-code (RFC 8628) clients. As in mcp.go, the zero value
// of every knob is the conforming behaviour, and each knob reproduces one
// real-world bug.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Session continues a built scenario: the client keeps the tokens the AS
// issued, refreshes them and calls the MCP server again.
type Session struct {
	S Scenario
	H *HAR
	F *Flow
	// RT and AT are the refresh and access token the client holds now;
	// Granted is the scope of the original grant.
	RT, AT  string
	Granted []string
	// Refreshes are the refresh entries written so far, in order.
	Refreshes []*Entry

	g      rng
	secret string
	sid    string
	calls  int
}

// Session starts a session on the flow Build wrote into h. s must be the
// scenario that built it.
func (s Scenario) Session(h *HAR, f *Flow) *Session {
	s.defaults()
	x := &Session{S: s, H: h, F: f, AT: f.AccessToken,
		g: rng{rand.New(rand.NewPCG(s.Seed, 0x72656672657368))}}
	if f.Token != nil {
		x.RT = jsonString(f.Token.RespBody, "refresh_token")
	}
	if f.Register != nil {
		x.secret = jsonString(f.Register.RespBody, "client_secret")
	}
	if f.Init != nil {
		x.sid = f.Init.RespHeader("mcp-session-id")
	}
	x.Granted = s.GrantedScopes
	if s.AuthScope != nil {
		x.Granted = strings.Fields(*s.AuthScope)
	}
	return x
}

func jsonString(body, member string) string {
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) != nil {
		return ""
	}
	v, _ := m[member].(string)
	return v
}

// Refresh is one refresh_token grant request and the AS's answer.
type Refresh struct {
	// After is the time since the previous exchange (default 50 minutes:
	// the client refreshes shortly before the hour-long token expires).
	After time.Duration
	// At sets the request time exactly (overrides After).
	At time.Time
	// RefreshToken is the refresh token presented ("" = the one the client
	// holds).
	RefreshToken string
	Scope        string // scope parameter ("" = omitted)
	NoResource   bool   // omit the resource parameter
	Resource     string // resource parameter ("" = the MCP URL)
	NoClientID   bool   // a public client omits client_id
	NoClientAuth bool   // a confidential client sends only client_id, no credentials
	DPoP         string // DPoP proof header ("" = none)
	// Endpoint overrides the token endpoint the client posts to (a
	// guessed URL instead of the metadata's token_endpoint).
	Endpoint string

	// The AS's answer.
	Status        int    // HTTP status (default 200, or 400 with Error)
	Error         string // error code of a failed refresh ("invalid_grant")
	NoRotation    bool   // the response carries no refresh_token
	SameRT        bool   // the response re-issues the presented refresh token
	ResponseScope string // scope member of the response ("" = as the scenario's code exchange)
	TokenType     string // token_type (default "bearer")
	// Claims override claims of a JWT access token (JWT scenarios; a nil
	// value deletes the claim).
	Claims map[string]any
	// KeepOldRT makes the client keep the refresh token it presented
	// instead of storing the rotated one (CC#66210).
	KeepOldRT bool
}

// Refresh writes a refresh request and the AS's answer, and updates the
// tokens the client holds (unless the refresh failed).
func (x *Session) Refresh(r Refresh) *Entry {
	s := x.S
	rt := r.RefreshToken
	if rt == "" {
		rt = x.RT
	}
	form := [][2]string{{"grant_type", "refresh_token"}, {"refresh_token", rt}}
	if r.Scope != "" {
		form = append(form, [2]string{"scope", r.Scope})
	}
	if !r.NoResource && !s.SkipMCPDiscovery {
		res := r.Resource
		if res == "" {
			res = s.MCPURL
		}
		form = append(form, [2]string{"resource", res})
	}
	var extra [][2]string
	extra = append(extra, [2]string{"accept", "application/json"})
	if s.Confidential && !r.NoClientAuth {
		extra = append(extra, [2]string{"authorization", basicAuth(x.F.ClientID, x.secret)})
	} else if !r.NoClientID {
		form = append(form, [2]string{"client_id", x.F.ClientID})
	}
	if r.DPoP != "" {
		extra = append(extra, [2]string{"dpop", r.DPoP})
	}
	body := formBody(form)
	after := r.After
	if after == 0 {
		after = 50 * time.Minute
	}
	ep := r.Endpoint
	if ep == "" {
		ep = s.ep("token")
	}
	e := &Entry{Method: "POST", URL: ep, Time: r.At,
		ReqHeaders: nodeClientHeaders(ep, "application/x-www-form-urlencoded", body, extra...),
		ReqBody:    body, ReqMime: "application/x-www-form-urlencoded"}
	if r.At.IsZero() {
		x.H.Wait(after)
	}
	status := r.Status
	if r.Error != "" {
		if status == 0 {
			status = 400
		}
		x.errorResponse(e, status, r.Error, refreshErrorText[r.Error])
		dated(x.H.Add(e))
		x.Refreshes = append(x.Refreshes, e)
		return e
	}
	if status == 0 {
		status = 200
	}
	granted := x.Granted
	if r.Scope != "" {
		granted = strings.Fields(r.Scope)
	}
	x.H.Add(e)
	at := x.accessToken(e.Time, granted, r.Claims)
	tt := r.TokenType
	if tt == "" {
		tt = "bearer"
	}
	tr := map[string]any{"access_token": at, "expires_in": 3599, "token_type": tt}
	switch {
	case r.ResponseScope != "":
		tr["scope"] = r.ResponseScope
	case s.TokenScopeInResponse:
		tr["scope"] = strings.Join(granted, " ")
	}
	newRT := ""
	switch {
	case r.NoRotation:
	case r.SameRT:
		newRT = rt
	default:
		newRT = x.refreshToken()
	}
	if newRT != "" {
		tr["refresh_token"] = newRT
	}
	rb := mustJSON(tr)
	e.Status = status
	e.RespHeaders = s.asHeaders("application/json;charset=UTF-8", rb, [2]string{"Cache-Control", "no-store"}, [2]string{"Pragma", "no-cache"})
	e.RespBody, e.RespMime = rb, "application/json;charset=UTF-8"
	dated(e)
	x.AT = at
	if newRT != "" && !r.KeepOldRT {
		x.RT = newRT
	}
	x.Refreshes = append(x.Refreshes, e)
	return e
}

var refreshErrorText = map[string]string{
	"invalid_grant":  "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
	"invalid_scope":  "The requested scope is invalid, unknown, or malformed.",
	"invalid_client": "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).",
}

func (x *Session) errorResponse(e *Entry, status int, code, desc string) {
	if desc == "" {
		desc = "The request could not be processed."
	}
	b := mustJSON(map[string]any{"error": code, "error_description": desc})
	e.Status = status
	e.RespHeaders = x.S.asHeaders("application/json;charset=UTF-8", b, [2]string{"Cache-Control", "no-store"}, [2]string{"Pragma", "no-cache"})
	e.RespBody, e.RespMime = b, "application/json;charset=UTF-8"
}

func (x *Session) refreshToken() string {
	if x.S.AS == Hydra {
		return "ory_rt_" + x.g.str(43) + "." + x.g.str(43)
	}
	return x.g.str(48)
}

// accessToken issues an access token like the scenario's AS does: an
// opaque Hydra token, or a JWT with the scenario's claims.
func (x *Session) accessToken(at time.Time, granted []string, over map[string]any) string {
	s := x.S
	if !s.JWTAccessTokens {
		if s.AS == Hydra {
			return "ory_at_" + x.g.str(43) + "." + x.g.str(43)
		}
		return x.g.str(40)
	}
	now := at.Unix()
	claims := map[string]any{"aud": []string{}, "client_id": x.F.ClientID, "exp": now + 3600, "ext": map[string]any{}, "iat": now,
		"iss": s.Issuer, "jti": x.g.uuid(), "nbf": now, "scp": granted, "sub": "user-8f14e45f"}
	if !s.NoResource && !s.SkipMCPDiscovery {
		claims["aud"] = []string{s.MCPURL}
	}
	for k, v := range over {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return x.g.jwt(map[string]any{"alg": "RS256", "kid": x.g.uuid(), "typ": "JWT"}, claims)
}

// Secret is the client secret the registration issued ("" for public
// clients).
func (x *Session) Secret() string { return x.secret }

// JWT builds a well-formed compact JWS with the given header and claims
// (the signature is random bytes, as in Build).
func (x *Session) JWT(header, claims map[string]any) string { return x.g.jwt(header, claims) }

// Call is one MCP request of the session.
type Call struct {
	After time.Duration // time since the previous exchange (default 2 s)
	// Token is the bearer sent ("" = the access token the client holds;
	// "-" = none).
	Token string
	// Status is the MCP server's answer (default 200); 401 and 403 carry
	// WWWAuthenticate.
	Status          int
	WWWAuthenticate string
}

// Call writes a tools/call request with the session's token and the
// server's answer.
func (x *Session) Call(c Call) *Entry {
	s := x.S
	after := c.After
	if after == 0 {
		after = 2 * time.Second
	}
	x.H.Wait(after)
	x.calls++
	id := 10 + x.calls
	b := mustJSON(map[string]any{"method": "tools/call", "params": map[string]any{"name": "search_notes", "arguments": map[string]any{"query": "quarterly plan"}},
		"jsonrpc": "2.0", "id": id})
	extra := [][2]string{{"accept", "application/json, text/event-stream"}}
	tok := c.Token
	if tok == "" {
		tok = x.AT
	}
	if tok != "-" {
		extra = append(extra, [2]string{"authorization", "Bearer " + tok})
	}
	if x.sid != "" {
		extra = append(extra, [2]string{"mcp-session-id", x.sid})
	}
	extra = append(extra, [2]string{"mcp-protocol-version", s.Revision})
	e := &Entry{Method: "POST", URL: s.MCPURL,
		ReqHeaders: nodeClientHeaders(s.MCPURL, "application/json", b, extra...),
		ReqBody:    b, ReqMime: "application/json"}
	switch st := c.Status; {
	case st == 0 || st == 200:
		res := fmt.Sprintf("event: message\ndata: %s\n\n", mustJSON(map[string]any{"result": map[string]any{
			"content": []any{map[string]any{"type": "text", "text": "Q3 plan: ship the sync engine; hire two SREs."}}, "isError": false}, "jsonrpc": "2.0", "id": id}))
		e.Status = 200
		e.RespHeaders = expressHeaders("text/event-stream", res, [2]string{"mcp-session-id", x.sid}, [2]string{"Cache-Control", "no-cache"})
		e.RespBody, e.RespMime = res, "text/event-stream"
	default:
		code, desc := "invalid_token", "The access token is invalid or expired"
		if st == 403 {
			code, desc = "insufficient_scope", "The request requires higher privileges than provided by the access token"
		}
		body := mustJSON(map[string]any{"error": code, "error_description": desc})
		var hs [][2]string
		if c.WWWAuthenticate != "" {
			hs = append(hs, [2]string{"WWW-Authenticate", c.WWWAuthenticate})
		}
		e.Status = st
		e.RespHeaders = expressHeaders("application/json; charset=utf-8", body, hs...)
		e.RespBody, e.RespMime = body, "application/json; charset=utf-8"
	}
	return dated(x.H.Add(e))
}

// PRMURL is the protected resource metadata URL of the scenario's MCP
// server (path-inserted well-known URL).
func (x *Session) PRMURL() string {
	return wellKnown(x.S.MCPURL, "/.well-known/oauth-protected-resource")
}

// dated sets the response Date header to the entry's time: the AS and the
// MCP server answer at the time of the request, not at the capture start.
func dated(e *Entry) *Entry {
	if e.Status != 0 && !e.Time.IsZero() {
		e.SetRespHeader("Date", e.Time.UTC().Format(http.TimeFormat))
	}
	return e
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func formBody(form [][2]string) string {
	parts := make([]string, len(form))
	for i, p := range form {
		parts[i] = url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1])
	}
	return strings.Join(parts, "&")
}

// ClientCredentials describes a service client using the
// client_credentials grant against a generic AS (no browser, no MCP
// discovery: a plain OAuth 2.0 capture).
type ClientCredentials struct {
	ClientID     string // default "acme-report-runner"
	Scope        string // scope parameter ("" = omitted)
	NoClientAuth bool   // send only client_id, no credentials
	// IssueRefreshToken makes the AS return a refresh token.
	IssueRefreshToken bool
	// API is the protected API called with the token (default
	// https://api.example.com/v1/reports).
	API string
}

// CCFlow points at the entries of a client_credentials capture.
type CCFlow struct {
	ASM, Token, Call    *Entry
	ClientID, Secret    string
	AccessToken, Issuer string
}

// BuildClientCredentials writes a service client's metadata fetch,
// client_credentials token request and one API call.
func (s Scenario) BuildClientCredentials(h *HAR, c ClientCredentials) *CCFlow {
	s.defaults()
	s.AS = Generic
	if s.ASScopes == nil {
		s.ASScopes = []string{"reports:read", "reports:write"}
	}
	g := rng{rand.New(rand.NewPCG(s.Seed, 0x636c69656e74))}
	f := &CCFlow{ClientID: c.ClientID, Issuer: s.Issuer}
	if f.ClientID == "" {
		f.ClientID = "acme-report-runner"
	}
	f.Secret = g.str(32)
	api := c.API
	if api == "" {
		api = "https://api.example.com/v1/reports"
	}
	md := mustJSON(s.metadata())
	mu := s.metadataURL()
	f.ASM = h.Add(&Entry{Method: "GET", URL: mu, ReqHeaders: nodeClientHeaders(mu, "", "", [2]string{"accept", "application/json"}),
		Status: 200, RespHeaders: s.asHeaders("application/json; charset=utf-8", md, [2]string{"Cache-Control", "public, max-age=3600"}), RespBody: md, RespMime: "application/json; charset=utf-8"})
	form := [][2]string{{"grant_type", "client_credentials"}}
	if c.Scope != "" {
		form = append(form, [2]string{"scope", c.Scope})
	}
	extra := [][2]string{{"accept", "application/json"}}
	if c.NoClientAuth {
		form = append(form, [2]string{"client_id", f.ClientID})
	} else {
		extra = append(extra, [2]string{"authorization", basicAuth(f.ClientID, f.Secret)})
	}
	body := formBody(form)
	f.AccessToken = g.str(40)
	tr := map[string]any{"access_token": f.AccessToken, "token_type": "Bearer", "expires_in": 3600}
	if c.Scope != "" {
		tr["scope"] = c.Scope
	}
	if c.IssueRefreshToken {
		tr["refresh_token"] = g.str(48)
	}
	rb := mustJSON(tr)
	h.Wait(150 * time.Millisecond)
	f.Token = dated(h.Add(&Entry{Method: "POST", URL: s.ep("token"),
		ReqHeaders: nodeClientHeaders(s.ep("token"), "application/x-www-form-urlencoded", body, extra...),
		ReqBody:    body, ReqMime: "application/x-www-form-urlencoded",
		Status: 200, RespHeaders: s.asHeaders("application/json; charset=utf-8", rb, [2]string{"Cache-Control", "no-store"}, [2]string{"Pragma", "no-cache"}),
		RespBody: rb, RespMime: "application/json; charset=utf-8"}))
	res := `{"reports":[{"id":"r-2291","title":"Q3 revenue","status":"ready"}]}`
	f.Call = dated(h.Add(&Entry{Method: "GET", URL: api,
		ReqHeaders: nodeClientHeaders(api, "", "", [2]string{"accept", "application/json"}, [2]string{"authorization", "Bearer " + f.AccessToken}),
		Status:     200, RespHeaders: expressHeaders("application/json; charset=utf-8", res), RespBody: res, RespMime: "application/json; charset=utf-8"}))
	return f
}

// Device describes a device-code (RFC 8628) client: a CLI that asks for a
// user code, then polls the token endpoint until the user approves.
type Device struct {
	// Interval is the interval member of the device authorization
	// response (0 = omitted: clients must wait 5 s).
	Interval int
	// Gaps is the wait before each poll (the first is measured from the
	// device authorization response); the last poll succeeds. Default:
	// three polls 5 s apart.
	Gaps []time.Duration
	// SlowDown lists the polls (0-based) answered slow_down.
	SlowDown []int
	// GrantType is the grant_type the polls send ("" = the RFC 8628 URN).
	GrantType    string
	NoDeviceCode bool   // polls omit device_code
	Scope        string // scope of the device authorization request
}

// DeviceFlow points at the entries of a device-code capture.
type DeviceFlow struct {
	ASM, DeviceAuth *Entry
	Polls           []*Entry
	DeviceCode      string
	ClientID        string
}

// BuildDevice writes a public CLI client's metadata fetch, device
// authorization request and token polls against a generic AS.
func (s Scenario) BuildDevice(h *HAR, d Device) *DeviceFlow {
	s.defaults()
	s.AS = Generic
	if s.ASScopes == nil {
		s.ASScopes = []string{"openid", "profile", "offline_access"}
	}
	g := rng{rand.New(rand.NewPCG(s.Seed, 0x646576696365))}
	f := &DeviceFlow{ClientID: "acme-cli", DeviceCode: g.str(43)}
	daURL := strings.TrimSuffix(s.Issuer, "/") + "/device_authorization"
	m := s.metadata()
	m["device_authorization_endpoint"] = daURL
	m["grant_types_supported"] = []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"}
	md := mustJSON(m)
	mu := s.metadataURL()
	f.ASM = h.Add(&Entry{Method: "GET", URL: mu, ReqHeaders: nodeClientHeaders(mu, "", "", [2]string{"accept", "application/json"}),
		Status: 200, RespHeaders: s.asHeaders("application/json; charset=utf-8", md, [2]string{"Cache-Control", "public, max-age=3600"}), RespBody: md, RespMime: "application/json; charset=utf-8"})
	scope := d.Scope
	if scope == "" {
		scope = "openid offline_access"
	}
	daBody := formBody([][2]string{{"client_id", f.ClientID}, {"scope", scope}})
	userCode := strings.ToUpper(g.str(4) + "-" + g.str(4))
	da := map[string]any{"device_code": f.DeviceCode, "user_code": userCode, "verification_uri": strings.TrimSuffix(s.Issuer, "/") + "/activate",
		"verification_uri_complete": strings.TrimSuffix(s.Issuer, "/") + "/activate?user_code=" + userCode, "expires_in": 900}
	if d.Interval > 0 {
		da["interval"] = d.Interval
	}
	dab := mustJSON(da)
	f.DeviceAuth = h.Add(&Entry{Method: "POST", URL: daURL,
		ReqHeaders: nodeClientHeaders(daURL, "application/x-www-form-urlencoded", daBody, [2]string{"accept", "application/json"}),
		ReqBody:    daBody, ReqMime: "application/x-www-form-urlencoded",
		Status: 200, RespHeaders: s.asHeaders("application/json; charset=utf-8", dab, [2]string{"Cache-Control", "no-store"}), RespBody: dab, RespMime: "application/json; charset=utf-8"})
	gaps := d.Gaps
	if gaps == nil {
		gaps = []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}
	}
	gt := d.GrantType
	if gt == "" {
		gt = "urn:ietf:params:oauth:grant-type:device_code"
	}
	slow := map[int]bool{}
	for _, i := range d.SlowDown {
		slow[i] = true
	}
	t := f.DeviceAuth.Time
	for i, gap := range gaps {
		form := [][2]string{{"grant_type", gt}}
		if !d.NoDeviceCode {
			form = append(form, [2]string{"device_code", f.DeviceCode})
		}
		form = append(form, [2]string{"client_id", f.ClientID})
		body := formBody(form)
		t = t.Add(gap)
		e := &Entry{Method: "POST", URL: s.ep("token"), Time: t,
			ReqHeaders: nodeClientHeaders(s.ep("token"), "application/x-www-form-urlencoded", body, [2]string{"accept", "application/json"}),
			ReqBody:    body, ReqMime: "application/x-www-form-urlencoded"}
		var rb string
		switch {
		case i == len(gaps)-1:
			rb = mustJSON(map[string]any{"access_token": g.str(40), "token_type": "Bearer", "expires_in": 3600, "refresh_token": g.str(48), "scope": scope,
				"id_token": g.jwt(map[string]any{"alg": "RS256", "kid": g.uuid(), "typ": "JWT"}, map[string]any{"iss": s.Issuer, "sub": "user-8f14e45f",
					"aud": f.ClientID, "exp": t.Unix() + 3600, "iat": t.Unix(), "auth_time": t.Unix() - 4})})
			e.Status = 200
		case slow[i]:
			rb = `{"error":"slow_down","error_description":"Polling too frequently; increase the interval by 5 seconds"}`
			e.Status = 400
		default:
			rb = `{"error":"authorization_pending","error_description":"The user has not yet approved the request"}`
			e.Status = 400
		}
		e.RespHeaders = s.asHeaders("application/json; charset=utf-8", rb, [2]string{"Cache-Control", "no-store"}, [2]string{"Pragma", "no-cache"})
		e.RespBody, e.RespMime = rb, "application/json; charset=utf-8"
		f.Polls = append(f.Polls, dated(h.Add(e)))
	}
	return f
}

// Drop removes entries from the HAR (legs a capture does not hold, or calls
// a failing client never made); their time still passed.
func (h *HAR) Drop(es ...*Entry) {
	gone := map[*Entry]bool{}
	for _, e := range es {
		gone[e] = true
	}
	kept := h.Entries[:0]
	for _, e := range h.Entries {
		if !gone[e] {
			kept = append(kept, e)
		}
	}
	h.Entries = kept
}

// ReplaceAll replaces a value wherever the HAR carries it (URLs, header
// values, bodies), e.g. to swap a token or code the AS issued for one with
// other properties. Content-Length headers follow the bodies.
func (h *HAR) ReplaceAll(old, new string) { ReplaceIn(h.Entries, old, new) }

// ReplaceIn is ReplaceAll restricted to some entries (one flow of a
// capture holding several).
func ReplaceIn(es []*Entry, old, new string) {
	if old == "" {
		return
	}
	for _, e := range es {
		e.URL = strings.ReplaceAll(e.URL, old, new)
		for i := range e.ReqHeaders {
			e.ReqHeaders[i][1] = strings.ReplaceAll(e.ReqHeaders[i][1], old, new)
		}
		for i := range e.RespHeaders {
			e.RespHeaders[i][1] = strings.ReplaceAll(e.RespHeaders[i][1], old, new)
		}
		if strings.Contains(e.ReqBody, old) {
			e.setReqBody(strings.ReplaceAll(e.ReqBody, old, new))
		}
		if strings.Contains(e.RespBody, old) {
			e.SetRespBody(strings.ReplaceAll(e.RespBody, old, new))
		}
		// Form bodies and query strings carry the value escaped.
		if q, nq := url.QueryEscape(old), url.QueryEscape(new); q != old {
			e.URL = strings.ReplaceAll(e.URL, q, nq)
			for i := range e.RespHeaders {
				e.RespHeaders[i][1] = strings.ReplaceAll(e.RespHeaders[i][1], q, nq)
			}
			if strings.Contains(e.ReqBody, q) {
				e.setReqBody(strings.ReplaceAll(e.ReqBody, q, nq))
			}
		}
	}
}

// BasicAuth is the Authorization header value of client_secret_basic:
// both parts form-urlencoded, then base64 (RFC 6749 §2.3.1).
func BasicAuth(id, secret string) string { return basicAuth(id, secret) }
