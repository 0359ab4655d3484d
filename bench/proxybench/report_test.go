package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// report runs runReport on results (JSON lines) and returns what it
// printed.
func report(t *testing.T, results string) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "results.jsonl")
	if err := os.WriteFile(in, []byte(results), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = out
	err = runReport([]string{in})
	os.Stdout = stdout
	out.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func row(t *testing.T, out, proxy string) []string {
	t.Helper()
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "| "+proxy+" |") {
			cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			return cells
		}
	}
	t.Fatalf("no row for %s in:\n%s", proxy, out)
	return nil
}

// A run at a fixed rate counts only in its own CPU column and target;
// the back-to-back figures and ratios ignore it, and a proxy that fell
// short of the rate gets no CPU figure there.
func TestReportFixedRate(t *testing.T) {
	out := report(t, `{"proxy":"goproxy","mode":"throughput","rep":1,"conns":16,"rate":2000,"requests":16000,"rps":1999,"cpu_us_per_req":250}
{"proxy":"goproxy","mode":"throughput","rep":1,"conns":16,"requests":40000,"rps":5000,"cpu_us_per_req":140}
{"proxy":"oauthlint","mode":"throughput","rep":1,"conns":16,"rate":2000,"requests":16000,"rps":2000,"cpu_us_per_req":350}
{"proxy":"oauthlint","mode":"throughput","rep":1,"conns":16,"requests":30000,"rps":3500,"cpu_us_per_req":260}
{"proxy":"mitmdump","mode":"throughput","rep":1,"conns":16,"rate":2000,"requests":5000,"rps":690,"cpu_us_per_req":1400}
{"proxy":"mitmdump","mode":"throughput","rep":1,"conns":16,"requests":5000,"rps":700,"cpu_us_per_req":1400}
`)
	if !strings.Contains(out, "proxy CPU µs/req at 2000 req/s") {
		t.Errorf("no fixed-rate column:\n%s", out)
	}
	g, o, m := row(t, out, "goproxy"), row(t, out, "oauthlint"), row(t, out, "mitmdump")
	// Columns: proxy, req/s, p50, p99, paced, latency, newconns, cached, RSS, CPU, CPU at rate, ...
	if g[1] != "5000" || o[1] != "3500" {
		t.Errorf("req/s: goproxy %q, oauthlint %q; want the back-to-back 5000 and 3500", g[1], o[1])
	}
	if g[9] != "140" || g[10] != "250" || o[9] != "260" || o[10] != "350" {
		t.Errorf("CPU: goproxy %q/%q, oauthlint %q/%q; want 140/250 and 260/350", g[9], g[10], o[9], o[10])
	}
	if !strings.HasPrefix(m[10], "– (kept up with 690") {
		t.Errorf("mitmdump at rate: %q, want no figure and the rate it kept up with", m[10])
	}
	if !strings.Contains(out, "throughput vs goproxy ≥ 0.80×: 0.70 — NOT MET") {
		t.Errorf("throughput ratio should be 3500/5000:\n%s", out)
	}
	if !strings.Contains(out, "CPU per request at 2000 req/s, goproxy's ÷ oauthlint's ≥ 0.80: 0.71 — NOT MET") {
		t.Errorf("fixed-rate CPU ratio should be 250/350:\n%s", out)
	}
}
