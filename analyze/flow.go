package analyze

import (
	"github.com/oauthlint/oauthlint/capture"
)

// Flow is one authorization attempt reconstructed from the capture: the
// discovery documents in effect, registration, authorization request,
// callback, token exchange, refreshes and resource calls. Legs the capture
// does not hold but the traffic proves happened are listed in Missing, so
// rules can say "not available" instead of guessing.
//
// Flows are built once by Analyze and not modified afterwards (the rule
// engine only links every flow to the others through All); rules receive
// them read-only.
type Flow struct {
	ID string `cel:"id"`
	// Kind is "authorization_code", "refresh", "client_credentials", other
	// grant names, "discovery" (metadata and registration without an
	// authorization) or "resource" (token use only).
	Kind string `cel:"kind"`
	// ClientID is the client_id used; ClientType is "public",
	// "confidential" or "unknown" (from registration and client auth).
	ClientID   string `cel:"client_id"`
	ClientType string `cel:"client_type"`
	// Issuer is the AS issuer in effect (metadata issuer, else the
	// authorization endpoint's origin).
	Issuer string `cel:"issuer"`
	// Resource is the protected resource the flow is for: the resource
	// parameter, else the PRM resource, else the challenged URL.
	Resource string  `cel:"resource"`
	MCP      MCPInfo `cel:"mcp"`
	// OIDC is true when the flow is OpenID Connect (openid scope or an
	// OpenID provider configuration in effect).
	OIDC bool `cel:"oidc"`

	// Challenge is the 401/403 in effect for the authorization (the latest
	// one before it); Challenges lists every challenge in the flow.
	Challenge  *Challenge   `cel:"challenge"`
	Challenges []*Challenge `cel:"challenges"`
	// PRM is the protected resource metadata in effect; PRMs lists every
	// PRM fetch of the flow's discovery (failed probes included).
	PRM  *PRM   `cel:"prm"`
	PRMs []*PRM `cel:"prms"`
	// ASMetadata is the AS metadata in effect; ASMetadatas lists every
	// metadata fetch of the flow's discovery (failed probes included).
	ASMetadata    *ASMetadata     `cel:"as_metadata"`
	ASMetadatas   []*ASMetadata   `cel:"as_metadatas"`
	Registration  *Registration   `cel:"registration"`
	Registrations []*Registration `cel:"registrations"`
	Authorize     *Authorize      `cel:"authorize"`
	Callback      *Callback       `cel:"callback"`
	// Token is the code exchange (or the first token request of a flow
	// without authorization); Tokens lists every non-refresh token request.
	Token     *Token      `cel:"token"`
	Tokens    []*Token    `cel:"tokens"`
	Refreshes []*Token    `cel:"refreshes"`
	Resources []*Resource `cel:"resources"`
	Aux       []*Aux      `cel:"aux"`

	// ScopeHint is where an MCP 2025-11-25+ client must take its scopes
	// from: the challenge's scope, else the PRM's scopes_supported, else
	// nothing (source "none"). The AS catalogue is never a hint.
	ScopeHint ScopeSource `cel:"scope_hint"`
	// ChallengeScopes, PRMScopes, ASScopes and RegisteredScopes are each
	// scope list the flow saw, with where it came from; Advertised lists
	// those present (challenge, PRM, AS), AdvertisedScopes their union.
	ChallengeScopes  ScopeSource   `cel:"challenge_scopes"`
	PRMScopes        ScopeSource   `cel:"prm_scopes"`
	ASScopes         ScopeSource   `cel:"as_scopes"`
	RegisteredScopes ScopeSource   `cel:"registered_scopes"`
	Advertised       []ScopeSource `cel:"advertised"`
	AdvertisedScopes []string      `cel:"advertised_scopes"`
	// RequestedScopes are the scopes of the authorization request (else of
	// the token request); GrantedScopes those the token response or the
	// access token's claims state.
	RequestedScopes []string `cel:"requested_scopes"`
	GrantedScopes   []string `cel:"granted_scopes"`

	// Missing maps a message kind to why it is known to have happened
	// although the capture does not hold it.
	Missing map[string]string `cel:"missing"`
	// Unreadable lists the traffic the capture saw but could not read
	// that may hold messages of the flow (an undecrypted TLS connection
	// or a connection that lost bytes, to one of the flow's hosts, during
	// its time span); PossiblyMissingLegs the legs the flow lacks that
	// may be inside.
	Unreadable []Unreadable `cel:"-"`
	// Complete is true when the flow reached a successful token response.
	Complete bool `cel:"complete"`
	// Start and End are the first and last exchange ids of the flow.
	Start int `cel:"start"`
	End   int `cel:"end"`

	// All is every flow of the capture (rules compare flows through it);
	// set by the rule engine, not exposed as a field of flow in rules.
	All []*Flow `cel:"-"`

	missing  []MissingLeg
	possible []MissingLeg
	steps    []Step
	res      *Result
}

// Capture returns the analysis the flow belongs to.
func (f *Flow) Capture() *Result { return f.res }

// MCPInfo says which MCP revision a flow is judged under and why.
type MCPInfo struct {
	// Revision is the MCP revision ("2025-11-25"), or "" for a plain
	// OAuth flow.
	Revision string `cel:"revision" json:"revision,omitempty"`
	// Version is the protocol version string seen on the wire.
	Version string `cel:"version" json:"version,omitempty"`
	// Source explains the choice ("initialize request protocolVersion at
	// x.har#0@128", "forced by --mcp-revision").
	Source string `cel:"source" json:"source"`
	// Detected is true when the traffic showed MCP; Forced when the user
	// chose the revision.
	Detected bool `cel:"detected" json:"detected"`
	Forced   bool `cel:"forced" json:"forced,omitempty"`
}

// AtLeast reports whether the flow's MCP revision is rev or later.
func (m MCPInfo) AtLeast(rev string) bool { return m.Revision != "" && m.Revision >= rev }

// ScopeSource is one advertised scope list and where it came from.
type ScopeSource struct {
	HTTP HTTP `cel:"http"`
	// Source is "challenge", "prm", "as_metadata", "registration" or
	// "none".
	Source string `cel:"source"`
	// Document names the document for people ("PRM
	// https://mcp.example/.well-known/oauth-protected-resource/mcp").
	Document string `cel:"document"`
	// Field is the exact field ("scopes_supported", "WWW-Authenticate
	// scope").
	Field   string   `cel:"field"`
	Scopes  []string `cel:"scopes"`
	Present bool     `cel:"present"`
}

// MissingLeg is a message the capture lacks although the traffic proves
// it happened, or (Possible) one the flow lacks that may be in traffic
// the capture could not read.
type MissingLeg struct {
	Kind   Kind   `json:"kind"`
	Reason string `json:"reason"`
	// ImpliedBy is the exchange id that proves it (0 for a possible leg).
	ImpliedBy int `json:"implied_by"`
	// Possible marks a leg that may have happened: the flow lacks it and
	// Flow.Unreadable[Unreadable] may hold it.
	Possible   bool `json:"possible,omitempty"`
	Unreadable int  `json:"-"`
}

// Step is one exchange of a flow, in time order.
type Step struct {
	Kind Kind
	ID   int
	Ex   *capture.Exchange
}

// MissingLegs returns the flow's missing legs in a stable order.
func (f *Flow) MissingLegs() []MissingLeg { return f.missing }

// PossiblyMissingLegs returns the legs the flow lacks that may be in
// unreadable traffic (Flow.Unreadable), in a stable order; rules whose
// verdict depends on them are not-available.
func (f *Flow) PossiblyMissingLegs() []MissingLeg { return f.possible }

// Steps returns the flow's exchanges in time order.
func (f *Flow) Steps() []Step { return f.steps }

// Messages returns every message view of the given kind in the flow.
func (f *Flow) Messages(k Kind) []any {
	var out []any
	switch k {
	case KindChallenge:
		for _, v := range f.Challenges {
			out = append(out, v)
		}
	case KindPRM:
		for _, v := range f.PRMs {
			out = append(out, v)
		}
	case KindASMetadata:
		for _, v := range f.ASMetadatas {
			out = append(out, v)
		}
	case KindRegistration:
		for _, v := range f.Registrations {
			out = append(out, v)
		}
	case KindAuthorize:
		if f.Authorize != nil {
			out = append(out, f.Authorize)
		}
	case KindCallback:
		if f.Callback != nil {
			out = append(out, f.Callback)
		}
	case KindToken:
		// Every token endpoint request, refreshes included: rules about
		// token responses hold for all grants.
		for _, v := range f.Tokens {
			out = append(out, v)
		}
		for _, v := range f.Refreshes {
			out = append(out, v)
		}
	case KindRefresh:
		for _, v := range f.Refreshes {
			out = append(out, v)
		}
	case KindResource:
		for _, v := range f.Resources {
			out = append(out, v)
		}
	default:
		for _, v := range f.Aux {
			if Kind(v.Kind) == k {
				out = append(out, v)
			}
		}
	}
	return out
}

// HTTPOf returns the HTTP part of any message view.
func HTTPOf(v any) *HTTP {
	switch m := v.(type) {
	case *PRM:
		return &m.HTTP
	case *Challenge:
		return &m.HTTP
	case *ASMetadata:
		return &m.HTTP
	case *Registration:
		return &m.HTTP
	case *Authorize:
		return &m.HTTP
	case *Callback:
		return &m.HTTP
	case *Token:
		return &m.HTTP
	case *Resource:
		return &m.HTTP
	case *Aux:
		return &m.HTTP
	}
	return nil
}
