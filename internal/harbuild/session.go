package harbuild

import (
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MCPSession continues a scenario after its first authorization, for the
// sequence rules: more MCP calls (with the token, without it, with the
// token in the wrong place), 403 insufficient_scope step-ups followed by
// new authorizations, refreshes, a second MCP server, DPoP-bound tokens.
// Every exchange is appended in time order with the headers the real
// programs send; responses of the session carry a Date header matching
// their time, so expiry checks see a consistent clock.
type MCPSession struct {
	S Scenario // with defaults applied
	H *HAR
	F *Flow
	// Token is the access token in use, Scheme its Authorization scheme
	// ("Bearer", or "DPoP" after UseDPoP); RefreshToken the latest one.
	Token        string
	Scheme       string
	RefreshToken string
	// SID is the MCP session id (Mcp-Session-Id).
	SID string
	// Key signs DPoP proofs after UseDPoP.
	Key *DPoPKeyPair
	// Scope is the scope of the grant in use.
	Scope string
	// ClientID is the client's id at the AS.
	ClientID string

	g     rng
	rpcID int
}

// ContinueMCP builds the scenario into h and returns a session positioned
// after its last exchange. The scenario must make MCP traffic (Revision
// set) and must not drop the back channel.
func (s Scenario) ContinueMCP(h *HAR) *MCPSession {
	f := s.Build(h)
	s.defaults()
	ss := &MCPSession{S: s, H: h, F: f, Token: f.AccessToken, Scheme: "Bearer", ClientID: f.ClientID, rpcID: 3,
		g: rng{rand.New(rand.NewPCG(s.Seed, 0x73657373696f6e))}}
	if f.Init != nil {
		ss.SID = f.Init.RespHeader("mcp-session-id")
	}
	if f.Token != nil {
		var tr map[string]any
		if json.Unmarshal([]byte(f.Token.RespBody), &tr) == nil {
			ss.RefreshToken, _ = tr["refresh_token"].(string)
		}
	}
	if s.AuthScope != nil {
		ss.Scope = *s.AuthScope
	}
	return ss
}

// nextTime is the time h.Add will give the next entry.
func (ss *MCPSession) nextTime() time.Time {
	step := ss.H.step + 1
	return ss.H.clock.Add(time.Duration(20+(step*37)%41) * time.Millisecond)
}

func (ss *MCPSession) add(e *Entry) *Entry {
	if e.Time.IsZero() {
		e.Time = ss.nextTime()
	}
	ss.H.Add(e)
	if e.Status != 0 && !e.NoResponse {
		e.SetRespHeader("Date", e.Time.UTC().Format(http.TimeFormat))
	}
	return e
}

// Drop removes an entry from the HAR (a leg the capture must not hold, or
// an exchange a buggy client never made).
func (ss *MCPSession) Drop(e *Entry) {
	if e == nil {
		return
	}
	kept := ss.H.Entries[:0]
	for _, x := range ss.H.Entries {
		if x != e {
			kept = append(kept, x)
		}
	}
	ss.H.Entries = kept
}

// Repeat appends a copy of an earlier exchange (a client re-fetching a
// document) at the current time; the copy may then be edited.
func (ss *MCPSession) Repeat(e *Entry) *Entry {
	c := *e
	c.Time = time.Time{}
	c.Comment = ""
	c.ReqHeaders = append([][2]string(nil), e.ReqHeaders...)
	c.RespHeaders = append([][2]string(nil), e.RespHeaders...)
	return ss.add(&c)
}

// MCPCall is one request to an MCP server.
type MCPCall struct {
	// HTTPMethod is POST (default), GET (the SSE stream) or DELETE (end
	// of session).
	HTTPMethod string
	// RPC is the JSON-RPC method of a POST (default tools/call); Tool the
	// tools/call tool (default search_notes).
	RPC  string
	Tool string
	// URL is the endpoint (default the scenario's MCP URL).
	URL string
	// Auth is the whole Authorization header value: "" sends the
	// session's token with its scheme, "-" sends none.
	Auth string
	// NoSession leaves out Mcp-Session-Id; NoProof leaves out the DPoP
	// proof a DPoP session would add.
	NoSession bool
	NoProof   bool
	// ReqHeaders are added to the request.
	ReqHeaders [][2]string
	// Status, RespHeaders and RespBody override the answer (default 200
	// with a JSON-RPC result; 202 for notifications).
	Status      int
	RespHeaders [][2]string
	RespBody    string
	RespMime    string
	// ServerIP and Client are the HAR serverIPAddress and _clientAddress.
	ServerIP string
	Client   string
}

// Call sends one request to the MCP server and appends the exchange.
func (ss *MCPSession) Call(c MCPCall) *Entry {
	if c.HTTPMethod == "" {
		c.HTTPMethod = "POST"
	}
	if c.URL == "" {
		c.URL = ss.S.MCPURL
	}
	if c.RPC == "" && c.HTTPMethod == "POST" {
		c.RPC = "tools/call"
	}
	if c.Tool == "" {
		c.Tool = "search_notes"
	}
	var body string
	id := 0
	if c.HTTPMethod == "POST" {
		msg := map[string]any{"method": c.RPC, "jsonrpc": "2.0"}
		if !strings.HasPrefix(c.RPC, "notifications/") {
			ss.rpcID++
			id = ss.rpcID
			msg["id"] = id
		}
		switch c.RPC {
		case "tools/call":
			msg["params"] = map[string]any{"name": c.Tool, "arguments": map[string]any{"query": "quarterly planning"}}
		case "tools/list", "resources/list", "prompts/list":
			msg["params"] = map[string]any{}
		}
		body = mustJSON(msg)
	}
	var extra [][2]string
	switch c.HTTPMethod {
	case "GET":
		extra = append(extra, [2]string{"accept", "text/event-stream"})
	default:
		extra = append(extra, [2]string{"accept", "application/json, text/event-stream"})
	}
	at := time.Time{}
	switch c.Auth {
	case "-":
	case "":
		extra = append(extra, [2]string{"authorization", ss.Scheme + " " + ss.Token})
	default:
		extra = append(extra, [2]string{"authorization", c.Auth})
	}
	if ss.Key != nil && !c.NoProof && c.Auth != "-" {
		at = ss.nextTime()
		extra = append(extra, [2]string{"dpop", ss.Key.Proof(ss.g, c.HTTPMethod, c.URL, at, DPoPProofOpts{AccessToken: ss.Token})})
	}
	if ss.SID != "" && !c.NoSession {
		extra = append(extra, [2]string{"mcp-session-id", ss.SID})
	}
	extra = append(extra, [2]string{"mcp-protocol-version", ss.S.Revision})
	extra = append(extra, c.ReqHeaders...)
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	status := c.Status
	respBody := c.RespBody
	mime := c.RespMime
	if status == 0 {
		switch {
		case c.HTTPMethod == "POST" && strings.HasPrefix(c.RPC, "notifications/"):
			status = 202
		case c.HTTPMethod == "GET":
			status = 200
			if respBody == "" {
				respBody = ": stream opened\n\n"
				mime = "text/event-stream"
			}
		case c.HTTPMethod == "DELETE":
			status = 200
		default:
			status = 200
			if respBody == "" {
				res := map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{
					"content": []any{map[string]any{"type": "text", "text": "3 notes match \"quarterly planning\""}}, "isError": false}}
				if c.RPC != "tools/call" {
					res["result"] = map[string]any{}
				}
				respBody = fmt.Sprintf("event: message\ndata: %s\n\n", mustJSON(res))
				mime = "text/event-stream"
			}
		}
	}
	if mime == "" && respBody != "" {
		mime = "application/json"
	}
	rh := c.RespHeaders
	if ss.SID != "" && status < 400 {
		rh = append([][2]string{{"mcp-session-id", ss.SID}}, rh...)
	}
	e := &Entry{Time: at, Method: c.HTTPMethod, URL: c.URL,
		ReqHeaders: nodeClientHeaders(c.URL, ct, body, extra...), ReqBody: body, ReqMime: ct,
		Status: status, RespHeaders: expressHeaders(mime, respBody, rh...), RespBody: respBody, RespMime: mime,
		ServerIP: c.ServerIP, Client: c.Client}
	return ss.add(e)
}

// PRMURL is the protected resource metadata URL of the scenario's server.
func (ss *MCPSession) PRMURL() string {
	return wellKnown(ss.S.MCPURL, "/.well-known/oauth-protected-resource")
}

// InsufficientScope sends a tools/call that the server refuses with 403
// insufficient_scope naming scope (MCP 2025-11-25 step-up).
func (ss *MCPSession) InsufficientScope(tool, scope string) *Entry {
	body := `{"error":"insufficient_scope","error_description":"This tool requires additional scopes"}`
	chal := fmt.Sprintf(`Bearer error="insufficient_scope", scope="%s", resource_metadata="%s", error_description="This tool requires additional scopes"`, scope, ss.PRMURL())
	return ss.Call(MCPCall{Tool: tool, Status: 403, RespBody: body, RespMime: "application/json; charset=utf-8",
		RespHeaders: [][2]string{{"WWW-Authenticate", chal}}})
}

// ReauthOpts describes a further authorization of the same client.
type ReauthOpts struct {
	// Scope is the scope parameter (nil = omitted).
	Scope *string
	// Resource is the resource parameter (default the MCP URL; "-" =
	// omitted).
	Resource string
	// Issuer and AS select another authorization server (default the
	// scenario's); ClientID another client id.
	Issuer   string
	AS       string
	ClientID string
	// NoCallback: the callback request is not captured. NoToken: the
	// client never redeems the code. TokenStatus: the token endpoint's
	// answer (default 200).
	NoCallback  bool
	NoToken     bool
	TokenStatus int
	// RedirectURI overrides the scenario's redirect URI.
	RedirectURI string
	// Iss adds RFC 9207 iss to the authorization response.
	Iss bool
}

// Reauthorization points at the entries of a further authorization.
type Reauthorization struct {
	Authorize, Callback, Token        *Entry
	Hops                              []*Entry
	Code, State, Verifier             string
	AccessToken, RefreshToken, Issuer string
}

// Authorize runs a further authorization code flow with PKCE in the
// browser and the back channel, and makes its access token the session's.
func (ss *MCPSession) Authorize(r ReauthOpts) *Reauthorization {
	sc := ss.S
	if r.Issuer != "" {
		sc.Issuer = r.Issuer
	}
	if r.AS != "" {
		sc.AS = r.AS
	}
	clientID := ss.ClientID
	if r.ClientID != "" {
		clientID = r.ClientID
	}
	redirect := sc.RedirectURI
	if r.RedirectURI != "" {
		redirect = r.RedirectURI
	}
	g := ss.g
	verifier, state := g.str(43), g.str(32)
	params := [][2]string{{"response_type", "code"}, {"client_id", clientID},
		{"code_challenge", s256(verifier)}, {"code_challenge_method", "S256"},
		{"redirect_uri", redirect}, {"state", state}}
	if r.Scope != nil {
		params = append(params, [2]string{"scope", *r.Scope})
	}
	res := sc.MCPURL
	if r.Resource == "-" {
		res = ""
	} else if r.Resource != "" {
		res = r.Resource
	}
	if res != "" {
		params = append(params, [2]string{"resource", res})
	}
	var qs []string
	for _, p := range params {
		qs = append(qs, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
	}
	authURL := sc.ep("authorize") + "?" + strings.Join(qs, "&")
	code := "ory_ac_" + g.str(43) + "." + g.str(43)
	scope := ""
	if r.Scope != nil {
		scope = *r.Scope
	}
	cb := redirect + "?code=" + url.QueryEscape(code)
	if sc.AS == Hydra {
		cb += "&scope=" + url.QueryEscape(scope)
	}
	cb += "&state=" + url.QueryEscape(state)
	if r.Iss {
		cb += "&iss=" + url.QueryEscape(sc.Issuer)
	}
	a := &Reauthorization{Code: code, State: state, Verifier: verifier, Issuer: sc.Issuer}
	if sc.AS == Hydra {
		login := "https://login.example.com/login?login_challenge=" + g.str(43)
		a.Authorize = ss.add(&Entry{Method: "GET", URL: authURL, ReqHeaders: browserHeaders(authURL), Status: 302,
			RespHeaders: hydraHeaders("", "", [2]string{"Location", login})})
		lv := authURL + "&login_verifier=" + g.str(32)
		lp := ss.add(&Entry{Method: "GET", URL: login, ReqHeaders: browserHeaders(login), Status: 302,
			RespHeaders: expressHeaders("text/plain; charset=utf-8", "", [2]string{"Location", lv})})
		hop := ss.add(&Entry{Method: "GET", URL: lv, ReqHeaders: browserHeaders(lv), Status: 303,
			RespHeaders: hydraHeaders("", "", [2]string{"Location", cb})})
		a.Hops = append(a.Hops, lp, hop)
	} else {
		a.Authorize = ss.add(&Entry{Method: "GET", URL: authURL, ReqHeaders: browserHeaders(authURL), Status: 302,
			RespHeaders: expressHeaders("text/plain; charset=utf-8", "Found. Redirecting to "+cb, [2]string{"Location", cb}),
			RespBody:    "Found. Redirecting to " + cb, RespMime: "text/plain; charset=utf-8"})
	}
	// The user signs in and consents: seconds, not milliseconds.
	ss.H.Wait(7 * time.Second)
	if !r.NoCallback {
		page := "<html><body><h1>Authorization complete</h1><p>You can close this window and return to Acme.</p></body></html>"
		a.Callback = ss.add(&Entry{Method: "GET", URL: cb, ReqHeaders: browserHeaders(cb), Status: 200,
			RespHeaders: [][2]string{{"Content-Type", "text/html"}, {"Connection", "close"}, {"Content-Length", fmt.Sprint(len(page))}},
			RespBody:    page, RespMime: "text/html"})
	}
	if r.NoToken {
		return a
	}
	form := [][2]string{{"grant_type", "authorization_code"}, {"code", code}, {"code_verifier", verifier}, {"redirect_uri", redirect}}
	if res != "" {
		form = append(form, [2]string{"resource", res})
	}
	form = append(form, [2]string{"client_id", clientID})
	a.Token = ss.tokenExchange(sc, form, r.TokenStatus, scope, res)
	a.AccessToken, a.RefreshToken = ss.Token, ss.RefreshToken
	ss.Scope = scope
	return a
}

// accessToken makes an access token for the scenario's AS: a JWT when
// the scenario uses JWT access tokens (or cnf is set), else opaque.
func (ss *MCPSession) accessToken(sc Scenario, scope, resource string, cnf string, now time.Time) string {
	if !sc.JWTAccessTokens && cnf == "" {
		return "ory_at_" + ss.g.str(43) + "." + ss.g.str(43)
	}
	iat := now.Unix()
	claims := map[string]any{"iss": sc.Issuer, "sub": "user-8f14e45f", "client_id": ss.ClientID, "iat": iat, "nbf": iat,
		"exp": iat + 3600, "jti": ss.g.uuid()}
	if scope != "" {
		claims["scope"] = scope
	}
	if resource != "" {
		claims["aud"] = []string{resource}
	}
	if cnf != "" {
		claims["cnf"] = map[string]any{"jkt": cnf}
	}
	return ss.g.jwt(map[string]any{"alg": "RS256", "kid": ss.g.uuid(), "typ": "at+jwt"}, claims)
}

func (ss *MCPSession) tokenExchange(sc Scenario, form [][2]string, status int, scope, resource string) *Entry {
	var fb []string
	for _, p := range form {
		fb = append(fb, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
	}
	body := strings.Join(fb, "&")
	when := ss.nextTime()
	extra := [][2]string{{"accept", "application/json"}}
	cnf := ""
	if ss.Key != nil {
		extra = append(extra, [2]string{"dpop", ss.Key.Proof(ss.g, "POST", sc.ep("token"), when, DPoPProofOpts{})})
		cnf = ss.Key.Thumbprint
	}
	if status == 0 {
		status = 200
	}
	var rb string
	var rh [][2]string
	if status == 200 {
		at := ss.accessToken(sc, scope, resource, cnf, when)
		tt := "bearer"
		if ss.Key != nil {
			tt = "DPoP"
		}
		tr := map[string]any{"access_token": at, "expires_in": 3599, "token_type": tt}
		if scope != "" {
			tr["scope"] = scope
		}
		if strings.Contains(" "+scope+" ", " offline_access ") {
			tr["refresh_token"] = "ory_rt_" + ss.g.str(43) + "." + ss.g.str(43)
		}
		rb = mustJSON(tr)
		rh = [][2]string{{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}}
		ss.Token = at
		if rt, ok := tr["refresh_token"].(string); ok {
			ss.RefreshToken = rt
		}
	} else {
		rb = `{"error":"invalid_grant","error_description":"The provided authorization grant is invalid, expired, or revoked."}`
	}
	return ss.add(&Entry{Time: when, Method: "POST", URL: sc.ep("token"),
		ReqHeaders: nodeClientHeaders(sc.ep("token"), "application/x-www-form-urlencoded", body, extra...),
		ReqBody:    body, ReqMime: "application/x-www-form-urlencoded",
		Status: status, RespHeaders: sc.asHeaders("application/json;charset=UTF-8", rb, rh...), RespBody: rb, RespMime: "application/json;charset=UTF-8"})
}

// Refresh redeems the session's refresh token (RFC 6749 §6) at the
// scenario's token endpoint and makes the new tokens the session's.
// Issuer overrides the AS; scope, when not nil, is sent.
func (ss *MCPSession) Refresh(issuer string, scope *string) *Entry {
	sc := ss.S
	if issuer != "" {
		sc.Issuer = issuer
	}
	form := [][2]string{{"grant_type", "refresh_token"}, {"refresh_token", ss.RefreshToken}}
	s := ss.Scope
	if scope != nil {
		form = append(form, [2]string{"scope", *scope})
		s = *scope
	}
	form = append(form, [2]string{"resource", sc.MCPURL}, [2]string{"client_id", ss.ClientID})
	return ss.tokenExchange(sc, form, 200, s, sc.MCPURL)
}

// ---------------------------------------------------------------------
// DPoP (RFC 9449).

// DPoPKeyPair is a fixed P-256 key pair for DPoP proofs. Proof signatures are
// random bytes (oauthlint never verifies them); the public key and its
// RFC 7638 thumbprint are real, so cnf.jkt checks are exact.
type DPoPKeyPair struct {
	JWK        map[string]any
	Thumbprint string
	d          []byte
}

// NewDPoPKeyPair derives a key from seed (deterministic).
func NewDPoPKeyPair(seed byte) *DPoPKeyPair {
	d := sha256.Sum256([]byte{'d', 'p', 'o', 'p', seed})
	priv, err := ecdh.P256().NewPrivateKey(d[:])
	if err != nil {
		panic(fmt.Sprintf("harbuild: DPoP key from seed %d: %v", seed, err)) // a fixed valid scalar: cannot happen
	}
	pub := priv.PublicKey().Bytes() // 0x04 || X || Y
	enc := base64.RawURLEncoding.EncodeToString
	x, y := enc(pub[1:33]), enc(pub[33:65])
	jwk := map[string]any{"kty": "EC", "crv": "P-256", "x": x, "y": y}
	canon := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, x, y)
	sum := sha256.Sum256([]byte(canon))
	return &DPoPKeyPair{JWK: jwk, Thumbprint: enc(sum[:]), d: d[:]}
}

// PrivateJWK is the key with its private scalar, as a buggy client that
// serialises the whole key would send it.
func (k *DPoPKeyPair) PrivateJWK() map[string]any {
	m := map[string]any{}
	for kk, v := range k.JWK {
		m[kk] = v
	}
	m["d"] = base64.RawURLEncoding.EncodeToString(k.d)
	return m
}

// DPoPProofOpts change a DPoP proof the way real client bugs do.
type DPoPProofOpts struct {
	// AccessToken adds ath (resource requests).
	AccessToken string
	Nonce       string
	// Jti fixes the jti (a replay); Iat the issue time (0 = the request
	// time).
	Jti string
	Iat int64
	// Typ and Alg override the header; HTU and HTM the claims.
	Typ, Alg, HTU, HTM string
	// JWK replaces the header's key; NoATH leaves out ath.
	JWK   map[string]any
	NoATH bool
}

// Proof builds a DPoP proof JWT for a request.
func (k *DPoPKeyPair) Proof(g rng, method, rawURL string, at time.Time, o DPoPProofOpts) string {
	htu := rawURL
	if i := strings.IndexAny(htu, "?#"); i >= 0 {
		htu = htu[:i]
	}
	if o.HTU != "" {
		htu = o.HTU
	}
	htm := method
	if o.HTM != "" {
		htm = o.HTM
	}
	hdr := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.JWK}
	if o.Typ != "" {
		hdr["typ"] = o.Typ
	}
	if o.Alg != "" {
		hdr["alg"] = o.Alg
	}
	if o.JWK != nil {
		hdr["jwk"] = o.JWK
	}
	jti := o.Jti
	if jti == "" {
		jti = g.uuid()
	}
	iat := o.Iat
	if iat == 0 {
		iat = at.Unix()
	}
	claims := map[string]any{"jti": jti, "htm": htm, "htu": htu, "iat": iat}
	if o.AccessToken != "" && !o.NoATH {
		sum := sha256.Sum256([]byte(o.AccessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if o.Nonce != "" {
		claims["nonce"] = o.Nonce
	}
	enc := func(v any) string { return base64.RawURLEncoding.EncodeToString([]byte(mustJSON(v))) }
	return enc(hdr) + "." + enc(claims) + "." + g.str(86)
}

// ProofFor builds a proof with the session's key and rng for a request
// made at the next exchange time.
func (ss *MCPSession) ProofFor(method, rawURL string, o DPoPProofOpts) string {
	return ss.Key.Proof(ss.g, method, rawURL, ss.nextTime(), o)
}

// UseDPoP turns the scenario's code exchange and MCP calls into DPoP: the
// token request carries a proof, the AS answers token_type DPoP with a JWT
// access token bound to the key (cnf.jkt), and the MCP calls present it
// with the DPoP scheme and a proof with ath. Later Calls and Authorize
// runs use DPoP too.
func (ss *MCPSession) UseDPoP(k *DPoPKeyPair) { ss.UseDPoPBoundTo(k, k.Thumbprint) }

// UseDPoPBoundTo is UseDPoP with the access token's cnf.jkt set to jkt
// instead of the key's thumbprint (an AS that hashes the wrong JWK
// members).
func (ss *MCPSession) UseDPoPBoundTo(k *DPoPKeyPair, jkt string) {
	ss.Key = k
	ss.Scheme = "DPoP"
	f := ss.F
	if f.Token == nil {
		return
	}
	f.Token.SetReqHeader("dpop", k.Proof(ss.g, "POST", f.Token.URL, f.Token.Time, DPoPProofOpts{}))
	at := ss.accessToken(ss.S, ss.Scope, ss.S.MCPURL, jkt, f.Token.Time)
	f.Token.SetRespJSON("access_token", at)
	f.Token.SetRespJSON("token_type", "DPoP")
	ss.Token = at
	f.AccessToken = at
	for _, e := range []*Entry{f.Init, f.Initialized, f.ToolsList} {
		if e == nil {
			continue
		}
		e.SetReqHeader("authorization", "DPoP "+at)
		e.SetReqHeader("dpop", k.Proof(ss.g, e.Method, e.URL, e.Time, DPoPProofOpts{AccessToken: at}))
	}
}

// SwapAccessToken replaces the session's access token everywhere it
// appears (token response, Authorization headers, bodies, URLs) with a JWT
// whose claims are the scenario's standard RFC 9068 claims changed by
// over (a nil value deletes a claim), and returns it: an AS that puts
// another audience or lifetime into the token.
func (ss *MCPSession) SwapAccessToken(over map[string]any) string {
	old := ss.Token
	t := ss.S.Start
	if ss.F.Token != nil {
		t = ss.F.Token.Time
	}
	iat := t.Unix()
	claims := map[string]any{"iss": ss.S.Issuer, "sub": "user-8f14e45f", "client_id": ss.ClientID, "iat": iat, "nbf": iat,
		"exp": iat + 3600, "jti": ss.g.uuid(), "aud": []string{ss.S.MCPURL}}
	if ss.Scope != "" {
		claims["scope"] = ss.Scope
	}
	for k, v := range over {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	at := ss.g.jwt(map[string]any{"alg": "RS256", "kid": ss.g.uuid(), "typ": "at+jwt"}, claims)
	for _, e := range ss.H.Entries {
		if !strings.Contains(e.URL, old) && !strings.Contains(e.ReqBody, old) && !strings.Contains(e.RespBody, old) && !headersContain(e.ReqHeaders, old) {
			continue
		}
		e.URL = strings.ReplaceAll(e.URL, old, at)
		for i := range e.ReqHeaders {
			e.ReqHeaders[i][1] = strings.ReplaceAll(e.ReqHeaders[i][1], old, at)
		}
		if strings.Contains(e.ReqBody, old) {
			e.setReqBody(strings.ReplaceAll(e.ReqBody, old, at))
		}
		if strings.Contains(e.RespBody, old) {
			e.SetRespBody(strings.ReplaceAll(e.RespBody, old, at))
		}
	}
	ss.Token, ss.F.AccessToken = at, at
	return at
}

func headersContain(hs [][2]string, s string) bool {
	for _, h := range hs {
		if strings.Contains(h[1], s) {
			return true
		}
	}
	return false
}
