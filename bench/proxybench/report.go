package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// runReport prints the results of bench/proxy.sh as a Markdown table, each
// figure as the median of the repeats with their range, then the issue's
// targets for oauthlint.
func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	sut := fs.String("sut", "oauthlint", "the proxy the targets are about")
	base := fs.String("baseline", "goproxy", "the bare MITM baseline")
	cmp := fs.String("compare", "mitmdump", "the other comparison")
	fs.Parse(args)
	if fs.NArg() != 1 {
		return fmt.Errorf("report: want one results file")
	}
	fh, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer fh.Close()
	// A run where more than 1% of the requests failed, or none completed,
	// says nothing about speed: it is listed below the table and left out
	// of the figures.
	var rs, failed []result
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var r result
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Mode == "" {
			continue
		}
		if r.Errors > 0 && r.Errors*100 > r.Requests+r.Errors || (r.Mode == "throughput" || r.Mode == "newconns") && r.Requests == 0 {
			failed = append(failed, r)
			continue
		}
		rs = append(rs, r)
	}
	var proxies []string
	for _, r := range rs {
		if !slices.Contains(proxies, r.Proxy) {
			proxies = append(proxies, r.Proxy)
		}
	}
	// vals collects one figure per repeat.
	vals := func(proxy, mode string, pick func(result) (float64, bool)) []float64 {
		var out []float64
		for _, r := range rs {
			if r.Proxy == proxy && r.Mode == mode {
				if v, ok := pick(r); ok {
					out = append(out, v)
				}
			}
		}
		return out
	}
	any := func(f func(result) float64) func(result) (float64, bool) {
		return func(r result) (float64, bool) { return f(r), true }
	}
	cold := func(f func(result) float64) func(result) (float64, bool) {
		return func(r result) (float64, bool) { return f(r), r.Hosts == 0 }
	}
	warm := func(f func(result) float64) func(result) (float64, bool) {
		return func(r result) (float64, bool) { return f(r), r.Hosts > 0 }
	}
	// Throughput runs at a fixed rate (-rate) only measure CPU time: the
	// back-to-back figures leave them out, and a run that fell short of
	// its rate (the proxy could not keep up) says nothing about either.
	isBackToBack := func(r result) bool { return r.Rate == 0 }
	backToBack := func(f func(result) (float64, bool)) func(result) (float64, bool) {
		return func(r result) (float64, bool) {
			v, ok := f(r)
			return v, ok && isBackToBack(r)
		}
	}
	sustained := func(r result) bool { return r.Rate > 0 && r.RPS >= 0.95*r.Rate }
	cpuAtRate := func(r result) (float64, bool) { return r.CPUus, r.CPUus > 0 && sustained(r) }
	rps := func(r result) float64 { return r.RPS }
	p50 := func(r result) float64 { return r.P50ms }
	p99 := func(r result) float64 { return r.P99ms }
	added := func(r result) (float64, bool) { return r.AddedP50ms, r.GapMS == 0 }
	addedPaced := func(r result) (float64, bool) { return r.AddedP50ms, r.GapMS > 0 }
	rss := func(r result) float64 { return float64(r.RSSKB) / 1024 }
	cpu := func(r result) (float64, bool) { return r.CPUus, r.CPUus > 0 }
	cpuCold := func(r result) (float64, bool) { return r.CPUus, r.CPUus > 0 && r.Hosts == 0 }

	rate := 0.0
	for _, r := range rs {
		if r.Rate > 0 {
			rate = r.Rate
		}
	}
	fmt.Printf("| proxy | req/s | p50 ms | p99 ms | added p50 ms, unloaded (paced) | added p50 ms, back to back | new TLS conns/s, new host each | new TLS conns/s, cached hosts | peak RSS MiB | proxy CPU µs/req | proxy CPU µs/req at %.0f req/s | proxy CPU µs/new conn (new host) | stop s |\n", rate)
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, p := range proxies {
		atRate := cell(vals(p, "throughput", cpuAtRate), 0)
		if short := vals(p, "throughput", func(r result) (float64, bool) { return r.RPS, r.Rate > 0 && !sustained(r) }); len(short) > 0 && atRate == "–" {
			atRate = "– (kept up with " + cell(short, 0) + " req/s)"
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p,
			cell(vals(p, "throughput", backToBack(any(rps))), 0),
			cell(vals(p, "throughput", backToBack(any(p50))), 2),
			cell(vals(p, "throughput", backToBack(any(p99))), 2),
			cell(vals(p, "latency", addedPaced), 3),
			cell(vals(p, "latency", added), 3),
			cell(vals(p, "newconns", cold(rps)), 0),
			cell(vals(p, "newconns", warm(rps)), 0),
			cell(vals(p, "rss", any(rss)), 0),
			cell(vals(p, "throughput", backToBack(cpu)), 0),
			atRate,
			cell(vals(p, "newconns", cpuCold), 0),
			cell(vals(p, "rss", any(func(r result) float64 { return r.Seconds })), 1))
	}
	fmt.Println()
	fmt.Println("Each cell: median of the repeats [min–max]; – = not run. stop s: from SIGINT to exit (oauthlint writes its final report then). At a fixed rate every proxy does the same work on a fresh process of its own; a proxy that could not keep up with the rate has no figure there.")
	errors := 0
	for _, r := range rs {
		if r.Errors > 0 {
			errors++
			fmt.Printf("\nerrors: %s %s rep %d: %d of %d (first: %s)", r.Proxy, r.Mode, r.Rep, r.Errors, r.Requests+r.Errors, r.FirstErr)
		}
	}
	for _, r := range failed {
		errors++
		fmt.Printf("\nleft out (over 1%% errors, or none completed): %s %s rep %d: %d of %d failed (first: %s)", r.Proxy, r.Mode, r.Rep, r.Errors, r.Requests+r.Errors, r.FirstErr)
	}
	if errors > 0 {
		fmt.Println()
	}

	// Targets, from ratios taken within each repeat (the proxies of one
	// repeat ran back to back under about the same machine load).
	// pairs compares proxy a's throughput runs that pick keeps with b's of
	// the same repeat, one value per pair that val accepts.
	pairs := func(a, b string, pick func(result) bool, val func(ra, rb result) (float64, bool)) []float64 {
		var out []float64
		for _, ra := range rs {
			if ra.Proxy != a || ra.Mode != "throughput" || !pick(ra) {
				continue
			}
			for _, rb := range rs {
				if rb.Proxy == b && rb.Mode == "throughput" && rb.Rep == ra.Rep && pick(rb) {
					if v, ok := val(ra, rb); ok {
						out = append(out, v)
					}
				}
			}
		}
		return out
	}
	ratio := func(a, b string) []float64 {
		return pairs(a, b, isBackToBack, func(ra, rb result) (float64, bool) { return ra.RPS / rb.RPS, rb.RPS > 0 })
	}
	fmt.Println()
	fmt.Printf("Targets for %s (median [min–max] over repeats):\n\n", *sut)
	check := func(name string, v []float64, ok func(float64) bool, prec int) {
		if len(v) == 0 {
			fmt.Printf("- %s: not measured\n", name)
			return
		}
		verdict := "MET"
		if !ok(median(v)) {
			verdict = "NOT MET"
		}
		fmt.Printf("- %s: %s — %s\n", name, cell(v, prec), verdict)
	}
	check(fmt.Sprintf("throughput vs %s ≥ 0.80×", *base), ratio(*sut, *base), func(x float64) bool { return x >= .8 }, 2)
	check(fmt.Sprintf("throughput vs %s ≥ 10×", *cmp), ratio(*sut, *cmp), func(x float64) bool { return x >= 10 }, 1)
	// The same comparisons in CPU per request: what the throughput ratio
	// would be if the proxy alone were CPU-bound.
	cpuRatio := func(a, b string, atRate bool) []float64 {
		pick := isBackToBack
		if atRate {
			pick = sustained
		}
		return pairs(a, b, pick, func(ra, rb result) (float64, bool) { return rb.CPUus / ra.CPUus, ra.CPUus > 0 && rb.CPUus > 0 })
	}
	check(fmt.Sprintf("CPU per request, %s's ÷ %s's ≥ 0.80", *base, *sut), cpuRatio(*sut, *base, false), func(x float64) bool { return x >= .8 }, 2)
	check(fmt.Sprintf("CPU per request, %s's ÷ %s's ≥ 10", *cmp, *sut), cpuRatio(*sut, *cmp, false), func(x float64) bool { return x >= 10 }, 1)
	if rate > 0 {
		check(fmt.Sprintf("CPU per request at %.0f req/s, %s's ÷ %s's ≥ 0.80", rate, *base, *sut), cpuRatio(*sut, *base, true), func(x float64) bool { return x >= .8 }, 2)
	}
	check("added p50 latency, unloaded (paced requests) ≤ 1 ms", vals(*sut, "latency", addedPaced), func(x float64) bool { return x <= 1 }, 3)
	check("added p50 latency, back to back ≤ 1 ms", vals(*sut, "latency", added), func(x float64) bool { return x <= 1 }, 3)
	check("new TLS connections/s, a new host each ≥ 300", vals(*sut, "newconns", cold(rps)), func(x float64) bool { return x >= 300 }, 0)
	check("new TLS connections/s, cached hosts ≥ 300", vals(*sut, "newconns", warm(rps)), func(x float64) bool { return x >= 300 }, 0)
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func cell(v []float64, prec int) string {
	if len(v) == 0 {
		return "–"
	}
	f := func(x float64) string { return fmt.Sprintf("%.*f", prec, x) }
	if len(v) == 1 {
		return f(v[0])
	}
	lo, hi := slices.Min(v), slices.Max(v)
	return strings.TrimSpace(fmt.Sprintf("%s [%s–%s]", f(median(v)), f(lo), f(hi)))
}
