package rules

import (
	"fmt"
	"maps"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
	"github.com/oauthlint/oauthlint/capture"
)

// compiled is a rule with every expression compiled.
type compiled struct {
	rule      *Rule
	when      *program
	condition *program
	// The parts only a rule that fires needs (severity cases, message,
	// fix, evidence): compiled with the rule, or on first use when the
	// engine was compiled with CompileDeferred.
	firingOnce sync.Once
	env        *cel.Env
	firingErr  error
	cases      []*program
	message    *template
	fix        *template
	evidence   []compiledEvidence
	// firingRefs are the variables those parts read.
	firingRefs map[string]bool
	// targetOnly lists the message kinds the rule applies to whose
	// verdict depends on that message alone (see judgesTargetOnly).
	targetOnly map[string]bool
}

// judgesTargetOnly reports whether the rule's verdict on a message of
// kind depends on that message alone: its precondition and condition
// read no variable but the message (no flow, no other leg, no other
// flows) and it requires no further leg (parts of the message's own
// exchange are the message's). A message shared by several
// flows (an AS metadata fetch in the discovery of each flow that ran
// while it was in effect) then passes or fails whichever flow it is
// judged in, and Run judges it once (see verdicts).
func (c *compiled) judgesTargetOnly(kind string) bool {
	if kind == KindFlow || c.when == nil || c.condition == nil {
		return false
	}
	for _, req := range c.rule.Requires {
		if !isPart(req) {
			return false
		}
	}
	return readsOnly(kind, c.when, c.condition)
}

// readsOnly reports whether the programs read no variable but kind.
func readsOnly(kind string, ps ...*program) bool {
	for _, p := range ps {
		if p != nil && !refsOnly(p.refs, kind) {
			return false
		}
	}
	return true
}

// refsOnly reports whether refs names no variable but kind.
func refsOnly(refs map[string]bool, kind string) bool {
	for v := range refs {
		if v != kind {
			return false
		}
	}
	return true
}

// firingReadsOnly reports whether the parts of a firing rule (severity
// cases, message, fix, evidence) read no variable but kind: a failure
// found in one flow then reads the same in another but for the flow it
// is in.
func (c *compiled) firingReadsOnly(kind string) bool {
	return c.firing() == nil && refsOnly(c.firingRefs, kind)
}

// verdicts remembers, for one Run, how rules judged messages shared by
// flows (for the rules and kinds of judgesTargetOnly): a message several
// flows share is judged once per rule, not once per flow. A long capture
// where a client fetches the AS metadata before each grant puts each
// document in the discovery of every flow that ran while it was in
// effect, 15 on average in bench/proxybench's traffic.
type verdicts struct{ m sync.Map }

type verdictKey struct {
	c      *compiled
	target any
}

// verdict is a remembered judgement: fail is nil for a pass.
type verdict struct{ fail *Finding }

// get returns the judgement of t by c, if one was remembered; a failure
// only when failures may be reused (the flow is not near unreadable
// traffic, which can turn a failure into not-available).
func (v *verdicts) get(c *compiled, t any, failsOK bool) (*Finding, bool) {
	if v == nil {
		return nil, false
	}
	x, ok := v.m.Load(verdictKey{c, t})
	if !ok {
		return nil, false
	}
	d := x.(verdict)
	if d.fail != nil && !failsOK {
		return nil, false
	}
	return d.fail, true
}

// put remembers what judging t (of kind, anchored at anchor) by c found:
// nothing, or one finding that is the message's alone (failsOK: judged
// away from unreadable traffic; anchored at the message; parts that read
// the message only). Anything else is judged again in each flow.
func (v *verdicts) put(c *compiled, t any, kind string, anchor int, fs []Finding, failsOK bool) {
	if v == nil {
		return
	}
	switch {
	case len(fs) == 0:
		v.m.Store(verdictKey{c, t}, verdict{})
	case len(fs) == 1 && failsOK && anchor > 0 && fs[0].Anchor == anchor && fs[0].Outcome != Error && c.firingReadsOnly(kind):
		fd := fs[0]
		v.m.Store(verdictKey{c, t}, verdict{fail: &fd})
	}
}

// inFlow is a remembered failure as found in flow f with packs.
func inFlow(fd Finding, f *analyze.Flow, packs []string) Finding {
	fd.Flow = f.ID
	fd.Flows = []string{f.ID}
	fd.Packs = packs
	fd.Evidence = slices.Clone(fd.Evidence)
	return fd
}

// firing compiles the parts a firing rule needs, once.
func (c *compiled) firing() error {
	c.firingOnce.Do(func() {
		if is := c.compileFiring(c.env); len(is) > 0 {
			c.firingErr = &LoadError{Issues: is}
		}
		c.env = nil
	})
	return c.firingErr
}

func (c *compiled) compileFiring(env *cel.Env) []Issue {
	r := c.rule
	var issues []Issue
	add := func(p *program, is []Issue) *program {
		issues = append(issues, is...)
		return p
	}
	for i, sc := range r.SeverityCases {
		c.cases = append(c.cases, add(r.compileExpr(env, fmt.Sprintf("severity-cases[%d].when", i), sc.When, cel.BoolType)))
	}
	var is []Issue
	c.message, is = r.compileTemplate(env, "message", r.Message)
	issues = append(issues, is...)
	c.fix, is = r.compileTemplate(env, "fix", r.Fix)
	issues = append(issues, is...)
	for i, ev := range r.Evidence {
		ce := compiledEvidence{spec: ev}
		ce.at = add(r.compileExpr(env, fmt.Sprintf("evidence[%d].at", i), "("+ev.At+").http.id", cel.IntType))
		ce.value = add(r.compileExpr(env, fmt.Sprintf("evidence[%d].value", i), ev.Value, nil))
		c.evidence = append(c.evidence, ce)
	}
	ps := slices.Clone(c.cases)
	for _, t := range []*template{c.message, c.fix} {
		if t != nil {
			ps = append(ps, t.exprs...)
		}
	}
	for _, e := range c.evidence {
		ps = append(ps, e.at, e.value)
	}
	c.firingRefs = map[string]bool{}
	for _, p := range ps {
		if p != nil {
			maps.Copy(c.firingRefs, p.refs)
		}
	}
	return issues
}

type compiledEvidence struct {
	spec  EvidenceSpec
	at    *program // (at).http.id
	value *program
}

// template is a message with {{ expr }} holes.
type template struct {
	parts []string   // literal text; len(parts) == len(exprs)+1
	exprs []*program // the holes
}

var holeRe = regexp.MustCompile(`(?s)\{\{(.*?)\}\}`)

func (r *Rule) compileTemplate(env *cel.Env, field, src string) (*template, []Issue) {
	t := &template{}
	var issues []Issue
	last := 0
	for _, m := range holeRe.FindAllStringSubmatchIndex(src, -1) {
		t.parts = append(t.parts, src[last:m[0]])
		expr := strings.TrimSpace(src[m[2]:m[3]])
		p, is := r.compileExpr(env, field, expr, nil)
		issues = append(issues, is...)
		t.exprs = append(t.exprs, p)
		last = m[1]
	}
	t.parts = append(t.parts, src[last:])
	for _, p := range t.parts {
		if strings.Contains(p, "{{") || strings.Contains(p, "}}") {
			issues = append(issues, r.issue(field, "%s has an unbalanced {{ or }}: every {{ needs a matching }}", field))
			break
		}
	}
	return t, issues
}

func (t *template) render(vars map[string]any) (string, error) {
	var b strings.Builder
	for i, p := range t.parts {
		b.WriteString(p)
		if i < len(t.exprs) {
			if t.exprs[i] == nil {
				continue
			}
			v, err := t.exprs[i].eval(vars)
			if err != nil {
				return "", fmt.Errorf("{{ %s }}: %v", t.exprs[i].src, err)
			}
			b.WriteString(format(v))
		}
	}
	return b.String(), nil
}

// Engine evaluates a validated, compiled set of rules.
type Engine struct {
	rules []*compiled
	// supersededBy maps a rule id to the loaded rules that supersede it.
	supersededBy map[string][]string
}

// Rules returns the engine's rules in ID order.
func (e *Engine) Rules() []*Rule {
	out := make([]*Rule, len(e.rules))
	for i, c := range e.rules {
		out[i] = c.rule
	}
	return out
}

// Compile validates and compiles rules. Every problem in every rule is
// reported at once (a *LoadError); no engine is returned then.
func Compile(rs []*Rule) (*Engine, error) { return compileRules(rs, false) }

// CompileDeferred is Compile for rules already known to compile (the
// built-in rules, which the tests compile in full): the parts only a rule
// that fires needs — its message and fix templates, evidence and
// severity cases, most of the expressions — are compiled when it first
// fires. Most rules never fire on a given capture, so a run starts in
// about half the time. A problem in a deferred part shows as an error
// finding of that rule.
func CompileDeferred(rs []*Rule) (*Engine, error) { return compileRules(rs, true) }

func compileRules(rs []*Rule, deferFiring bool) (*Engine, error) {
	env, err := Env()
	if err != nil {
		return nil, fmt.Errorf("rules: building the CEL environment: %w", err)
	}
	var issues []Issue
	issues = append(issues, checkDuplicates(rs)...)
	e := &Engine{}
	// Compiling a few hundred rules is a noticeable part of a short run:
	// spread it over the CPUs (the environment is safe for concurrent use).
	type result struct {
		c  *compiled
		is []Issue
	}
	results := make([]result, len(rs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, is := compileRule(env, rs[i], deferFiring)
				results[i] = result{c, is}
			}
		}()
	}
	for i := range rs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, r := range results {
		issues = append(issues, r.is...)
		if len(r.is) == 0 {
			e.rules = append(e.rules, r.c)
		}
	}
	if len(issues) > 0 {
		return nil, &LoadError{Issues: issues}
	}
	sort.Slice(e.rules, func(i, j int) bool { return e.rules[i].rule.ID < e.rules[j].rule.ID })
	e.supersededBy = map[string][]string{}
	for _, c := range e.rules {
		for _, id := range c.rule.Supersedes {
			e.supersededBy[id] = append(e.supersededBy[id], c.rule.ID)
		}
	}
	return e, nil
}

// dropSuperseded removes the failures (and not-available findings) of a
// flow where a more specific rule failed on the same exchange.
func (e *Engine) dropSuperseded(fs []Finding) []Finding {
	if len(e.supersededBy) == 0 {
		return fs
	}
	type at struct {
		rule   string
		anchor int
	}
	failed := map[at]bool{}
	for _, f := range fs {
		if f.Outcome == Fail {
			failed[at{f.Rule, f.Anchor}] = true
		}
	}
	out := fs[:0]
	for _, f := range fs {
		drop := false
		// A failure the more specific rule reports makes the general
		// rule's failure, or its "cannot be checked", redundant.
		if f.Outcome == Fail || f.Outcome == NotAvailable {
			for _, by := range e.supersededBy[f.Rule] {
				if failed[at{by, f.Anchor}] {
					drop = true
					break
				}
			}
		}
		if !drop {
			out = append(out, f)
		}
	}
	return out
}

func compileRule(env *cel.Env, r *Rule, deferFiring bool) (*compiled, []Issue) {
	var issues []Issue
	c := &compiled{rule: r}
	add := func(p *program, is []Issue) *program {
		issues = append(issues, is...)
		return p
	}
	when := r.When
	if strings.TrimSpace(when) == "" {
		when = "true"
	}
	c.when = add(r.compileExpr(env, "when", when, cel.BoolType))
	c.condition = add(r.compileExpr(env, "condition", r.Condition, cel.BoolType))
	c.targetOnly = map[string]bool{}
	for _, k := range r.AppliesTo {
		if c.judgesTargetOnly(k) {
			c.targetOnly[k] = true
		}
	}
	if deferFiring {
		c.env = env
	} else {
		c.firingOnce.Do(func() { issues = append(issues, c.compileFiring(env)...) })
	}
	return c, issues
}

// RunOptions select what to evaluate.
type RunOptions struct {
	// Packs restricts evaluation to these packs for every flow; empty
	// means automatic: oauth2, oidc for OIDC flows, and the pack of the
	// flow's MCP revision.
	Packs []string
	// ExtraPacks are active on every flow in automatic mode (custom packs
	// loaded with --rules).
	ExtraPacks []string
	// Judge, when set, limits evaluation to the flows it accepts (the
	// others still inform the judged ones: related flows, capture-wide
	// indexes). It is called once per flow, in flow order, from Run's
	// goroutine. The live proxy judges only the flows that changed since
	// it last looked.
	Judge func(*analyze.Flow) bool
}

// ActivePacks returns the packs evaluated for a flow.
func ActivePacks(f *analyze.Flow, opts RunOptions) []string {
	if len(opts.Packs) > 0 {
		return opts.Packs
	}
	packs := []string{PackOAuth2}
	if f.OIDC {
		packs = append(packs, PackOIDC)
	}
	if f.MCP.Revision != "" {
		packs = append(packs, MCPPack(f.MCP.Revision))
	}
	return append(packs, opts.ExtraPacks...)
}

// Run evaluates every rule on every flow of the analysis and returns the
// findings, post-processed (deduplicated, sorted).
func (e *Engine) Run(res *analyze.Result, opts RunOptions) []Finding {
	return e.run(res, opts, &verdicts{})
}

// run is Run, judging a message flows share once per rule when memo is
// set (nil: in every flow, which tests compare with).
func (e *Engine) run(res *analyze.Result, opts RunOptions, memo *verdicts) []Finding {
	related := RelatedFlows(res.Flows, MaxRelatedFlows)
	for _, f := range res.Flows {
		f.All = related[f]
	}
	// Flows are judged independently (rules are pure functions of the
	// analysis), so they are spread over the CPUs; results are gathered
	// in flow order, so the output does not depend on scheduling.
	judged := make([]int, 0, len(res.Flows))
	for i, f := range res.Flows {
		if opts.Judge == nil || opts.Judge(f) {
			judged = append(judged, i)
		}
	}
	perFlow := make([][]Finding, len(res.Flows))
	var wg sync.WaitGroup
	next := make(chan int)
	workers := min(runtime.GOMAXPROCS(0), len(judged))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f := res.Flows[i]
				in := inputsFor(f, opts)
				var fs []Finding
				for _, c := range e.rules {
					fs = append(fs, c.judge(res, f, in, memo)...)
				}
				perFlow[i] = e.dropSuperseded(fs)
			}
		}()
	}
	for _, i := range judged {
		next <- i
	}
	close(next)
	wg.Wait()
	n := 0
	for _, fs := range perFlow {
		n += len(fs)
	}
	// Sized once: before Postprocess merges them, a long capture's
	// findings repeat (a shared document fails in each flow), and
	// growing the slice copied them over and over.
	out := make([]Finding, 0, n)
	for _, fs := range perFlow {
		out = append(out, fs...)
	}
	out = Postprocess(out)
	for i := range out {
		f := &out[i]
		if f.Anchor > 0 && f.Anchor <= len(res.Exchanges) {
			u := *res.Exchanges[f.Anchor-1].Request.URL
			u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
			f.Endpoint = u.String()
		}
		f.Fingerprint = fingerprint(f, res)
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// zero values bound to variables a flow has no message for, so that every
// declared variable is always bound.
var zeroViews = map[string]any{
	string(analyze.KindPRM):                 &analyze.PRM{},
	string(analyze.KindChallenge):           &analyze.Challenge{},
	string(analyze.KindASMetadata):          &analyze.ASMetadata{},
	string(analyze.KindRegistration):        &analyze.Registration{},
	string(analyze.KindAuthorize):           &analyze.Authorize{},
	string(analyze.KindCallback):            &analyze.Callback{},
	string(analyze.KindToken):               &analyze.Token{},
	string(analyze.KindRefresh):             &analyze.Token{},
	string(analyze.KindResource):            &analyze.Resource{},
	string(analyze.KindCIMD):                &analyze.Aux{},
	string(analyze.KindRevocation):          &analyze.Aux{},
	string(analyze.KindIntrospection):       &analyze.Aux{},
	string(analyze.KindJWKS):                &analyze.Aux{},
	string(analyze.KindUserinfo):            &analyze.Aux{},
	string(analyze.KindPreflight):           &analyze.Aux{},
	string(analyze.KindDeviceAuthorization): &analyze.Aux{},
}

// baseVars binds flow and, for every kind, the flow's primary message of
// that kind (the one in effect), else a zero view.
func baseVars(f *analyze.Flow) map[string]any {
	v := make(map[string]any, len(zeroViews)+1)
	for k, z := range zeroViews {
		v[k] = z
	}
	v[KindFlow] = f
	v[VarFlows] = f.All
	set := func(k analyze.Kind, x any, ok bool) {
		if ok {
			v[string(k)] = x
		}
	}
	set(analyze.KindPRM, f.PRM, f.PRM != nil)
	set(analyze.KindChallenge, f.Challenge, f.Challenge != nil)
	set(analyze.KindASMetadata, f.ASMetadata, f.ASMetadata != nil)
	set(analyze.KindRegistration, f.Registration, f.Registration != nil)
	set(analyze.KindAuthorize, f.Authorize, f.Authorize != nil)
	set(analyze.KindCallback, f.Callback, f.Callback != nil)
	set(analyze.KindToken, f.Token, f.Token != nil)
	if len(f.Refreshes) > 0 {
		v[string(analyze.KindRefresh)] = f.Refreshes[0]
	}
	if len(f.Resources) > 0 {
		v[string(analyze.KindResource)] = f.Resources[0]
	}
	return v
}

// flowInputs is what every rule judged on a flow shares, built once per
// flow: its active packs, what unreadable traffic near it may hide, its
// variables (baseVars) and its messages by kind.
type flowInputs struct {
	active []string
	unk    *flowUnknowns
	base   map[string]any
	msgs   *flowMessages
}

func inputsFor(f *analyze.Flow, opts RunOptions) flowInputs {
	return flowInputs{active: ActivePacks(f, opts), unk: unknownsFor(f), base: baseVars(f), msgs: &flowMessages{f: f}}
}

// flowMessages lists a flow's messages by kind once for all the rules
// judged on it (Flow.Messages builds a new list at each call).
type flowMessages struct {
	f  *analyze.Flow
	by map[string][]any
}

func (m *flowMessages) of(kind string) []any {
	if l, ok := m.by[kind]; ok {
		return l
	}
	if m.by == nil {
		m.by = map[string][]any{}
	}
	l := m.f.Messages(analyze.Kind(kind))
	m.by[kind] = l
	return l
}

// hasKind reports whether the flow holds a message of kind k.
func hasKind(f *analyze.Flow, k string) bool {
	if k == KindFlow {
		return true
	}
	return len(f.Messages(analyze.Kind(k))) > 0
}

// judge evaluates the rule on one flow if one of its packs is active
// there. The flow's inputs are built once and shared by the rules
// judged on it one after the other: the message a rule applies to is
// bound in base (the flow's baseVars) for the evaluation and the flow's
// own message put back afterwards (nothing keeps the map beyond an
// evaluation). Building it per evaluation was the largest allocation of
// a run.
//
// memo (nil: none) holds the verdicts of this run on messages flows
// share: such a message is not judged again by the same rule in another
// flow.
func (c *compiled) judge(res *analyze.Result, f *analyze.Flow, in flowInputs, memo *verdicts) []Finding {
	packs := intersect(c.rule.Packs, in.active)
	if len(packs) == 0 {
		return nil
	}
	unk, base, msgs := in.unk, in.base, in.msgs
	var out []Finding
	for _, kind := range c.rule.AppliesTo {
		if kind == KindFlow {
			out = append(out, c.evalOne(res, f, packs, base, nil, nil, unk)...)
			continue
		}
		targets := msgs.of(kind)
		if len(targets) == 0 {
			// The message the rule is about is known to have happened but
			// was not captured: the rule cannot be checked. (One that may
			// be in unreadable traffic is not reported: nothing says it
			// exists.)
			if leg, ok := missingLeg(f, kind); ok {
				out = append(out, c.evalOne(res, f, packs, base, nil, &leg, unk)...)
			}
			continue
		}
		own, had := base[kind]
		shared := c.targetOnly[kind]
		for _, t := range targets {
			if shared {
				if fd, ok := memo.get(c, t, unk == nil); ok {
					if fd != nil {
						out = append(out, inFlow(*fd, f, packs))
					}
					continue
				}
			}
			base[kind] = t
			target := analyze.HTTPOf(t)
			fs := c.evalOne(res, f, packs, base, target, nil, unk)
			if shared {
				memo.put(c, t, kind, anchorOf(target, 0), fs, unk == nil)
			}
			out = append(out, fs...)
		}
		if had {
			base[kind] = own
		} else {
			delete(base, kind)
		}
	}
	return out
}

func missingLeg(f *analyze.Flow, kind string) (analyze.MissingLeg, bool) {
	for _, m := range f.MissingLegs() {
		if string(m.Kind) == kind {
			return m, true
		}
	}
	return analyze.MissingLeg{}, false
}

// decideWhen evaluates the precondition. Legs the capture lacks are
// unknowns (CEL partial evaluation): when the precondition is true or
// depends on them, the rule applies but cannot be checked.
func (c *compiled) decideWhen(vars map[string]any, missing []analyze.MissingLeg) (bool, error) {
	if len(missing) == 0 {
		return c.when.evalBool(vars)
	}
	patterns := make([]*cel.AttributePatternType, 0, len(missing))
	for _, m := range missing {
		patterns = append(patterns, cel.AttributePattern(string(m.Kind)))
	}
	out, err := partialEval(c.when, vars, patterns)
	if err != nil {
		return false, err
	}
	if types.IsUnknown(out) {
		return true, nil
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("expression yielded %s, not a bool", out.Type())
	}
	return bool(b), nil
}

func describeKind(k analyze.Kind) string {
	switch k {
	case analyze.KindAuthorize:
		return "authorization request"
	case analyze.KindCallback:
		return "authorization response (callback)"
	case analyze.KindToken:
		return "token request"
	case analyze.KindPRM:
		return "protected resource metadata"
	case analyze.KindASMetadata:
		return "authorization server metadata"
	case analyze.KindChallenge:
		return "401/403 challenge"
	case analyze.KindRegistration:
		return "client registration"
	case analyze.KindCIMD:
		return "client ID metadata document fetch"
	case analyze.KindRefresh:
		return "refresh request"
	case analyze.KindResource:
		return "resource request"
	}
	return strings.ReplaceAll(string(k), "_", " ")
}

func (c *compiled) evalOne(res *analyze.Result, f *analyze.Flow, packs []string, vars map[string]any, target *analyze.HTTP, absent *analyze.MissingLeg, unk *flowUnknowns) []Finding {
	var missing []analyze.MissingLeg
	if absent != nil {
		missing = append(missing, *absent)
	}
	// Further legs the rule reads: a leg that never happened means the
	// rule does not apply; one that happened uncaptured makes it
	// not-available.
	for _, req := range c.rule.Requires {
		if isPart(req) || hasKind(f, req) {
			continue
		}
		leg, implied := missingLeg(f, req)
		if !implied {
			return nil
		}
		missing = append(missing, leg)
	}
	ok, err := c.decideWhen(vars, missing)
	if err != nil {
		return []Finding{c.errorFinding(res, f, packs, target, "when", err)}
	}
	if !ok {
		return nil
	}
	if len(missing) > 0 {
		na := missing[0]
		fd := c.base(res, f, packs, vars)
		fd.Outcome = NotAvailable
		fd.Anchor = anchorOf(target, na.ImpliedBy)
		fd.Message = fmt.Sprintf("%s: cannot be checked: the %s was not captured: %s", c.rule.Title, describeKind(na.Kind), na.Reason)
		fd.Evidence = []Evidence{{Exchange: na.ImpliedBy, Ref: refOf(res, na.ImpliedBy), Field: string(na.Kind), Value: "(not captured)"}}
		return []Finding{fd}
	}
	violated, err := c.condition.evalBool(vars)
	if err != nil {
		return []Finding{c.errorFinding(res, f, packs, target, "condition", err)}
	}
	if !violated {
		return nil
	}
	fd := c.base(res, f, packs, vars)
	fd.Anchor = anchorOf(target, 0)
	if gap := c.gapFor(target); gap != "" {
		fd.Outcome = NotAvailable
		fd.Message = fmt.Sprintf("%s: cannot be checked: %s", c.rule.Title, gap)
		fd.Evidence = []Evidence{{Exchange: fd.Anchor, Ref: refOf(res, fd.Anchor), Field: "capture", Value: gap}}
		return []Finding{fd}
	}
	if unk != nil {
		// Near traffic the capture could not read: a violation that
		// depends on what it may hold cannot be claimed.
		u, field, err := c.unreadableCause(vars, unk)
		if err != nil {
			return []Finding{c.errorFinding(res, f, packs, target, field, err)}
		}
		if u != nil {
			return []Finding{c.notAvailableUnreadable(res, f, packs, vars, c.failAnchor(res, f, vars, target), unk, u)}
		}
	}
	fd.Outcome = Fail
	if err := c.firing(); err != nil {
		return []Finding{c.errorFinding(res, f, packs, target, "message, fix, evidence or severity-cases", err)}
	}
	for i, p := range c.cases {
		hit, err := p.evalBool(vars)
		if err != nil {
			return []Finding{c.errorFinding(res, f, packs, target, fmt.Sprintf("severity-cases[%d].when", i), err)}
		}
		if hit {
			fd.Severity = c.rule.SeverityCases[i].Severity
			break
		}
	}
	if fd.Message, err = c.message.render(vars); err != nil {
		return []Finding{c.errorFinding(res, f, packs, target, "message", err)}
	}
	if fd.Fix, err = c.fix.render(vars); err != nil {
		return []Finding{c.errorFinding(res, f, packs, target, "fix", err)}
	}
	for i, ev := range c.evidence {
		e, err := ev.eval(res, vars)
		if err != nil {
			return []Finding{c.errorFinding(res, f, packs, target, fmt.Sprintf("evidence[%d]", i), err)}
		}
		fd.Evidence = append(fd.Evidence, e)
	}
	if fd.Anchor == 0 {
		for _, e := range fd.Evidence {
			if e.Exchange > 0 {
				fd.Anchor = e.Exchange
				break
			}
		}
		if fd.Anchor == 0 {
			fd.Anchor = f.Start
		}
	}
	return []Finding{fd}
}

// failAnchor is the exchange a failure of the rule would be anchored at:
// the target, else the first evidence with an exchange, else the flow's
// first exchange.
func (c *compiled) failAnchor(res *analyze.Result, f *analyze.Flow, vars map[string]any, target *analyze.HTTP) int {
	if a := anchorOf(target, 0); a > 0 {
		return a
	}
	if c.firing() != nil {
		return f.Start
	}
	for _, ev := range c.evidence {
		if e, err := ev.eval(res, vars); err == nil && e.Exchange > 0 {
			return e.Exchange
		}
	}
	return f.Start
}

// gapFor returns why the target exchange cannot support a violation the
// rule claims, or "".
func (c *compiled) gapFor(t *analyze.HTTP) string {
	if t == nil || t.Exchange() == nil {
		return ""
	}
	ex := t.Exchange()
	for _, req := range c.rule.Requires {
		var k capture.GapKind
		switch req {
		case "response":
			if ex.Response == nil {
				return "the response was not captured"
			}
			continue
		case "response-body":
			if ex.Response == nil {
				return "the response was not captured"
			}
			k = capture.GapResponseBody
		case "request-body":
			k = capture.GapRequestBody
		case "credentials":
			k = capture.GapSanitized
		default:
			continue
		}
		for _, g := range ex.Gaps {
			if g.Kind == k || (k == capture.GapResponseBody && g.Kind == capture.GapDecode) {
				return g.Detail
			}
		}
	}
	return ""
}

func anchorOf(t *analyze.HTTP, fallback int) int {
	if t != nil && t.ID > 0 {
		return t.ID
	}
	return fallback
}

func refOf(res *analyze.Result, id int) capture.Ref {
	if id <= 0 || id > len(res.Exchanges) {
		return capture.Ref{Entry: -1}
	}
	return res.Exchanges[id-1].Ref
}

func (ev compiledEvidence) eval(res *analyze.Result, vars map[string]any) (Evidence, error) {
	e := Evidence{Field: ev.spec.Field, Secret: ev.spec.Secret}
	idv, err := ev.at.eval(vars)
	if err != nil {
		return e, err
	}
	if id, ok := idv.Value().(int64); ok {
		e.Exchange = int(id)
	}
	e.Ref = refOf(res, e.Exchange)
	v, err := ev.value.eval(vars)
	if err != nil {
		// A missing map key means the field is absent: that is evidence.
		if strings.Contains(err.Error(), "no such key") {
			e.Value = "(absent)"
			return e, nil
		}
		return e, err
	}
	e.Value = format(v)
	if e.Value == "" || e.Value == "(none)" {
		e.Value = "(absent)"
	}
	return e, nil
}

func (c *compiled) base(res *analyze.Result, f *analyze.Flow, packs []string, vars map[string]any) Finding {
	r := c.rule
	return Finding{
		Rule:       r.ID,
		Title:      r.Title,
		Level:      r.Level,
		Severity:   r.Severity,
		Party:      r.Party,
		Flow:       f.ID,
		Flows:      []string{f.ID},
		Packs:      packs,
		References: r.References,
	}
}

func (c *compiled) errorFinding(res *analyze.Result, f *analyze.Flow, packs []string, target *analyze.HTTP, field string, err error) Finding {
	fd := c.base(res, f, packs, nil)
	fd.Outcome = Error
	fd.Anchor = anchorOf(target, f.Start)
	fd.Message = fmt.Sprintf("rule %s could not be evaluated: %s: %v (%s)", c.rule.ID, field, err, c.rule.file)
	fd.Fix = "fix the rule file, or report this to the rule's author"
	return fd
}

// MaxRelatedFlows bounds the flows a cross-flow rule sees through the
// flows variable: the flow itself and its nearest related flows in time.
// Without a bound, rules comparing every flow with every other would make
// a long capture quadratic.
const MaxRelatedFlows = 64

// RelatedFlows returns, for each flow, the flows that share something
// with it (client_id, authorization server, protected resource, redirect
// URI, or a code or token value), nearest in time first, at most limit
// including the flow itself, in time order.
func RelatedFlows(flows []*analyze.Flow, limit int) map[*analyze.Flow][]*analyze.Flow {
	byKey := map[string][]int{}
	keys := make([][]string, len(flows))
	for i, f := range flows {
		ks := flowKeys(f)
		keys[i] = ks
		for _, k := range ks {
			byKey[k] = append(byKey[k], i)
		}
	}
	out := make(map[*analyze.Flow][]*analyze.Flow, len(flows))
	var cand []int
	for i, f := range flows {
		// Flows are in time order, so nearest by index is nearest in
		// time, and each key's list is sorted. The max nearest flows of
		// the union lie within limit places of i in every list they are on:
		// a window per key keeps this O(flows · keys · limit) even when every
		// flow shares one authorization server.
		cand = append(cand[:0], i)
		for _, k := range keys[i] {
			l := byKey[k]
			p := sort.SearchInts(l, i)
			for _, j := range l[max(0, p-limit):min(len(l), p+limit+1)] {
				if j != i {
					cand = append(cand, j)
				}
			}
		}
		sort.Ints(cand)
		cand = slices.Compact(cand)
		if len(cand) > limit {
			// Nearest first; of two at the same distance the earlier.
			sort.Slice(cand, func(a, b int) bool {
				da, db := absInt(cand[a]-i), absInt(cand[b]-i)
				if da != db {
					return da < db
				}
				return cand[a] < cand[b]
			})
			cand = cand[:limit]
			sort.Ints(cand)
		}
		rel := make([]*analyze.Flow, len(cand))
		for n, j := range cand {
			rel[n] = flows[j]
		}
		out[f] = rel
	}
	return out
}

func flowKeys(f *analyze.Flow) []string {
	var ks []string
	add := func(prefix, v string) {
		if v != "" {
			ks = append(ks, prefix+v)
		}
	}
	add("client:", f.ClientID)
	add("as:", oauth.Origin(f.Issuer))
	add("resource:", oauth.Origin(f.Resource))
	// A client fetches the same metadata again and again (one flow of a
	// long capture can hold thousands of copies): each URL is parsed for
	// its origin once.
	var seenURL map[string]bool
	addAS := func(u string) {
		if seenURL[u] {
			return
		}
		if seenURL == nil {
			seenURL = map[string]bool{}
		}
		seenURL[u] = true
		add("as:", oauth.Origin(u))
	}
	for _, a := range f.ASMetadatas {
		add("as:", a.HTTP.Origin)
		// Every endpoint the metadata names is the same AS (mTLS aliases
		// included).
		for _, v := range a.Doc {
			switch x := v.(type) {
			case string:
				if strings.HasPrefix(x, "https://") || strings.HasPrefix(x, "http://") {
					addAS(x)
				}
			case map[string]any:
				for _, y := range x {
					if u, ok := y.(string); ok {
						addAS(u)
					}
				}
			}
		}
	}
	if f.Authorize != nil {
		// A delegating AS sends the browser on to an upstream one: link
		// the flows through the URL one redirects to and the other starts
		// at.
		add("authz:", f.Authorize.HTTP.URL)
		for _, st := range f.Steps() {
			if st.Kind == analyze.KindAuthorize && st.Ex.Response != nil {
				if loc := st.Ex.Response.Headers.Get("Location"); loc != "" {
					if u, err := st.Ex.Request.URL.Parse(loc); err == nil {
						add("authz:", u.String())
					}
				}
			}
		}
		add("redirect:", f.Authorize.RedirectURI)
		add("client:", f.Authorize.ClientID)
		add("as:", oauth.Origin(f.Authorize.HTTP.URL))
	}
	for _, t := range append(append([]*analyze.Token{}, f.Tokens...), f.Refreshes...) {
		add("as:", t.HTTP.Origin)
		add("client:", t.ClientID)
		add("code:", t.Code)
		add("token:", t.Response.AccessToken)
		add("token:", t.RefreshToken)
	}
	for _, r := range f.Registrations {
		add("as:", r.HTTP.Origin)
		add("client:", r.ClientID)
	}
	for _, r := range f.Resources {
		add("resource:", r.HTTP.Origin)
		add("token:", r.Token)
	}
	for _, c := range f.Challenges {
		add("resource:", c.HTTP.Origin)
	}
	// Each key once: RelatedFlows lists a flow once per key it names,
	// and its window around a flow (limit places each way) must hold
	// distinct flows. A flow names its token once per call and its AS
	// once per metadata fetch.
	slices.Sort(ks)
	return slices.Compact(ks)
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
