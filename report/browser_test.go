package report

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/oauthlint/oauthlint/rules"
)

// The HTML report in a real headless Chromium (Debian package chromium;
// scripts/ensure-chromium.sh installs it). The test fails when Chromium
// is missing, so CI cannot pass without running it; set
// OAUTHLINT_SKIP_BROWSER=1 to skip it on a machine without Chromium.
// OAUTHLINT_CHROMIUM names the binary when it is not on the usual paths;
// OAUTHLINT_SCREENSHOT_DIR is where the screenshots go (default: a
// directory under the system temp dir; the test logs the paths).

func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("OAUTHLINT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	if os.Getenv("OAUTHLINT_SKIP_BROWSER") != "" {
		t.Skip("Chromium not found and OAUTHLINT_SKIP_BROWSER is set")
	}
	t.Fatal("Chromium not found: run scripts/ensure-chromium.sh (apt-get install chromium), set OAUTHLINT_CHROMIUM to the binary, " +
		"or set OAUTHLINT_SKIP_BROWSER=1 to skip the browser test")
	return ""
}

// browser starts one headless Chromium for the test, with the flags this
// machine needs (no sandbox as root, no GPU, and no background
// networking: its connections are refused here and would log errors).
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := chromiumPath(t)
	if os.Getenv("OAUTHLINT_SKIP_BROWSER") != "" {
		t.Skip("OAUTHLINT_SKIP_BROWSER is set")
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	// Start the browser now, so a start failure is reported as such. (The
	// context of the first run owns the browser: no deadline on it.)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", bin, err)
	}
	return bctx
}

// pageEvents collects what the page reports: console errors and
// warnings, uncaught exceptions, browser log entries (CSP violations,
// failed loads) and every network request.
type pageEvents struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (p *pageEvents) listen(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Listen(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p.problems = append(p.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			p.problems = append(p.problems, fmt.Sprintf("uncaught exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, msg))
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				p.problems = append(p.problems, fmt.Sprintf("browser log %s (%s): %s", e.Entry.Level, e.Entry.Source, e.Entry.Text))
			}
		case *network.EventRequestWillBeSent:
			p.requests = append(p.requests, e.Request.URL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (p *pageEvents) snapshot() (problems, requests []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...), append([]string(nil), p.requests...)
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// visible counts the elements matching a selector that are rendered
// (hidden ones and those inside hidden ancestors have no client rects;
// this works for SVG elements too).
func visible(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return eval[int](t, ctx, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).filter(e => e.getClientRects().length > 0).length`, sel))
}

// badgesAgree checks that every badge on the diagrams shows the number
// of its findings whose cards are shown, and is hidden when none is.
func badgesAgree(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	bad := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('svg a.marker')).flatMap(m => {
		const ids = m.getAttribute('data-members').split(' ');
		const shown = ids.filter(id => { const c = document.getElementById(id); return c && c.getClientRects().length > 0; }).length;
		const rendered = m.getClientRects().length > 0;
		const label = m.querySelector('text').textContent;
		if (shown === 0) { return rendered ? [ids.join(' ') + ': shown with no finding shown'] : []; }
		const want = shown > 1 ? String(shown) : '!';
		return rendered && label === want ? [] : [ids.join(' ') + ': rendered=' + rendered + ' label=' + label + ' want ' + want];
	})`)
	for _, b := range bad {
		t.Errorf("%s: badge %s", when, b)
	}
}

func screenshotPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("OAUTHLINT_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "oauthlint-report-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name+".png")
}

func TestHTMLInChromium(t *testing.T) {
	ctx := browser(t)
	for _, tc := range []struct {
		name string
		r    *Report
	}{
		{"conformance", pipeline(t, false, "testdata/conformance.har")},
		{"secrets", pipeline(t, false, secretsHAR)},
		{"synthetic", synthetic()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkInBrowser(t, ctx, tc.name, tc.r)
		})
	}
}

func checkInBrowser(t *testing.T, parent context.Context, name string, r *Report) {
	// A new tab per report, with its own deadline (generous: CI machines
	// are small and may be busy).
	tab, cancel := chromedp.NewContext(parent)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(tab, 3*time.Minute)
	defer cancelTimeout()
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, render(t, "html", r), 0o644); err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: file}).String()
	var ev pageEvents
	ev.listen(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(pageURL), chromedp.WaitReady("#findings")); err != nil {
		t.Fatalf("loading %s: %v", pageURL, err)
	}

	// The page loaded, ran its script and loaded nothing else.
	if got := eval[string](t, ctx, `document.title`); got != "oauthlint report" {
		t.Errorf("title %q", got)
	}
	problems, requests := ev.snapshot()
	for _, p := range problems {
		t.Errorf("page reported: %s", p)
	}
	for _, u := range requests {
		if u != pageURL {
			t.Errorf("the page requested %s (it must be self-contained)", u)
		}
	}

	// One arrow per exchange in each flow's diagram, drawn with a size;
	// one dashed leg per missing leg.
	type flowCount struct {
		ID      string `json:"id"`
		Arrows  int    `json:"arrows"`
		Drawn   int    `json:"drawn"`
		Missing int    `json:"missing"`
	}
	counts := eval[[]flowCount](t, ctx, `Array.from(document.querySelectorAll('article.flow')).map(a => ({
		id: a.dataset.flow,
		arrows: a.querySelectorAll('svg.sequence g.arrow').length,
		drawn: Array.from(a.querySelectorAll('svg.sequence g.arrow line.arrow-line')).filter(l => l.getBoundingClientRect().width > 20).length,
		missing: a.querySelectorAll('svg.sequence g.missing-leg').length,
	}))`)
	if len(counts) != len(r.Flows) {
		t.Fatalf("%d flow diagrams in the page, want %d", len(counts), len(r.Flows))
	}
	for i, fl := range r.Flows {
		exchanges := map[int]bool{}
		for _, s := range fl.Steps {
			exchanges[s.Exchange] = true
		}
		c := counts[i]
		if c.ID != fl.ID || c.Arrows != len(exchanges) || c.Drawn != len(exchanges) || c.Missing != len(fl.Missing) {
			t.Errorf("flow %s: diagram %+v, want %d arrows drawn and %d missing legs", fl.ID, c, len(exchanges), len(fl.Missing))
		}
	}

	// Screenshot of the whole report, before any filtering.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := screenshotPath(t, "report-"+name)
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the %s report: %s (%d bytes)", name, shot, len(png))

	if len(r.Findings) == 0 {
		return
	}
	total := len(r.Findings)
	count := func(pred func(rules.Finding) bool) int {
		n := 0
		for _, f := range r.Findings {
			if pred(f) {
				n++
			}
		}
		return n
	}
	if got := visible(t, ctx, "article.finding"); got != total {
		t.Fatalf("%d finding cards shown before filtering, want %d", got, total)
	}
	markersAll := visible(t, ctx, "svg a.marker")
	if markersAll == 0 {
		t.Fatalf("no finding badge rendered on the diagrams")
	}
	badgesAgree(t, ctx, "before filtering")

	// Filter by severity: untick the most frequent one with a real click.
	sev := r.Findings[0].Severity
	sel := fmt.Sprintf(`#filters input[name="severity"][value=%q]`, string(sev))
	if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
	want := total - count(func(f rules.Finding) bool { return f.Severity == sev })
	if got := visible(t, ctx, "article.finding"); got != want {
		t.Errorf("severity %s unticked: %d cards shown, want %d", sev, got, want)
	}
	if got := visible(t, ctx, fmt.Sprintf(`svg a.marker[data-severity=%q]`, string(sev))); got != 0 {
		t.Errorf("severity %s unticked: %d of its badges still shown", sev, got)
	}
	if got := eval[string](t, ctx, `document.getElementById('filter-count').textContent`); got != fmt.Sprintf("%d of %d findings shown", want, total) {
		t.Errorf("counter says %q", got)
	}
	badgesAgree(t, ctx, "severity "+string(sev)+" unticked")

	// Show all again with the reset button.
	if err := chromedp.Do(ctx, chromedp.Click(`#filters button[type="reset"]`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelectorAll('article.finding:not(.filtered-out)').length === %d`, total), chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("reset did not show every finding again: %v", err)
	}
	if got := visible(t, ctx, "svg a.marker"); got != markersAll {
		t.Errorf("after reset %d badges shown, want %d", got, markersAll)
	}

	// Filter by party: untick the client.
	party := rules.Client
	if err := chromedp.Do(ctx, chromedp.Click(fmt.Sprintf(`#filters input[name="party"][value=%q]`, string(party)))); err == nil {
		want := total - count(func(f rules.Finding) bool { return f.Party == party })
		if got := visible(t, ctx, "article.finding"); got != want {
			t.Errorf("party %s unticked: %d cards shown, want %d", party, got, want)
		}
		if got := visible(t, ctx, "#party-client"); got != 0 && want < total && count(func(f rules.Finding) bool { return f.Party == party && f.Outcome == rules.Fail }) > 0 {
			t.Errorf("the client group stays visible with no client finding shown")
		}
		badgesAgree(t, ctx, "party client unticked")
		if err := chromedp.Do(ctx, chromedp.Click(`#filters button[type="reset"]`)); err != nil {
			t.Fatal(err)
		}
	}

	// Filter by rule: pick the last rule in the list.
	rule := r.Findings[len(r.Findings)-1].Rule
	eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById('filter-rule'); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, rule))
	want = count(func(f rules.Finding) bool { return f.Rule == rule })
	if got := visible(t, ctx, "article.finding"); got != want {
		t.Errorf("rule %s chosen: %d cards shown, want %d", rule, got, want)
	}
	if got := eval[int](t, ctx, fmt.Sprintf(`Array.from(document.querySelectorAll('article.finding')).filter(e => e.getClientRects().length > 0 && e.dataset.rule !== %q).length`, rule)); got != 0 {
		t.Errorf("rule %s chosen: %d cards of other rules shown", rule, got)
	}
	badgesAgree(t, ctx, "rule "+rule+" chosen")

	// Nothing went wrong while filtering either.
	problems, _ = ev.snapshot()
	for _, p := range problems {
		t.Errorf("page reported: %s", p)
	}
}
