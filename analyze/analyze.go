// Package analyze turns captured exchanges into OAuth flows: it classifies
// every exchange (discovery, registration, authorization, callback, token,
// refresh, resource call, …), builds a typed view of each, and correlates
// them into one Flow per authorization attempt by the values the protocol
// carries (state, code, PKCE, client_id, redirect_uri, resource, issuer),
// never by TCP connection. It records where every advertised scope list came
// from and which MCP revision each flow speaks.
package analyze

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oauthlint/oauthlint/analyze/oauth"
	"github.com/oauthlint/oauthlint/capture"
)

// Options tune the analysis.
type Options struct {
	// MCPRevision is "auto" (detect from traffic) or a revision to force
	// on every flow.
	MCPRevision string
	// ClientRun, when the capture covers a client's whole run, says how
	// it ended; rules may then read the end of the traffic as the client
	// stopping.
	ClientRun *capture.ClientRun
	// Undecrypted lists the connections the readers saw but could not
	// read (input.Info.Undecrypted of every input: TLS connections
	// without keys, damaged or cut). A flow whose time span (plus
	// UnreadableMargin) overlaps one to its authorization server,
	// resource or redirect host records it in Flow.Unreadable, and the
	// legs it lacks become possibly missing: rules that would conclude
	// from their absence answer not-available. Exchanges whose
	// connection lost bytes (gaps bytes-missing, undecrypted) are
	// treated the same way without being listed here.
	Undecrypted []capture.Undecrypted
	// Views, when set, keeps each exchange's HTTP view between analyses
	// of a growing capture: the live proxy analyzes the whole capture
	// again as it grows, and building the views (JSON bodies decoded into
	// maps, header maps, query and form parsing) was most of each
	// analysis. Exchanges must not change once analyzed.
	Views *ViewCache
}

// ViewCache holds the HTTP views of exchanges across analyses, keyed by
// the exchange's request (the live session copies exchanges before each
// analysis, the requests stay the same). Safe for concurrent use.
type ViewCache struct {
	mu sync.Mutex
	m  map[*capture.Request]cachedView
}

type cachedView struct {
	h     HTTP
	light bool
}

// NewViewCache returns an empty cache.
func NewViewCache() *ViewCache { return &ViewCache{m: map[*capture.Request]cachedView{}} }

// get returns the cached view of ex, renumbered for this analysis.
func (c *ViewCache) get(ex *capture.Exchange) (HTTP, bool, bool) {
	if c == nil || ex.Request == nil {
		return HTTP{}, false, false
	}
	c.mu.Lock()
	v, ok := c.m[ex.Request]
	c.mu.Unlock()
	if !ok {
		return HTTP{}, false, false
	}
	v.h.ID = ex.Seq + 1
	v.h.ex = ex
	return v.h, v.light, true
}

func (c *ViewCache) put(ex *capture.Exchange, h *HTTP, light bool) {
	if c == nil || ex.Request == nil {
		return
	}
	c.mu.Lock()
	c.m[ex.Request] = cachedView{h: *h, light: light}
	c.mu.Unlock()
}

// Message is one classified exchange.
type Message struct {
	Kind Kind
	// View is the typed view (*PRM, *Challenge, …); nil for KindOther.
	View any
	HTTP *HTTP
	// Flows are the ids of the flows the message belongs to.
	Flows []string
}

// Result is the analysis of a capture.
type Result struct {
	Exchanges []*capture.Exchange
	// Messages has one entry per exchange, index = exchange Seq.
	Messages []*Message
	Flows    []*Flow
	// Secrets holds every credential value seen, for redaction.
	Secrets *capture.SecretSet
	// ClientRun is Options.ClientRun.
	ClientRun *capture.ClientRun

	memo sync.Map
	// light lists the exchanges (by index) given a light view, for
	// ReleaseUnread.
	light []int
}

// Memo returns the value cached under key for this analysis, building it
// once. Rule helpers use it for capture-wide indexes, so that a question
// asked for every flow is answered from one pass over the capture.
func (r *Result) Memo(key string, build func() any) any {
	if v, ok := r.memo.Load(key); ok {
		return v
	}
	v, _ := r.memo.LoadOrStore(key, build())
	return v
}

// ReleaseUnread drops the headers and bodies of the exchanges the
// analysis gave a light view (traffic that cannot be OAuth or MCP, not
// named by any metadata): once Analyze has collected their secrets for
// redaction, nothing reads them — rules see those exchanges' method, URL
// and status only, and reports show flows. For the command line, where
// the result ends in a report: the rules and the report of a large
// capture then run with a third less memory held. Exchanges shared with
// another consumer (the live proxy's HAR) must not be released.
func (r *Result) ReleaseUnread() {
	for _, i := range r.light {
		ex := r.Exchanges[i]
		ex.Request.Headers, ex.Request.Body = nil, nil
		if ex.Response != nil {
			ex.Response.Headers, ex.Response.Body = nil, nil
		}
	}
	r.light = nil
}

// Analyze classifies and correlates the exchanges of a merged timeline
// (see capture.Timeline). It never fails: what it cannot make sense of is
// classified "other".
func Analyze(exs []*capture.Exchange, opts Options) *Result {
	res := &Result{Exchanges: exs, Secrets: capture.NewSecretSet(), ClientRun: opts.ClientRun}
	k := newKnowledge()
	https := make([]HTTP, len(exs))
	light := make([]bool, len(exs))
	for i, ex := range exs {
		ex.Seq = i
		h := &https[i]
		var cached bool
		*h, light[i], cached = opts.Views.get(ex)
		switch {
		case cached:
		case maybeOAuth(ex):
			*h = newHTTPDeferred(ex)
		default:
			// Traffic that cannot be OAuth or MCP (static assets, plain
			// API calls without credentials) gets a light view: parsing
			// every body of a large capture would dominate the run.
			*h = newLightHTTP(ex)
			light[i] = true
		}
		// The view goes back to the cache when it was made or learned
		// something (its JSON, its credentials).
		changed := !cached || !h.secretsKnown
		if !light[i] {
			// What learn and collectSecrets read of the response's
			// JSON: metadata documents, and any body that may hold a
			// credential. A cached view still pending was found to be
			// neither when it was made (the body does not change).
			if !cached && h.responseJSONPending && (isASMPath(h.Path) || mayHoldSecretMember(ex.Response.Body)) {
				h.decodeResponseJSON()
			}
			k.learn(h)
			collectSecrets(res.Secrets, ex, h)
		} else {
			collectHeaderSecrets(res.Secrets, ex, h)
		}
		if changed {
			opts.Views.put(ex, h, light[i])
		}
	}
	for i, ex := range exs {
		h := &https[i]
		if light[i] {
			// An endpoint the metadata named (a JWKS or userinfo URL
			// without credentials, a client ID metadata document) is
			// looked at in full after all.
			if !k.named(h) {
				res.Messages = append(res.Messages, &Message{Kind: KindOther, HTTP: h})
				res.light = append(res.light, i)
				continue
			}
			https[i] = newHTTP(ex)
			collectSecrets(res.Secrets, ex, &https[i])
			opts.Views.put(ex, &https[i], false)
		}
		kind := classify(h, k)
		decodeReq := h.requestJSONPending && needsRequestJSON(kind)
		decodeResp := h.responseJSONPending && needsResponseJSON(kind, h)
		if decodeReq {
			h.decodeRequestJSON()
		}
		if decodeResp {
			h.decodeResponseJSON()
		}
		if decodeReq || decodeResp {
			opts.Views.put(ex, h, false)
		}
		m := &Message{Kind: kind, HTTP: h}
		switch kind {
		case KindPRM:
			v := newPRM(*h)
			m.View, m.HTTP = v, &v.HTTP
		case KindChallenge:
			v := newChallenge(*h)
			m.View, m.HTTP = v, &v.HTTP
		case KindASMetadata:
			v := newASMetadata(*h)
			m.View, m.HTTP = v, &v.HTTP
		case KindRegistration:
			v := newRegistration(*h)
			m.View, m.HTTP = v, &v.HTTP
		case KindAuthorize:
			v := newAuthorize(*h)
			m.View, m.HTTP = v, &v.HTTP
		case KindCallback:
			v := newCallback(*h, h.URL, false)
			m.View, m.HTTP = v, &v.HTTP
		case KindToken, KindRefresh:
			v := newToken(*h)
			m.View, m.HTTP = v, &v.HTTP
		case KindResource:
			v := newResource(*h)
			m.View, m.HTTP = v, &v.HTTP
		case KindOther:
		default:
			v := &Aux{HTTP: *h, Kind: string(kind)}
			m.View, m.HTTP = v, &v.HTTP
		}
		res.Messages = append(res.Messages, m)
	}
	c := &correlator{res: res, opts: opts}
	c.run()
	return res
}

type correlator struct {
	res   *Result
	opts  Options
	flows []*Flow
	// claimed marks exchanges already assigned as a flow's main leg.
	claimed   map[int]bool
	byKind    map[Kind][]*Message
	originIdx map[string][]*Message
	// asmAt indexes AS metadata by endpoint (see indexASM).
	asmAt [2]map[string][]*Message
}

// msgs returns the messages of the given kinds in time order, from an
// index built once (the correlator asks for the same kinds per flow).
func (c *correlator) msgs(kinds ...Kind) []*Message {
	if c.byKind == nil {
		c.byKind = map[Kind][]*Message{}
		for _, m := range c.res.Messages {
			c.byKind[m.Kind] = append(c.byKind[m.Kind], m)
		}
	}
	if len(kinds) == 1 {
		return c.byKind[kinds[0]]
	}
	var out []*Message
	for _, k := range kinds {
		out = append(out, c.byKind[k]...)
	}
	sort.SliceStable(out, func(i, j int) bool { return seqOf(out[i]) < seqOf(out[j]) })
	return out
}

func seqOf(m *Message) int { return m.HTTP.ex.Seq }

func (c *correlator) run() {
	c.claimed = map[int]bool{}
	c.linkDiscovery()
	c.authorizationFlows()
	c.tokenFlows()
	c.refreshes()
	c.attachResources()
	for _, f := range c.flows {
		c.attachDiscovery(f)
		c.attachRegistration(f)
		c.attachCIMD(f)
	}
	c.attachUnauthenticated()
	c.attachAux()
	c.discoveryFlows()
	sort.SliceStable(c.flows, func(i, j int) bool { return c.flowStart(c.flows[i]) < c.flowStart(c.flows[j]) })
	for i, f := range c.flows {
		f.ID = fmt.Sprintf("F%d", i+1)
		c.finish(f)
	}
	c.attachUnreadable()
	c.res.Flows = c.flows
}

// linkDiscovery records, for every PRM and AS metadata fetch, how the
// client got its URL: PRM from a challenge's resource_metadata, AS
// metadata from a PRM's authorization_servers entry.
func (c *correlator) linkDiscovery() {
	var lastChallenges []*Challenge
	var lastPRMs []*PRM
	for _, m := range c.res.Messages {
		switch v := m.View.(type) {
		case *Challenge:
			lastChallenges = append(lastChallenges, v)
		case *PRM:
			for i := len(lastChallenges) - 1; i >= 0; i-- {
				ch := lastChallenges[i]
				if ch.HasResourceMetadata && ch.ResourceMetadata == v.HTTP.URL {
					v.Via = "header"
					v.ExpectedResource = ch.ResourceURL
					break
				}
			}
			lastPRMs = append(lastPRMs, v)
		case *ASMetadata:
			for i := len(lastPRMs) - 1; i >= 0 && v.IssuerFromPRM == ""; i-- {
				for _, as := range lastPRMs[i].AuthorizationServers {
					if metadataURLFor(as, v.HTTP.URL) {
						v.IssuerFromPRM = as
						break
					}
				}
			}
		}
	}
}

// metadataURLFor reports whether u is one of the metadata URLs a client
// builds from issuer (RFC 8414 insertion, OIDC insertion or appending).
func metadataURLFor(issuer, u string) bool {
	return u == oauth.InsertWellKnown(issuer, oauth.WellKnownOAuth) ||
		u == oauth.InsertWellKnown(issuer, oauth.WellKnownOIDC) ||
		u == oauth.AppendWellKnown(issuer, oauth.WellKnownOIDC)
}

func (c *correlator) newFlow(kind string) *Flow {
	f := &Flow{Kind: kind, Missing: map[string]string{}}
	c.flows = append(c.flows, f)
	return f
}

// authorizationFlows starts one flow per authorization request and pairs
// it with its callback and code exchange.
func (c *correlator) authorizationFlows() {
	var open []*Flow
	for _, m := range c.msgs(KindAuthorize) {
		az := m.View.(*Authorize)
		if prev := continuation(open, az); prev != nil {
			// A login/consent round trip back to the authorization
			// endpoint (Hydra's login_verifier, consent_verifier): the
			// same attempt, not a new one.
			prev.Authorize.Hops++
			c.addStep(prev, KindAuthorize, m)
			if az.Location != "" {
				prev.Authorize.Location = az.Location
			}
			continue
		}
		f := c.newFlow("authorization_code")
		f.Authorize = az
		f.ClientID = az.ClientID
		c.addStep(f, KindAuthorize, m)
		open = append(open, f)
	}
	c.pairCallbacks(open)
	for _, f := range open {
		if f.Callback == nil {
			c.synthesizeCallback(f)
		}
	}
	c.pairTokens(open)
}

// continuation finds the flow an authorization request continues.
func continuation(open []*Flow, az *Authorize) *Flow {
	_, lv := az.Params["login_verifier"]
	_, cv := az.Params["consent_verifier"]
	// A form posted back to the authorization endpoint without its own
	// response_type (a consent or login form of the AS) continues the
	// latest attempt there.
	formPost := az.HTTP.Method == "POST" && az.ResponseType == ""
	for i := len(open) - 1; i >= 0; i-- {
		p := open[i].Authorize
		if formPost && p.HTTP.Endpoint == az.HTTP.Endpoint && az.HTTP.TimeMS-p.HTTP.TimeMS <= int64(30*time.Minute/time.Millisecond) {
			return open[i]
		}
		if p.ClientID != az.ClientID || p.HTTP.Endpoint != az.HTTP.Endpoint {
			continue
		}
		if az.HTTP.TimeMS-p.HTTP.TimeMS > int64(30*time.Minute/time.Millisecond) {
			continue
		}
		if lv || cv {
			return open[i]
		}
		if p.HasState && az.HasState && p.State == az.State && p.CodeChallenge == az.CodeChallenge {
			return open[i]
		}
		if !p.HasState && p.HasCodeChallenge && p.CodeChallenge == az.CodeChallenge {
			return open[i]
		}
	}
	return nil
}

// pairCallbacks gives each callback to the authorization request it
// answers: the one whose state it echoes, else the one whose redirect
// went there, else the latest earlier request with that redirect URI.
// Assigning from the callback's side keeps an abandoned authorization
// (its callback never arrived) from stealing the next attempt's callback.
func (c *correlator) pairCallbacks(open []*Flow) {
	for _, m := range c.msgs(KindCallback) {
		cb := m.View.(*Callback)
		var best *Flow
		bestScore := 0
		for _, f := range open {
			az := f.Authorize
			if az.HTTP.ex.Seq >= seqOf(m) || f.Callback != nil {
				continue
			}
			score := 0
			if az.HasState && cb.HasState {
				if az.State != cb.State {
					continue
				}
				score += 8
			} else if !az.HasState && cb.HasState {
				continue
			}
			if loc := resolveLocation(az.HTTP.URL, az.Location); loc != "" && loc == cb.HTTP.URL {
				score += 4
			}
			if az.HasRedirectURI && oauth.WithoutQuery(az.RedirectURI) == cb.HTTP.Endpoint {
				score += 2
			}
			if score < 2 {
				continue
			}
			// Ties go to the latest request (open is in time order).
			if score >= bestScore {
				best, bestScore = f, score
			}
		}
		if best != nil {
			c.claimed[seqOf(m)] = true
			best.Callback = cb
			c.addStep(best, KindCallback, m)
		}
	}
}

// synthesizeCallback reads the authorization response from the Location
// header that sent the browser to the redirect URI when the callback
// request itself was not captured (the loopback listener is not behind
// the proxy, or the client had stopped listening).
func (c *correlator) synthesizeCallback(f *Flow) {
	az := f.Authorize
	loc := resolveLocation(az.HTTP.URL, az.Location)
	if loc != "" && az.HasRedirectURI && strings.HasPrefix(loc, oauth.WithoutQuery(az.RedirectURI)) {
		f.Callback = newCallback(az.HTTP, loc, true)
	}
}

// pairTokens gives each code exchange to the authorization it redeems:
// PKCE (the verifier answers the challenge) is the strongest link, the
// code echoed by the callback the next; the token endpoint must belong to
// the AS that authorized.
func (c *correlator) pairTokens(open []*Flow) {
	asmOf := map[*Flow]*ASMetadata{}
	for _, f := range open {
		ep := f.Authorize.HTTP.Endpoint
		asmOf[f] = c.latestASM(f.Authorize.HTTP.ex.Seq, asmByAuthorize, ep)
	}
	for _, m := range c.msgs(KindToken) {
		t := m.View.(*Token)
		if t.GrantType != "authorization_code" {
			continue
		}
		var best *Flow
		bestScore := 0
		for _, f := range open {
			az := f.Authorize
			if az.HTTP.ex.Seq >= seqOf(m) || f.Token != nil {
				continue
			}
			if f.Callback != nil && !f.Callback.Synthesized && f.Callback.HTTP.ex.Seq >= seqOf(m) {
				continue
			}
			if a := asmOf[f]; a != nil && a.TokenEndpoint != "" {
				if a.tokenAt != t.HTTP.Endpoint {
					continue
				}
			} else if oauth.Origin(t.HTTP.URL) != oauth.Origin(az.HTTP.URL) {
				continue
			}
			score := 0
			codeMatch := f.Callback != nil && f.Callback.HasCode && t.Code == f.Callback.Code
			if f.Callback != nil && f.Callback.HasCode && t.HasCode && !codeMatch {
				continue
			}
			if codeMatch {
				score += 4
			}
			pkce := az.HasCodeChallenge && t.HasCodeVerifier && oauth.PKCEMatches(t.CodeVerifier, az.CodeChallenge, methodOr(az.CodeChallengeMethod))
			if pkce {
				score += 8
			}
			if !codeMatch && !pkce {
				// Only the endpoint ties them: accept that only when
				// neither side could show a stronger link (no callback
				// captured, no PKCE pair).
				if f.Callback != nil || (az.HasCodeChallenge && t.HasCodeVerifier) {
					continue
				}
				score++
			}
			if t.HasClientID && az.ClientID != "" && t.ClientID != az.ClientID && !codeMatch && !pkce {
				continue
			}
			if az.HasRedirectURI && t.RedirectURI == az.RedirectURI {
				score++
			}
			if score >= bestScore {
				best, bestScore = f, score
			}
		}
		if best == nil {
			continue
		}
		c.claimed[seqOf(m)] = true
		best.Token = t
		best.Tokens = append(best.Tokens, t)
		c.addStep(best, KindToken, m)
	}
	for _, f := range open {
		switch {
		case f.Token != nil && f.Callback == nil:
			f.addMissing(KindCallback, "the code redeemed by the token request came back through a callback the capture does not hold", f.Token.HTTP.ID)
		case f.Token == nil && f.Callback != nil && f.Callback.HasCode && !f.Callback.Synthesized:
			// Only a callback the client is seen receiving proves a code
			// exchange should follow; a Location header alone does not
			// (the browser may never have reached the client).
			f.addMissing(KindToken, "the callback delivered a code but no token request redeeming it is in the capture; the back channel was probably not captured", f.Callback.HTTP.ID)
		}
	}
}

func methodOr(m string) string {
	if m == "" {
		return "plain"
	}
	return m
}

// tokenFlows gives every token request not paired with an authorization
// a flow of its own (client_credentials, device code, or a code exchange
// whose browser leg was not captured).
func (c *correlator) tokenFlows() {
	byDeviceCode := map[string]*Flow{}
	for _, m := range c.msgs(KindToken) {
		if c.claimed[seqOf(m)] {
			continue
		}
		t := m.View.(*Token)
		c.claimed[seqOf(m)] = true
		// A code exchange retried with the same code (after a DPoP nonce
		// error, a timeout) belongs to the flow that first redeemed it.
		if f := c.retryOf(t); f != nil {
			f.Tokens = append(f.Tokens, t)
			if !f.Token.Response.OK && t.Response.OK {
				f.Token = t
			}
			c.addStep(f, KindToken, m)
			continue
		}
		// Device-code polls share one flow per device_code.
		dc, _ := first(t.Params, "device_code")
		if t.GrantType == "urn:ietf:params:oauth:grant-type:device_code" && dc != "" {
			if f := byDeviceCode[dc]; f != nil {
				f.Tokens = append(f.Tokens, t)
				if t.Response.OK {
					f.Token = t
				}
				c.addStep(f, KindToken, m)
				continue
			}
		}
		kind := t.GrantType
		if kind == "" {
			kind = "token"
		}
		f := c.newFlow(kind)
		f.Token = t
		f.Tokens = append(f.Tokens, t)
		f.ClientID = t.ClientID
		c.addStep(f, KindToken, m)
		if dc != "" {
			byDeviceCode[dc] = f
		}
		if t.GrantType == "authorization_code" {
			f.addMissing(KindAuthorize, "the token request redeems an authorization code, so an authorization request happened; the browser leg is not in the capture", t.HTTP.ID)
			f.addMissing(KindCallback, "the code came back through a callback the capture does not hold", t.HTTP.ID)
		}
	}
}

// retryOf finds the flow whose code exchange t repeats: the same code at
// the same token endpoint, earlier.
func (c *correlator) retryOf(t *Token) *Flow {
	if t.GrantType != "authorization_code" || !t.HasCode {
		return nil
	}
	var best *Flow
	for _, f := range c.flows {
		for _, prev := range f.Tokens {
			if prev != t && prev.HasCode && prev.Code == t.Code && prev.HTTP.Endpoint == t.HTTP.Endpoint && prev.HTTP.ID < t.HTTP.ID {
				if best == nil || prev.HTTP.ID > best.Token.HTTP.ID {
					best = f
				}
			}
		}
	}
	return best
}

// refreshes attaches each refresh to the flow that issued the refresh
// token it presents.
func (c *correlator) refreshes() {
	issued := map[string]*Flow{}
	note := func(f *Flow, t *Token) {
		if t.Response.HasRefreshToken {
			issued[t.Response.RefreshToken] = f
		}
	}
	for _, f := range c.flows {
		for _, t := range f.Tokens {
			note(f, t)
		}
	}
	for _, m := range c.msgs(KindRefresh) {
		t := m.View.(*Token)
		f := issued[t.RefreshToken]
		if f == nil || t.RefreshToken == "" {
			f = c.newFlow("refresh")
			f.ClientID = t.ClientID
			f.addMissing(KindToken, "the refresh token presented was issued outside the capture", t.HTTP.ID)
			if t.RefreshToken != "" {
				issued[t.RefreshToken] = f
			}
		}
		f.Refreshes = append(f.Refreshes, t)
		c.addStep(f, KindRefresh, m)
		note(f, t)
	}
}

// attachResources gives each authenticated resource call to the flow
// that issued its access token; calls with unknown tokens form resource
// flows, one per token.
func (c *correlator) attachResources() {
	issued := map[string]*Flow{}
	for _, f := range c.flows {
		for _, t := range append(append([]*Token{}, f.Tokens...), f.Refreshes...) {
			if t.Response.HasAccessToken {
				issued[t.Response.AccessToken] = f
			}
		}
	}
	byToken := map[string]*Flow{}
	for _, m := range c.msgs(KindResource, KindChallenge) {
		var tok string
		switch v := m.View.(type) {
		case *Resource:
			if !v.HasToken {
				continue
			}
			tok = v.Token
		case *Challenge:
			if !v.HadToken {
				continue
			}
			_, tok, _ = strings.Cut(strings.TrimSpace(m.HTTP.ex.Request.Headers.Get("Authorization")), " ")
			tok = strings.TrimSpace(tok)
		}
		f := issued[tok]
		if f == nil {
			f = byToken[tok]
		}
		if f == nil {
			if m.Kind == KindChallenge {
				continue // a rejected unknown token: left to discovery
			}
			f = c.newFlow("resource")
			f.addMissing(KindToken, "the access token used was issued outside the capture", m.HTTP.ID)
			byToken[tok] = f
		}
		switch v := m.View.(type) {
		case *Resource:
			f.Resources = append(f.Resources, v)
			c.addStep(f, KindResource, m)
		case *Challenge:
			f.Challenges = append(f.Challenges, v)
			c.addStep(f, KindChallenge, m)
		}
	}
}

// attachUnauthenticated gives MCP calls made without a token (servers
// that let initialize through and challenge later) to the flow for that
// resource that is nearest in time.
func (c *correlator) attachUnauthenticated() {
	for _, m := range c.msgs(KindResource) {
		r := m.View.(*Resource)
		if r.HasToken {
			continue
		}
		var best *Flow
		bestDist := -1
		for _, f := range c.flows {
			if f.Resource == "" || (oauth.WithoutQuery(f.Resource) != r.HTTP.Endpoint && oauth.Origin(f.Resource) != r.HTTP.Origin) {
				continue
			}
			d := abs(flowAnchor(f) - seqOf(m))
			if best == nil || d < bestDist {
				best, bestDist = f, d
			}
		}
		if best != nil {
			best.Resources = append(best.Resources, r)
			c.addStep(best, KindResource, m)
		}
	}
}

// auxEndpoint names the AS metadata member of each context kind.
var auxEndpoint = map[Kind]string{
	KindJWKS:                "jwks_uri",
	KindUserinfo:            "userinfo_endpoint",
	KindRevocation:          "revocation_endpoint",
	KindIntrospection:       "introspection_endpoint",
	KindDeviceAuthorization: "device_authorization_endpoint",
}

// attachAux gives context messages to flows: a revocation,
// introspection or userinfo call to the flow that issued the token it
// carries; a device authorization to the flow whose polls use its
// device_code; otherwise the flow whose AS metadata names the endpoint
// (or, for a CORS preflight, whose resource or AS origin it targets) that
// is nearest before it.
func (c *correlator) attachAux() {
	byToken := map[string]*Flow{}
	byDevice := map[string]*Flow{}
	for _, f := range c.flows {
		for _, t := range append(append([]*Token{}, f.Tokens...), f.Refreshes...) {
			if t.Response.HasAccessToken {
				byToken[t.Response.AccessToken] = f
			}
			if t.Response.HasRefreshToken {
				byToken[t.Response.RefreshToken] = f
			}
			if dc, ok := first(t.Params, "device_code"); ok && dc != "" {
				byDevice[dc] = f
			}
		}
	}
	for _, m := range c.msgs(KindJWKS, KindUserinfo, KindRevocation, KindIntrospection, KindDeviceAuthorization, KindPreflight) {
		v, ok := m.View.(*Aux)
		if !ok {
			continue
		}
		var f *Flow
		switch m.Kind {
		case KindRevocation, KindIntrospection:
			if tok, ok := nonEmpty(v.HTTP.Form, "token"); ok {
				f = byToken[tok]
			}
		case KindUserinfo:
			if _, tok, ok := strings.Cut(strings.TrimSpace(m.HTTP.ex.Request.Headers.Get("Authorization")), " "); ok {
				f = byToken[strings.TrimSpace(tok)]
			}
		case KindDeviceAuthorization:
			if dc, ok := strField(v.HTTP.ResponseJSON, "device_code"); ok {
				f = byDevice[dc]
			}
		}
		if f == nil {
			f = c.nearestFlow(seqOf(m), func(f *Flow) bool {
				if m.Kind == KindPreflight {
					o := v.HTTP.Origin
					return (f.Resource != "" && oauth.Origin(f.Resource) == o) || (f.Issuer != "" && oauth.Origin(f.Issuer) == o)
				}
				a := f.ASMetadata
				if a == nil {
					return false
				}
				ep, _ := strField(a.Doc, auxEndpoint[m.Kind])
				return ep != "" && oauth.WithoutQuery(ep) == v.HTTP.Endpoint
			})
		}
		if f != nil {
			f.Aux = append(f.Aux, v)
			c.addStep(f, m.Kind, m)
		}
	}
}

// nearestFlow returns the matching flow that started last before seq,
// else the first one after it.
func (c *correlator) nearestFlow(seq int, match func(*Flow) bool) *Flow {
	var before, after *Flow
	for _, f := range c.flows {
		if !match(f) {
			continue
		}
		start := c.flowStart(f)
		if start <= seq {
			if before == nil || start > c.flowStart(before) {
				before = f
			}
		} else if after == nil || start < c.flowStart(after) {
			after = f
		}
	}
	if before != nil {
		return before
	}
	return after
}

// flowAnchor is the exchange id the flow's authorization (or first token
// request) happened at.
func flowAnchor(f *Flow) int {
	switch {
	case f.Authorize != nil:
		return f.Authorize.HTTP.ex.Seq
	case f.Token != nil:
		return f.Token.HTTP.ex.Seq
	case len(f.Refreshes) > 0:
		return f.Refreshes[0].HTTP.ex.Seq
	case len(f.Resources) > 0:
		return f.Resources[0].HTTP.ex.Seq
	}
	if len(f.steps) > 0 {
		return f.steps[0].Ex.Seq
	}
	return 0
}

// attachDiscovery finds the metadata and challenge in effect for a flow
// and every discovery fetch that belongs to it.
func (c *correlator) attachDiscovery(f *Flow) {
	anchor := flowAnchor(f)
	end := f.lastSeq()
	// AS metadata in effect: the document whose endpoints the flow used.
	var endpoint string
	var asm *ASMetadata
	switch {
	case f.Authorize != nil:
		endpoint = f.Authorize.HTTP.Endpoint
		asm = c.latestASM(anchor, asmByAuthorize, endpoint)
	case f.Token != nil || len(f.Refreshes) > 0:
		t := f.Token
		if t == nil {
			t = f.Refreshes[0]
		}
		endpoint = t.HTTP.Endpoint
		asm = c.latestASM(anchor, asmByToken, endpoint)
	}
	issuerURLs := map[string]bool{}
	if asm != nil {
		f.Issuer = asm.Issuer
		issuerURLs[asm.HTTP.URL] = true
		for _, iss := range []string{asm.Issuer, asm.IssuerFromPRM, asm.ExpectedIssuer} {
			if iss != "" {
				issuerURLs[oauth.InsertWellKnown(iss, oauth.WellKnownOAuth)] = true
				issuerURLs[oauth.InsertWellKnown(iss, oauth.WellKnownOIDC)] = true
				issuerURLs[oauth.AppendWellKnown(iss, oauth.WellKnownOIDC)] = true
			}
		}
	} else if endpoint != "" {
		f.Issuer = oauth.Origin(endpoint)
	}
	// PRM in effect: the latest one naming the issuer (or the resource the
	// flow asked for) before the flow.
	resource := ""
	if f.Authorize != nil && f.Authorize.HasResource {
		resource = f.Authorize.Resources[0]
	} else if f.Token != nil && f.Token.HasResource {
		resource = f.Token.Resources[0]
	}
	var prm *PRM
	for _, m := range c.msgs(KindPRM) {
		if seqOf(m) > anchor {
			break
		}
		p := m.View.(*PRM)
		if !p.OK {
			continue
		}
		if asm != nil && (containsStr(p.AuthorizationServers, asm.Issuer) || (asm.IssuerFromPRM != "" && containsStr(p.AuthorizationServers, asm.IssuerFromPRM))) {
			prm = p
		} else if resource != "" && p.Resource == resource {
			prm = p
		} else if asm == nil && f.Issuer != "" && containsStr(p.AuthorizationServers, f.Issuer) {
			prm = p
		}
	}
	if prm != nil && resource == "" {
		resource = prm.Resource
	}
	// Challenge in effect: the latest before the flow that pointed at the
	// PRM, or was answered by the resource (origin) the flow is for.
	resOrigin := oauth.Origin(resource)
	var prmOrigin string
	if prm != nil {
		prmOrigin = oauth.Origin(prm.HTTP.URL)
	}
	var ch *Challenge
	for _, m := range c.msgs(KindChallenge) {
		if seqOf(m) > anchor {
			break
		}
		v := m.View.(*Challenge)
		o := v.HTTP.Origin
		switch {
		case prm != nil && v.HasResourceMetadata && v.ResourceMetadata == prm.HTTP.URL:
			ch = v
		case resOrigin != "" && o == resOrigin:
			ch = v
		case prm != nil && o == prmOrigin && !v.HasResourceMetadata:
			ch = v
		case prm == nil && resOrigin == "" && f.Authorize != nil && o == f.Authorize.HTTP.Origin:
			// 2025-03-26 layout: the MCP server is its own AS.
			ch = v
		}
	}
	if resource == "" && ch != nil {
		resource = ch.ResourceURL
	}
	f.Resource = resource
	f.Challenge = ch
	f.PRM = prm
	f.ASMetadata = asm
	// Discovery window: from the challenge (or the first fetch) to the end
	// of the flow.
	start := anchor
	if ch != nil {
		start = ch.HTTP.ex.Seq
	}
	if prm != nil && prm.HTTP.ex.Seq < start {
		start = prm.HTTP.ex.Seq
	}
	if asm != nil && asm.HTTP.ex.Seq < start {
		start = asm.HTTP.ex.Seq
	}
	prmURLs := map[string]bool{}
	if prm != nil {
		prmURLs[prm.HTTP.URL] = true
	}
	if resource != "" {
		prmURLs[oauth.InsertWellKnown(resource, oauth.WellKnownPRM)] = true
		prmURLs[oauth.InsertWellKnown(oauth.Origin(resource), oauth.WellKnownPRM)] = true
	}
	if ch != nil {
		if ch.HasResourceMetadata {
			prmURLs[ch.ResourceMetadata] = true
		}
		// The probes a client makes without a pointer (MCP 2025-11-25
		// fallback order): path-inserted, then root.
		prmURLs[oauth.InsertWellKnown(ch.ResourceURL, oauth.WellKnownPRM)] = true
		prmURLs[oauth.InsertWellKnown(ch.HTTP.Origin, oauth.WellKnownPRM)] = true
	}
	if end >= len(c.res.Messages) {
		end = len(c.res.Messages) - 1
	}
	for _, m := range c.res.Messages[start : end+1] {
		s := seqOf(m)
		switch v := m.View.(type) {
		case *PRM:
			if prmURLs[v.HTTP.URL] || v == prm {
				f.PRMs = append(f.PRMs, v)
				c.addStep(f, KindPRM, m)
			}
		case *ASMetadata:
			if issuerURLs[v.HTTP.URL] || v == asm || (asm == nil && f.Issuer != "" && v.HTTP.Origin == oauth.Origin(f.Issuer)) {
				f.ASMetadatas = append(f.ASMetadatas, v)
				c.addStep(f, KindASMetadata, m)
			}
		case *Challenge:
			if v == ch || (ch != nil && !v.HadToken && v.HTTP.Origin == ch.HTTP.Origin && s <= anchor && s >= ch.HTTP.ex.Seq) {
				if !containsChallenge(f.Challenges, v) {
					f.Challenges = append(f.Challenges, v)
					c.addStep(f, KindChallenge, m)
				}
			}
		}
	}
	sort.SliceStable(f.Challenges, func(i, j int) bool { return f.Challenges[i].HTTP.ID < f.Challenges[j].HTTP.ID })
}

func containsChallenge(l []*Challenge, c *Challenge) bool {
	for _, x := range l {
		if x == c {
			return true
		}
	}
	return false
}

// latestASM returns the usable AS metadata document whose by endpoint is
// endpoint: the latest at or before anchor, else the first after it;
// nil when there is none.
func (c *correlator) latestASM(anchor int, by asmEndpoint, endpoint string) *ASMetadata {
	if c.asmAt[by] == nil {
		c.indexASM()
	}
	ms := c.asmAt[by][endpoint]
	// The first document after the anchor; the one before it, if any,
	// is the latest before.
	i := sort.Search(len(ms), func(i int) bool { return seqOf(ms[i]) > anchor })
	if i > 0 {
		return ms[i-1].View.(*ASMetadata)
	}
	if i < len(ms) {
		return ms[i].View.(*ASMetadata)
	}
	return nil
}

// asmEndpoint names an endpoint AS metadata is looked up by.
type asmEndpoint int

const (
	asmByAuthorize asmEndpoint = iota
	asmByToken
)

// indexASM lists the usable AS metadata documents by the endpoints they
// name, in capture order: every flow looks up the document in effect,
// and a long capture holds as many documents as flows (a client that
// fetches metadata before each authorization), which scanning them all
// for each flow made quadratic.
func (c *correlator) indexASM() {
	c.asmAt = [2]map[string][]*Message{{}, {}}
	for _, m := range c.msgs(KindASMetadata) {
		a := m.View.(*ASMetadata)
		if !a.OK {
			continue
		}
		c.asmAt[asmByAuthorize][a.authorizeAt] = append(c.asmAt[asmByAuthorize][a.authorizeAt], m)
		c.asmAt[asmByToken][a.tokenAt] = append(c.asmAt[asmByToken][a.tokenAt], m)
	}
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// attachRegistration finds the registration that created the flow's
// client: the latest successful one returning its client_id, else the
// latest attempt at its AS's registration endpoint.
func (c *correlator) attachRegistration(f *Flow) {
	anchor := flowAnchor(f)
	var regEndpoint string
	if f.ASMetadata != nil {
		regEndpoint = oauth.WithoutQuery(f.ASMetadata.RegistrationEndpoint)
	}
	var best, attempt *Registration
	var bestMsg, attemptMsg *Message
	for _, m := range c.msgs(KindRegistration) {
		if seqOf(m) > anchor {
			break
		}
		r := m.View.(*Registration)
		if f.ClientID != "" && r.ClientID == f.ClientID {
			best, bestMsg = r, m
		}
		sameAS := (regEndpoint != "" && r.HTTP.Endpoint == regEndpoint) ||
			(regEndpoint == "" && f.Issuer != "" && r.HTTP.Origin == oauth.Origin(f.Issuer))
		if sameAS {
			attempt, attemptMsg = r, m
		}
	}
	if best == nil {
		best, bestMsg = attempt, attemptMsg
	}
	if best == nil {
		return
	}
	f.Registration = best
	f.Registrations = append(f.Registrations, best)
	c.addStep(f, KindRegistration, bestMsg)
	// Earlier failed attempts at the same endpoint belong to the flow too.
	if attemptMsg != nil && attempt != best && attempt.HTTP.ex.Seq > best.HTTP.ex.Seq {
		f.Registrations = append(f.Registrations, attempt)
		c.addStep(f, KindRegistration, attemptMsg)
	}
}

// attachCIMD gives a flow whose client_id is a URL the fetches of that URL:
// the client ID metadata document the authorization server reads, present
// when the capture holds the server's side (a proxy or pcap in front of
// the AS). When the server accepted the client_id (a code came back) and
// the capture lacks the fetch, the fetch is a missing leg: the server
// cannot have validated the redirect URI without the document.
func (c *correlator) attachCIMD(f *Flow) {
	az := f.Authorize
	if az == nil || !strings.HasPrefix(strings.ToLower(az.ClientID), "https://") {
		return
	}
	// An https client_id the server issued at registration is an ordinary
	// identifier, not a document URL.
	for _, m := range c.msgs(KindRegistration) {
		if r := m.View.(*Registration); r.Registered && r.ClientID == az.ClientID {
			return
		}
	}
	for _, m := range c.msgs(KindCIMD) {
		v, ok := m.View.(*Aux)
		if !ok || v.HTTP.URL != az.ClientID {
			continue
		}
		dup := false
		for _, x := range f.Aux {
			dup = dup || x == v
		}
		if !dup {
			f.Aux = append(f.Aux, v)
			c.addStep(f, KindCIMD, m)
		}
	}
	if len(f.Messages(KindCIMD)) == 0 && f.Callback != nil && f.Callback.HasCode {
		f.addMissing(KindCIMD, "the authorization server accepted the client ID metadata document URL "+az.ClientID+
			", so it read the document; the authorization server makes that fetch, and the capture does not hold it", az.HTTP.ID)
	}
}

// discoveryFlows groups discovery messages no flow claimed (the client
// stopped before authorizing) into flows by the links between them:
// challenge → PRM (pointer or well-known), PRM → AS metadata
// (authorization_servers), AS metadata → registration (endpoint).
func (c *correlator) discoveryFlows() {
	used := map[int]bool{}
	for _, f := range c.flows {
		for _, s := range f.steps {
			used[s.Ex.Seq] = true
		}
	}
	parent := map[int]int{}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	union := func(a, b int) { parent[find(a)] = find(b) }
	var loose []*Message
	for _, m := range c.res.Messages {
		switch m.Kind {
		case KindChallenge, KindPRM, KindASMetadata, KindRegistration:
			if !used[seqOf(m)] {
				loose = append(loose, m)
				parent[seqOf(m)] = seqOf(m)
			}
		}
	}
	// Link each loose message to the most recent loose message it follows
	// from.
	for i, m := range loose {
		for j := i - 1; j >= 0; j-- {
			if discoveryLink(loose[j], m) {
				union(seqOf(m), seqOf(loose[j]))
				break
			}
		}
	}
	groups := map[int]*Flow{}
	for _, m := range loose {
		r := find(seqOf(m))
		f := groups[r]
		if f == nil {
			f = c.newFlow("discovery")
			groups[r] = f
		}
		switch v := m.View.(type) {
		case *Challenge:
			f.Challenges = append(f.Challenges, v)
			if f.Challenge == nil {
				f.Challenge = v
			}
		case *PRM:
			f.PRMs = append(f.PRMs, v)
			if v.OK {
				f.PRM = v
			}
		case *ASMetadata:
			f.ASMetadatas = append(f.ASMetadatas, v)
			if v.OK {
				f.ASMetadata = v
				f.Issuer = v.Issuer
			}
		case *Registration:
			f.Registrations = append(f.Registrations, v)
			f.Registration = v
			f.ClientID = v.ClientID
		}
		c.addStep(f, m.Kind, m)
	}
	for _, f := range groups {
		switch {
		case f.PRM != nil:
			f.Resource = f.PRM.Resource
		case f.Challenge != nil:
			f.Resource = f.Challenge.ResourceURL
		}
	}
}

func discoveryLink(prev, next *Message) bool {
	switch n := next.View.(type) {
	case *PRM:
		switch p := prev.View.(type) {
		case *Challenge:
			return (p.HasResourceMetadata && p.ResourceMetadata == n.HTTP.URL) || p.HTTP.Origin == n.HTTP.Origin
		case *PRM:
			return p.HTTP.Origin == n.HTTP.Origin
		}
	case *ASMetadata:
		switch p := prev.View.(type) {
		case *PRM:
			for _, as := range p.AuthorizationServers {
				if metadataURLFor(as, n.HTTP.URL) {
					return true
				}
			}
			return p.HTTP.Origin == n.HTTP.Origin && len(p.AuthorizationServers) == 0
		case *ASMetadata:
			return p.HTTP.Origin == n.HTTP.Origin
		case *Challenge:
			return p.HTTP.Origin == n.HTTP.Origin
		}
	case *Registration:
		switch p := prev.View.(type) {
		case *ASMetadata:
			return oauth.WithoutQuery(p.RegistrationEndpoint) == n.HTTP.Endpoint || (p.RegistrationEndpoint == "" && p.HTTP.Origin == n.HTTP.Origin)
		case *Registration:
			return p.HTTP.Endpoint == n.HTTP.Endpoint
		}
	case *Challenge:
		if p, ok := prev.View.(*Challenge); ok {
			return p.HTTP.Origin == n.HTTP.Origin
		}
	}
	return false
}

func (c *correlator) addStep(f *Flow, k Kind, m *Message) {
	for _, s := range f.steps {
		if s.Ex == m.HTTP.ex && s.Kind == k {
			return
		}
	}
	f.steps = append(f.steps, Step{Kind: k, ID: m.HTTP.ID, Ex: m.HTTP.ex})
}

func (f *Flow) addMissing(k Kind, reason string, impliedBy int) {
	if _, ok := f.Missing[string(k)]; ok {
		return
	}
	f.Missing[string(k)] = reason
	f.missing = append(f.missing, MissingLeg{Kind: k, Reason: reason, ImpliedBy: impliedBy})
}

func (f *Flow) lastSeq() int {
	last := 0
	for _, s := range f.steps {
		if s.Ex.Seq > last {
			last = s.Ex.Seq
		}
	}
	return last
}

func (c *correlator) flowStart(f *Flow) int {
	if len(f.steps) == 0 {
		return 0
	}
	min := f.steps[0].Ex.Seq
	for _, s := range f.steps {
		if s.Ex.Seq < min {
			min = s.Ex.Seq
		}
	}
	return min
}

// finish derives everything computed from the flow's messages: order,
// client type, scope provenance, MCP revision, message→flow links.
func (c *correlator) finish(f *Flow) {
	f.res = c.res
	sort.SliceStable(f.steps, func(i, j int) bool { return f.steps[i].Ex.Seq < f.steps[j].Ex.Seq })
	sort.SliceStable(f.Resources, func(i, j int) bool { return f.Resources[i].HTTP.ID < f.Resources[j].HTTP.ID })
	if len(f.steps) > 0 {
		f.Start = f.steps[0].ID
		f.End = f.steps[len(f.steps)-1].ID
	}
	for _, s := range f.steps {
		m := c.res.Messages[s.Ex.Seq]
		if !containsStr(m.Flows, f.ID) {
			m.Flows = append(m.Flows, f.ID)
		}
	}
	if f.ClientID == "" && f.Registration != nil {
		f.ClientID = f.Registration.ClientID
	}
	f.ClientType = clientType(f)
	f.Complete = f.Token != nil && f.Token.Response.OK
	f.OIDC = (f.ASMetadata != nil && f.ASMetadata.OIDC) || containsStr(f.RequestedScopesRaw(), "openid")
	scopeProvenance(f)
	f.MCP = c.detectRevision(f)
}

// RequestedScopesRaw returns the scopes the flow asked for.
func (f *Flow) RequestedScopesRaw() []string {
	switch {
	case f.Authorize != nil && f.Authorize.HasScope:
		return f.Authorize.Scopes
	case f.Token != nil && f.Token.HasScope:
		return f.Token.Scopes
	}
	return []string{}
}

func clientType(f *Flow) string {
	if r := f.Registration; r != nil {
		switch {
		case r.ClientSecretIssued:
			return "confidential"
		case r.TokenEndpointAuthMethod == "none":
			return "public"
		}
	}
	for _, t := range append(append([]*Token{}, f.Tokens...), f.Refreshes...) {
		switch t.ClientAuth {
		case "basic", "post", "assertion":
			return "confidential"
		}
	}
	if len(f.Tokens)+len(f.Refreshes) > 0 {
		return "public"
	}
	return "unknown"
}

func scopeProvenance(f *Flow) {
	none := ScopeSource{Source: "none", Scopes: []string{}}
	f.ChallengeScopes, f.PRMScopes, f.ASScopes, f.RegisteredScopes = none, none, none, none
	if ch := f.Challenge; ch != nil && ch.HasScope {
		f.ChallengeScopes = ScopeSource{HTTP: ch.HTTP, Source: "challenge", Present: true, Scopes: ch.Scopes,
			Document: fmt.Sprintf("the %d challenge to %s %s", ch.Status, ch.HTTP.Method, ch.ResourceURL),
			Field:    "WWW-Authenticate scope"}
	}
	if p := f.PRM; p != nil && p.HasScopesSupported {
		f.PRMScopes = ScopeSource{HTTP: p.HTTP, Source: "prm", Present: true, Scopes: p.ScopesSupported,
			Document: "the protected resource metadata " + p.HTTP.URL, Field: "scopes_supported"}
	}
	if a := f.ASMetadata; a != nil && a.HasScopesSupported {
		doc := "the authorization server metadata "
		if a.OIDC {
			doc = "the OpenID provider configuration "
		}
		f.ASScopes = ScopeSource{HTTP: a.HTTP, Source: "as_metadata", Present: true, Scopes: a.ScopesSupported,
			Document: doc + a.HTTP.URL, Field: "scopes_supported"}
	}
	if r := f.Registration; r != nil && r.HasScope {
		f.RegisteredScopes = ScopeSource{HTTP: r.HTTP, Source: "registration", Present: true, Scopes: r.Scopes,
			Document: "the client registration request to " + r.HTTP.Endpoint, Field: "scope"}
	}
	switch {
	case f.ChallengeScopes.Present:
		f.ScopeHint = f.ChallengeScopes
	case f.PRMScopes.Present:
		f.ScopeHint = f.PRMScopes
	default:
		f.ScopeHint = none
	}
	f.Advertised = nil
	f.AdvertisedScopes = []string{}
	for _, s := range []ScopeSource{f.ChallengeScopes, f.PRMScopes, f.ASScopes} {
		if s.Present {
			f.Advertised = append(f.Advertised, s)
			f.AdvertisedScopes = oauth.Union(f.AdvertisedScopes, s.Scopes)
		}
	}
	f.RequestedScopes = f.RequestedScopesRaw()
	f.GrantedScopes = []string{}
	if t := f.Token; t != nil {
		switch {
		case t.Response.HasScope:
			f.GrantedScopes = t.Response.Scopes
		case t.Response.AccessTokenJWT.HasScopeClaim:
			f.GrantedScopes = t.Response.AccessTokenJWT.Scopes
		}
	}
}
