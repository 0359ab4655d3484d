// Package live analyzes traffic while it is captured: exchanges arrive one
// by one from the proxy, the flows are rebuilt as they grow, and each
// finding is printed once, as soon as its flow can decide it (the flow got
// its token, or went quiet). At the end the whole capture is analyzed once
// more for the final report.
package live

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/rules"
)

// Options configure a Session.
type Options struct {
	Engine      *rules.Engine
	RunOptions  rules.RunOptions
	MCPRevision string
	// Config and Baseline tune findings as in analyze.
	Config   *rules.Config
	Baseline *rules.Baseline
	// Out receives live lines (stderr); nil disables them.
	Out io.Writer
	// Verbose prints every OAuth/MCP exchange as it completes.
	Verbose bool
	// HAR, when set, receives every exchange as it completes.
	HAR *har.Writer
	// HARSecrets, when set, is the set the HAR writer redacts with: each
	// exchange's credentials are added to it before the exchange is
	// written.
	HARSecrets *capture.SecretSet
	// ShowSecrets prints live lines unredacted.
	ShowSecrets bool
	// Quiet is how long a flow must stay idle before its findings are
	// printed although it did not complete (default 5 s).
	Quiet time.Duration
	// Debounce limits re-analysis while exchanges pour in (default 250 ms).
	Debounce time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// Session accumulates exchanges and reports findings live.
type Session struct {
	opts    Options
	mu      sync.Mutex
	exs     []*capture.Exchange
	printed map[string]bool
	secrets *capture.SecretSet
	timer   *time.Timer
	due     time.Time // when timer fires
	closed  bool
	errs    []error
	lastAdd time.Time
	run     *capture.ClientRun
}

// New starts a session.
func New(opts Options) *Session {
	if opts.Quiet <= 0 {
		opts.Quiet = 5 * time.Second
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 250 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Session{opts: opts, printed: map[string]bool{}, secrets: capture.NewSecretSet()}
}

// Add records a completed exchange (called by the proxy, concurrently).
func (s *Session) Add(ex *capture.Exchange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.exs = append(s.exs, ex)
	s.lastAdd = s.opts.Now()
	if s.opts.HAR != nil {
		if s.opts.HARSecrets != nil {
			analyze.CollectSecrets(s.opts.HARSecrets, ex)
		}
		if err := s.opts.HAR.Add(ex); err != nil {
			s.errs = append(s.errs, err)
		}
	}
	// Analyze soon after new traffic, but at most once per Debounce
	// (a steady stream must not postpone analysis forever).
	s.schedule(s.opts.Debounce)
}

// schedule makes the next analysis happen within d. Callers hold mu.
func (s *Session) schedule(d time.Duration) {
	due := time.Now().Add(d)
	if s.timer != nil {
		if !s.due.After(due) {
			return
		}
		s.timer.Stop()
	}
	s.due = due
	s.timer = time.AfterFunc(d, s.tick)
}

// Exchanges returns how many exchanges were recorded.
func (s *Session) Exchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.exs)
}

// Errors returns problems met while recording (HAR writes).
func (s *Session) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *Session) tick() {
	s.mu.Lock()
	s.timer = nil
	if s.closed {
		s.mu.Unlock()
		return
	}
	exs := append([]*capture.Exchange(nil), s.exs...)
	s.mu.Unlock()
	s.report(exs, false)
	// Flows that stay open are looked at again once they have been quiet.
	s.mu.Lock()
	if !s.closed {
		s.schedule(s.opts.Quiet)
	}
	s.mu.Unlock()
}

// SetClientRun records how the captured client's run ended (before Close):
// the capture then covers the whole run, and its end is the client's.
func (s *Session) SetClientRun(run capture.ClientRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run = &run
}

// Analyze runs the whole pipeline on what was captured so far.
func (s *Session) Analyze() (*analyze.Result, []rules.Finding, []rules.Suppressed) {
	s.mu.Lock()
	exs := append([]*capture.Exchange(nil), s.exs...)
	s.mu.Unlock()
	return s.analyze(exs)
}

func (s *Session) analyze(exs []*capture.Exchange) (*analyze.Result, []rules.Finding, []rules.Suppressed) {
	// Timeline renumbers exchanges; copy them so concurrent readers of
	// the recorded ones are not disturbed.
	cp := make([]*capture.Exchange, len(exs))
	for i, ex := range exs {
		c := *ex
		cp[i] = &c
	}
	s.mu.Lock()
	run := s.run
	s.mu.Unlock()
	res := analyze.Analyze(capture.Timeline(cp), analyze.Options{MCPRevision: s.opts.MCPRevision, ClientRun: run})
	fs := s.opts.Engine.Run(res, s.opts.RunOptions)
	fs = s.opts.Config.Override(fs)
	kept, supp := s.opts.Baseline.Apply(fs)
	return res, kept, supp
}

// report prints the findings of decided flows not printed before.
func (s *Session) report(exs []*capture.Exchange, final bool) {
	if s.opts.Out == nil && !final {
		return
	}
	res, fs, _ := s.analyze(exs)
	now := s.opts.Now()
	decided := map[string]bool{}
	for _, f := range res.Flows {
		last := time.Time{}
		for _, st := range f.Steps() {
			if st.Ex.Start.After(last) {
				last = st.Ex.Start
			}
		}
		decided[f.ID] = final || f.Complete || now.Sub(last) >= s.opts.Quiet
	}
	scrub := res.Secrets.Scrub
	if s.opts.ShowSecrets {
		scrub = func(x string) string { return x }
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Verbose {
		for _, m := range res.Messages {
			key := fmt.Sprintf("x%d", m.HTTP.Exchange().Ref.ProxySeq)
			if m.Kind == analyze.KindOther || s.printed[key] {
				continue
			}
			s.printed[key] = true
			fmt.Fprintf(s.opts.Out, "oauthlint: #%d %-13s %s %s → %d\n", m.HTTP.Exchange().Ref.ProxySeq, m.Kind, m.HTTP.Method, scrub(m.HTTP.URL), m.HTTP.Status)
		}
	}
	for _, f := range fs {
		if f.Outcome != rules.Fail || !decided[f.Flow] {
			continue
		}
		seq := int64(0)
		if f.Anchor > 0 && f.Anchor <= len(res.Exchanges) {
			seq = res.Exchanges[f.Anchor-1].Ref.ProxySeq
		}
		key := fmt.Sprintf("%s|%d|%s", f.Rule, seq, f.Fingerprint)
		if s.printed[key] {
			continue
		}
		s.printed[key] = true
		if s.opts.Out != nil {
			fmt.Fprintf(s.opts.Out, "oauthlint: %s %s (%s) at proxy#%d: %s\n", strings.ToUpper(string(f.Severity)), f.Rule, f.Party, seq, scrub(f.Message))
		}
	}
}

// Close stops live reporting and prints what was not printed yet.
func (s *Session) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	exs := append([]*capture.Exchange(nil), s.exs...)
	s.mu.Unlock()
	s.report(exs, true)
}
