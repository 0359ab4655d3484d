// Package live analyzes traffic while it is captured: exchanges arrive one
// by one from the proxy, the flows are rebuilt as they grow, and each
// finding is printed once, as soon as its flow can decide it (the flow got
// its token, or went quiet). At the end the whole capture is analyzed once
// more for the final report.
//
// Nothing slow happens on the proxy's connection goroutines: Add appends
// the exchange and returns; the HAR file is written by a goroutine of its
// own, in arrival order, and live analyses run one at a time on a timer,
// spaced so that they take at most about a tenth of one CPU however
// large the capture grows (an analysis of the whole capture costs time in
// proportion to its size).
package live

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
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
	// Debounce limits re-analysis while exchanges pour in (default 250 ms);
	// the wait after an analysis is also at least costFactor times what it
	// took.
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
	// views keeps the exchanges' analysis views between live analyses
	// (each analyzes the whole capture again).
	views   *analyze.ViewCache
	timer   *time.Timer
	due     time.Time // when timer fires
	closed  bool
	errs    []error
	lastAdd time.Time
	run     *capture.ClientRun
	// cost is the CPU time the last live analysis took (see
	// analysisCost): the next one waits at least costFactor times that.
	cost time.Duration
	// analyzing is set while a live analysis runs: one at a time (a timer
	// that fires meanwhile sets again instead, and the running analysis
	// schedules the next when it ends).
	analyzing, again bool
	// judged holds the content (flowContent) of each flow of the last
	// live analysis that was judged with that content: a flow that grew
	// leaves its former content behind, so the set stays as large as the
	// capture's flows, not as their versions.
	judged map[string]bool
	// final is Close's analysis of the whole capture, which Analyze
	// returns rather than analyzing the same capture again.
	final *analysis

	// The HAR queue: exchanges waiting for the writer goroutine.
	harMu     sync.Mutex
	harCond   sync.Cond
	harQueue  []*capture.Exchange
	harClosed bool
	harDone   chan struct{}
}

// costFactor spaces live analyses: after one that cost d of CPU time, the
// next starts no sooner than costFactor*d later, so that live analysis
// uses at most about 1/(costFactor+1) of one CPU, leaving the rest to the
// traffic.
const costFactor = 10

// The HAR writer lets exchanges gather after the first one arrives, for
// harCoalesce, or harCostFactor times what writing the last batch took
// (the redaction set is updated once per batch, at a cost that grows with
// the secrets seen), at most harMaxCoalesce: it wakes at most 50 times a
// second, and an entry reaches the file that much later at most (what a
// kill -9 can lose).
const (
	harCoalesce    = 20 * time.Millisecond
	harCostFactor  = 4
	harMaxCoalesce = 500 * time.Millisecond
)

// analysisCost is what an analysis that took wall time and ran while the
// process's CPU time went from cpu0 to cpu1 cost: the process's CPU time
// meanwhile (an overestimate when the proxy was busy too, which only makes
// live analysis yield more to the traffic), at most wall times GOMAXPROCS
// (the analysis runs rules in parallel) and at least wall.
func analysisCost(wall, cpu0, cpu1 time.Duration) time.Duration {
	bound := wall * time.Duration(runtime.GOMAXPROCS(0))
	if cpu0 < 0 || cpu1 < 0 {
		return bound
	}
	return min(max(cpu1-cpu0, wall), bound)
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
	s := &Session{opts: opts, printed: map[string]bool{}, judged: map[string]bool{}, secrets: capture.NewSecretSet(), views: analyze.NewViewCache()}
	if opts.HAR != nil {
		s.harCond.L = &s.harMu
		s.harDone = make(chan struct{})
		go s.writeHAR()
	}
	return s
}

// Add records a completed exchange (called by the proxy, concurrently). It
// returns at once: the exchange is written to the HAR file, in the order
// of the calls, by the session's writer goroutine.
func (s *Session) Add(ex *capture.Exchange) {
	// The analyses keep the exchange without the bodies they never read
	// (a browser's scripts and images); the HAR file gets all of it.
	// Deciding looks through the bodies: not while holding mu, which
	// every other connection's Add waits for.
	kept := analyze.WithoutUnreadBodies(ex)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.exs = append(s.exs, kept)
	s.lastAdd = s.opts.Now()
	// Analyze soon after new traffic, but at most once per Debounce
	// (a steady stream must not postpone analysis forever).
	s.schedule(s.opts.Debounce)
	if s.opts.HAR != nil {
		// Under mu, so that the file's order is the capture's.
		s.harMu.Lock()
		if !s.harClosed {
			s.harQueue = append(s.harQueue, ex)
			s.harCond.Signal()
		}
		s.harMu.Unlock()
	}
	s.mu.Unlock()
}

// writeHAR writes the queued exchanges to the HAR file until the session
// closes and the queue is empty.
func (s *Session) writeHAR() {
	defer close(s.harDone)
	var cost time.Duration // of the last batch
	for {
		s.harMu.Lock()
		for len(s.harQueue) == 0 && !s.harClosed {
			s.harCond.Wait()
		}
		if !s.harClosed {
			// Let a batch gather.
			s.harMu.Unlock()
			time.Sleep(min(max(harCoalesce, harCostFactor*cost), harMaxCoalesce))
			s.harMu.Lock()
		}
		batch := s.harQueue
		s.harQueue = nil
		closed := s.harClosed
		s.harMu.Unlock()
		t0 := time.Now()
		// The credentials of the whole batch first: the redaction set
		// then changes once per batch, not before each entry (the HAR
		// writer rebuilds its replacer after each change), and an entry
		// is also scrubbed of a secret that only a later one of the batch
		// reveals.
		if s.opts.HARSecrets != nil {
			for _, ex := range batch {
				analyze.CollectSecrets(s.opts.HARSecrets, ex)
			}
		}
		if err := s.opts.HAR.AddAll(batch); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		}
		cost = time.Since(t0)
		if closed && len(batch) == 0 {
			return
		}
	}
}

// flushHAR waits until every exchange added so far is in the HAR file and
// stops the writer.
func (s *Session) flushHAR() {
	if s.opts.HAR == nil {
		return
	}
	s.harMu.Lock()
	s.harClosed = true
	s.harCond.Signal()
	s.harMu.Unlock()
	<-s.harDone
}

// schedule makes the next analysis happen within d, or costFactor times
// the last analysis's cost if that is longer. Callers hold mu.
func (s *Session) schedule(d time.Duration) {
	if s.analyzing {
		// The running analysis schedules the next one when it ends.
		s.again = true
		return
	}
	d = max(d, costFactor*s.cost)
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
	if s.analyzing {
		s.again = true
		s.mu.Unlock()
		return
	}
	s.analyzing, s.again = true, false
	n := len(s.exs)
	exs := append([]*capture.Exchange(nil), s.exs...)
	s.mu.Unlock()
	t0, cpu0 := time.Now(), processCPU()
	s.report(exs, false)
	cost := analysisCost(time.Since(t0), cpu0, processCPU())
	s.mu.Lock()
	s.analyzing = false
	s.cost = cost
	if !s.closed {
		if s.again || len(s.exs) > n {
			// Traffic came in meanwhile.
			s.schedule(s.opts.Debounce)
		} else {
			// Flows that stay open are looked at again once they have
			// been quiet.
			s.schedule(s.opts.Quiet)
		}
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

// analysis is one run of the pipeline: on n exchanges, with run as the
// client's run.
type analysis struct {
	res  *analyze.Result
	fs   []rules.Finding
	supp []rules.Suppressed
	n    int
	run  *capture.ClientRun
}

// Analyze runs the whole pipeline on what was captured so far (after
// Close, the analysis Close made, unless the client's run was set since).
func (s *Session) Analyze() (*analyze.Result, []rules.Finding, []rules.Suppressed) {
	s.mu.Lock()
	if f := s.final; f != nil && f.n == len(s.exs) && f.run == s.run {
		s.mu.Unlock()
		return f.res, f.fs, f.supp
	}
	exs := append([]*capture.Exchange(nil), s.exs...)
	s.mu.Unlock()
	a := s.analyze(exs)
	return a.res, a.fs, a.supp
}

// analyze runs the whole pipeline on exs, the rules on every flow.
func (s *Session) analyze(exs []*capture.Exchange) *analysis {
	res, run := s.classify(exs)
	return s.judge(res, run, len(exs), nil)
}

// classify analyzes exs (classification and flows, no rules) and
// returns the analysis with the client run it was made with.
func (s *Session) classify(exs []*capture.Exchange) (*analyze.Result, *capture.ClientRun) {
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
	return analyze.Analyze(capture.Timeline(cp), analyze.Options{MCPRevision: s.opts.MCPRevision, ClientRun: run, Views: s.views}), run
}

// judge runs the rules on the flows pick accepts (nil: all, see
// rules.RunOptions.Judge) of an analysis of n exchanges.
func (s *Session) judge(res *analyze.Result, run *capture.ClientRun, n int, pick func(*analyze.Flow) bool) *analysis {
	ro := s.opts.RunOptions
	ro.Judge = pick
	fs := s.opts.Engine.Run(res, ro)
	fs = s.opts.Config.Override(fs)
	kept, supp := s.opts.Baseline.Apply(fs)
	return &analysis{res: res, fs: kept, supp: supp, n: n, run: run}
}

// flowContent identifies what a flow held when it was judged: the proxy
// sequence numbers of its exchanges, and whether it had completed. A
// live analysis judges a decided flow again only when this changed.
func flowContent(f *analyze.Flow) string {
	var b []byte
	if f.Complete {
		b = append(b, 'c')
	}
	for _, st := range f.Steps() {
		b = strconv.AppendInt(append(b, ' '), st.Ex.Ref.ProxySeq, 10)
	}
	return string(b)
}

// report prints the findings of decided flows not printed before and
// returns the analysis (nil if there was none to make). A live (not
// final) analysis judges only the flows that are decided and changed
// since they were last judged: rules cost most of an analysis, and a
// capture under load holds thousands of flows that no longer change.
// Close's final analysis judges every flow.
func (s *Session) report(exs []*capture.Exchange, final bool) *analysis {
	if s.opts.Out == nil && !final {
		return nil
	}
	res, run := s.classify(exs)
	now := s.opts.Now()
	decided := map[string]bool{}
	for _, f := range res.Flows {
		decided[f.ID] = final || s.isDecided(f, now)
	}
	var pick func(*analyze.Flow) bool
	var judged map[string]bool
	if !final {
		// Live analyses run one at a time (analyzing), so judged needs
		// no lock; the final one does not touch it.
		judged = make(map[string]bool, len(s.judged))
		pick = func(f *analyze.Flow) bool {
			if !decided[f.ID] {
				return false
			}
			k := flowContent(f)
			judged[k] = true
			return !s.judged[k]
		}
	}
	a := s.judge(res, run, len(exs), pick)
	if !final {
		s.judged = judged
	}
	fs := a.fs
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
	return a
}

// Close stops live reporting, finishes the HAR writes (the caller closes
// the HAR writer after) and prints what was not printed yet.
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
	s.flushHAR()
	a := s.report(exs, true)
	s.mu.Lock()
	s.final = a
	s.mu.Unlock()
}

// isDecided says whether a flow's findings can be printed: it completed,
// or it has been quiet for opts.Quiet.
func (s *Session) isDecided(f *analyze.Flow, now time.Time) bool {
	if f.Complete {
		return true
	}
	last := time.Time{}
	for _, st := range f.Steps() {
		if st.Ex.Start.After(last) {
			last = st.Ex.Start
		}
	}
	return now.Sub(last) >= s.opts.Quiet
}
