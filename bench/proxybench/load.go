package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is one load run, written as one JSON line.
type result struct {
	Proxy    string  `json:"proxy"`
	Mode     string  `json:"mode"` // throughput | latency | newconns | rss
	Rep      int     `json:"rep"`
	Conns    int     `json:"conns,omitempty"`
	Seconds  float64 `json:"seconds,omitempty"`
	Requests int64   `json:"requests,omitempty"`
	Errors   int64   `json:"errors,omitempty"`
	FirstErr string  `json:"first_error,omitempty"`
	RPS      float64 `json:"rps,omitempty"` // requests (throughput) or connections (newconns) per second
	P50ms    float64 `json:"p50_ms,omitempty"`
	P99ms    float64 `json:"p99_ms,omitempty"`
	// latency mode: the same sequence direct and through the proxy, in
	// alternating blocks.
	DirectP50ms float64 `json:"direct_p50_ms,omitempty"`
	DirectP99ms float64 `json:"direct_p99_ms,omitempty"`
	AddedP50ms  float64 `json:"added_p50_ms,omitempty"`
	// GapMS is the pause between two requests of the latency mode (0:
	// back to back).
	GapMS float64 `json:"gap_ms,omitempty"`
	// Rate is the pace of a throughput run's requests per second (0:
	// back to back).
	Rate float64 `json:"rate,omitempty"`
	// newconns mode: hosts 0 = a new host per connection (no certificate
	// cache hit), else connections cycle through that many hosts.
	Hosts int `json:"hosts,omitempty"`
	// CPUus is the CPU time (user + system) the proxy process (-pid)
	// spent per request (throughput) or connection (newconns) while
	// measured: a figure less at the mercy of a shared machine's load
	// than rates are.
	CPUus  float64 `json:"cpu_us_per_req,omitempty"`
	RSSKB  int64   `json:"rss_kb,omitempty"`
	Load   string  `json:"loadavg,omitempty"`
	Config string  `json:"config,omitempty"`
}

type loadFlags struct {
	mode, label, proxy, proxyCA, upstream, upstreamCA, out string
	conns, rep, hostBase, hosts, pid                       int
	dur, warmup, gap                                       time.Duration
	seed                                                   uint64
	// rate paces the throughput mode's requests (per second, all
	// connections together); 0 sends them back to back.
	rate float64
}

func runLoad(args []string) error {
	var f loadFlags
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	fs.StringVar(&f.mode, "mode", "throughput", "throughput | latency | newconns")
	fs.StringVar(&f.label, "label", "", "name of the proxy in the results")
	fs.StringVar(&f.proxy, "proxy", "", "proxy URL (http://127.0.0.1:PORT); empty: straight to the upstream")
	fs.StringVar(&f.proxyCA, "proxy-ca", "", "PEM CA of the proxy's MITM certificates")
	fs.StringVar(&f.upstream, "upstream", "", "upstream host:port (127.0.0.1:PORT)")
	fs.StringVar(&f.upstreamCA, "upstream-ca", "", "PEM CA of the upstream (direct requests)")
	fs.StringVar(&f.out, "out", "", "append the JSON result line to this file (and print it)")
	fs.IntVar(&f.conns, "c", 16, "concurrent connections (throughput, newconns)")
	fs.IntVar(&f.rep, "rep", 0, "repeat number (recorded)")
	fs.IntVar(&f.hostBase, "host-base", 0, "newconns: index of the first host (use a fresh range per run so every proxy mints)")
	fs.IntVar(&f.hosts, "hosts", 0, "newconns: 0 = a distinct host per connection; N = cycle through N hosts, each seen once before measuring")
	fs.DurationVar(&f.dur, "d", 8*time.Second, "measured duration")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "unmeasured warm-up before it")
	fs.DurationVar(&f.gap, "gap", 0, "latency: pause after each request (0: back to back), so that the proxy is idle when the next one comes")
	fs.Uint64Var(&f.seed, "seed", 1, "request mix seed")
	fs.Float64Var(&f.rate, "rate", 0, "throughput: requests per second over all connections (0: back to back); at a rate the proxy sustains, cpu_us_per_req compares proxies doing the same work")
	fs.IntVar(&f.pid, "pid", 0, "the proxy's process ID, to measure its CPU time per request")
	fs.Parse(args)
	if f.upstream == "" {
		return errors.New("load: -upstream is required")
	}
	var res *result
	var err error
	switch f.mode {
	case "throughput":
		res, err = throughput(f)
	case "latency":
		res, err = latency(f)
	case "newconns":
		res, err = newConns(f)
	default:
		return fmt.Errorf("load: unknown -mode %q", f.mode)
	}
	if err != nil {
		return err
	}
	res.Proxy, res.Mode, res.Rep = f.label, f.mode, f.rep
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
	if f.out != "" {
		fh, err := os.OpenFile(f.out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer fh.Close()
		fh.Write(append(line, '\n'))
	}
	return nil
}

func pool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate", file)
	}
	return p, nil
}

// transport is an HTTP/1.1 client (as most OAuth clients through a proxy
// are) with at most conns connections, through proxy when set.
func (f loadFlags) transport(viaProxy bool, conns int, keepAlive bool) (*http.Transport, error) {
	tr := &http.Transport{
		MaxConnsPerHost:     conns,
		MaxIdleConnsPerHost: conns,
		MaxIdleConns:        conns,
		IdleConnTimeout:     time.Minute,
		DisableKeepAlives:   !keepAlive,
		DisableCompression:  true,
		TLSHandshakeTimeout: 15 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}
	caFile := f.upstreamCA
	if viaProxy {
		u, err := url.Parse(f.proxy)
		if err != nil {
			return nil, err
		}
		tr.Proxy = http.ProxyURL(u)
		caFile = f.proxyCA
	}
	roots, err := pool(caFile)
	if err != nil {
		return nil, err
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}}
	return tr, nil
}

// mix is a client's request sequence: mostly API reads of 1–20 KB, some
// writes, token requests (each giving a new bearer token used from then
// on) and metadata look-ups.
type mix struct {
	rng    *rand.Rand
	base   string // https://host:port
	bearer string
	posts  [5][]byte
}

func newMix(seed, stream uint64, base string) *mix {
	m := &mix{rng: rand.New(rand.NewPCG(seed, stream)), base: base, bearer: "bootstrap-" + strconv.FormatUint(stream, 10)}
	for kb := 1; kb <= 4; kb++ {
		var b bytes.Buffer
		b.WriteString(`{"name":"bench item","owner":"usr_4821","tags":["bench","proxy"],"attributes":[`)
		for i := 0; b.Len() < kb<<10-40; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"key":"attr_%d","value":"value number %d of the benchmark item"}`, i, i)
		}
		b.WriteString(`]}`)
		m.posts[kb] = b.Bytes()
	}
	return m
}

const tokenForm = "grant_type=client_credentials&scope=items%3Aread+items%3Awrite"

func (m *mix) next(host string) (*http.Request, bool) {
	base := m.base
	if host != "" {
		base = "https://" + host
	}
	var req *http.Request
	token := false
	switch r := m.rng.IntN(100); {
	case r < 5:
		req, _ = http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(tokenForm))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("bench-client", "bench-client-secret-5f2a9c")
		token = true
	case r < 10:
		req, _ = http.NewRequest(http.MethodGet, base+"/.well-known/oauth-authorization-server", nil)
	case r < 25:
		body := m.posts[1+m.rng.IntN(4)]
		req, _ = http.NewRequest(http.MethodPost, base+"/api/items", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+m.bearer)
	default:
		req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/items?page=%d&size=%d", base, 1+m.rng.IntN(50), 1+m.rng.IntN(20)), nil)
		req.Header.Set("Authorization", "Bearer "+m.bearer)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "proxybench/1")
	return req, token
}

// do sends req and reads the whole response.
func (m *mix) do(c *http.Client, req *http.Request, token bool) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body []byte
	if token {
		body, err = io.ReadAll(resp.Body)
		if i := bytes.Index(body, []byte(`"access_token":"`)); i >= 0 {
			rest := body[i+16:]
			if j := bytes.IndexByte(rest, '"'); j > 0 {
				m.bearer = string(rest[:j])
			}
		}
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	return nil
}

// errs counts errors and keeps the first.
type errs struct {
	n     atomic.Int64
	once  sync.Once
	first string
}

func (e *errs) add(err error) {
	e.n.Add(1)
	e.once.Do(func() { e.first = err.Error() })
}

func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return float64(d[i]) / float64(time.Millisecond)
}

// throughput: conns keep-alive connections, each sending requests back to
// back for warmup + d; the requests started after the warm-up count.
func throughput(f loadFlags) (*result, error) {
	tr, err := f.transport(f.proxy != "", f.conns, true)
	if err != nil {
		return nil, err
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return closedLoop(f, client, "https://"+f.upstream, func() string { return "" }, &errs{}, 0), nil
}

// closedLoop runs f.conns workers, each sending requests back to back
// (host names each request's host; "" means base's) for f.warmup + f.dur;
// the requests started after the warm-up count. hosts is reported as is.
func closedLoop(f loadFlags, client *http.Client, base string, host func() string, e *errs, hosts int) *result {
	start := time.Now()
	measure := start.Add(f.warmup)
	end := measure.Add(f.dur)
	lats := make([][]time.Duration, f.conns)
	cpu := f.cpuFrom(measure)
	// With a rate, request k (over all workers) is due at start + k/rate.
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range f.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := newMix(f.seed, uint64(w), base)
			for {
				if f.rate > 0 {
					due := start.Add(time.Duration(float64(next.Add(1)-1) / f.rate * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				req, tok := m.next(host())
				err := m.do(client, req, tok)
				if t0.Before(measure) {
					continue
				}
				if err != nil {
					e.add(err)
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	secs := time.Since(measure).Seconds()
	all := slices.Concat(lats...)
	slices.Sort(all)
	return &result{Conns: f.conns, Rate: f.rate, Seconds: round(secs), Requests: int64(len(all)), Errors: e.n.Load(), FirstErr: e.first, Hosts: hosts,
		RPS: round(float64(len(all)) / secs), P50ms: round(percentile(all, .5)), P99ms: round(percentile(all, .99)),
		CPUus: perReq(cpu(), len(all))}
}

// cpuFrom samples the proxy's CPU time at t (soon after it is called)
// and returns a func giving the CPU time spent since, once the proxy has
// gone quiet: work it put off while the load lasted (writing the HAR file
// behind the traffic, analysis) counts too. -1 without -pid.
func (f loadFlags) cpuFrom(t time.Time) func() time.Duration {
	if f.pid == 0 {
		return func() time.Duration { return -1 }
	}
	start := make(chan time.Duration, 1)
	go func() {
		time.Sleep(time.Until(t))
		start <- procCPU(f.pid)
	}()
	return func() time.Duration {
		c0 := <-start
		// Quiet: under 5% of a CPU over 300 ms; 20 s at most.
		last := procCPU(f.pid)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
			time.Sleep(300 * time.Millisecond)
			c := procCPU(f.pid)
			if c-last < 15*time.Millisecond {
				last = c
				break
			}
			last = c
		}
		return last - c0
	}
}

// procCPU is utime + stime of a process, from /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces), 1-based
	// from state (3): utime is 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	fs := strings.Fields(string(b[i+1:]))
	if len(fs) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fs[11], 10, 64)
	st, _ := strconv.ParseInt(fs[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

func perReq(cpu time.Duration, n int) float64 {
	if cpu < 0 || n == 0 {
		return 0
	}
	return round(float64(cpu) / float64(time.Microsecond) / float64(n))
}

// latency: one keep-alive connection straight to the upstream and one
// through the proxy, used one request at a time in alternating blocks of
// the same requests, so that a busy machine weighs on both alike; back to
// back, or with a pause before each request (-gap) so that whatever the
// proxy does after an exchange (recording, analysis) is done when the next
// one comes: the unloaded case.
func latency(f loadFlags) (*result, error) {
	if f.proxy == "" {
		return nil, errors.New("load: -mode latency needs -proxy")
	}
	dtr, err := f.transport(false, 1, true)
	if err != nil {
		return nil, err
	}
	ptr, err := f.transport(true, 1, true)
	if err != nil {
		return nil, err
	}
	defer dtr.CloseIdleConnections()
	defer ptr.CloseIdleConnections()
	dc := &http.Client{Transport: dtr, Timeout: 30 * time.Second}
	pc := &http.Client{Transport: ptr, Timeout: 30 * time.Second}
	var e errs
	var direct, proxied []time.Duration
	const block = 50
	end := time.Now().Add(f.warmup + f.dur)
	measure := time.Now().Add(f.warmup)
	for blk := uint64(0); time.Now().Before(end); blk++ {
		for _, side := range []struct {
			c   *http.Client
			out *[]time.Duration
		}{{dc, &direct}, {pc, &proxied}} {
			m := newMix(f.seed, blk, "https://"+f.upstream)
			for range block {
				if f.gap > 0 {
					time.Sleep(f.gap)
				}
				req, tok := m.next("")
				t0 := time.Now()
				err := m.do(side.c, req, tok)
				d := time.Since(t0)
				if t0.Before(measure) {
					continue
				}
				if err != nil {
					e.add(err)
					continue
				}
				*side.out = append(*side.out, d)
			}
		}
	}
	slices.Sort(direct)
	slices.Sort(proxied)
	return &result{Conns: 1, Seconds: round(f.dur.Seconds()), Requests: int64(len(proxied)), Errors: e.n.Load(), FirstErr: e.first,
		P50ms: round(percentile(proxied, .5)), P99ms: round(percentile(proxied, .99)),
		DirectP50ms: round(percentile(direct, .5)), DirectP99ms: round(percentile(direct, .99)),
		AddedP50ms: round(percentile(proxied, .5) - percentile(direct, .5)), GapMS: round(float64(f.gap) / float64(time.Millisecond))}, nil
}

// hostAt is the index'th benchmark host: 127.a.b.c with a and c in
// 1..254 (never 127.0.0.x), repeating after 254×256×254 hosts.
func hostAt(i int) string {
	c := 1 + i%254
	b := (i / 254) % 256
	a := 1 + (i/254/256)%254
	return fmt.Sprintf("127.%d.%d.%d", a, b, c)
}

// newConns: every request on a new TCP connection and a full TLS
// handshake (no session resumption), conns at a time, each to a host the
// proxy has not seen (hosts = 0) or cycling through hosts seen before.
func newConns(f loadFlags) (*result, error) {
	_, port, err := net.SplitHostPort(f.upstream)
	if err != nil {
		return nil, err
	}
	tr, err := f.transport(f.proxy != "", f.conns, false)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var e errs
	var seq atomic.Int64
	host := func() string {
		i := int(seq.Add(1) - 1)
		if f.hosts > 0 {
			i %= f.hosts
		}
		return net.JoinHostPort(hostAt(f.hostBase+i), port)
	}
	if f.hosts > 0 {
		// Let the proxy see every host once first.
		var wg sync.WaitGroup
		for w := range f.conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := newMix(f.seed, uint64(1000+w), "")
				for int(seq.Load()) < f.hosts {
					req, tok := m.next(host())
					if err := m.do(client, req, tok); err != nil {
						e.add(err)
					}
				}
			}()
		}
		wg.Wait()
		seq.Store(0)
	}
	return closedLoop(f, client, "", host, &e, f.hosts), nil
}

func round(x float64) float64 {
	if x >= 100 {
		return float64(int64(x + .5))
	}
	return float64(int64(x*1000+.5)) / 1000
}

func nilCtx() context.Context { return context.Background() }

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
