package analyze

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/oauthlint/oauthlint/analyze/oauth"
	"github.com/oauthlint/oauthlint/capture"
)

// HTTP is the part every message view shares: where the exchange came
// from and what was on the wire. Rules reach it as e.g. authorize.http.
type HTTP struct {
	// ID is the exchange number in the timeline, 1-based; 0 means the
	// message was not captured.
	ID int `cel:"id"`
	// Ref is the exchange's location in its input ("flow.har#3@1234").
	Ref string `cel:"ref"`
	// TimeMS is the start time in Unix milliseconds (0 when unknown).
	TimeMS int64  `cel:"time_ms"`
	Method string `cel:"method"`
	// URL is the full request URL; Endpoint is the URL without query and
	// fragment.
	URL      string `cel:"url"`
	Endpoint string `cel:"endpoint"`
	Scheme   string `cel:"scheme"`
	Host     string `cel:"host"`
	Path     string `cel:"path"`
	Origin   string `cel:"origin"`
	// Query holds the decoded query parameters (decoded exactly once).
	Query map[string][]string `cel:"query"`
	// RequestHeaders and ResponseHeaders are keyed by lower-case name.
	RequestHeaders   map[string][]string `cel:"request_headers"`
	RequestMediaType string              `cel:"request_media_type"`
	RequestBody      string              `cel:"request_body"`
	// RequestJSON is the request body when it is a JSON object. The
	// body of a call to a resource server (or of other traffic) is
	// decoded only when it names "jsonrpc", a registration or grant
	// member, or a member that may hold a credential: a REST API's
	// request bodies are read as text, in request_body.
	RequestJSON map[string]any `cel:"request_json"`
	// Form is the request body when it is application/x-www-form-urlencoded.
	Form map[string][]string `cel:"form"`

	HasResponse       bool                `cel:"has_response"`
	Status            int                 `cel:"status"`
	ResponseHeaders   map[string][]string `cel:"response_headers"`
	ResponseMediaType string              `cel:"response_media_type"`
	ResponseBody      string              `cel:"response_body"`
	// ResponseJSON is the response body when it is a JSON object;
	// ResponseJSONValid is false for other bodies (HTML, arrays, garbage).
	// The 2xx answer of a resource server (or of other traffic) is
	// decoded only when it names "jsonrpc", "error" or a member that
	// may hold a credential: a REST API's answers are read as text, in
	// response_body.
	ResponseJSON      map[string]any `cel:"response_json"`
	ResponseJSONValid bool           `cel:"response_json_valid"`

	// Loopback is true for localhost and loopback IP hosts.
	Loopback bool `cel:"loopback"`
	// Gaps lists what the capture is missing for this exchange
	// ("no-response", "sanitized", "request-body", …).
	Gaps      []string `cel:"gaps"`
	Sanitized bool     `cel:"sanitized"`

	ex *capture.Exchange
	// responseJSONPending: the response body has not been decoded as
	// JSON yet (decodeResponseJSON). responseRPCOrError: the pending
	// body of a success names "jsonrpc" or "error" (needsResponseJSON),
	// looked for once when the view is made rather than at every
	// analysis of a growing capture.
	responseJSONPending bool
	responseRPCOrError  bool
	// requestJSONPending: the request body looks like a JSON object but
	// names nothing classification or credential collection reads, and
	// has not been decoded yet (decodeRequestJSON, needsRequestJSON).
	requestJSONPending bool
	// secrets are the credentials the exchange carries as this view
	// reads it, once secretsKnown (collectSecrets).
	secrets      []string
	secretsKnown bool
}

// Exchange returns the captured exchange behind the view (nil when the
// message was not captured).
func (h *HTTP) Exchange() *capture.Exchange { return h.ex }

// maxViewBody bounds the body text handed to rules.
const maxViewBody = 1 << 20

func newHTTP(ex *capture.Exchange) HTTP {
	h := newHTTPDeferred(ex)
	h.decodeRequestJSON()
	h.decodeResponseJSON()
	return h
}

// newHTTPDeferred is newHTTP without decoding the response body as JSON,
// nor a request body that names nothing classification reads: Analyze
// decodes them only when something reads them (see needsResponseJSON,
// needsRequestJSON). The JSON of a plain API call is by far the costliest
// part of a view, and nothing looks into it.
func newHTTPDeferred(ex *capture.Exchange) HTTP {
	req := ex.Request
	u := req.URL
	h := HTTP{
		ID:             ex.Seq + 1,
		Ref:            ex.Ref.String(),
		Method:         req.Method,
		URL:            u.String(),
		Scheme:         strings.ToLower(u.Scheme),
		Host:           strings.ToLower(u.Host),
		Path:           u.Path,
		Query:          queryMap(u.RawQuery),
		RequestHeaders: req.Headers.Map(),
		ex:             ex,
	}
	if !ex.Start.IsZero() {
		h.TimeMS = ex.Start.UnixMilli()
	}
	h.Endpoint = endpointOf(u)
	if u.Scheme != "" && u.Host != "" {
		h.Origin = h.Scheme + "://" + h.Host
	}
	h.Loopback = oauth.IsLoopbackHost(u.Host)
	h.RequestMediaType = req.Headers.MediaType()
	h.RequestBody = bodyText(req.Body)
	if len(req.Body) > 0 {
		if maybeJSONBody(h.RequestMediaType, req.Body) {
			// Without a media type, whether the body is a JSON object
			// decides whether it is read as a form.
			if h.RequestMediaType == "" || mayClassifyJSON(req.Body) {
				h.RequestJSON = jsonObject(req.Body)
			} else {
				h.requestJSONPending = true
			}
		}
		h.Form = requestForm(h.RequestMediaType, req.Body, h.RequestJSON)
	}
	if r := ex.Response; r != nil {
		h.HasResponse = true
		h.Status = r.Status
		h.ResponseHeaders = r.Headers.Map()
		h.ResponseMediaType = r.Headers.MediaType()
		h.ResponseBody = bodyText(r.Body)
		h.responseJSONPending = len(r.Body) > 0
		if h.responseJSONPending && h.Status < 300 {
			h.responseRPCOrError = bytes.Contains(r.Body, []byte(`"jsonrpc"`)) || bytes.Contains(r.Body, []byte(`"error"`))
		}
	}
	for _, g := range ex.Gaps {
		h.Gaps = append(h.Gaps, string(g.Kind))
		if g.Kind == capture.GapSanitized {
			h.Sanitized = true
		}
	}
	return h
}

// maybeJSONBody reports whether a request body is read as JSON: its
// media type says so, or it looks like an object.
func maybeJSONBody(mediaType string, body []byte) bool {
	return strings.Contains(mediaType, "json") || looksJSONObject(body)
}

// requestForm is a request body read as a form: when its media type says
// so, or when it has none and is not a JSON object (obj, the body read as
// JSON, is nil); else nil.
func requestForm(mediaType string, body []byte, obj map[string]any) map[string][]string {
	if mediaType != "application/x-www-form-urlencoded" && (mediaType != "" || obj != nil) {
		return nil
	}
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	return f
}

func endpointOf(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.Fragment = ""
	c.RawFragment = ""
	c.ForceQuery = false
	return c.String()
}

// queryMap decodes a raw query exactly once. Malformed escapes keep the
// raw text rather than dropping the parameter.
func queryMap(raw string) map[string][]string {
	m := map[string][]string{}
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		m[k] = append(m[k], v)
	}
	return m
}

// bodyText is a body as the text rules read. A valid UTF-8 body is not
// copied: the text shares the captured bytes, which nothing changes once
// an exchange is recorded (readers and the proxy hand over finished
// bodies; the HAR writer relies on the same). The live proxy keeps every
// exchange and its view until the capture ends, so a copy would hold
// each body twice, and copying into fresh memory was about 5 % of the
// proxy's CPU under load.
func bodyText(b []byte) string {
	if len(b) > maxViewBody {
		b = b[:maxViewBody]
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func looksJSONObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// maxJSONDepth guards rules against hostile nesting.
const maxJSONDepth = 64

func jsonObject(b []byte) map[string]any {
	if !looksJSONObject(b) || len(b) > maxViewBody || jsonTooDeep(b) {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	return m
}

func jsonTooDeep(b []byte) bool {
	depth, deep := 0, false
	scanJSON(b, nil, func(c byte) bool {
		switch c {
		case '{', '[':
			depth++
			deep = depth > maxJSONDepth
		case '}', ']':
			depth--
		}
		return !deep
	})
	return deep
}

// scanJSON walks a JSON text without decoding it: str gets the raw
// contents of each string (escapes as written), punct every byte outside
// strings; either returning false stops the walk. Either may be nil. An
// unterminated string ends the walk without a call for it. Strings (and,
// without punct, the text between them) are skipped with bytes.IndexByte
// rather than byte by byte: the walk runs over every body the live proxy
// records.
func scanJSON(b []byte, str func(raw []byte) bool, punct func(c byte) bool) {
	i := 0
	for i < len(b) {
		if punct == nil {
			j := bytes.IndexByte(b[i:], '"')
			if j < 0 {
				return
			}
			i += j
		} else if c := b[i]; c != '"' {
			if !punct(c) {
				return
			}
			i++
			continue
		}
		// b[i] opens a string: find the quote that closes it, the first
		// one not escaped (preceded by an even run of backslashes).
		from, k := i+1, i+1
		for {
			j := bytes.IndexByte(b[k:], '"')
			if j < 0 {
				return
			}
			end := k + j
			n := 0
			for p := end - 1; p >= from && b[p] == '\\'; p-- {
				n++
			}
			if n%2 == 0 {
				if str != nil && !str(b[from:end]) {
					return
				}
				i = end + 1
				break
			}
			k = end + 1
		}
	}
}

// first returns the first value of a multi-valued parameter.
func first(m map[string][]string, k string) (string, bool) {
	v, ok := m[k]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func strField(m map[string]any, k string) (string, bool) {
	v, ok := m[k]
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

func strList(m map[string]any, k string) ([]string, bool) {
	v, ok := m[k]
	if !ok {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, true
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// newLightHTTP is the view of an exchange that cannot be OAuth or MCP:
// where it is and what it was, without parsing headers or bodies.
func newLightHTTP(ex *capture.Exchange) HTTP {
	req := ex.Request
	u := req.URL
	h := HTTP{
		ID:     ex.Seq + 1,
		Ref:    ex.Ref.String(),
		Method: req.Method,
		URL:    u.String(),
		Scheme: strings.ToLower(u.Scheme),
		Host:   strings.ToLower(u.Host),
		Path:   u.Path,
		ex:     ex,
	}
	if !ex.Start.IsZero() {
		h.TimeMS = ex.Start.UnixMilli()
	}
	h.Endpoint = endpointOf(u)
	if u.Scheme != "" && u.Host != "" {
		h.Origin = h.Scheme + "://" + h.Host
	}
	if r := ex.Response; r != nil {
		h.HasResponse = true
		h.Status = r.Status
	}
	return h
}

// DropUnreadBodies removes, as a capture is read, the bodies the
// analysis will not read: those of exchanges that cannot be OAuth or MCP
// traffic (maybeOAuth false: they get a light view without bodies) and
// that cannot be a document the analysis looks at in full once metadata
// names its URL (a JWKS, a client ID metadata document). On a large
// capture of mixed traffic these bodies are most of the memory held
// until the analysis. The exchange records a body gap saying why, so a
// rule that does end up reading one reports not-available rather than
// judging an empty body.
func DropUnreadBodies(ex *capture.Exchange) {
	req, resp := unreadBodies(ex)
	dropBodies(ex, req, resp)
}

// dropBodies removes the request or response body of ex and records why.
func dropBodies(ex *capture.Exchange, dropReq, dropResp bool) {
	if dropReq {
		ex.Request.Body = nil
		ex.AddGap(capture.GapRequestBody, "body not kept: not OAuth or MCP traffic")
	}
	if dropResp {
		ex.Response.Body = nil
		ex.AddGap(capture.GapResponseBody, "body not kept: not OAuth or MCP traffic")
	}
}

// unreadBodies says which bodies of ex the analysis will not read (see
// DropUnreadBodies).
func unreadBodies(ex *capture.Exchange) (req, resp bool) {
	if ex.Request == nil || maybeOAuth(ex) {
		return false, false
	}
	req = len(ex.Request.Body) > 0 && !mayBeNamedDocument(ex.Request.Body)
	resp = ex.Response != nil && len(ex.Response.Body) > 0 && !mayBeNamedDocument(ex.Response.Body)
	return req, resp
}

// WithoutUnreadBodies returns ex, or, when DropUnreadBodies would drop a
// body of it, a copy without them; ex itself is not changed. The live
// proxy keeps every exchange until its final analysis while its HAR
// writer still needs the whole of it: a browser session's scripts,
// styles and images would otherwise stay in memory for the whole
// capture.
func WithoutUnreadBodies(ex *capture.Exchange) *capture.Exchange {
	dropReq, dropResp := unreadBodies(ex)
	if !dropReq && !dropResp {
		return ex
	}
	c := *ex
	req := *ex.Request
	c.Request = &req
	if ex.Response != nil {
		resp := *ex.Response
		c.Response = &resp
	}
	// dropBodies appends gaps: not into ex's array.
	c.Gaps = slices.Clip(ex.Gaps)
	dropBodies(&c, dropReq, dropResp)
	return &c
}

// namedDocumentMembers are JSON members of the documents a URL named in
// metadata can serve without credentials: a JWKS ("keys"), a client ID
// metadata document ("client_id", "redirect_uris"), a protected resource
// or authorization server metadata document served off its well-known
// path ("resource", "issuer").
var namedDocumentMembers = [][]byte{[]byte(`"keys"`), []byte(`"client_id"`), []byte(`"redirect_uris"`), []byte(`"resource"`), []byte(`"issuer"`)}

func mayBeNamedDocument(b []byte) bool { return namesAny(b, namedDocumentMembers) }

// namesAny reports whether the body b holds any of the quoted member
// names (a prefilter: a string value can hold one too).
func namesAny(b []byte, members [][]byte) bool {
	for _, m := range members {
		if bytes.Contains(b, m) {
			return true
		}
	}
	return false
}

// oauthQueryParams are query parameters only OAuth and MCP traffic carries.
var oauthQueryParams = []string{"response_type=", "client_id=", "code=", "state=", "error=", "access_token=", "login_verifier=", "consent_verifier=", "iss="}

// maybeOAuth is a cheap test on the raw exchange: false means it cannot be
// an OAuth or MCP message (no credentials, no OAuth parameters, no
// well-known path, no form or JSON request, no challenge, no redirect
// carrying a code, no event stream).
func maybeOAuth(ex *capture.Exchange) bool {
	req := ex.Request
	for _, f := range req.Headers {
		switch capture.LowerName(f.Name) {
		case "authorization", "dpop", "mcp-protocol-version", "mcp-session-id", "access-control-request-method":
			return true
		}
	}
	if strings.Contains(req.URL.Path, "/.well-known/") {
		return true
	}
	if q := req.URL.RawQuery; q != "" {
		for _, p := range oauthQueryParams {
			if strings.HasPrefix(q, p) || strings.Contains(q, "&"+p) {
				return true
			}
		}
	}
	if len(req.Body) > 0 {
		mt := req.Headers.MediaType()
		if mt == "" || strings.Contains(mt, "json") || mt == "application/x-www-form-urlencoded" || strings.HasPrefix(mt, "text/") {
			return true
		}
	}
	if r := ex.Response; r != nil {
		switch {
		case r.Status == 401 || r.Status == 403:
			return true
		case r.Status >= 300 && r.Status < 400:
			loc := r.Headers.Get("Location")
			return strings.Contains(loc, "code=") || strings.Contains(loc, "error=") || strings.Contains(loc, "access_token=")
		}
		if mt := r.Headers.MediaType(); strings.Contains(mt, "event-stream") {
			return true
		}
	}
	return false
}

// classifyingMembers are the JSON members of a request body that
// classification and learning read (isMCPRequest, isTokenRequest,
// isRegistrationRequest, knowledge.learn).
var classifyingMembers = [][]byte{[]byte(`"jsonrpc"`), []byte(`"grant_type"`), []byte(`"grant_types"`), []byte(`"redirect_uris"`), []byte(`"client_name"`)}

// mayClassifyJSON reports whether a request body read as JSON may name a
// member that classification reads or one that may hold a credential
// (mayHoldSecretMember, which also answers yes to any \u escape, the
// other way to spell a name).
func mayClassifyJSON(b []byte) bool {
	return namesAny(b, classifyingMembers) || mayHoldSecretMember(b)
}

// decodeRequestJSON sets RequestJSON from the request body if that was
// put off.
func (h *HTTP) decodeRequestJSON() {
	if !h.requestJSONPending {
		return
	}
	h.requestJSONPending = false
	h.RequestJSON = jsonObject(h.ex.Request.Body)
	// As for the response: what the view collected did not read it.
	h.secrets, h.secretsKnown = nil, false
}

// needsRequestJSON says whether anything reads the request body of an
// exchange of this kind as JSON: every OAuth message's; not a call to a
// resource server or other traffic, whose JSON-RPC messages are decoded
// when the view is made (they name "jsonrpc").
func needsRequestJSON(kind Kind) bool {
	return kind != KindResource && kind != KindOther
}

// decodeResponseJSON sets ResponseJSON and ResponseJSONValid from the
// response body if that was put off.
func (h *HTTP) decodeResponseJSON() {
	if !h.responseJSONPending {
		return
	}
	h.responseJSONPending = false
	if obj := jsonObject(h.ex.Response.Body); obj != nil {
		h.ResponseJSON = obj
		h.ResponseJSONValid = true
		// Its members may hold credentials.
		h.secrets, h.secretsKnown = nil, false
	}
}

// needsResponseJSON says whether anything reads the response body of an
// exchange of this kind as JSON. Every OAuth message's is read; a
// resource server's answer (or other traffic that may be OAuth or MCP)
// is read as JSON only when it is not a success, or is a JSON-RPC
// message (MCP: errors, the negotiated revision), or carries an "error"
// member. The answers of a REST API behind the same token are read as
// text by the rules.
func needsResponseJSON(kind Kind, h *HTTP) bool {
	switch kind {
	case KindResource, KindOther:
		if h.Status >= 300 || !h.responseJSONPending {
			return true
		}
		return h.responseRPCOrError
	}
	return true
}
