package rules

// Helper functions for the resource-request (RES-*), DPoP (DPOP-*) and
// sequence (SEQ-*) rules. They answer questions that span messages or the
// whole capture (was this MCP session authenticated before, did the same
// bearer reach another server, in which order did the client probe the
// well-known URLs) and do the byte-level checks that are security
// sensitive (token placement, RFC 6750 token68 syntax, RFC 9449 proofs,
// RFC 7638 thumbprints). Rules stay pure: every function reads the flows
// the analysis built and never does I/O.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
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
	rsTFlow      = cel.ObjectType("analyze.Flow")
	rsTFlows     = cel.ListType(rsTFlow)
	rsTHTTP      = cel.ObjectType("analyze.HTTP")
	rsTResource  = cel.ObjectType("analyze.Resource")
	rsTChallenge = cel.ObjectType("analyze.Challenge")
	rsTPRM       = cel.ObjectType("analyze.PRM")
	rsTASM       = cel.ObjectType("analyze.ASMetadata")
	rsTJWT       = cel.ObjectType("analyze.JWT")
)

// rsNative converts a view to a CEL value with the environment's adapter,
// which knows the analyze types.
func rsNative(v any) ref.Val {
	env, err := Env()
	if err != nil {
		return types.NewErr("rules: CEL environment: %v", err)
	}
	return env.CELTypeAdapter().NativeToValue(v)
}

func rsDynList(items []any) ref.Val {
	env, err := Env()
	if err != nil {
		return types.NewErr("rules: CEL environment: %v", err)
	}
	return types.NewDynamicList(env.CELTypeAdapter(), items)
}

func rsArgFlows(v ref.Val) []*analyze.Flow {
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
		if f, ok := l.Get(types.Int(i)).Value().(*analyze.Flow); ok {
			out = append(out, f)
		}
	}
	return out
}

func rsArgFlow(v ref.Val) *analyze.Flow {
	f, _ := v.Value().(*analyze.Flow)
	if f == nil {
		return &analyze.Flow{}
	}
	return f
}

func rsArgHTTP(v ref.Val) *analyze.HTTP {
	switch h := v.Value().(type) {
	case *analyze.HTTP:
		return h
	case analyze.HTTP:
		return &h
	}
	return &analyze.HTTP{}
}

// rsArgStr is a string argument (Value would box it into an interface:
// an allocation per call of the helpers called once per API request).
func rsArgStr(v ref.Val) string {
	s, _ := v.(types.String)
	return string(s)
}

// ---------------------------------------------------------------------
// Capture-wide index. Every flow of a run shares the same flows slice
// (Flow.All), so the index is built once per run and reused by every
// evaluation; it keeps the slice alive, so the key cannot be recycled.

type rsCaptureIndex struct {
	resources  []*analyze.Resource
	challenges []*analyze.Challenge
	prms       []*analyze.PRM
	asms       []*analyze.ASMetadata
	tokens     []*analyze.Token // code exchanges and refreshes
	// issued is every access token a token response issued, in order, and
	// as a set for linear-time lookups.
	issued    []string
	issuedSet map[string]bool
	// all is every message view with its HTTP, unique by exchange id and
	// sorted by it.
	all []rsIndexed
	// dpop is true when any request of the capture carries a DPoP proof.
	dpop bool
	// byToken lists the resource calls by the token they presented.
	byToken map[string][]*analyze.Resource
	// redirects groups authorization requests by redirect_uri.
	redirects map[string]*rsRedirectGroup
}

// rsRedirectGroup is what the capture shows about one redirect URI: the
// authorization endpoints it was used with (in order of first use), how
// many of those flows' authorization responses lacked iss, and the first
// authorization request that used it.
type rsRedirectGroup struct {
	endpoints []string
	noIss     int
	first     *analyze.Authorize
}

type rsIndexed struct {
	h    *analyze.HTTP
	view any
}

// rsIndexOf returns the capture-wide index, built once per analysis (the
// flows a rule sees are only its neighbours; the index covers them all).
func rsIndexOf(flows []*analyze.Flow) *rsCaptureIndex {
	return captureIndex(flows, "rules/res_seq index", rsBuildIndex)
}

func rsBuildIndex(flows []*analyze.Flow) *rsCaptureIndex {
	ix := &rsCaptureIndex{}
	seen := map[int]bool{}
	add := func(h *analyze.HTTP, v any) bool {
		if h.ID <= 0 || seen[h.ID] {
			return false
		}
		seen[h.ID] = true
		ix.all = append(ix.all, rsIndexed{h, v})
		return true
	}
	for _, f := range flows {
		for _, r := range f.Resources {
			if add(&r.HTTP, r) {
				ix.resources = append(ix.resources, r)
			}
		}
		for _, c := range f.Challenges {
			if add(&c.HTTP, c) {
				ix.challenges = append(ix.challenges, c)
			}
		}
		for _, p := range f.PRMs {
			if add(&p.HTTP, p) {
				ix.prms = append(ix.prms, p)
			}
		}
		for _, a := range f.ASMetadatas {
			if add(&a.HTTP, a) {
				ix.asms = append(ix.asms, a)
			}
		}
		for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
			if add(&t.HTTP, t) {
				ix.tokens = append(ix.tokens, t)
			}
		}
		for _, r := range f.Registrations {
			add(&r.HTTP, r)
		}
		if f.Authorize != nil {
			add(&f.Authorize.HTTP, f.Authorize)
		}
		if f.Callback != nil && !f.Callback.Synthesized {
			add(&f.Callback.HTTP, f.Callback)
		}
	}
	sort.Slice(ix.resources, func(i, j int) bool { return ix.resources[i].HTTP.ID < ix.resources[j].HTTP.ID })
	sort.Slice(ix.challenges, func(i, j int) bool { return ix.challenges[i].HTTP.ID < ix.challenges[j].HTTP.ID })
	sort.Slice(ix.prms, func(i, j int) bool { return ix.prms[i].HTTP.ID < ix.prms[j].HTTP.ID })
	sort.Slice(ix.asms, func(i, j int) bool { return ix.asms[i].HTTP.ID < ix.asms[j].HTTP.ID })
	sort.Slice(ix.tokens, func(i, j int) bool { return ix.tokens[i].HTTP.ID < ix.tokens[j].HTTP.ID })
	sort.Slice(ix.all, func(i, j int) bool { return ix.all[i].h.ID < ix.all[j].h.ID })
	for _, m := range ix.all {
		if len(m.h.RequestHeaders["dpop"]) > 0 {
			ix.dpop = true
			break
		}
	}
	ix.byToken = map[string][]*analyze.Resource{}
	for _, r := range ix.resources {
		if r.HasToken {
			ix.byToken[r.Token] = append(ix.byToken[r.Token], r)
		}
	}
	ix.redirects = map[string]*rsRedirectGroup{}
	for _, f := range flows {
		a := f.Authorize
		if a == nil || !a.HasRedirectURI {
			continue
		}
		g := ix.redirects[a.RedirectURI]
		if g == nil {
			g = &rsRedirectGroup{}
			ix.redirects[a.RedirectURI] = g
		}
		if rsIndexStr(g.endpoints, a.HTTP.Endpoint) < 0 {
			g.endpoints = append(g.endpoints, a.HTTP.Endpoint)
		}
		if f.Callback != nil && f.Callback.URL != "" && !f.Callback.HasIss {
			g.noIss++
		}
		if g.first == nil || a.HTTP.ID < g.first.HTTP.ID {
			g.first = a
		}
	}
	ix.issuedSet = map[string]bool{}
	ix.issued = []string{}
	for _, t := range ix.tokens {
		if t.Response.HasAccessToken && !ix.issuedSet[t.Response.AccessToken] {
			ix.issuedSet[t.Response.AccessToken] = true
			ix.issued = append(ix.issued, t.Response.AccessToken)
		}
	}
	return ix
}

// ---------------------------------------------------------------------
// Requests and tokens.

// rsHeaderValues returns every value of a request header (lower-case name).
func rsHeaderValues(h *analyze.HTTP, name string) []string {
	return h.RequestHeaders[name]
}

// rsAuthorization splits the Authorization request header into scheme and
// credential; ok is false when the request has none.
func rsAuthorization(h *analyze.HTTP) (scheme, cred string, ok bool) {
	vs := rsHeaderValues(h, "authorization")
	if len(vs) == 0 {
		return "", "", false
	}
	v := strings.TrimSpace(vs[0])
	s, c, found := strings.Cut(v, " ")
	if !found {
		// "Authorization: <token>": no scheme at all.
		return "", v, true
	}
	return s, strings.TrimSpace(c), true
}

// rsPresentedToken is the credential of a request's Authorization header
// (after the scheme), or "".
func rsPresentedToken(h *analyze.HTTP) string {
	s, c, ok := rsAuthorization(h)
	if !ok || s == "" {
		return ""
	}
	return c
}

// rsIssuedAccessTokens lists every access token a token response of the
// capture issued (code exchanges, client credentials, refreshes).
func rsIssuedAccessTokens(flows []*analyze.Flow) []string {
	return rsIndexOf(flows).issued
}

// rsMCPRequests returns the flow's requests to protected resources in time
// order: calls that were answered (Resource) and calls answered with a
// 401/403 challenge (Challenge). Client-side rules about how a token is
// sent hold whatever the server answered.
func rsMCPRequests(f *analyze.Flow) []any {
	type item struct {
		id int
		v  any
	}
	var items []item
	seen := map[int]bool{}
	for _, r := range f.Resources {
		if !seen[r.HTTP.ID] {
			seen[r.HTTP.ID] = true
			items = append(items, item{r.HTTP.ID, r})
		}
	}
	for _, c := range f.Challenges {
		if !seen[c.HTTP.ID] {
			seen[c.HTTP.ID] = true
			items = append(items, item{c.HTTP.ID, c})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].id < items[j].id })
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// rsMinToken is the shortest value taken for a token: shorter values
// collide with ordinary text.
const rsMinToken = 8

// rsTokenPieces splits a header value or body into the runs of characters
// a token can be made of (RFC 6750 b64token and URL-safe characters), so a
// token embedded in a cookie, a JSON string or a form is found by a set
// lookup: linear in the text, whatever the number of tokens.
func rsTokenPieces(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/=", r))
	})
}

func rsHasToken(s string, set map[string]bool) bool {
	hit := func(p string) bool { return len(p) >= rsMinToken && (set[p] || set[strings.TrimRight(p, "=")]) }
	for _, p := range rsTokenPieces(s) {
		if hit(p) {
			return true
		}
		// name=value pairs (cookies, forms): "=" is also base64 padding,
		// so try what follows the first "=" as well.
		if _, v, ok := strings.Cut(p, "="); ok && hit(v) {
			return true
		}
	}
	return false
}

// rsTokenPlaces says where an access token of the set appears in a
// request other than the Authorization header and the query string
// (RES-NO-QUERY-TOKEN has those): other headers, cookies, form
// parameters, the body.
func rsTokenPlaces(h *analyze.HTTP, set map[string]bool) []string {
	out := []string{}
	if len(set) == 0 {
		return out
	}
	names := make([]string, 0, len(h.RequestHeaders))
	for k := range h.RequestHeaders {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "authorization" || k == "dpop" {
			continue
		}
		for _, v := range h.RequestHeaders[k] {
			if rsHasToken(v, set) {
				if k == "cookie" {
					out = append(out, "cookie")
				} else {
					out = append(out, "request header "+rsCanonicalHeader(k))
				}
				break
			}
		}
	}
	formHit := false
	keys := make([]string, 0, len(h.Form))
	for k := range h.Form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h.Form[k] {
			if set[v] {
				out = append(out, "form parameter "+k)
				formHit = true
				break
			}
		}
	}
	if !formHit && rsHasToken(h.RequestBody, set) {
		out = append(out, "request body")
	}
	return out
}

func rsTokenSet(tokens []string) map[string]bool {
	m := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		if len(t) >= rsMinToken {
			m[t] = true
		}
	}
	return m
}

func rsCanonicalHeader(k string) string {
	parts := strings.Split(k, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// rsTokenElsewhere reports whether a request carries an access token the
// capture saw issued outside the Authorization header (query, another
// header, cookie, body).
func rsTokenElsewhere(h *analyze.HTTP, flows []*analyze.Flow) bool {
	set := rsIndexOf(flows).issuedSet
	return len(rsQueryTokenParams(h, set)) > 0 || len(rsTokenPlaces(h, set)) > 0
}

// rsQueryTokenParams names the query parameters of a request that carry an
// access token: the RFC 6750 §2.3 access_token parameter, or any
// parameter whose value is a token of the set.
func rsQueryTokenParams(h *analyze.HTTP, set map[string]bool) []string {
	keys := make([]string, 0, len(h.Query))
	for k := range h.Query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []string{}
	for _, k := range keys {
		for _, v := range h.Query[k] {
			if (k == "access_token" && v != "") || set[v] {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func rsMcpSession(h *analyze.HTTP) string {
	if v := rsHeaderValues(h, "mcp-session-id"); len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// rsStatelessWindow bounds how far apart the authenticated requests around
// an unauthenticated one may be for a server without MCP sessions.
const rsStatelessWindow = 10 * time.Minute

// rsSessionTokenRequest finds the evidence that a request without any
// Authorization header belongs to an authenticated conversation: an
// earlier accepted request with a token in the same MCP session
// (Mcp-Session-Id); for servers without sessions, accepted requests to the
// same endpoint with the same token both before and after it (within ten
// minutes), the tokenless one not being an initialize (which starts a new
// conversation, e.g. a fresh client process). It returns the earlier
// request, or nil.
func rsSessionTokenRequest(flows []*analyze.Flow, h *analyze.HTTP) *analyze.Resource {
	if h.ID <= 0 {
		return nil
	}
	sid := rsMcpSession(h)
	if m, _ := h.RequestJSON["method"].(string); sid == "" && m == "initialize" {
		return nil
	}
	ix := rsIndexOf(flows)
	var before *analyze.Resource
	for _, r := range ix.resources {
		if !r.HasToken || r.HTTP.Endpoint != h.Endpoint || r.HTTP.ID >= h.ID {
			continue
		}
		if sid != "" {
			if rsMcpSession(&r.HTTP) == sid {
				before = r
			}
			continue
		}
		if rsMcpSession(&r.HTTP) == "" && rsWithinWindow(r.HTTP.TimeMS, h.TimeMS) {
			before = r
		}
	}
	if before == nil || sid != "" {
		return before
	}
	for _, r := range ix.resources {
		if r.HTTP.ID > h.ID && r.HasToken && r.Token == before.Token && r.HTTP.Endpoint == h.Endpoint &&
			rsMcpSession(&r.HTTP) == "" && rsWithinWindow(h.TimeMS, r.HTTP.TimeMS) {
			return before
		}
	}
	return nil
}

func rsWithinWindow(a, b int64) bool {
	if a == 0 || b == 0 {
		return true
	}
	d := b - a
	if d < 0 {
		d = -d
	}
	return d <= rsStatelessWindow.Milliseconds()
}

// rsUnauthenticatedChallenge finds a 401 the same endpoint gave to a
// request without a token for the same JSON-RPC method, or for
// initialize (a server that challenges initialize protects the whole
// session): proof the server requires a token for this request.
func rsUnauthenticatedChallenge(flows []*analyze.Flow, h *analyze.HTTP) *analyze.Challenge {
	method, _ := h.RequestJSON["method"].(string)
	for _, c := range rsIndexOf(flows).challenges {
		if c.Status != 401 || c.HadToken || c.HTTP.Endpoint != h.Endpoint {
			continue
		}
		m, _ := c.HTTP.RequestJSON["method"].(string)
		if m == "initialize" || (m != "" && m == method) {
			return c
		}
	}
	return nil
}

// rsTokenIntendedResources lists the resource identifiers the flow's
// access tokens were requested for: the resource parameters of the token
// and authorization requests, else the flow's resource (PRM resource or
// challenged URL), else the endpoint of the first server the token was
// used at (a token issued outside the capture).
func rsTokenIntendedResources(f *analyze.Flow) []string {
	out := []string{}
	for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
		out = oauth.Union(out, t.Resources)
	}
	if f.Authorize != nil {
		out = oauth.Union(out, f.Authorize.Resources)
	}
	if len(out) > 0 {
		return out
	}
	if f.Resource != "" {
		return []string{f.Resource}
	}
	for _, r := range f.Resources {
		if r.HasToken {
			return []string{r.HTTP.Endpoint}
		}
	}
	return out
}

// rsTokenSentElsewhere returns the flow's requests that present one of
// the flow's access tokens (any token, for a flow whose token was issued
// outside the capture) at a URL outside the resources the token was
// requested for, unless the token is a JWT whose aud covers that URL (a
// multi-audience token) or the request is the MCP server forwarding the
// token upstream (RES-NO-PASSTHROUGH).
func rsTokenSentElsewhere(f *analyze.Flow, flows []*analyze.Flow) []any {
	intended := rsTokenIntendedResources(f)
	if len(intended) == 0 {
		return nil
	}
	own := map[string]bool{}
	for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
		if t.Response.HasAccessToken {
			own[t.Response.AccessToken] = true
		}
	}
	var out []any
	for _, m := range rsMCPRequests(f) {
		h := analyze.HTTPOf(m)
		tok := rsPresentedToken(h)
		if tok == "" || (len(own) > 0 && !own[tok]) {
			continue
		}
		within := false
		for _, r := range intended {
			within = within || rsURLWithin(r, h.URL)
		}
		for _, a := range decodeJWTCached(tok).Aud {
			within = within || rsURLWithin(a, h.URL)
		}
		if within || rsPassthroughInbound(flows, h) != nil {
			continue
		}
		out = append(out, m)
	}
	return out
}

// rsURLWithin reports whether u is at or below the resource identifier res:
// same scheme, host and port (default ports normalised), and the path of
// u equals res's path or continues it at a "/" boundary. A trailing slash
// on res does not matter here: RFC 8707 resource indicators name a
// resource, and a request to the resource itself is within it either way.
func rsURLWithin(res, u string) bool {
	r, err1 := url.Parse(res)
	x, err2 := url.Parse(u)
	if err1 != nil || err2 != nil || r.Host == "" || x.Host == "" {
		return false
	}
	if !strings.EqualFold(r.Scheme, x.Scheme) || rsHostPort(r) != rsHostPort(x) {
		return false
	}
	rp := strings.TrimSuffix(r.EscapedPath(), "/")
	xp := strings.TrimSuffix(x.EscapedPath(), "/")
	return rp == "" || xp == rp || strings.HasPrefix(xp, rp+"/")
}

func rsHostPort(u *url.URL) string {
	h := strings.ToLower(u.Hostname())
	p := u.Port()
	if p == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			p = "443"
		case "http":
			p = "80"
		}
	}
	return h + ":" + p
}

// rsResponseUnix is when the server answered, in Unix seconds, by the
// capture's clock (exchange start plus duration): one reference for every
// exchange, which is what comparing a token's exp or a proof's iat with
// "now" needs. Without capture times the response's Date header is used;
// 0 when neither is known.
func rsResponseUnix(h *analyze.HTTP) int64 {
	if ex := h.Exchange(); ex != nil && !ex.Start.IsZero() {
		return ex.Start.Add(ex.Duration).Unix()
	}
	if h.TimeMS > 0 {
		return h.TimeMS / 1000
	}
	if vs := h.ResponseHeaders["date"]; len(vs) > 0 {
		if t, err := time.Parse(time.RFC1123, vs[0]); err == nil {
			return t.Unix()
		}
	}
	return 0
}

// rsPassthroughInbound finds the client request an outbound request of the
// MCP server forwards: an accepted request to another origin that carried
// the same token, and evidence that this request was sent by that server
// rather than by the client: its source address is the inbound request's
// server address, or it happened while the inbound request was being
// served and came from another program (User-Agent).
func rsPassthroughInbound(flows []*analyze.Flow, h *analyze.HTTP) *analyze.Resource {
	tok := rsPresentedToken(h)
	ex := h.Exchange()
	if tok == "" || ex == nil {
		return nil
	}
	for _, in := range rsIndexOf(flows).byToken[tok] {
		if in.HTTP.ID == h.ID || in.HTTP.Origin == h.Origin {
			continue
		}
		iex := in.HTTP.Exchange()
		if iex == nil {
			continue
		}
		if ip := rsAddrHost(ex.ClientAddr); ip != "" && ip == rsAddrHost(iex.ServerAddr) {
			return in
		}
		if iex.Duration > 0 && ex.Duration > 0 && !ex.Start.Before(iex.Start) &&
			!ex.Start.Add(ex.Duration).After(iex.Start.Add(iex.Duration)) &&
			ex.Request.Headers.Get("User-Agent") != iex.Request.Headers.Get("User-Agent") {
			return in
		}
	}
	return nil
}

func rsAddrHost(a string) string {
	if a == "" {
		return ""
	}
	if h, _, err := net.SplitHostPort(a); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(a, "[]")
}

// rsBearerSyntaxProblem checks an Authorization header against RFC 6750
// §2.1 / OAuth 2.1 §5.1.1: "Bearer" (any case), one space, a token68.
// A header without a scheme, or with another scheme, is only reported
// when its credential is an access token the capture saw issued (or a
// JWT): static API keys of non-OAuth servers are not this rule's
// business. DPoP and Basic are left to their own rules.
func rsBearerSyntaxProblem(h *analyze.HTTP, set map[string]bool) string {
	vs := rsHeaderValues(h, "authorization")
	if len(vs) == 0 {
		return ""
	}
	if len(vs) > 1 {
		return fmt.Sprintf("the request carries %d Authorization headers", len(vs))
	}
	raw := vs[0]
	issued := func(s string) bool { return set[s] || decodeJWTCached(s).Valid }
	v := strings.TrimLeft(raw, " \t")
	scheme, rest, hasSpace := strings.Cut(v, " ")
	if !hasSpace {
		if tab := strings.IndexByte(v, '\t'); tab >= 0 {
			scheme, rest, hasSpace = v[:tab], v[tab+1:], true
			if strings.EqualFold(scheme, "bearer") {
				return "a tab separates the scheme from the token; RFC 6750 requires a single space"
			}
		}
	}
	if !hasSpace {
		if issued(strings.TrimSpace(v)) {
			return "the token is sent without the Bearer scheme (Authorization: <token>)"
		}
		if strings.EqualFold(strings.TrimSpace(v), "bearer") {
			return "the Bearer scheme is sent without a token"
		}
		return ""
	}
	if !strings.EqualFold(scheme, "bearer") {
		switch strings.ToLower(scheme) {
		case "dpop", "basic", "digest", "negotiate", "ntlm":
			return ""
		}
		if issued(strings.Trim(strings.TrimSpace(rest), `"`)) {
			return fmt.Sprintf("the access token is sent with the scheme %q instead of Bearer", scheme)
		}
		return ""
	}
	switch {
	case strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "\t"):
		return "more than one space separates Bearer from the token"
	case strings.TrimSpace(rest) == "":
		return "the Bearer scheme is sent without a token"
	case strings.HasPrefix(rest, `"`):
		return "the token is quoted; a bearer credential is a bare token68"
	case strings.TrimRight(rest, " \t") != rest:
		return "trailing whitespace follows the token"
	case !analyze.IsToken68(rest):
		if strings.ContainsAny(rest, " \t") {
			return "the credential contains whitespace; only one token68 value may follow Bearer"
		}
		return "the token contains characters outside the token68 set (A-Z a-z 0-9 - . _ ~ + / and trailing =)"
	}
	return ""
}

// rsAuthSignal matches the wording servers use for a rejected credential.
var rsAuthSignal = regexp.MustCompile(`(?i)(unauthori[sz]ed|unauthenticated|not[ _-]authenticated|authentication[ _-](failed|required)|invalid[ _-]?(access[ _-]?)?token|invalid[ _-]authorization|expired[ _-]?token|token[ _-]?(has[ _-])?(is[ _-])?expired|jwt[ _-]?expired|invalid[ _-]?jwt|invalid[ _-]?signature|missing[ _-]?(bearer|access[ _-]?token|authorization))`)

var rsLoginLocation = regexp.MustCompile(`(?i)(login|log-in|signin|sign-in|sign_in|oauth|authorize|/auth\b|/sso\b|/saml)`)

// rsAuthFailureSignal reports an authentication failure a resource server
// answered with something other than a 401: a JSON-RPC error about the
// credential in a 200, a redirect to a login page, or a 400/5xx whose
// body says the token was rejected. Tool results (isError) are left
// alone: a tool may legitimately report its upstream's auth failure.
func rsAuthFailureSignal(h *analyze.HTTP) string {
	switch {
	case h.Status >= 200 && h.Status < 300:
		for _, obj := range rsJsonRPCMessages(h) {
			e, ok := obj["error"].(map[string]any)
			if !ok {
				continue
			}
			text := fmt.Sprint(e["message"], " ", e["code"], " ", e["data"])
			if m := rsAuthSignal.FindString(text); m != "" {
				msg, _ := e["message"].(string)
				return fmt.Sprintf("HTTP %d with a JSON-RPC error %q", h.Status, rsClip(msg, 120))
			}
		}
	case h.Status >= 300 && h.Status < 400:
		loc := ""
		if vs := h.ResponseHeaders["location"]; len(vs) > 0 {
			loc = vs[0]
		}
		if loc != "" && rsLoginLocation.MatchString(loc) {
			return fmt.Sprintf("HTTP %d redirect to %s", h.Status, rsClip(loc, 160))
		}
	case h.Status == 400 || h.Status >= 500:
		if m := rsAuthSignal.FindString(h.ResponseBody); m != "" {
			return fmt.Sprintf("HTTP %d whose body says %q", h.Status, m)
		}
	}
	return ""
}

func rsClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// rsJsonRPCMessages returns the JSON objects of a response: the body, or
// the data lines of a text/event-stream.
func rsJsonRPCMessages(h *analyze.HTTP) []map[string]any {
	if h.ResponseJSON != nil {
		return []map[string]any{h.ResponseJSON}
	}
	var out []map[string]any
	if !strings.Contains(h.ResponseMediaType, "event-stream") {
		return nil
	}
	for _, line := range strings.Split(h.ResponseBody, "\n") {
		data, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "data:")
		if !ok {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(strings.TrimSpace(data)), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// rsRPCFailed reports whether a 2xx MCP response carries a failure: a
// JSON-RPC error, or a tool result flagged isError. Such an answer did
// not grant what was asked.
func rsRPCFailed(h *analyze.HTTP) bool {
	for _, m := range rsJsonRPCMessages(h) {
		if _, ok := m["error"]; ok {
			return true
		}
		if r, ok := m["result"].(map[string]any); ok {
			if e, _ := r["isError"].(bool); e {
				return true
			}
		}
	}
	return false
}

// rsSameCall reports whether two requests are the same MCP operation: same
// endpoint and JSON-RPC method, and the same tool (tools/call) or
// resource (resources/read).
func rsSameCall(a, b *analyze.HTTP) bool {
	if a.Endpoint != b.Endpoint || a.Method != b.Method {
		return false
	}
	ma, _ := a.RequestJSON["method"].(string)
	mb, _ := b.RequestJSON["method"].(string)
	if ma != mb {
		return false
	}
	pa, _ := a.RequestJSON["params"].(map[string]any)
	pb, _ := b.RequestJSON["params"].(map[string]any)
	for _, k := range []string{"name", "uri"} {
		if fmt.Sprint(pa[k]) != fmt.Sprint(pb[k]) {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------
// DPoP (RFC 9449).

type rsDpopProof struct {
	count  int
	raw    string
	header map[string]any
	claims map[string]any
	err    string
}

func rsParseDPoP(h *analyze.HTTP) rsDpopProof {
	vs := rsHeaderValues(h, "dpop")
	p := rsDpopProof{count: len(vs)}
	if len(vs) == 0 {
		return p
	}
	p.raw = strings.TrimSpace(vs[0])
	parts := strings.Split(p.raw, ".")
	if len(parts) != 3 {
		p.err = fmt.Sprintf("the DPoP header is not a compact JWS (%d dot-separated parts, want 3)", len(parts))
		return p
	}
	if err := rsDecodeJSONSegment(parts[0], &p.header); err != nil || p.header == nil {
		p.err = "the DPoP proof's JOSE header is not base64url-encoded JSON"
		return p
	}
	if err := rsDecodeJSONSegment(parts[1], &p.claims); err != nil || p.claims == nil {
		p.err = "the DPoP proof's payload is not base64url-encoded JSON"
		return p
	}
	if parts[2] == "" {
		p.err = "the DPoP proof has no signature"
	}
	return p
}

func rsDecodeJSONSegment(seg string, dst *map[string]any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

var rsAsymmetricAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true, "ES256K": true, "EdDSA": true, "Ed25519": true, "Ed448": true,
}

var rsPrivateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// rsDPoPProblems lists how a request's DPoP proof departs from RFC 9449
// §4.2/§4.3: one header, a JWS typed dpop+jwt, signed with an asymmetric
// algorithm, a public jwk, jti/htm/htu/iat present, htm and htu matching
// the request, and ath = BASE64URL(SHA-256(access token)) when a token is
// presented (accessToken != "").
func rsDPoPProblems(h *analyze.HTTP, accessToken string) []string {
	out := []string{}
	p := rsParseDPoP(h)
	if p.count == 0 {
		return out
	}
	if p.count > 1 {
		out = append(out, fmt.Sprintf("%d DPoP headers (exactly one is allowed)", p.count))
	}
	if p.err != "" {
		return append(out, p.err)
	}
	if typ, _ := p.header["typ"].(string); !strings.EqualFold(typ, "dpop+jwt") {
		out = append(out, fmt.Sprintf("typ is %s, not dpop+jwt", rsQuoteOrAbsent(typ)))
	}
	alg, _ := p.header["alg"].(string)
	switch {
	case alg == "" || strings.EqualFold(alg, "none"):
		out = append(out, fmt.Sprintf("alg is %s: the proof is unsigned", rsQuoteOrAbsent(alg)))
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		out = append(out, fmt.Sprintf("alg %q is a MAC algorithm; DPoP proofs need an asymmetric signature", alg))
	case !rsAsymmetricAlgs[alg]:
		out = append(out, fmt.Sprintf("alg %q is not a registered asymmetric JWS algorithm", alg))
	}
	jwk, ok := p.header["jwk"].(map[string]any)
	switch {
	case !ok:
		out = append(out, "the JOSE header has no jwk (the public key is required)")
	default:
		var priv []string
		for _, m := range rsPrivateJWKMembers {
			if _, has := jwk[m]; has {
				priv = append(priv, m)
			}
		}
		if len(priv) > 0 {
			out = append(out, "the jwk contains private key members ("+strings.Join(priv, ", ")+"): the client disclosed its private key")
		}
		if kty, _ := jwk["kty"].(string); kty == "" || kty == "oct" {
			out = append(out, fmt.Sprintf("the jwk kty is %s; a public asymmetric key is required", rsQuoteOrAbsent(kty)))
		}
	}
	if jti, _ := p.claims["jti"].(string); jti == "" {
		out = append(out, "the jti claim is missing")
	}
	if _, ok := p.claims["iat"].(float64); !ok {
		out = append(out, "the iat claim is missing or not a number")
	}
	htm, _ := p.claims["htm"].(string)
	switch {
	case htm == "":
		out = append(out, "the htm claim is missing")
	case htm != h.Method:
		out = append(out, fmt.Sprintf("htm is %q but the request method is %s", htm, h.Method))
	}
	htu, _ := p.claims["htu"].(string)
	switch {
	case htu == "":
		out = append(out, "the htu claim is missing")
	case strings.ContainsAny(htu, "?#"):
		out = append(out, fmt.Sprintf("htu %q carries a query or fragment (RFC 9449 §4.2: without query and fragment)", htu))
	case !rsSameHTU(htu, h.URL):
		out = append(out, fmt.Sprintf("htu is %q but the request went to %s", htu, h.Endpoint))
	}
	if accessToken != "" {
		ath, _ := p.claims["ath"].(string)
		want := oauth.S256(accessToken)
		switch {
		case ath == "":
			out = append(out, "the ath claim is missing although an access token is presented")
		case ath != want:
			out = append(out, "ath does not match the presented access token (BASE64URL(SHA-256(token)) is "+want+")")
		}
	}
	return out
}

func rsQuoteOrAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return strconv.Quote(s)
}

// rsSameHTU compares htu with the request URL as RFC 9449 §4.3 says:
// without query and fragment, after RFC 3986 syntax-based normalisation
// (case of scheme and host, default port, empty path).
func rsSameHTU(htu, reqURL string) bool {
	a, err1 := url.Parse(htu)
	b, err2 := url.Parse(reqURL)
	if err1 != nil || err2 != nil {
		return false
	}
	norm := func(u *url.URL) string {
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		return strings.ToLower(u.Scheme) + "://" + rsHostPort(u) + p
	}
	return norm(a) == norm(b)
}

// rsDPoPClaims returns the claims of a request's DPoP proof ({} if none).
func rsDPoPClaims(h *analyze.HTTP) map[string]any {
	p := rsParseDPoP(h)
	if p.claims == nil {
		return map[string]any{}
	}
	return p.claims
}

// rsDPoPJKT is the RFC 7638 JWK SHA-256 thumbprint of the proof's key, or "".
func rsDPoPJKT(h *analyze.HTTP) string {
	p := rsParseDPoP(h)
	jwk, ok := p.header["jwk"].(map[string]any)
	if !ok {
		return ""
	}
	return rsJWKThumbprint(jwk)
}

// rsJWKThumbprint computes the RFC 7638 thumbprint: the required members of
// the key type, in lexicographic order, without whitespace, hashed with
// SHA-256 and base64url-encoded. Unknown key types yield "".
func rsJWKThumbprint(jwk map[string]any) string {
	kty, _ := jwk["kty"].(string)
	var members []string
	switch kty {
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "RSA":
		members = []string{"e", "kty", "n"}
	case "OKP":
		members = []string{"crv", "kty", "x"}
	case "oct":
		members = []string{"k", "kty"}
	default:
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range members {
		v, ok := jwk[m].(string)
		if !ok {
			return ""
		}
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m)
		val, _ := json.Marshal(v)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// rsDPoPRequests returns the flow's requests that carry a DPoP proof (token
// and refresh requests, resource calls, challenged calls), in time order.
func rsDPoPRequests(f *analyze.Flow) []any {
	type item struct {
		id int
		v  any
	}
	var items []item
	seen := map[int]bool{}
	add := func(h *analyze.HTTP, v any) {
		if h.ID > 0 && !seen[h.ID] && len(rsHeaderValues(h, "dpop")) > 0 {
			seen[h.ID] = true
			items = append(items, item{h.ID, v})
		}
	}
	for _, t := range f.Tokens {
		add(&t.HTTP, t)
	}
	for _, t := range f.Refreshes {
		add(&t.HTTP, t)
	}
	for _, r := range f.Resources {
		add(&r.HTTP, r)
	}
	for _, c := range f.Challenges {
		add(&c.HTTP, c)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].id < items[j].id })
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// rsDPoPExpectedNonce is the nonce a request's proof must carry (RFC 9449
// §8, §9): the latest DPoP-Nonce response header the same server (origin)
// sent before the request, or "" when it never sent one.
func rsDPoPExpectedNonce(flows []*analyze.Flow, h *analyze.HTTP) string {
	nonce := ""
	for _, m := range rsIndexOf(flows).all {
		if m.h.ID >= h.ID {
			break
		}
		if m.h.Origin != h.Origin {
			continue
		}
		if vs := m.h.ResponseHeaders["dpop-nonce"]; len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
			nonce = strings.TrimSpace(vs[0])
		}
	}
	return nonce
}

// rsDPoPJTIFirstUse returns the id of an earlier request whose DPoP proof
// had the same jti as this request's (0 if the jti is fresh).
func rsDPoPJTIFirstUse(flows []*analyze.Flow, h *analyze.HTTP) int {
	jti, _ := rsDPoPClaims(h)["jti"].(string)
	if jti == "" {
		return 0
	}
	for _, m := range rsIndexOf(flows).all {
		if m.h.ID >= h.ID {
			break
		}
		if j, _ := rsDPoPClaims(m.h)["jti"].(string); j == jti {
			return m.h.ID
		}
	}
	return 0
}

// DPoP acceptance window (RFC 9449 §11.1 leaves it to the server; a few
// minutes is what deployed servers use).
const (
	rsDPoPMaxAge    = 300 // seconds a proof may be old
	rsDPoPMaxFuture = 60  // seconds of clock skew into the future
)

// rsDPoPReplayProblem says why an accepted request's DPoP proof should
// have been rejected as a replay (its jti was used by an earlier proof in
// the capture) or as stale (its iat outside the window around the
// server's response time), naming the server that accepted it; "" when
// the proof is fresh or the request was not accepted.
func rsDPoPReplayProblem(flows []*analyze.Flow, h *analyze.HTTP) string {
	if h.Status < 200 || h.Status >= 300 {
		return ""
	}
	claims := rsDPoPClaims(h)
	if len(claims) == 0 {
		return ""
	}
	server := "the resource " + h.Endpoint
	if _, ok := h.Form["grant_type"]; ok {
		server = "the token endpoint " + h.Endpoint
	}
	if first := rsDPoPJTIFirstUse(flows, h); first > 0 {
		return fmt.Sprintf("%s answered %d to a DPoP proof whose jti %v was already used by the proof of request #%d", server, h.Status, claims["jti"], first)
	}
	iat, ok := claims["iat"].(float64)
	now := rsResponseUnix(h)
	if !ok || now == 0 {
		return ""
	}
	switch age := now - int64(iat); {
	case age > rsDPoPMaxAge:
		return fmt.Sprintf("%s answered %d to a DPoP proof issued at %s, %d s before the response", server, h.Status,
			time.Unix(int64(iat), 0).UTC().Format(time.RFC3339), age)
	case -age > rsDPoPMaxFuture:
		return fmt.Sprintf("%s answered %d to a DPoP proof dated %d s after the response", server, h.Status, -age)
	}
	return ""
}

// ---------------------------------------------------------------------
// Discovery sequences.

// rsPRMFetchesAfter lists the protected resource metadata fetches that
// followed a challenge, in time order, up to the next challenge from the
// same origin: fetches of the challenge's resource_metadata URL or of
// any URL on the challenged origin.
func rsPRMFetchesAfter(flows []*analyze.Flow, c *analyze.Challenge) []*analyze.PRM {
	ix := rsIndexOf(flows)
	end := int(^uint(0) >> 1)
	for _, x := range ix.challenges {
		if x.HTTP.ID > c.HTTP.ID && x.HTTP.Origin == c.HTTP.Origin {
			end = x.HTTP.ID
			break
		}
	}
	pointer := ""
	if c.HasResourceMetadata {
		pointer = rsResolveRef(c.HTTP.URL, c.ResourceMetadata)
	}
	out := []*analyze.PRM{}
	for _, p := range ix.prms {
		if p.HTTP.ID <= c.HTTP.ID || p.HTTP.ID >= end {
			continue
		}
		if p.HTTP.Origin == c.HTTP.Origin || (pointer != "" && p.HTTP.URL == pointer) {
			out = append(out, p)
		}
	}
	return out
}

// rsPRMFetchedBefore reports whether the capture shows a fetch of u before
// exchange id (a client that already knows where the metadata is).
func rsPRMFetchedBefore(flows []*analyze.Flow, u string, id int) bool {
	for _, p := range rsIndexOf(flows).prms {
		if p.HTTP.ID < id && p.HTTP.URL == u {
			return true
		}
	}
	return false
}

func rsResolveRef(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

// rsNewerPRM returns the latest successful re-fetch of a protected resource
// metadata document (same URL, or a document for the same resource)
// after prm and before exchange id, or nil.
func rsNewerPRM(flows []*analyze.Flow, prm *analyze.PRM, before int) *analyze.PRM {
	if prm == nil || prm.HTTP.ID <= 0 {
		return nil
	}
	var last *analyze.PRM
	for _, p := range rsIndexOf(flows).prms {
		if p.HTTP.ID <= prm.HTTP.ID || p.HTTP.ID >= before || !p.OK {
			continue
		}
		if p.HTTP.URL == prm.HTTP.URL || (prm.HasResource && p.HasResource && p.Resource == prm.Resource) {
			last = p
		}
	}
	return last
}

// rsAsmCandidates are the metadata URLs an MCP 2025-11-25+ client tries for
// an issuer, in order (MCP "Authorization Server Metadata Discovery").
func rsAsmCandidates(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil
	}
	if strings.TrimSuffix(u.EscapedPath(), "/") == "" {
		return []string{
			oauth.InsertWellKnown(issuer, oauth.WellKnownOAuth),
			oauth.InsertWellKnown(issuer, oauth.WellKnownOIDC),
		}
	}
	return []string{
		oauth.InsertWellKnown(issuer, oauth.WellKnownOAuth),
		oauth.InsertWellKnown(issuer, oauth.WellKnownOIDC),
		oauth.AppendWellKnown(issuer, oauth.WellKnownOIDC),
	}
}

func rsIndexStr(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

// rsASMOrderProblem judges one authorization server metadata fetch against
// the MCP 2025-11-25 probing order for the issuer a PRM named: RFC 8414
// insertion, then OIDC insertion, then (path issuers) OIDC appending. A
// candidate may only be fetched after the previous one failed (a 200 for
// another issuer counts as failed), unless the client already fetched it
// before (a cached location); a fetch that failed (no metadata document)
// must not be the last one while candidates remain. It returns the
// problem, or "".
func rsASMOrderProblem(flows []*analyze.Flow, a *analyze.ASMetadata) string {
	iss := a.IssuerFromPRM
	if iss == "" {
		return ""
	}
	cands := rsAsmCandidates(iss)
	idx := rsIndexStr(cands, a.HTTP.URL)
	if idx < 0 {
		return ""
	}
	var seq []*analyze.ASMetadata
	for _, x := range rsIndexOf(flows).asms {
		if rsIndexStr(cands, x.HTTP.URL) >= 0 {
			seq = append(seq, x)
		}
	}
	pos := -1
	for i, x := range seq {
		if x.HTTP.ID == a.HTTP.ID {
			pos = i
		}
	}
	if pos < 0 {
		return ""
	}
	success := func(x *analyze.ASMetadata) bool { return rsSuccess(x, iss) }
	if idx > 0 {
		allowed := false
		for i := pos - 1; i >= 0; i-- {
			x := seq[i]
			if x.HTTP.URL == cands[idx] {
				allowed = true // fetched before: a cached location
				break
			}
			if x.HTTP.URL == cands[idx-1] && !success(x) {
				allowed = true
				break
			}
			if success(x) {
				break
			}
		}
		if !allowed {
			missing := cands[idx-1]
			return fmt.Sprintf("the client fetched %s without first trying %s (MCP order for issuer %s: %s)",
				a.HTTP.URL, missing, iss, strings.Join(cands, ", then "))
		}
	}
	// Gave up: a real failure (not a 200 naming another issuer: a client
	// that then uses that document is ASM-CLIENT-REJECTS-MISMATCH's) as
	// the last candidate fetched, with candidates left.
	if !a.OK && pos == len(seq)-1 && idx < len(cands)-1 {
		for i := 0; i < pos; i++ {
			if rsSuccess(seq[i], iss) {
				return ""
			}
		}
		instead := ""
		for _, x := range rsIndexOf(flows).asms {
			if x.HTTP.ID > a.HTTP.ID && x.HTTP.Origin == a.HTTP.Origin && rsIndexStr(cands, x.HTTP.URL) < 0 {
				instead = fmt.Sprintf(" and then fetched %s, which is not an MCP discovery URL,", x.HTTP.URL)
				break
			}
		}
		return fmt.Sprintf("%s answered %d%s but the client did not try %s for issuer %s",
			a.HTTP.URL, a.HTTP.Status, instead, strings.Join(cands[idx+1:], " or "), iss)
	}
	return ""
}

func rsSuccess(x *analyze.ASMetadata, iss string) bool { return x.OK && x.HasIssuer && x.Issuer == iss }

// rsBaseURL0326Problem checks a flow against the MCP 2025-03-26 rule for
// finding the authorization server: the authorization base URL is the
// MCP server URL with its path discarded; the client first fetches
// {base}/.well-known/oauth-authorization-server and only when that is not
// available uses {base}/authorize, /token and /register. It returns the
// problem, or "".
func rsBaseURL0326Problem(f *analyze.Flow, flows []*analyze.Flow) string {
	p, _ := rsBaseURL0326(f, flows)
	return p
}

// rsBaseURL0326 returns the problem and the message that shows it.
func rsBaseURL0326(f *analyze.Flow, flows []*analyze.Flow) (string, any) {
	mcp := ""
	switch {
	case f.Challenge != nil && f.Challenge.ResourceURL != "":
		mcp = f.Challenge.ResourceURL
	case len(f.Resources) > 0:
		mcp = f.Resources[0].HTTP.Endpoint
	}
	base := oauth.Origin(mcp)
	if base == "" {
		return "", nil
	}
	first := 0
	type use struct {
		what, endpoint string
		view           any
	}
	var uses []use
	note := func(what string, h *analyze.HTTP, v any) {
		if h.ID <= 0 {
			return
		}
		if first == 0 || h.ID < first {
			first = h.ID
		}
		uses = append(uses, use{what, h.Endpoint, v})
	}
	for _, r := range f.Registrations {
		note("registration", &r.HTTP, r)
	}
	if f.Authorize != nil {
		note("authorization", &f.Authorize.HTTP, f.Authorize)
	}
	if f.Token != nil {
		note("token", &f.Token.HTTP, f.Token)
	}
	sort.SliceStable(uses, func(i, j int) bool { return rsHTTPID(uses[i].view) < rsHTTPID(uses[j].view) })
	if first == 0 {
		return "", nil
	}
	expected := base + oauth.WellKnownOAuth
	mcpPath := strings.TrimSuffix(oauth.WithoutQuery(mcp), "/")
	hasPath := mcpPath != base
	tried, pathKept := false, ""
	var pathKeptView any
	for _, a := range rsIndexOf(flows).asms {
		if a.HTTP.ID >= first {
			break
		}
		switch {
		case a.HTTP.URL == expected:
			tried = true
		case hasPath && a.HTTP.Origin == base && !a.OIDC &&
			(a.HTTP.URL == oauth.InsertWellKnown(mcp, oauth.WellKnownOAuth) || a.HTTP.URL == mcpPath+oauth.WellKnownOAuth):
			if pathKept == "" {
				pathKept, pathKeptView = a.HTTP.URL, a
			}
		}
	}
	if pathKept != "" && !tried {
		return fmt.Sprintf("the client looked for metadata at %s, keeping the MCP path; the authorization base URL is %s, so the metadata URL is %s",
			pathKept, base, expected), pathKeptView
	}
	if f.ASMetadata != nil && f.ASMetadata.OK {
		return "", nil // endpoints came from metadata
	}
	for _, u := range uses {
		if hasPath && strings.HasPrefix(u.endpoint, mcpPath+"/") {
			return fmt.Sprintf("the %s request went to %s, keeping the MCP path; the 2025-03-26 fallback endpoints live on the authorization base URL %s",
				u.what, u.endpoint, base), u.view
		}
	}
	if !tried {
		for _, u := range uses {
			switch u.endpoint {
			case base + "/authorize", base + "/token", base + "/register":
				return fmt.Sprintf("the %s request used the fallback endpoint %s without first fetching %s",
					u.what, u.endpoint, expected), u.view
			}
		}
	}
	return "", nil
}

// rsHostClass classifies the host of a URL (or a bare host or IP):
// "loopback", "link-local" (169.254/16, fe80::/10, cloud metadata
// names), "private" (RFC 1918, fc00::/7), "shared" (100.64/10),
// "unspecified", "public" (any other IP) or "name" (a DNS name).
func rsHostClass(s string) string {
	host := s
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	switch {
	case host == "":
		return ""
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return "loopback"
	case host == "metadata.google.internal" || host == "metadata" || host == "instance-data" || host == "instance-data.ec2.internal":
		return "link-local"
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "name"
	}
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsPrivate():
		return "private"
	case ip.IsUnspecified():
		return "unspecified"
	}
	if v4 := ip.To4(); v4 != nil && v4[0] == 100 && v4[1]&0xc0 == 64 {
		return "shared"
	}
	return "public"
}

// rsServerIP is the address the exchange was sent to, when the capture
// recorded it (HAR serverIPAddress, pcap 4-tuple), else "".
func rsServerIP(h *analyze.HTTP) string {
	if ex := h.Exchange(); ex != nil {
		return rsAddrHost(ex.ServerAddr)
	}
	return ""
}

func rsHTTPID(v any) int {
	if h := analyze.HTTPOf(v); h != nil {
		return h.ID
	}
	return 0
}

// rsStepUpProblem judges what a user-delegated client did after a 403
// insufficient_scope (MCP 2025-11-25 "Step-Up Authorization Flow"): the
// next authorization request of the same client (same client_id or
// authorization endpoint) must include the challenged scopes, and the
// client must not retry the same call with the old token, or only
// refresh, instead of re-authorizing. "" when it did right or nothing
// followed (the user may have cancelled).
func rsStepUpProblem(flows []*analyze.Flow, f *analyze.Flow, c *analyze.Challenge) string {
	var next *analyze.Authorize
	for _, g := range flows {
		a := g.Authorize
		if a == nil || a.HTTP.ID <= c.HTTP.ID {
			continue
		}
		same := (f.ClientID != "" && g.ClientID == f.ClientID) || (f.Authorize != nil && a.HTTP.Endpoint == f.Authorize.HTTP.Endpoint)
		if same && (next == nil || a.HTTP.ID < next.HTTP.ID) {
			next = a
		}
	}
	limit := int(^uint(0) >> 1)
	if next != nil {
		limit = next.HTTP.ID
	}
	for _, m := range rsMCPRequests(f) {
		h := analyze.HTTPOf(m)
		if h.ID > c.HTTP.ID && h.ID < limit && len(h.RequestHeaders["authorization"]) > 0 && rsSameCall(h, &c.HTTP) {
			return "the client retried the same call with the token that lacks the scope instead of starting a new authorization request"
		}
	}
	for _, t := range f.Refreshes {
		if t.HTTP.ID > c.HTTP.ID && t.HTTP.ID < limit {
			return "the client only refreshed its token, which cannot add scopes, instead of starting a new authorization request"
		}
	}
	if next != nil && !oauth.Subset(c.Scopes, next.Scopes) {
		if !next.HasScope {
			return "the next authorization request has no scope parameter at all"
		}
		return fmt.Sprintf("the next authorization request asks for scope %q, which lacks %s", next.Scope, strings.Join(oauth.Difference(c.Scopes, next.Scopes), " "))
	}
	return ""
}

// rsSSRF lists the flow's metadata fetches that a server steered to an
// internal address (RFC 9728 §7.7, MCP Security Best Practices "SSRF"):
// the fetched host, or the address the capture saw it resolve to, is
// link-local (cloud instance metadata), private, shared or unspecified,
// and the URL came from a document on another, non-internal host (a
// challenge's resource_metadata, a PRM's authorization_servers). Loopback
// is left alone (local development), and so is an internal MCP server's
// own well-known metadata. Link-local targets are always reported.
func rsSSRF(f *analyze.Flow, flows []*analyze.Flow) ([]any, []string) {
	internal := func(class string) bool {
		return class == "link-local" || class == "private" || class == "shared" || class == "unspecified"
	}
	targetClass := func(h *analyze.HTTP) (string, string) {
		if c := rsHostClass(h.URL); internal(c) {
			return c, h.Host
		}
		if ip := rsServerIP(h); ip != "" {
			if c := rsHostClass(ip); internal(c) {
				return c, h.Host + " (resolved to " + ip + ")"
			}
		}
		return "", ""
	}
	externalSource := func(h *analyze.HTTP) bool {
		if internal(rsHostClass(h.URL)) || rsHostClass(h.URL) == "loopback" {
			return false
		}
		if ip := rsServerIP(h); ip != "" && (internal(rsHostClass(ip)) || rsHostClass(ip) == "loopback") {
			return false
		}
		return true
	}
	ix := rsIndexOf(flows)
	var views []any
	var probs []string
	report := func(v any, h *analyze.HTTP, class, host, source string) {
		views = append(views, v)
		probs = append(probs, fmt.Sprintf("the client fetched %s, whose host %s is %s%s, because %s pointed there",
			h.URL, host, class, map[bool]string{true: " (cloud instance metadata)", false: ""}[class == "link-local"], source))
	}
	for _, p := range f.PRMs {
		class, host := targetClass(&p.HTTP)
		if class == "" {
			continue
		}
		for _, c := range ix.challenges {
			if c.HTTP.ID < p.HTTP.ID && c.HasResourceMetadata && rsResolveRef(c.HTTP.URL, c.ResourceMetadata) == p.HTTP.URL &&
				c.HTTP.Origin != p.HTTP.Origin && (class == "link-local" || externalSource(&c.HTTP)) {
				report(p, &p.HTTP, class, host, "the resource_metadata of the "+strconv.Itoa(c.Status)+" from "+c.HTTP.Endpoint)
				break
			}
		}
	}
	for _, a := range f.ASMetadatas {
		class, host := targetClass(&a.HTTP)
		if class == "" || a.IssuerFromPRM == "" {
			continue
		}
		for _, p := range ix.prms {
			if p.HTTP.ID >= a.HTTP.ID || p.HTTP.Origin == a.HTTP.Origin || rsIndexStr(p.AuthorizationServers, a.IssuerFromPRM) < 0 {
				continue
			}
			if class == "link-local" || externalSource(&p.HTTP) {
				report(a, &a.HTTP, class, host, "the authorization_servers of the protected resource metadata "+p.HTTP.URL)
				break
			}
		}
	}
	return views, probs
}

// ---------------------------------------------------------------------
// Registration with the CEL environment.

func rsFn1(name string, arg, out *cel.Type, f func(ref.Val) ref.Val) cel.EnvOption {
	return cel.Function(name, cel.Overload(name+"_1", []*cel.Type{arg}, out, cel.UnaryBinding(f)))
}

func rsFn2(name string, a, b, out *cel.Type, f func(ref.Val, ref.Val) ref.Val) cel.EnvOption {
	return cel.Function(name, cel.Overload(name+"_2", []*cel.Type{a, b}, out, cel.BinaryBinding(f)))
}

func rsFn3(name string, a, b, c, out *cel.Type, f func(...ref.Val) ref.Val) cel.EnvOption {
	return cel.Function(name, cel.Overload(name+"_3", []*cel.Type{a, b, c}, out, cel.FunctionBinding(f)))
}

func rsOrZero[T any](p *T) ref.Val {
	if p == nil {
		var z T
		return rsNative(&z)
	}
	return rsNative(p)
}

func rsStrs(l []string) ref.Val {
	if l == nil {
		l = []string{}
	}
	return listVal(l)
}

func init() {
	reg := func(sig, doc string, o cel.EnvOption) { RegisterFunction(sig, doc, o) }
	reg("issued_access_tokens(flows)", "every access token a token response of the capture issued",
		rsFn1("issued_access_tokens", rsTFlows, stringList, func(v ref.Val) ref.Val { return rsStrs(rsIssuedAccessTokens(rsArgFlows(v))) }))
	reg("mcp_requests(flow)", "the flow's requests to protected resources (answered calls and challenged calls), in time order",
		rsFn1("mcp_requests", rsTFlow, cel.ListType(cel.DynType), func(v ref.Val) ref.Val { return rsDynList(rsMCPRequests(rsArgFlow(v))) }))
	reg("presented_token(http)", "the credential of the request's Authorization header (after the scheme), or ''",
		rsFn1("presented_token", rsTHTTP, cel.StringType, func(v ref.Val) ref.Val { return types.String(rsPresentedToken(rsArgHTTP(v))) }))
	reg("auth_scheme(http)", "the scheme of the request's Authorization header, or ''",
		rsFn1("auth_scheme", rsTHTTP, cel.StringType, func(v ref.Val) ref.Val {
			s, _, _ := rsAuthorization(rsArgHTTP(v))
			return types.String(s)
		}))
	reg("token_places(http, flows)", "where an access token the capture saw issued appears in a request besides the Authorization header and the query (headers, cookie, form, body)",
		rsFn2("token_places", rsTHTTP, rsTFlows, stringList, func(h, f ref.Val) ref.Val {
			return rsStrs(rsTokenPlaces(rsArgHTTP(h), rsIndexOf(rsArgFlows(f)).issuedSet))
		}))
	reg("token_elsewhere(http, flows)", "true when the request carries an issued access token outside the Authorization header (query, other header, cookie, body)",
		rsFn2("token_elsewhere", rsTHTTP, rsTFlows, cel.BoolType, func(h, f ref.Val) ref.Val { return types.Bool(rsTokenElsewhere(rsArgHTTP(h), rsArgFlows(f))) }))
	reg("query_token_params(http, flows)", "query parameters carrying an access token (access_token, or the value of a token the capture saw issued)",
		rsFn2("query_token_params", rsTHTTP, rsTFlows, stringList, func(h, f ref.Val) ref.Val {
			return rsStrs(rsQueryTokenParams(rsArgHTTP(h), rsIndexOf(rsArgFlows(f)).issuedSet))
		}))
	reg("session_token_request(flows, http)", "an earlier accepted request with a token in the same MCP session (or around it, for sessionless servers); a zero view (http.id 0) if none",
		rsFn2("session_token_request", rsTFlows, rsTHTTP, rsTResource, func(f, h ref.Val) ref.Val { return rsOrZero(rsSessionTokenRequest(rsArgFlows(f), rsArgHTTP(h))) }))
	reg("unauthenticated_challenge(flows, http)", "a 401 the same endpoint gave a tokenless request for the same JSON-RPC method or initialize; zero view if none",
		rsFn2("unauthenticated_challenge", rsTFlows, rsTHTTP, rsTChallenge, func(f, h ref.Val) ref.Val {
			return rsOrZero(rsUnauthenticatedChallenge(rsArgFlows(f), rsArgHTTP(h)))
		}))
	reg("token_intended_resources(flow)", "the resource identifiers the flow's tokens were requested for",
		rsFn1("token_intended_resources", rsTFlow, stringList, func(v ref.Val) ref.Val { return rsStrs(rsTokenIntendedResources(rsArgFlow(v))) }))
	reg("token_sent_elsewhere(flow, flows)", "the flow's requests presenting its access token outside the resources it was requested for (aud and passthrough excepted)",
		rsFn2("token_sent_elsewhere", rsTFlow, rsTFlows, cel.ListType(cel.DynType), func(f, fs ref.Val) ref.Val {
			return rsDynList(rsTokenSentElsewhere(rsArgFlow(f), rsArgFlows(fs)))
		}))
	reg("url_within(resource, url)", "true when url is the resource identifier or below it (same origin, path prefix at a / boundary)",
		rsFn2("url_within", cel.StringType, cel.StringType, cel.BoolType, func(a, b ref.Val) ref.Val { return types.Bool(rsURLWithin(rsArgStr(a), rsArgStr(b))) }))
	reg("bearer_jwt(token)", "a presented token decoded as a JWT without verification (valid false for opaque tokens)",
		rsFn1("bearer_jwt", cel.StringType, rsTJWT, func(v ref.Val) ref.Val { return rsNative(decodeJWTCached(rsArgStr(v))) }))
	reg("response_unix(http)", "when the server answered, Unix seconds, by the capture clock (else the Date header; 0 if unknown)",
		rsFn1("response_unix", rsTHTTP, cel.IntType, func(v ref.Val) ref.Val { return types.Int(rsResponseUnix(rsArgHTTP(v))) }))
	reg("passthrough_inbound(flows, http)", "the client request an MCP server's outbound request forwards the token of; zero view if none",
		rsFn2("passthrough_inbound", rsTFlows, rsTHTTP, rsTResource, func(f, h ref.Val) ref.Val { return rsOrZero(rsPassthroughInbound(rsArgFlows(f), rsArgHTTP(h))) }))
	reg("bearer_syntax_problem(http, flows)", "how the Authorization header departs from 'Bearer' SP token68 (RFC 6750 §2.1), or ''",
		rsFn2("bearer_syntax_problem", rsTHTTP, rsTFlows, cel.StringType, func(h, f ref.Val) ref.Val {
			return types.String(rsBearerSyntaxProblem(rsArgHTTP(h), rsIndexOf(rsArgFlows(f)).issuedSet))
		}))
	reg("auth_failure_signal(http)", "an authentication failure answered as a 200 JSON-RPC error, a login redirect or a 400/5xx, or ''",
		rsFn1("auth_failure_signal", rsTHTTP, cel.StringType, func(v ref.Val) ref.Val { return types.String(rsAuthFailureSignal(rsArgHTTP(v))) }))
	reg("rpc_failed(http)", "true when a 2xx MCP response carries a JSON-RPC error or a tool result with isError",
		rsFn1("rpc_failed", rsTHTTP, cel.BoolType, func(v ref.Val) ref.Val { return types.Bool(rsRPCFailed(rsArgHTTP(v))) }))
	reg("same_call(a, b)", "true when two requests are the same MCP operation (endpoint, JSON-RPC method, tool or resource)",
		rsFn2("same_call", rsTHTTP, rsTHTTP, cel.BoolType, func(a, b ref.Val) ref.Val { return types.Bool(rsSameCall(rsArgHTTP(a), rsArgHTTP(b))) }))
	reg("dpop_requests(flow)", "the flow's requests carrying a DPoP proof, in time order",
		rsFn1("dpop_requests", rsTFlow, cel.ListType(cel.DynType), func(v ref.Val) ref.Val { return rsDynList(rsDPoPRequests(rsArgFlow(v))) }))
	reg("dpop_problems(http)", "how a request's DPoP proof departs from RFC 9449 §4.2/§4.3 (ath checked when a DPoP-scheme token is presented)",
		rsFn1("dpop_problems", rsTHTTP, stringList, func(v ref.Val) ref.Val {
			h := rsArgHTTP(v)
			at := ""
			if s, c, ok := rsAuthorization(h); ok && strings.EqualFold(s, "dpop") {
				at = c
			}
			return rsStrs(rsDPoPProblems(h, at))
		}))
	reg("dpop_claims(http)", "the claims of a request's DPoP proof ({} if none)",
		rsFn1("dpop_claims", rsTHTTP, cel.MapType(cel.StringType, cel.DynType), func(v ref.Val) ref.Val { return rsNative(rsDPoPClaims(rsArgHTTP(v))) }))
	reg("dpop_jkt(http)", "the RFC 7638 SHA-256 thumbprint of the DPoP proof's jwk, or ''",
		rsFn1("dpop_jkt", rsTHTTP, cel.StringType, func(v ref.Val) ref.Val { return types.String(rsDPoPJKT(rsArgHTTP(v))) }))
	reg("dpop_expected_nonce(flows, http)", "the latest DPoP-Nonce the same origin sent before the request, or ''",
		rsFn2("dpop_expected_nonce", rsTFlows, rsTHTTP, cel.StringType, func(f, h ref.Val) ref.Val {
			return types.String(rsDPoPExpectedNonce(rsArgFlows(f), rsArgHTTP(h)))
		}))
	reg("dpop_jti_first_use(flows, http)", "the id of an earlier request whose DPoP proof used the same jti (0 if fresh)",
		rsFn2("dpop_jti_first_use", rsTFlows, rsTHTTP, cel.IntType, func(f, h ref.Val) ref.Val {
			return types.Int(rsDPoPJTIFirstUse(rsArgFlows(f), rsArgHTTP(h)))
		}))
	reg("dpop_replay_problem(flows, http)", "why an accepted request's DPoP proof is a replay (jti reused) or stale (iat outside 5 min / +60 s of the response), or ''",
		rsFn2("dpop_replay_problem", rsTFlows, rsTHTTP, cel.StringType, func(f, h ref.Val) ref.Val {
			return types.String(rsDPoPReplayProblem(rsArgFlows(f), rsArgHTTP(h)))
		}))
	reg("dpop_in_use(flows)", "true when any request of the capture carries a DPoP proof",
		rsFn1("dpop_in_use", rsTFlows, cel.BoolType, func(v ref.Val) ref.Val { return types.Bool(rsIndexOf(rsArgFlows(v)).dpop) }))
	reg("redirect_uri_servers(flows, redirect_uri)", "the authorization endpoints the capture used a redirect URI with, in order of first use",
		rsFn2("redirect_uri_servers", rsTFlows, cel.StringType, stringList, func(f, u ref.Val) ref.Val {
			if g := rsIndexOf(rsArgFlows(f)).redirects[rsArgStr(u)]; g != nil {
				return rsStrs(g.endpoints)
			}
			return rsStrs(nil)
		}))
	reg("redirect_uri_without_iss(flows, redirect_uri)", "how many flows using the redirect URI got an authorization response without iss",
		rsFn2("redirect_uri_without_iss", rsTFlows, cel.StringType, cel.IntType, func(f, u ref.Val) ref.Val {
			if g := rsIndexOf(rsArgFlows(f)).redirects[rsArgStr(u)]; g != nil {
				return types.Int(g.noIss)
			}
			return types.Int(0)
		}))
	reg("redirect_uri_first(flows, redirect_uri)", "the first authorization request that used the redirect URI (zero view if none)",
		rsFn2("redirect_uri_first", rsTFlows, cel.StringType, cel.ObjectType("analyze.Authorize"), func(f, u ref.Val) ref.Val {
			if g := rsIndexOf(rsArgFlows(f)).redirects[rsArgStr(u)]; g != nil {
				return rsOrZero(g.first)
			}
			return rsOrZero[analyze.Authorize](nil)
		}))
	reg("prm_fetches_after(flows, challenge)", "the PRM fetches that followed a challenge (its pointer or its origin), up to the next challenge from that origin",
		rsFn2("prm_fetches_after", rsTFlows, rsTChallenge, cel.ListType(rsTPRM), func(f, c ref.Val) ref.Val {
			ch, _ := c.Value().(*analyze.Challenge)
			if ch == nil {
				return rsNative([]*analyze.PRM{})
			}
			return rsNative(rsPRMFetchesAfter(rsArgFlows(f), ch))
		}))
	reg("prm_fetched_before(flows, url, id)", "true when the capture fetched the PRM url before exchange id",
		rsFn3("prm_fetched_before", rsTFlows, cel.StringType, cel.IntType, cel.BoolType, func(a ...ref.Val) ref.Val {
			id, _ := a[2].Value().(int64)
			return types.Bool(rsPRMFetchedBefore(rsArgFlows(a[0]), rsArgStr(a[1]), int(id)))
		}))
	reg("newer_prm(flows, prm, before_id)", "the latest successful re-fetch of the PRM document (same URL or resource) before an exchange; zero view if none",
		rsFn3("newer_prm", rsTFlows, rsTPRM, cel.IntType, rsTPRM, func(a ...ref.Val) ref.Val {
			p, _ := a[1].Value().(*analyze.PRM)
			id, _ := a[2].Value().(int64)
			return rsOrZero(rsNewerPRM(rsArgFlows(a[0]), p, int(id)))
		}))
	reg("asm_order_problem(flows, as_metadata)", "how an AS metadata fetch breaks the MCP 2025-11-25 probing order for the issuer a PRM named, or ''",
		rsFn2("asm_order_problem", rsTFlows, rsTASM, cel.StringType, func(f, a ref.Val) ref.Val {
			m, _ := a.Value().(*analyze.ASMetadata)
			if m == nil {
				return types.String("")
			}
			return types.String(rsASMOrderProblem(rsArgFlows(f), m))
		}))
	reg("baseurl_0326_problem(flow, flows)", "how the flow departs from the MCP 2025-03-26 authorization base URL and fallback rules, or ''",
		rsFn2("baseurl_0326_problem", rsTFlow, rsTFlows, cel.StringType, func(f, fs ref.Val) ref.Val {
			return types.String(rsBaseURL0326Problem(rsArgFlow(f), rsArgFlows(fs)))
		}))
	reg("baseurl_0326_at(flow, flows)", "the message that shows the baseurl_0326_problem (dyn view; a zero PRM view if none)",
		rsFn2("baseurl_0326_at", rsTFlow, rsTFlows, cel.DynType, func(f, fs ref.Val) ref.Val {
			if _, v := rsBaseURL0326(rsArgFlow(f), rsArgFlows(fs)); v != nil {
				return rsNative(v)
			}
			return rsNative(&analyze.PRM{})
		}))
	reg("stepup_problem(flows, flow, challenge)", "what a client did wrong after a 403 insufficient_scope (retry, refresh only, re-authorization without the scopes), or ''",
		rsFn3("stepup_problem", rsTFlows, rsTFlow, rsTChallenge, cel.StringType, func(a ...ref.Val) ref.Val {
			c, _ := a[2].Value().(*analyze.Challenge)
			if c == nil {
				return types.String("")
			}
			return types.String(rsStepUpProblem(rsArgFlows(a[0]), rsArgFlow(a[1]), c))
		}))
	reg("ssrf_fetches(flow, flows)", "the flow's metadata fetches a server on another host steered to an internal address (dyn views)",
		rsFn2("ssrf_fetches", rsTFlow, rsTFlows, cel.ListType(cel.DynType), func(f, fs ref.Val) ref.Val {
			v, _ := rsSSRF(rsArgFlow(f), rsArgFlows(fs))
			return rsDynList(v)
		}))
	reg("ssrf_problems(flow, flows)", "descriptions of ssrf_fetches, in the same order",
		rsFn2("ssrf_problems", rsTFlow, rsTFlows, stringList, func(f, fs ref.Val) ref.Val {
			_, p := rsSSRF(rsArgFlow(f), rsArgFlows(fs))
			return rsStrs(p)
		}))
	reg("host_class(url)", "loopback, link-local, private, shared, unspecified, public (IP literals) or name",
		rsFn1("host_class", cel.StringType, cel.StringType, func(v ref.Val) ref.Val { return types.String(rsHostClass(rsArgStr(v))) }))
	reg("server_ip(http)", "the IP address the exchange was sent to, when the capture recorded it, else ''",
		rsFn1("server_ip", rsTHTTP, cel.StringType, func(v ref.Val) ref.Val { return types.String(rsServerIP(rsArgHTTP(v))) }))
	reg("resolve_url(base, ref)", "ref resolved against base (RFC 3986 §5)",
		rsFn2("resolve_url", cel.StringType, cel.StringType, cel.StringType, func(a, b ref.Val) ref.Val { return types.String(rsResolveRef(rsArgStr(a), rsArgStr(b))) }))
}
