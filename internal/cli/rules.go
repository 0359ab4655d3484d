package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oauthlint/oauthlint/rules"
)

func newRulesCmd(io *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, explain, lint and test rule packs",
		Long: `Rules are YAML files with CEL expressions, one rule per file. The built-in
packs are embedded; --rules DIR adds a directory of your own (pack names of your
choice, IDs in the catalog style: PREFIX-NAME).`,
		Example: `  oauthlint rules list --pack mcp-2025-11-25
  oauthlint rules explain AZ-SCOPE-SELECTION
  oauthlint rules lint ./my-rules
  oauthlint rules test ./my-rules`,
	}
	cmd.AddCommand(newRulesListCmd(io), newRulesExplainCmd(io), newRulesLintCmd(io), newRulesTestCmd(io))
	return cmd
}

func newRulesListCmd(io *IOStreams) *cobra.Command {
	var src RuleSource
	var pack, format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the rules (built-in and --rules DIR)",
		Args:  cobra.NoArgs,
		Example: `  oauthlint rules list
  oauthlint rules list --pack oauth2 --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, _, err := src.load()
			if err != nil {
				return err
			}
			var sel []*rules.Rule
			for _, r := range rs {
				if pack == "" || contains(r.Packs, pack) {
					sel = append(sel, r)
				}
			}
			sort.Slice(sel, func(i, j int) bool { return sel[i].ID < sel[j].ID })
			switch format {
			case "json":
				enc := json.NewEncoder(io.Out)
				enc.SetIndent("", "  ")
				if sel == nil {
					sel = []*rules.Rule{}
				}
				return enc.Encode(sel)
			case "", "table", "tsv":
				tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
				sep := "\t"
				fmt.Fprintf(tw, "ID%sSEVERITY%sPARTY%sPACKS%sTITLE\n", sep, sep, sep, sep)
				for _, r := range sel {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Party, strings.Join(r.Packs, ","), r.Title)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if io.OutTTY {
					fmt.Fprintf(io.Out, "\n%d rules\n", len(sel))
				}
				return nil
			default:
				return usageError("--format %q: want table or json", format)
			}
		},
	}
	cmd.Flags().StringVar(&pack, "pack", "", "only rules of this pack")
	cmd.Flags().StringVar(&format, "format", "", "table (default) or json")
	cmd.Flags().StringArrayVar(&src.Dirs, "rules", nil, "also load rules from this directory (repeatable)")
	cmd.Flags().StringVar(&src.Config, "config", "", "rule configuration file (enable/disable, severity)")
	return cmd
}

func newRulesExplainCmd(io *IOStreams) *cobra.Command {
	var src RuleSource
	cmd := &cobra.Command{
		Use:     "explain ID",
		Short:   "Explain a rule: what it checks, why, the spec, the fix",
		Args:    cobra.ExactArgs(1),
		Example: `  oauthlint rules explain DCRQ-SCOPE`,
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, _, err := src.load()
			if err != nil {
				return err
			}
			id := strings.ToUpper(strings.TrimSpace(args[0]))
			for _, r := range rs {
				if r.ID == id {
					explain(io, r, rs)
					return nil
				}
			}
			var close []string
			for _, r := range rs {
				if strings.Contains(r.ID, id) {
					close = append(close, r.ID)
				}
			}
			if len(close) == 0 {
				for _, r := range rs {
					if strings.HasPrefix(r.ID, strings.SplitN(id, "-", 2)[0]+"-") {
						close = append(close, r.ID)
					}
				}
			}
			hint := "run 'oauthlint rules list' for every rule"
			if len(close) > 0 && len(close) <= 12 {
				hint = "did you mean one of " + strings.Join(close, ", ") + "?"
			}
			return usageError("no rule %s: %s", id, hint)
		},
	}
	cmd.Flags().StringArrayVar(&src.Dirs, "rules", nil, "also load rules from this directory (repeatable)")
	return cmd
}

func explain(io *IOStreams, r *rules.Rule, all []*rules.Rule) {
	w := io.Out
	fmt.Fprintf(w, "%s — %s\n\n", r.ID, r.Title)
	fmt.Fprintf(w, "  level:      %s\n", orDash(r.Level))
	fmt.Fprintf(w, "  severity:   %s", r.Severity)
	for _, c := range r.SeverityCases {
		fmt.Fprintf(w, "; %s when %s", c.Severity, oneLine(c.When))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  party:      %s\n", r.Party.Describe())
	fmt.Fprintf(w, "  packs:      %s\n", strings.Join(r.Packs, ", "))
	fmt.Fprintf(w, "  applies to: %s", strings.Join(r.AppliesTo, ", "))
	if len(r.Requires) > 0 {
		fmt.Fprintf(w, " (also reads %s)", strings.Join(r.Requires, ", "))
	}
	fmt.Fprintln(w)
	if len(r.Supersedes) > 0 {
		fmt.Fprintf(w, "  supersedes: %s (reported instead of them on the same exchange)\n", strings.Join(r.Supersedes, ", "))
	}
	var by []string
	for _, o := range all {
		if contains(o.Supersedes, r.ID) {
			by = append(by, o.ID)
		}
	}
	if len(by) > 0 {
		fmt.Fprintf(w, "  superseded by: %s (not reported where that rule fires on the same exchange)\n", strings.Join(by, ", "))
	}
	fmt.Fprintf(w, "  defined in: %s\n\n", r.File())
	if r.Motivation != "" {
		fmt.Fprintf(w, "Why it matters\n  %s\n\n", oneLine(r.Motivation))
	}
	fmt.Fprintf(w, "References\n")
	for _, ref := range r.References {
		fmt.Fprintf(w, "  - %s\n", ref)
	}
	fmt.Fprintln(w)
	if r.When != "" {
		fmt.Fprintf(w, "Applies when\n  %s\n\n", oneLine(r.When))
	}
	fmt.Fprintf(w, "Violation when\n  %s\n\n", oneLine(r.Condition))
	if elided := oneLine(holes.ReplaceAllString(r.Fix, "…")); len(strings.Trim(elided, "… ")) >= 20 {
		fmt.Fprintf(w, "Fix\n  %s\n  (… is filled in from the traffic in each finding)\n", elided)
	} else {
		fmt.Fprintf(w, "Fix (computed from the traffic)\n  %s\n", oneLine(r.Fix))
	}
	if r.Example != "" {
		fmt.Fprintf(w, "\nExample\n  %s\n", strings.ReplaceAll(strings.TrimSpace(r.Example), "\n", "\n  "))
	}
}

var holes = regexp.MustCompile(`(?s)\{\{.*?\}\}`)

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func newRulesLintCmd(io *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "lint DIR...",
		Short: "Check rule files: every error with file:line:col; exit 1 when any",
		Long: `Lint loads and compiles the rules of each directory together with the
built-in packs (so duplicate IDs are caught) and prints every problem: YAML
syntax, unknown or missing fields, invalid severities, parties, packs and kinds,
and CEL errors (unknown fields, type errors, non-boolean conditions). Exit
status 1 when there is a problem.`,
		Example: `  oauthlint rules lint ./my-rules`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			builtinRules, _, err := RuleSource{}.load()
			if err != nil {
				return err
			}
			all := append([]*rules.Rule{}, builtinRules...)
			var issues []rules.Issue
			n := 0
			for _, d := range args {
				rs, err := rules.LoadDir(d)
				var le *rules.LoadError
				switch {
				case errors.As(err, &le):
					issues = append(issues, le.Issues...)
				case err != nil:
					return usageError("%v", err)
				}
				n += len(rs)
				all = rules.Merge(all, rs)
			}
			// Compile even when files have other problems: every error at
			// once, expressions included.
			if _, err := rules.Compile(all); err != nil {
				var le *rules.LoadError
				if !errors.As(err, &le) {
					return err
				}
				issues = append(issues, le.Issues...)
			}
			seen := map[string]bool{}
			var uniq []rules.Issue
			for _, i := range issues {
				if !seen[i.String()] {
					seen[i.String()] = true
					uniq = append(uniq, i)
				}
			}
			issues = uniq
			sort.SliceStable(issues, func(a, b int) bool {
				if issues[a].File != issues[b].File {
					return issues[a].File < issues[b].File
				}
				return issues[a].Line < issues[b].Line
			})
			for _, i := range issues {
				fmt.Fprintln(io.Out, i.String())
			}
			if len(issues) > 0 {
				fmt.Fprintf(io.ErrOut, "oauthlint: %d problem(s) in %s\n", len(issues), strings.Join(args, ", "))
				return errFindings
			}
			fmt.Fprintf(io.Out, "%d rule(s) OK\n", n)
			return nil
		},
	}
}

func newRulesTestCmd(io *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "test DIR...",
		Short: "Run the fixtures of rule packs: every expectation met, nothing unexpected",
		Long: `Test loads the rules of each directory (with the built-in packs), then
analyzes every .har fixture found under the directories and checks the findings
against the expectations written in the fixtures' entry comments
("want: RULE-ID", "want: RULE-ID(low)", "want: RULE-ID(not-available)"). An
entry without a want must produce no finding. The HAR log.comment may set
"mcp-revision: …; packs: …". Exit status 1 when a fixture fails.`,
		Example: `  oauthlint rules test ./my-rules`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, _, err := RuleSource{Dirs: args}.engine()
			if err != nil {
				return err
			}
			var files []string
			for _, d := range args {
				fs, err := rules.FixtureFiles(d)
				if err != nil {
					return usageError("%v", err)
				}
				files = append(files, fs...)
			}
			if len(files) == 0 {
				return usageError("no .har fixtures under %s: add captures with 'want:' comments", strings.Join(args, ", "))
			}
			failed := 0
			for _, f := range files {
				res, err := e.RunFixtureWith(f, rules.RunOptions{ExtraPacks: customPacks(e.Rules())})
				if err != nil {
					failed++
					fmt.Fprintf(io.Out, "FAIL %s: %v\n", f, err)
					continue
				}
				if res.OK() {
					fmt.Fprintf(io.Out, "ok   %s (%d expectation(s))\n", f, res.Wants)
					continue
				}
				failed++
				fmt.Fprintf(io.Out, "FAIL %s\n", f)
				for _, p := range res.Problems {
					fmt.Fprintf(io.Out, "     %s\n", p)
				}
			}
			fmt.Fprintf(io.Out, "%d fixture(s), %d failed\n", len(files), failed)
			if failed > 0 {
				return errFindings
			}
			return nil
		},
	}
}
