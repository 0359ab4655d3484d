package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/internal/testbin"
)

// buildBinary builds oauthlint into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin, err := testbin.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

var listenRe = regexp.MustCompile(`proxy listening on (http://127\.0\.0\.1:\d+)`)

// TestCaptureKill9LeavesReadableHAR runs the real binary as 'oauthlint
// capture --har', sends traffic through it, waits until the first
// exchanges are on disk, then kills it with SIGKILL while more requests
// are in flight. The HAR it leaves must be read by 'oauthlint analyze'
// (exit 0 with --fail-on none, the truncation reported as a warning) and
// hold at least every exchange that was on disk before the kill.
func TestCaptureKill9LeavesReadableHAR(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"access_token":"at-kill9-%s-0123456789","token_type":"Bearer","expires_in":60}`, strings.TrimPrefix(r.URL.Path, "/"))
	}))
	defer up.Close()
	dir := t.TempDir()
	harPath := filepath.Join(dir, "killed.har")
	cmd := exec.Command(bin, "capture", "--proxy", "127.0.0.1:0", "--har", harPath, "--ca-dir", filepath.Join(dir, "ca"), "--format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	// Read stderr until the proxy says where it listens; keep draining it.
	found := make(chan string, 1)
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := listenRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	var proxyURL string
	select {
	case proxyURL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("the capture did not say where it listens")
	}
	pu, _ := url.Parse(proxyURL)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	post := func(i int) error {
		resp, err := client.Post(up.URL+fmt.Sprintf("/token%d", i), "application/x-www-form-urlencoded",
			strings.NewReader(fmt.Sprintf("grant_type=client_credentials&client_id=kill9&client_secret=kill9-secret-%d-abcdefgh", i)))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	const first = 20
	for i := 0; i < first; i++ {
		if err := post(i); err != nil {
			t.Fatalf("request %d through the proxy: %v", i, err)
		}
	}
	// The exchanges reach the file as they complete (no buffering until
	// the end): wait until all of them are there.
	deadline := time.Now().Add(10 * time.Second)
	onDisk := 0
	for time.Now().Before(deadline) {
		if exs, _, err := har.ReadFile(harPath, har.Options{}); err == nil {
			onDisk = len(exs)
		}
		if onDisk >= first {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if onDisk < first {
		t.Fatalf("only %d of %d completed exchanges reached the HAR within 10s", onDisk, first)
	}
	// More traffic, and SIGKILL in the middle of it.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				post(1000*(g+1) + i)
			}
		}(g)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	killed = true
	cancel()
	wg.Wait()

	r := exec.Command(bin, "analyze", "--format", "json", "--fail-on", "none", harPath)
	var out, errb strings.Builder
	r.Stdout, r.Stderr = &out, &errb
	if err := r.Run(); err != nil {
		t.Fatalf("analyze of the HAR left by kill -9: %v\n%s", err, errb.String())
	}
	var rep struct {
		Inputs []struct {
			Truncated bool     `json:"truncated"`
			Warnings  []string `json:"warnings"`
		} `json:"inputs"`
		Stats struct {
			Exchanges int `json:"exchanges"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("after kill -9: %d exchanges in the HAR, truncated %v, warnings %v", rep.Stats.Exchanges, rep.Inputs[0].Truncated, rep.Inputs[0].Warnings)
	if rep.Stats.Exchanges < first {
		t.Errorf("analyze found %d exchanges, want at least the %d on disk before the kill", rep.Stats.Exchanges, first)
	}
	if !rep.Inputs[0].Truncated {
		t.Error("a HAR cut by kill -9 is not reported as truncated")
	}
	data, _ := os.ReadFile(harPath)
	if strings.Contains(string(data), "kill9-secret-") {
		t.Error("the HAR holds a client secret unredacted")
	}
}
