package rules

// Capture-wide facts that rules ask about for every message of every flow
// ("was this value an ID token anywhere?", "did this origin ever answer
// 401?"). Written as CEL comprehensions over the related flows, such a
// question walks up to MaxRelatedFlows flows and their messages each time
// it is asked, for every resource call: on the traffic of a busy client
// (thousands of API calls) those few rules cost more than all the others
// together. The facts are gathered once per analysis instead, from every
// flow of the capture.

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
)

// captureIndex returns the value built by build from every flow of the
// capture that flows belong to, once per analysis under key. flows are
// what a rule sees (a flow's related flows); without an analysis behind
// them (unit tests) the value is built from them alone.
func captureIndex[T any](flows []*analyze.Flow, key string, build func([]*analyze.Flow) T) T {
	if len(flows) == 0 || flows[0].Capture() == nil {
		return build(flows)
	}
	res := flows[0].Capture()
	return res.Memo(key, func() any { return build(res.Flows) }).(T)
}

// captureFacts are the capture-wide facts.
type captureFacts struct {
	// idTokens: every id_token a token response returned.
	idTokens map[string]bool
	// mtlsTokenEndpoints: every token_endpoint an authorization server's
	// metadata lists under mtls_endpoint_aliases (RFC 8705 §5), without
	// query.
	mtlsTokenEndpoints map[string]bool
	// passwordGrantEndpoints: every token endpoint (without query) that
	// answered a password grant successfully.
	passwordGrantEndpoints map[string]bool
	// origins401: every origin that answered a request with a 401
	// challenge.
	origins401 map[string]bool
}

func factsOf(flows []*analyze.Flow) *captureFacts {
	return captureIndex(flows, "rules/capture facts", buildFacts)
}

func buildFacts(flows []*analyze.Flow) *captureFacts {
	c := &captureFacts{idTokens: map[string]bool{}, mtlsTokenEndpoints: map[string]bool{},
		passwordGrantEndpoints: map[string]bool{}, origins401: map[string]bool{}}
	// Flows share messages (discovery, a token used by several): each
	// is looked at once.
	seen := map[*analyze.HTTP]bool{}
	first := func(h *analyze.HTTP) bool {
		if seen[h] {
			return false
		}
		seen[h] = true
		return true
	}
	for _, f := range flows {
		for _, ts := range [][]*analyze.Token{f.Tokens, f.Refreshes} {
			for _, t := range ts {
				if !first(&t.HTTP) {
					continue
				}
				if t.Response.HasIDToken && t.Response.IDToken != "" {
					c.idTokens[t.Response.IDToken] = true
				}
				if t.GrantType == "password" && t.Response.OK {
					c.passwordGrantEndpoints[t.HTTP.Endpoint] = true
				}
			}
		}
		for _, m := range f.ASMetadatas {
			if !first(&m.HTTP) {
				continue
			}
			if aliases, ok := m.Doc["mtls_endpoint_aliases"].(map[string]any); ok {
				if te, ok := aliases["token_endpoint"].(string); ok && te != "" {
					c.mtlsTokenEndpoints[oauth.WithoutQuery(te)] = true
				}
			}
		}
		for _, ch := range f.Challenges {
			if ch.Status == 401 && first(&ch.HTTP) {
				c.origins401[ch.HTTP.Origin] = true
			}
		}
	}
	return c
}

func init() {
	RegisterFunction("mtls_token_endpoint(flows, endpoint)",
		"true when some authorization server metadata of the capture lists endpoint (compared without query) as the token_endpoint of its mtls_endpoint_aliases (RFC 8705 §5)",
		cel.Function("mtls_token_endpoint", cel.Overload("mtls_token_endpoint_flows_string", []*cel.Type{tokFlowList, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(fs, v ref.Val) ref.Val {
				return types.Bool(factsOf(tokAsFlows(fs)).mtlsTokenEndpoints[oauth.WithoutQuery(string(v.(types.String)))])
			}))))
	RegisterFunction("password_grant_succeeded(flows, endpoint)",
		"true when a token request with grant_type=password succeeded at the token endpoint endpoint (compared without query) somewhere in the capture",
		cel.Function("password_grant_succeeded", cel.Overload("password_grant_succeeded_flows_string", []*cel.Type{tokFlowList, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(fs, v ref.Val) ref.Val {
				return types.Bool(factsOf(tokAsFlows(fs)).passwordGrantEndpoints[oauth.WithoutQuery(string(v.(types.String)))])
			}))))
	RegisterFunction("answered_401(flows, origin)",
		"true when the origin (scheme://host) answered some request of the capture with a 401 challenge",
		cel.Function("answered_401", cel.Overload("answered_401_flows_string", []*cel.Type{tokFlowList, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(fs, v ref.Val) ref.Val {
				return types.Bool(factsOf(tokAsFlows(fs)).origins401[string(v.(types.String))])
			}))))
}
