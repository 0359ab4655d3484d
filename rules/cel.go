package rules

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/analyze/oauth"
	"github.com/oauthlint/oauthlint/capture"
)

// CostLimit bounds the work one expression evaluation may do, so a hostile
// or careless rule cannot stall an analysis.
const CostLimit = 1_000_000

// kindTypes maps each variable a rule can use to its Go view type.
var kindTypes = map[string]reflect.Type{
	KindFlow:                                reflect.TypeFor[analyze.Flow](),
	string(analyze.KindPRM):                 reflect.TypeFor[analyze.PRM](),
	string(analyze.KindChallenge):           reflect.TypeFor[analyze.Challenge](),
	string(analyze.KindASMetadata):          reflect.TypeFor[analyze.ASMetadata](),
	string(analyze.KindRegistration):        reflect.TypeFor[analyze.Registration](),
	string(analyze.KindAuthorize):           reflect.TypeFor[analyze.Authorize](),
	string(analyze.KindCallback):            reflect.TypeFor[analyze.Callback](),
	string(analyze.KindToken):               reflect.TypeFor[analyze.Token](),
	string(analyze.KindRefresh):             reflect.TypeFor[analyze.Token](),
	string(analyze.KindResource):            reflect.TypeFor[analyze.Resource](),
	string(analyze.KindCIMD):                reflect.TypeFor[analyze.Aux](),
	string(analyze.KindRevocation):          reflect.TypeFor[analyze.Aux](),
	string(analyze.KindIntrospection):       reflect.TypeFor[analyze.Aux](),
	string(analyze.KindJWKS):                reflect.TypeFor[analyze.Aux](),
	string(analyze.KindUserinfo):            reflect.TypeFor[analyze.Aux](),
	string(analyze.KindPreflight):           reflect.TypeFor[analyze.Aux](),
	string(analyze.KindDeviceAuthorization): reflect.TypeFor[analyze.Aux](),
}

// celTypeName is the CEL name of a native Go type ("analyze.Flow").
func celTypeName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	return pkg + "." + t.Name()
}

var (
	envOnce sync.Once
	envVal  *cel.Env
	envErr  error
)

// Env returns the CEL environment every rule is compiled in: one variable
// per message kind plus flow, the native view types, the standard string
// and list extensions, and oauthlint's helper functions.
func Env() (*cel.Env, error) {
	envOnce.Do(func() {
		var typs []any
		seen := map[reflect.Type]bool{}
		names := make([]string, 0, len(kindTypes))
		for n := range kindTypes {
			names = append(names, n)
		}
		sort.Strings(names)
		opts := []cel.EnvOption{}
		for _, n := range names {
			t := kindTypes[n]
			if !seen[t] {
				seen[t] = true
				typs = append(typs, t)
			}
			opts = append(opts, cel.Variable(n, cel.ObjectType(celTypeName(t))))
		}
		typs = append([]any{ext.ParseStructTag("cel")}, typs...)
		nt := ext.NativeTypes(typs...)
		opts = append([]cel.EnvOption{nt, ext.Strings(), ext.Lists(), ext.Sets(), cel.OptionalTypes()}, opts...)
		// flows: every flow of the capture, for rules that compare flows
		// (a PKCE challenge reused, a token sent to another resource).
		opts = append(opts, cel.Variable(VarFlows, cel.ListType(cel.ObjectType(celTypeName(kindTypes[KindFlow])))))
		opts = append(opts, functions()...)
		opts = append(opts, extraFunctions...)
		envVal, envErr = cel.NewEnv(opts...)
		if envErr == nil {
			envErr = initSizedCost(envVal)
		}
	})
	return envVal, envErr
}

// sizedFunctions are the functions outside the CEL standard library (the
// string/list/set extensions and oauthlint's helpers). CEL charges each
// call of them one unit whatever its input, so a rule could loop over a
// helper that splits a megabyte a thousand times within the cost limit;
// sizedCost charges them by the size of their arguments instead.
var sizedFunctions map[string]bool

// linearFunctions are the functions an expression may call and still run
// without cost tracking (see bounded): each returns no more than its
// arguments hold together, plus a constant. They are the standard
// library, oauthlint's helpers but those in amplifying, and the
// extension functions in linearExtensions; a new extension function is
// tracked until it is listed.
var linearFunctions map[string]bool

// amplifying are oauthlint's helpers whose result can be several times
// their input (percent-encoding, JSON escaping, redaction placeholders):
// chained, they would grow it geometrically.
var amplifying = map[string]bool{"form_urlencode": true, "json_text": true, "redact": true}

// linearExtensions are the string, list, set and optional extension
// functions that return no more than their input: left out are replace,
// strings.quote, join, format and lists.range, whose result can be any
// multiple of their input ('a'.replace('a', 'aa') doubles it).
var linearExtensions = []string{
	"charAt", "distinct", "first", "flatten", "hasAll", "hasAny", "hasExactly", "hasOnly", "hasValue",
	"indexOf", "last", "lastIndexOf", "lowerAscii", "optional.none", "optional.of", "optional.ofNonZeroValue",
	"optional.unwrap", "or", "orValue", "reverse", "sets.contains", "sets.equivalent", "sets.intersects",
	"slice", "sort", "split", "substring", "trim", "unwrapOpt", "upperAscii", "value", "_?._", "_[?_]",
}

func initSizedCost(env *cel.Env) error {
	std, err := cel.NewEnv()
	if err != nil {
		return err
	}
	exts, err := cel.NewEnv(ext.Strings(), ext.Lists(), ext.Sets(), cel.OptionalTypes())
	if err != nil {
		return err
	}
	stdFns, extFns := std.Functions(), exts.Functions()
	sizedFunctions = map[string]bool{}
	linearFunctions = map[string]bool{}
	for _, name := range linearExtensions {
		linearFunctions[name] = true
	}
	for name := range env.Functions() {
		if _, ok := stdFns[name]; ok {
			linearFunctions[name] = true
			continue
		}
		sizedFunctions[name] = true
		if _, ok := extFns[name]; !ok && !amplifying[name] {
			linearFunctions[name] = true
		}
	}
	return nil
}

type sizedCost struct{}

// CallCost is one unit plus, per argument, a tenth of a string's length
// (the rate CEL charges its own string functions) or a collection's size.
func (sizedCost) CallCost(function, _ string, args []ref.Val, _ ref.Val) *uint64 {
	if !sizedFunctions[function] {
		return nil
	}
	c := uint64(1)
	for _, a := range args {
		switch v := a.(type) {
		case types.String:
			c += uint64(len(v)) / 10
		case types.Bytes:
			c += uint64(len(v)) / 10
		case traits.Sizer:
			if n, ok := v.Size().(types.Int); ok && n > 0 {
				c += uint64(n)
			}
		}
	}
	return &c
}

func strList(v ref.Val) []string {
	l, ok := v.(traits.Lister)
	if !ok {
		return nil
	}
	n := int(l.Size().(types.Int))
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if s, ok := l.Get(types.Int(i)).(types.String); ok {
			out = append(out, string(s))
		}
	}
	return out
}

func listVal(l []string) ref.Val { return types.DefaultTypeAdapter.NativeToValue(l) }

var stringList = cel.ListType(cel.StringType)

func strFn(name, doc string, fn func(string) string) cel.EnvOption {
	return cel.Function(name, cel.Overload(name+"_string", []*cel.Type{cel.StringType}, cel.StringType,
		cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(fn(string(v.(types.String)))) })))
}

func boolFn(name string, fn func(string) bool) cel.EnvOption {
	return cel.Function(name, cel.Overload(name+"_string", []*cel.Type{cel.StringType}, cel.BoolType,
		cel.UnaryBinding(func(v ref.Val) ref.Val { return types.Bool(fn(string(v.(types.String)))) })))
}

func setFn(name string, fn func(a, b []string) ref.Val, out *cel.Type) cel.EnvOption {
	return cel.Function(name, cel.Overload(name+"_list_list", []*cel.Type{stringList, stringList}, out,
		cel.BinaryBinding(func(a, b ref.Val) ref.Val { return fn(strList(a), strList(b)) })))
}

// VarFlows is the variable holding every flow of the capture.
const VarFlows = "flows"

// extraFunctions are helper functions registered by other files of this
// package (RegisterFunction in an init func), one file per topic.
var extraFunctions []cel.EnvOption

// RegisterFunction adds a CEL function to the rule environment. Call it
// from an init func; doc is the one-line description shown in the docs.
func RegisterFunction(signature, doc string, fn cel.EnvOption) {
	extraFunctions = append(extraFunctions, fn)
	FunctionDocs[signature] = doc
}

// FunctionDocs documents the helper functions for `rules explain` and the
// reference docs.
var FunctionDocs = map[string]string{
	"s256(verifier)": "BASE64URL(SHA256(verifier)), the S256 code challenge of a verifier (RFC 7636 §4.2)",
	"pkce_matches(verifier, challenge, method)": "true when the verifier answers the challenge under method (S256 or plain; empty = plain)",
	"valid_verifier(v)":                         "true when v is 43–128 unreserved characters (RFC 7636 §4.1)",
	"scopes(s)":                                 "splits a space-delimited scope string into a list (no normalisation)",
	"subset(a, b)":                              "true when every element of a is in b",
	"set_equal(a, b)":                           "true when a and b hold the same elements",
	"difference(a, b)":                          "elements of a not in b",
	"union(a, b)":                               "elements of a then those of b not in a",
	"intersect(a, b)":                           "elements of a also in b",
	"join(list, sep)":                           "joins a list of strings",
	"same_url(a, b)":                            "exact string comparison of URLs/issuers (RFC 3986 §6.2.1 simple comparison; a trailing slash matters)",
	"origin(url)":                               "scheme://host[:port] of a URL",
	"without_query(url)":                        "the URL without query and fragment",
	"is_loopback(url)":                          "true for localhost / loopback IP URLs",
	"is_https(url)":                             "true for absolute https URLs",
	"secure_or_loopback(url)":                   "https, or http on a loopback host",
	"well_known_insert(id, suffix)":             "RFC 8414/9728 well-known URL: suffix inserted between host and path",
	"redact(value)":                             "the redacted form of a secret, for messages",
	"oidc_scope(s)":                             "true for the scopes OpenID Connect defines (openid, profile, email, address, phone, offline_access)",
}

var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "address": true, "phone": true, "offline_access": true}

func functions() []cel.EnvOption {
	return []cel.EnvOption{
		strFn("s256", "", oauth.S256),
		cel.Function("pkce_matches", cel.Overload("pkce_matches_string_string_string",
			[]*cel.Type{cel.StringType, cel.StringType, cel.StringType}, cel.BoolType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return types.Bool(oauth.PKCEMatches(string(args[0].(types.String)), string(args[1].(types.String)), string(args[2].(types.String))))
			}))),
		boolFn("valid_verifier", oauth.ValidVerifier),
		cel.Function("scopes", cel.Overload("scopes_string", []*cel.Type{cel.StringType}, stringList,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return listVal(oauth.SplitScope(string(v.(types.String)))) }))),
		setFn("subset", func(a, b []string) ref.Val { return types.Bool(oauth.Subset(a, b)) }, cel.BoolType),
		setFn("set_equal", func(a, b []string) ref.Val { return types.Bool(oauth.SetEqual(a, b)) }, cel.BoolType),
		setFn("difference", func(a, b []string) ref.Val { return listVal(oauth.Difference(a, b)) }, stringList),
		setFn("union", func(a, b []string) ref.Val { return listVal(oauth.Union(a, b)) }, stringList),
		setFn("intersect", func(a, b []string) ref.Val { return listVal(oauth.Intersect(a, b)) }, stringList),
		cel.Function("join", cel.Overload("join_list_string", []*cel.Type{stringList, cel.StringType}, cel.StringType,
			cel.BinaryBinding(func(l, sep ref.Val) ref.Val {
				return types.String(strings.Join(strList(l), string(sep.(types.String))))
			}))),
		cel.Function("same_url", cel.Overload("same_url_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				return types.Bool(oauth.SameURL(string(a.(types.String)), string(b.(types.String))))
			}))),
		strFn("origin", "", oauth.Origin),
		strFn("without_query", "", oauth.WithoutQuery),
		boolFn("is_loopback", oauth.IsLoopbackURL),
		boolFn("is_https", oauth.IsHTTPS),
		boolFn("secure_or_loopback", oauth.SecureOrLoopback),
		cel.Function("well_known_insert", cel.Overload("well_known_insert_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.StringType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				return types.String(oauth.InsertWellKnown(string(a.(types.String)), string(b.(types.String))))
			}))),
		strFn("redact", "", capture.Redact),
		boolFn("oidc_scope", func(s string) bool { return oidcScopes[s] }),
	}
}

// program is a compiled expression with its source location.
type program struct {
	src string
	prg cel.Program
	// partial evaluates with unknowns (legs the capture lacks); built
	// only for preconditions, and used only when a leg is missing, since
	// partial evaluation costs on every run.
	partial cel.Program
	refs    map[string]bool // variables the expression reads

	// Conditions get their partial program on first use (only flows
	// near unreadable traffic need one): planning a second program for
	// every rule would slow every run.
	env         *cel.Env
	ast         *cel.Ast
	lazyOnce    sync.Once
	lazyPartial cel.Program
	lazyErr     error
}

// partialProgram returns the expression's program for partial
// evaluation, planning it on first use.
func (p *program) partialProgram() (cel.Program, error) {
	if p.partial != nil {
		return p.partial, nil
	}
	p.lazyOnce.Do(func() {
		if p.env == nil || p.ast == nil {
			p.lazyErr = fmt.Errorf("no partial program for %q", p.src)
			return
		}
		limits := []cel.ProgramOption{cel.CostLimit(CostLimit), cel.CostTracking(sizedCost{})}
		p.lazyPartial, p.lazyErr = p.env.Program(p.ast, append(limits, cel.EvalOptions(cel.OptOptimize, cel.OptPartialEval))...)
	})
	return p.lazyPartial, p.lazyErr
}

// compileExpr compiles src, checks its type against want (nil: any), and
// reports problems at the field's position in the rule file.
func (r *Rule) compileExpr(env *cel.Env, field, src string, want *cel.Type) (*program, []Issue) {
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		var out []Issue
		base := r.pos[field]
		for _, e := range iss.Errors() {
			loc := e.Location
			line, col := base.line, base.col
			if loc != nil && loc.Line() > 0 {
				line = base.line + loc.Line() - 1
				if loc.Line() == 1 {
					col = base.col + loc.Column()
				} else {
					col = loc.Column() + 1
				}
			}
			out = append(out, Issue{File: r.file, Line: line, Col: col, Msg: fmt.Sprintf("%s: %s", field, e.Message)})
		}
		return nil, out
	}
	if want != nil && !ast.OutputType().IsAssignableType(want) && ast.OutputType() != cel.DynType {
		return nil, []Issue{r.issue(field, "%s must be a %s expression, but this one yields %s", field, want, ast.OutputType())}
	}
	// No wall-clock deadline: CEL's ContextEval allocates a cancellable
	// context per evaluation (+50% allocations over a run), and the
	// size-aware cost already bounds every helper that is linear in its
	// input; the helpers are ours and fuzzed for worse.
	limits := []cel.ProgramOption{cel.CostLimit(CostLimit), cel.CostTracking(sizedCost{})}
	run := limits
	if bounded(ast) {
		// Its work is linear in its input: it cannot stall an analysis,
		// and the limit would only cut a verdict short on a large input.
		// Tracking the cost of every call was 30% of judging a capture's
		// flows, and 328 of the built-in rules' 444 preconditions and
		// conditions are bounded.
		run = nil
	}
	prg, err := env.Program(ast, append(run, cel.EvalOptions(cel.OptOptimize))...)
	if err != nil {
		return nil, []Issue{r.issue(field, "%s: %v", field, err)}
	}
	var partial cel.Program
	if field == "when" {
		// Partial evaluation lets the engine treat legs the capture lacks
		// as unknowns (see decideWhen).
		if partial, err = env.Program(ast, append(limits, cel.EvalOptions(cel.OptOptimize, cel.OptPartialEval))...); err != nil {
			return nil, []Issue{r.issue(field, "%s: %v", field, err)}
		}
	}
	refs := map[string]bool{}
	for _, name := range referencedVars(ast) {
		refs[name] = true
	}
	p := &program{src: src, prg: prg, partial: partial, refs: refs}
	if field == "condition" {
		p.env, p.ast = env, ast
	}
	return p, nil
}

// bounded reports whether the expression's work is linear in its input,
// so that it needs no cost limit: it has no comprehension (the macros
// all, exists, map, filter and the like expand to one), so each of its
// calls runs once, and it calls only linearFunctions, so no chain of calls
// can grow a value geometrically ('a'.replace('a', 'aa') twelve times
// over is 4 096 times its input).
func bounded(a *cel.Ast) bool {
	unbounded := func(e celast.NavigableExpr) bool {
		switch e.Kind() {
		case celast.ComprehensionKind:
			return true
		case celast.CallKind:
			return !linearFunctions[e.AsCall().FunctionName()]
		}
		return false
	}
	return len(celast.MatchDescendants(celast.NavigateAST(a.NativeRep()), unbounded)) == 0
}

// referencedVars lists the top-level variables an expression reads.
func referencedVars(ast *cel.Ast) []string {
	checked, err := cel.AstToCheckedExpr(ast)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, rf := range checked.GetReferenceMap() {
		if n := rf.GetName(); n != "" && rf.GetOverloadId() == nil {
			if _, ok := kindTypes[n]; ok || n == VarFlows {
				seen[n] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (p *program) eval(vars map[string]any) (ref.Val, error) {
	out, _, err := p.prg.Eval(vars)
	if err != nil {
		return nil, err
	}
	if types.IsError(out) {
		return nil, fmt.Errorf("%v", out)
	}
	return out, nil
}

func (p *program) evalBool(vars map[string]any) (bool, error) {
	v, err := p.eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Errorf("expression yielded %s, not a bool", v.Type())
	}
	return bool(b), nil
}

// format renders a CEL value for a message: strings as they are, lists
// space-separated, absent values as "(none)".
func format(v ref.Val) string {
	switch x := v.(type) {
	case types.String:
		return string(x)
	case traits.Lister:
		n := int(x.Size().(types.Int))
		parts := make([]string, 0, n)
		for i := 0; i < n; i++ {
			parts = append(parts, format(x.Get(types.Int(i))))
		}
		if len(parts) == 0 {
			return "(none)"
		}
		return strings.Join(parts, " ")
	case types.Null:
		return "(none)"
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v.Value())
}

// Variable is a name rules can use and the Go view type behind it.
type Variable struct {
	Name string
	Type reflect.Type
	// List is true when the variable holds a list of Type.
	List bool
}

// Variables lists the variables of the rule environment, sorted by name.
func Variables() []Variable {
	out := make([]Variable, 0, len(kindTypes)+1)
	for n, t := range kindTypes {
		out = append(out, Variable{Name: n, Type: t})
	}
	out = append(out, Variable{Name: VarFlows, Type: kindTypes[KindFlow], List: true})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
