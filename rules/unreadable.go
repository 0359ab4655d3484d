package rules

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/oauthlint/oauthlint/analyze"
)

// A flow near traffic the capture could not read (Flow.Unreadable: an
// undecrypted TLS connection, a connection that lost bytes) may lack
// messages that were sent. When a rule fires on such a flow, its
// precondition and condition are evaluated again with CEL partial
// evaluation, what the unreadable traffic may change being unknown: a
// violation that depends on an unknown is reported not-available (its
// evidence may be, or may be contradicted by, what was not read); one
// that does not (a violation inside a captured message) stands. Rules
// that do not fire stay silent, as on any capture: a message that may
// exist is no evidence that the rule applies.
//
// Unknown are, for each kind of message the unreadable traffic may hold
// (by the role of its host: authorization server, resource, redirect
// URI):
//   - when the flow has no message of that kind: the kind's variable
//     (authorize, …) and the flow's fields derived from it
//     (flow.authorize, flow.requested_scopes, …);
//   - always: the flow's list of such messages (flow.as_metadatas, …),
//     since one more may be hidden;
//
// and the capture's flows (a sequence read across flows may be
// incomplete). The whole flow handed to a helper function is unknown
// too, as the helper may read any of it.
//
// A rule marked monotone (its violation rests on messages present, which
// more messages cannot take back) is re-evaluated with the lacking legs
// unknown only: the lists and the capture's flows are read as they are.

// legFields are the flow fields that depend on the messages of a kind:
// list fields (every message of the kind) and the ones that change when
// the flow has no message of the kind at all.
var legFields = map[analyze.Kind]struct{ list, one []string }{
	analyze.KindChallenge:    {list: []string{"challenges"}, one: []string{"challenge", "challenge_scopes", "scope_hint", "advertised", "advertised_scopes", "resource"}},
	analyze.KindPRM:          {list: []string{"prms"}, one: []string{"prm", "prm_scopes", "scope_hint", "advertised", "advertised_scopes", "resource"}},
	analyze.KindASMetadata:   {list: []string{"as_metadatas"}, one: []string{"as_metadata", "as_scopes", "advertised", "advertised_scopes", "issuer", "oidc"}},
	analyze.KindRegistration: {list: []string{"registrations"}, one: []string{"registration", "registered_scopes", "client_id", "client_type"}},
	analyze.KindAuthorize:    {one: []string{"authorize", "requested_scopes", "client_id", "issuer", "oidc", "resource", "kind"}},
	analyze.KindCallback:     {one: []string{"callback"}},
	analyze.KindToken:        {list: []string{"tokens"}, one: []string{"token", "complete", "granted_scopes", "requested_scopes", "client_id", "client_type", "oidc", "resource"}},
	analyze.KindRefresh:      {list: []string{"refreshes"}, one: []string{"client_type"}},
	analyze.KindResource:     {list: []string{"resources"}},
}

// flowUnknowns is what a rule may not rely on in one flow.
type flowUnknowns struct {
	f        *analyze.Flow
	patterns []*cel.AttributePatternType
	// legPatterns are the patterns of the legs the flow lacks only: what
	// a monotone rule may not rely on.
	legPatterns []*cel.AttributePatternType
	// lacking maps the variable of a leg the flow lacks to its kind;
	// fields maps a flow field made unknown by a lacking leg to the
	// leg's kind (for the message of a not-available finding).
	lacking map[string]analyze.Kind
	fields  map[string]analyze.Kind
}

// unknownsFor returns the unknowns of a flow, or nil when the flow has
// no unreadable traffic nearby.
func unknownsFor(f *analyze.Flow) *flowUnknowns {
	if len(f.Unreadable) == 0 {
		return nil
	}
	u := &flowUnknowns{f: f, lacking: map[string]analyze.Kind{}, fields: map[string]analyze.Kind{}}
	kinds := map[analyze.Kind]bool{}
	for _, r := range f.Unreadable {
		for _, k := range r.Legs {
			kinds[k] = true
		}
	}
	ks := make([]string, 0, len(kinds))
	for k := range kinds {
		ks = append(ks, string(k))
	}
	sort.Strings(ks)
	flowFields, oneFields := map[string]bool{}, map[string]bool{}
	for _, s := range ks {
		k := analyze.Kind(s)
		lf := legFields[k]
		if len(lf.list) == 0 && len(lf.one) == 0 {
			lf.list = []string{"aux"} // revocation, jwks, userinfo, …
		}
		for _, fl := range lf.list {
			flowFields[fl] = true
		}
		if !f.Lacks(k) {
			continue
		}
		if _, ok := kindTypes[s]; ok {
			u.lacking[s] = k
			u.legPatterns = append(u.legPatterns, cel.AttributePattern(s))
		}
		for _, fl := range lf.one {
			flowFields[fl] = true
			oneFields[fl] = true
			if _, ok := u.fields[fl]; !ok {
				u.fields[fl] = k
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(oneFields)) {
		u.legPatterns = append(u.legPatterns, cel.AttributePattern(KindFlow).QualString(n))
	}
	u.patterns = append(u.patterns, u.legPatterns...)
	for _, n := range slices.Sorted(maps.Keys(flowFields)) {
		if !oneFields[n] {
			u.patterns = append(u.patterns, cel.AttributePattern(KindFlow).QualString(n))
		}
	}
	u.patterns = append(u.patterns, cel.AttributePattern(VarFlows))
	return u
}

// unreadableCause re-evaluates the precondition and the condition of a
// rule that fired, with what the unreadable traffic may change as
// unknowns: the unknown either depends on, or nil when the violation
// stands whatever that traffic holds.
func (c *compiled) unreadableCause(vars map[string]any, u *flowUnknowns) (*types.Unknown, string, error) {
	patterns := u.patterns
	if c.rule.Monotone {
		patterns = u.legPatterns
	}
	if len(patterns) == 0 {
		return nil, "", nil
	}
	for i, p := range []*program{c.when, c.condition} {
		out, err := partialEval(p, vars, patterns)
		if err != nil {
			return nil, [...]string{"when", "condition"}[i], err
		}
		if unk, ok := out.(*types.Unknown); ok {
			return unk, "", nil
		}
	}
	return nil, "", nil
}

// partialEval evaluates p with the given unknown patterns: the value,
// or the unknown it depends on.
func partialEval(p *program, vars map[string]any, patterns []*cel.AttributePatternType) (ref.Val, error) {
	prg, err := p.partialProgram()
	if err != nil {
		return nil, err
	}
	act, err := cel.PartialVars(vars, patterns...)
	if err != nil {
		return nil, err
	}
	out, _, err := prg.Eval(act)
	if err != nil {
		return nil, err
	}
	if types.IsError(out) {
		return nil, fmt.Errorf("%v", out)
	}
	return out, nil
}

// cause names what an unknown result depends on: the leg the flow lacks
// (when a lacking leg's variable or field was read) and the unreadable
// traffic that may hold it.
func (u *flowUnknowns) cause(unk *types.Unknown) (analyze.Kind, analyze.Unreadable) {
	// The leg itself (authorize, flow.authorize) names the cause better
	// than a field derived from it (flow.advertised).
	var leg, derived analyze.Kind
	if unk != nil {
	ids:
		for _, id := range unk.IDs() {
			trails, _ := unk.GetAttributeTrails(id)
			for _, t := range trails {
				if k, ok := u.lacking[t.Variable()]; ok {
					leg = k
					break ids
				}
				if t.Variable() != KindFlow {
					continue
				}
				qp := t.QualifierPath()
				if len(qp) == 0 {
					continue
				}
				name, _ := qp[0].(string)
				k, ok := u.fields[name]
				if !ok {
					continue
				}
				if lf := legFields[k]; len(lf.one) > 0 && lf.one[0] == name {
					leg = k
					break ids
				}
				if derived == "" {
					derived = k
				}
			}
		}
	}
	if leg == "" {
		leg = derived
	}
	if leg != "" {
		for _, m := range u.f.PossiblyMissingLegs() {
			if m.Kind == leg && m.Unreadable >= 0 && m.Unreadable < len(u.f.Unreadable) {
				return leg, u.f.Unreadable[m.Unreadable]
			}
		}
		for _, r := range u.f.Unreadable {
			for _, k := range r.Legs {
				if k == leg {
					return leg, r
				}
			}
		}
	}
	return leg, u.f.Unreadable[0]
}

// notAvailableUnreadable is the finding of a rule whose verdict depends
// on what unreadable traffic may hold.
func (c *compiled) notAvailableUnreadable(res *analyze.Result, f *analyze.Flow, packs []string, vars map[string]any, anchor int, u *flowUnknowns, unk *types.Unknown) Finding {
	leg, rec := u.cause(unk)
	fd := c.base(res, f, packs, vars)
	fd.Outcome = NotAvailable
	fd.Anchor = anchor
	field := "traffic to " + rec.Host
	if rec.Host == "" {
		field = "traffic to " + rec.Server
	}
	if leg != "" {
		fd.Message = fmt.Sprintf("%s: cannot be checked: the %s may not have been captured: it %s", c.rule.Title, describeKind(leg), rec.Reason)
		field = string(leg)
	} else {
		fd.Message = fmt.Sprintf("%s: cannot be checked: messages of this flow may not have been captured: they %s", c.rule.Title, rec.Reason)
	}
	fd.Evidence = []Evidence{{Exchange: rec.Exchange, Ref: rec.Ref, Field: field, Value: "(not readable: " + rec.Kind + ")"}}
	return fd
}
