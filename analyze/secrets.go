package analyze

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/oauthlint/oauthlint/capture"
)

// secretParams are form, query and JSON members whose values are
// credentials wherever they appear.
var secretParams = map[string]bool{
	"code": true, "code_verifier": true, "access_token": true, "refresh_token": true, "id_token": true,
	"client_secret": true, "client_assertion": true, "assertion": true, "device_code": true,
	"password": true, "passwd": true, "registration_access_token": true, "subject_token": true,
	"actor_token": true, "token": true, "login_verifier": true, "consent_verifier": true,
	"logout_verifier": true, "session_token": true, "api_key": true, "apikey": true,
}

// secretAdder receives credential values: a capture.SecretSet, or a
// secretList that keeps them for a view.
type secretAdder interface{ Add(values ...string) }

// secretList is the credentials found in one exchange, in the order found.
type secretList []string

func (l *secretList) Add(values ...string) { *l = append(*l, values...) }

// collectSecrets records every credential in an exchange, whatever kind
// it is, so that outputs can be scrubbed of them.
func collectSecrets(s *capture.SecretSet, ex *capture.Exchange, h *HTTP) {
	keepSecrets(s, h, func(a secretAdder) {
		collectSecretsFrom(a, ex, h.Query, h.Form, h.RequestJSON, h.ResponseJSON)
	})
}

// collectHeaderSecrets is collectSecrets for a light view: the
// credentials of the headers only (its query and bodies are not read).
func collectHeaderSecrets(s *capture.SecretSet, ex *capture.Exchange, h *HTTP) {
	keepSecrets(s, h, func(a secretAdder) {
		addHeaderSecrets(a, ex.Request.Headers)
		if ex.Response != nil {
			addHeaderSecrets(a, ex.Response.Headers)
		}
	})
}

// keepSecrets adds to s the credentials collect finds in h's exchange,
// found once and kept in the view (h.secrets): the live proxy analyzes
// its whole capture again as it grows, from cached views, and reading
// the headers and parameters of every exchange again was a sixth of
// each analysis.
func keepSecrets(s *capture.SecretSet, h *HTTP, collect func(secretAdder)) {
	if !h.secretsKnown {
		var l secretList
		collect(&l)
		h.secrets, h.secretsKnown = l, true
	}
	s.Add(h.secrets...)
}

// collectSecretsFrom records the credentials of an exchange given its
// query, form and JSON bodies as read (nil when absent).
func collectSecretsFrom(s secretAdder, ex *capture.Exchange, query, form map[string][]string, reqJSON, respJSON map[string]any) {
	addHeaderSecrets(s, ex.Request.Headers)
	addParams(s, query)
	addParams(s, form)
	addJSON(s, reqJSON, 0)
	if ex.Response != nil {
		addHeaderSecrets(s, ex.Response.Headers)
		addJSON(s, respJSON, 0)
		if loc := ex.Response.Headers.Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				addParams(s, queryMap(u.RawQuery))
				addParams(s, queryMap(u.Fragment))
			}
		}
	}
}

func addHeaderSecrets(s secretAdder, hs capture.Headers) {
	for _, f := range hs {
		switch capture.LowerName(f.Name) {
		case "authorization", "proxy-authorization":
			// The credential, not the scheme before it: redacted, the
			// header still reads "Bearer <token>" with the token's
			// redacted form, the same as in the token response that
			// issued it, so a redacted capture still ties each call to
			// its grant and rules still see the scheme. The whole value
			// when it has no scheme, or when the credential alone is too
			// short to be scrubbed from free text.
			_, cred, ok := strings.Cut(strings.TrimSpace(f.Value), " ")
			cred = strings.TrimSpace(cred)
			if ok && capture.Scrubbed(cred) {
				s.Add(cred)
			} else {
				s.Add(f.Value)
			}
		case "cookie":
			// Each cookie's value, not the names: redacted, the header
			// still says which cookies were sent, and a token in one
			// reads as elsewhere. The whole value when a cookie has no
			// name or a value too short to be scrubbed from free text.
			whole := false
			for _, c := range strings.Split(f.Value, ";") {
				if strings.TrimSpace(c) == "" {
					continue
				}
				_, v, ok := strings.Cut(c, "=")
				v = strings.TrimSpace(v)
				if !ok || v != "" && !capture.Scrubbed(v) {
					whole = true
				}
				s.Add(v)
			}
			if whole {
				s.Add(f.Value)
			}
		case "set-cookie":
			nv, _, _ := strings.Cut(f.Value, ";")
			if _, v, ok := strings.Cut(nv, "="); ok {
				s.Add(strings.TrimSpace(v))
			}
		case "dpop", "x-api-key", "api-key", "x-auth-token":
			s.Add(f.Value)
		}
	}
}

func addParams(s secretAdder, m map[string][]string) {
	for k, vs := range m {
		if secretParams[strings.ToLower(k)] {
			s.Add(vs...)
		}
	}
}

func addJSON(s secretAdder, m map[string]any, depth int) {
	if depth > 8 {
		return
	}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if secretParams[strings.ToLower(k)] {
				s.Add(x)
			}
		case map[string]any:
			addJSON(s, x, depth+1)
		}
	}
}

// CollectSecrets records every credential of one exchange in s (used by
// writers that redact exchanges one at a time, before any analysis: the
// live capture's HAR file). It finds what collectSecrets finds on the
// exchange's full view, without building that view: a JSON body is
// decoded only when a member name that holds credentials may occur in it
// (most API responses hold none), the other parts are read directly.
func CollectSecrets(s *capture.SecretSet, ex *capture.Exchange) {
	req := ex.Request
	var query, form map[string][]string
	var reqJSON, respJSON map[string]any
	if req.URL != nil {
		query = queryMap(req.URL.RawQuery)
	}
	if len(req.Body) > 0 {
		mt := req.Headers.MediaType()
		// Without a media type the form is read only when the body is not
		// JSON: decode to know.
		if maybeJSONBody(mt, req.Body) && (mt == "" || mayHoldSecretMember(req.Body)) {
			reqJSON = jsonObject(req.Body)
		}
		form = requestForm(mt, req.Body, reqJSON)
	}
	if r := ex.Response; r != nil && mayHoldSecretMember(r.Body) {
		respJSON = jsonObject(r.Body)
	}
	collectSecretsFrom(s, ex, query, form, reqJSON, respJSON)
}

// secretParamShapes has, for each lower-case first letter of a name in
// secretParams, bit n set when such a name is n bytes long (every name is
// shorter than 32 bytes).
var secretParamShapes = func() (t [256]uint32) {
	for k := range secretParams {
		if len(k) >= 32 {
			panic("analyze: secretParams name too long for secretParamShapes: " + k)
		}
		t[k[0]] |= 1 << len(k)
	}
	return t
}()

// mayHoldSecretMember reports whether a JSON text may have a member named
// in secretParams, in any case: whether a string that a colon follows
// (a member name; the values are not looked at, addJSON reads names
// only) is such a name. A \u escape can spell a name in another way, and
// so can the Kelvin sign (U+212A, which strings.ToLower makes a "k", as in
// "token"): a body with either is always decoded.
//
// It looks from each colon back to the name before it rather than
// walking every string of the text: an API's answer has a colon per
// member but two or more strings, and the live proxy asks this of every
// answer it records.
func mayHoldSecretMember(b []byte) bool {
	if !looksJSONObject(b) {
		return false
	}
	if bytes.Contains(b, []byte(`\u`)) || bytes.Contains(b, []byte("\u212A")) {
		return true
	}
	var name [32]byte
	for i := 0; i < len(b); i++ {
		c := bytes.IndexByte(b[i:], ':')
		if c < 0 {
			return false
		}
		i += c
		// The closing quote of the name, across whitespace.
		end := i - 1
		for end >= 0 && (b[end] == ' ' || b[end] == '\t' || b[end] == '\r' || b[end] == '\n') {
			end--
		}
		if end < 1 || b[end] != '"' {
			continue
		}
		// Its opening quote, within 32 bytes: every name is shorter. A
		// quote escaped inside a longer name only makes a false
		// candidate, and such a name is decoded to be sure.
		start := bytes.LastIndexByte(b[max(0, end-32):end], '"')
		if start < 0 {
			continue
		}
		raw := b[max(0, end-32)+start+1 : end]
		if len(raw) == 0 || len(raw) >= 32 || secretParamShapes[raw[0]|0x20]&(1<<len(raw)) == 0 {
			// No name starts with that letter and has that length:
			// most members end here, without a map lookup.
			continue
		}
		lower := name[:len(raw)]
		for j, c := range raw {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[j] = c
		}
		if secretParams[string(lower)] {
			return true
		}
	}
	return false
}
