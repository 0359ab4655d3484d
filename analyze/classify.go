package analyze

import (
	"net/url"
	"strings"

	"github.com/oauthlint/oauthlint/analyze/oauth"
)

// knowledge is what the whole capture says about endpoints, gathered
// before classification so that a request is recognised by the metadata
// that named it, wherever in the capture that metadata appears.
type knowledge struct {
	authz, token, registration, revocation, introspection, userinfo, jwks, par, device map[string]bool
	prmURLs                                                                            map[string]bool
	redirectURIs                                                                       map[string]bool
	clientIDURLs                                                                       map[string]bool
}

func newKnowledge() *knowledge {
	return &knowledge{
		authz: map[string]bool{}, token: map[string]bool{}, registration: map[string]bool{},
		revocation: map[string]bool{}, introspection: map[string]bool{}, userinfo: map[string]bool{},
		jwks: map[string]bool{}, par: map[string]bool{}, device: map[string]bool{},
		prmURLs: map[string]bool{}, redirectURIs: map[string]bool{}, clientIDURLs: map[string]bool{},
	}
}

func isPRMPath(p string) bool { return strings.Contains(p, oauth.WellKnownPRM) }
func isASMPath(p string) bool {
	return strings.Contains(p, oauth.WellKnownOAuth) || strings.Contains(p, oauth.WellKnownOIDC)
}

// learn gathers endpoints from metadata documents, challenges and
// registration/authorization requests.
func (k *knowledge) learn(h *HTTP) {
	if h.Method == "GET" && isASMPath(h.Path) && h.ResponseJSON != nil {
		add := func(m map[string]bool, field string) {
			if s, ok := strField(h.ResponseJSON, field); ok && s != "" {
				m[oauth.WithoutQuery(s)] = true
			}
		}
		add(k.authz, "authorization_endpoint")
		add(k.token, "token_endpoint")
		add(k.registration, "registration_endpoint")
		add(k.revocation, "revocation_endpoint")
		add(k.introspection, "introspection_endpoint")
		add(k.userinfo, "userinfo_endpoint")
		add(k.jwks, "jwks_uri")
		add(k.par, "pushed_authorization_request_endpoint")
		add(k.device, "device_authorization_endpoint")
	}
	if h.HasResponse && (h.Status == 401 || h.Status == 403) {
		if chs, _ := ParseWWWAuthenticate(h.ResponseHeaders["www-authenticate"]...); len(chs) > 0 {
			for _, c := range chs {
				if rm := c.Params["resource_metadata"]; rm != "" {
					k.prmURLs[oauth.WithoutQuery(rm)] = true
				}
			}
		}
	}
	if h.Method == "POST" && h.RequestJSON != nil {
		if uris, ok := strList(h.RequestJSON, "redirect_uris"); ok {
			for _, u := range uris {
				k.redirectURIs[oauth.WithoutQuery(u)] = true
			}
		}
	}
	if hasAuthorizeParams(h.Query) {
		if ru, ok := first(h.Query, "redirect_uri"); ok && ru != "" {
			k.redirectURIs[oauth.WithoutQuery(ru)] = true
		}
		if cid, ok := first(h.Query, "client_id"); ok && strings.HasPrefix(cid, "https://") {
			k.clientIDURLs[cid] = true
		}
	}
}

func hasAuthorizeParams(q map[string][]string) bool {
	_, rt := q["response_type"]
	_, cid := q["client_id"]
	return rt && cid
}

func isTokenRequest(h *HTTP, k *knowledge) bool {
	if k.token[h.Endpoint] {
		return true
	}
	if h.Method != "POST" {
		return false
	}
	if _, ok := h.Form["grant_type"]; ok {
		return true
	}
	if h.RequestJSON != nil {
		if _, ok := h.RequestJSON["grant_type"].(string); ok {
			return true
		}
	}
	return false
}

func isRegistrationRequest(h *HTTP, k *knowledge) bool {
	if k.registration[h.Endpoint] && h.Method == "POST" {
		return true
	}
	if h.Method != "POST" || h.RequestJSON == nil {
		return false
	}
	_, ru := h.RequestJSON["redirect_uris"]
	_, cn := h.RequestJSON["client_name"]
	_, gt := h.RequestJSON["grant_types"]
	if !ru && !cn && !gt {
		return false
	}
	p := strings.TrimSuffix(h.Path, "/")
	return strings.HasSuffix(p, "/register") || strings.HasSuffix(p, "/registration") || strings.HasSuffix(p, "/clients") || h.Status == 201
}

func isMCPRequest(h *HTTP) bool {
	if _, ok := h.RequestJSON["jsonrpc"]; ok {
		return true
	}
	if len(h.RequestHeaders["mcp-protocol-version"]) > 0 || len(h.RequestHeaders["mcp-session-id"]) > 0 {
		return true
	}
	return false
}

func bearerish(h *HTTP) bool {
	for _, v := range h.RequestHeaders["authorization"] {
		// Only the scheme is compared: lowering the whole value copied
		// every token at every analysis.
		scheme, _, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok && (strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "dpop")) {
			return true
		}
	}
	return false
}

func (k *knowledge) isASEndpoint(e string) bool {
	return k.authz[e] || k.token[e] || k.registration[e] || k.revocation[e] || k.introspection[e] || k.userinfo[e] || k.par[e] || k.device[e]
}

// classify says what kind of OAuth message an exchange is.
func classify(h *HTTP, k *knowledge) Kind {
	if h.Method == "CONNECT" {
		return KindOther
	}
	if h.Method == "OPTIONS" {
		if len(h.RequestHeaders["access-control-request-method"]) > 0 {
			return KindPreflight
		}
		return KindOther
	}
	e := h.Endpoint
	switch {
	case isTokenRequest(h, k):
		if g, _ := first(h.Form, "grant_type"); g == "refresh_token" {
			return KindRefresh
		}
		if h.RequestJSON != nil {
			if g, _ := h.RequestJSON["grant_type"].(string); g == "refresh_token" {
				return KindRefresh
			}
		}
		return KindToken
	case h.Method == "GET" && (isPRMPath(h.Path) || k.prmURLs[e]):
		return KindPRM
	case h.Method == "GET" && isASMPath(h.Path):
		return KindASMetadata
	case isRegistrationRequest(h, k):
		return KindRegistration
	case k.authz[e] || k.par[e] || (hasAuthorizeParams(h.Query) && h.Method == "GET"):
		return KindAuthorize
	case h.Method == "POST" && (k.device[e] || looksLikeDeviceAuthorization(h)):
		return KindDeviceAuthorization
	case k.revocation[e]:
		return KindRevocation
	case k.introspection[e]:
		return KindIntrospection
	case k.userinfo[e]:
		return KindUserinfo
	case k.jwks[e]:
		return KindJWKS
	}
	if h.Method == "GET" && (k.redirectURIs[e] || looksLikeCallback(h)) {
		if _, c := h.Query["code"]; c {
			return KindCallback
		}
		if _, er := h.Query["error"]; er {
			return KindCallback
		}
	}
	if h.Method == "GET" && k.clientIDURLs[h.URL] {
		return KindCIMD
	}
	if h.HasResponse && (h.Status == 401 || (h.Status == 403 && len(h.ResponseHeaders["www-authenticate"]) > 0)) && !k.isASEndpoint(e) {
		return KindChallenge
	}
	if bearerish(h) || isMCPRequest(h) {
		return KindResource
	}
	if _, ok := h.Query["access_token"]; ok && h.Method == "GET" {
		return KindResource
	}
	return KindOther
}

// looksLikeCallback recognises a redirect URI request the capture never
// named (no registration or authorization request captured): a loopback
// or https GET carrying code plus state or iss.
func looksLikeCallback(h *HTTP) bool {
	_, code := h.Query["code"]
	_, state := h.Query["state"]
	_, iss := h.Query["iss"]
	return code && (state || iss || h.Loopback)
}

// resolveLocation makes a Location header absolute against the request URL.
func resolveLocation(base, loc string) string {
	if loc == "" {
		return ""
	}
	b, err := url.Parse(base)
	if err != nil {
		return loc
	}
	l, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	return b.ResolveReference(l).String()
}

// looksLikeDeviceAuthorization recognises an RFC 8628 device
// authorization request whose AS metadata was not captured (GitHub's
// /login/device/code, Auth0's /oauth/device/code, Entra's /devicecode).
func looksLikeDeviceAuthorization(h *HTTP) bool {
	if _, ok := h.Form["client_id"]; !ok {
		return false
	}
	if _, ok := h.Form["grant_type"]; ok {
		return false
	}
	p := strings.TrimSuffix(strings.ToLower(h.Path), "/")
	for _, suffix := range []string{"/device/code", "/device_authorization", "/devicecode", "/device/authorize"} {
		if strings.HasSuffix(p, suffix) {
			return true
		}
	}
	return false
}

// named reports whether the metadata, a challenge, a registration or an
// authorization request named this exchange's URL.
func (k *knowledge) named(h *HTTP) bool {
	e := h.Endpoint
	return k.isASEndpoint(e) || k.jwks[e] || k.prmURLs[e] || k.redirectURIs[e] || k.clientIDURLs[h.URL]
}
