package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/report"
	"github.com/oauthlint/oauthlint/rules"
)

// addRuleFlags adds the flags that choose and tune rules.
func addRuleFlags(f *pflag.FlagSet, o *AnalyzeOptions) {
	f.StringArrayVar(&o.RuleDirs, "rules", nil, "also run the rules in this directory (repeatable); their packs are active on every flow")
	f.StringVar(&o.Config, "config", "", "rule configuration file: per-rule enabled: false and severity overrides")
	f.StringVar(&o.Baseline, "baseline", "", "baseline file of accepted findings, each with a reason; matches are left out of the report")
}

// pipeline is what judging needs once the flags are checked: the
// compiled rules, their configuration and the baseline.
type pipeline struct {
	o      *AnalyzeOptions
	failOn rules.Severity
	packs  []string
	// engine is set once compiled is closed; engineErr says why not.
	engine    *rules.Engine
	engineErr error
	compiled  chan struct{}
	cfg       *rules.Config
	baseline  *rules.Baseline
	runOpts   rules.RunOptions
}

// prepare checks the options and loads everything before any input is
// read, so a mistake fails fast. Compiling the built-in rules (a fixed
// half second of CPU, most of a small capture's run) cannot fail on the
// user's input, so it goes on while the inputs are read when background
// is true; custom rules (--rules) are compiled first, their mistakes
// being the user's to fix before anything is read.
func (o *AnalyzeOptions) prepare(background bool) (*pipeline, error) {
	failOn, packs, err := o.validate()
	if err != nil {
		return nil, err
	}
	src := RuleSource{Dirs: o.RuleDirs, Config: o.Config}
	rs, cfg, err := src.load()
	if err != nil {
		return nil, err
	}
	p := &pipeline{o: o, failOn: failOn, packs: packs, cfg: cfg, compiled: make(chan struct{})}
	compile := func() {
		defer close(p.compiled)
		p.engine, p.engineErr = src.compile(rs)
	}
	if background && len(src.Dirs) == 0 {
		go compile()
	} else {
		compile()
		if p.engineErr != nil {
			return nil, p.engineErr
		}
	}
	p.runOpts = rules.RunOptions{Packs: packs}
	if len(packs) == 0 {
		// Custom packs run on every flow when packs are automatic.
		if cp := customPacks(rs); len(cp) > 0 {
			p.runOpts.ExtraPacks = cp
		}
	}
	if o.Baseline != "" {
		b, err := rules.LoadBaseline(o.Baseline)
		if err != nil {
			return nil, usageError("--baseline: %v", err)
		}
		p.baseline = b
	}
	return p, nil
}

// rules waits for the rules to be compiled.
func (p *pipeline) rules() (*rules.Engine, error) {
	<-p.compiled
	return p.engine, p.engineErr
}

// judge runs the rules and applies configuration and baseline.
func (p *pipeline) judge(res *analyze.Result) ([]rules.Finding, []rules.Suppressed, error) {
	e, err := p.rules()
	if err != nil {
		return nil, nil, err
	}
	fs := e.Run(res, p.runOpts)
	fs = p.cfg.Override(fs)
	fs2, sup := p.baseline.Apply(fs)
	return fs2, sup, nil
}

// emit builds the report, prints it and the -o files, and turns findings
// at --fail-on into exit status 1.
func (p *pipeline) emit(res *analyze.Result, findings []rules.Finding, suppressed []rules.Suppressed, inputs []report.Input, start time.Time) error {
	o := p.o
	packNames := p.packs
	if len(packNames) == 0 {
		packNames = []string{"auto"}
	}
	rep := report.Build(res, findings, report.Meta{
		Version: Version(), MCPRevision: o.MCPRevision, Packs: packNames, FailOn: string(failOnName(p.failOn)),
		ShowSecrets: o.ShowSecrets, Rules: len(p.engine.Rules()), Inputs: inputs, Duration: o.Now().Sub(start), RunOptions: p.runOpts,
		Catalog: p.engine.Rules(),
	})
	if len(suppressed) > 0 {
		var ids []string
		for _, s := range suppressed {
			ids = append(ids, s.Rule)
		}
		fmt.Fprintf(o.IO.ErrOut, "oauthlint: %d finding(s) accepted by the baseline %s and left out: %s\n", len(suppressed), o.Baseline, strings.Join(ids, ", "))
	}
	format := o.Format
	if format == "" {
		format = "tsv"
		if o.IO.OutTTY {
			format = "table"
		}
	}
	pr, err := report.New(format, report.Options{Width: o.IO.Width})
	if err != nil {
		return usageError("--format: %v", err)
	}
	if err := pr.Print(o.IO.Out, rep); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	files, err := o.outputs()
	if err != nil {
		return err
	}
	if err := writeOutputs(files, rep, o.ShowSecrets); err != nil {
		return err
	}
	if p.failOn != "" && len(rep.Failing(p.failOn)) > 0 {
		return errFindings
	}
	return nil
}
