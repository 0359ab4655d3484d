package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one process of a scenario (a server, tcpdump, a client run). Each
// runs in its own process group so stopping it also stops what it started
// (the capture's child, mcp-remote under its driver, the browser).
type proc struct {
	name  string
	cmd   *exec.Cmd
	done  chan struct{}
	err   error
	ready chan json.RawMessage
	mu    sync.Mutex
	tail  []string // last lines of output, for error messages
}

// startProc starts argv with its output (stdout and stderr) appended to log;
// a line "READY {json}" on stdout is delivered on p.ready.
func startProc(name, dir string, env []string, log io.Writer, argv ...string) (*proc, error) {
	p := &proc{name: name, done: make(chan struct{}), ready: make(chan json.RawMessage, 1)}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	// Its own group (stop() kills the whole group), and killed with the
	// harness if the harness dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	outR, outW := io.Pipe()
	cmd.Stdout = outW
	cmd.Stderr = outW
	if err := cmd.Start(); err != nil {
		outW.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, argv[0], err)
	}
	p.cmd = cmd
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintf(log, "%s| %s\n", name, line)
			p.mu.Lock()
			p.tail = append(p.tail, line)
			if len(p.tail) > 30 {
				p.tail = p.tail[len(p.tail)-30:]
			}
			p.mu.Unlock()
			if rest, ok := strings.CutPrefix(line, "READY "); ok {
				select {
				case p.ready <- json.RawMessage(rest):
				default:
				}
			}
		}
		io.Copy(io.Discard, outR)
	}()
	go func() {
		p.err = cmd.Wait()
		outW.Close()
		<-scanDone
		close(p.done)
	}()
	return p, nil
}

// output is the end of what the process printed, for error messages.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// waitReady waits for the READY line, the process's end or the time-out.
func (p *proc) waitReady(timeout time.Duration) (json.RawMessage, error) {
	select {
	case info := <-p.ready:
		return info, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready (%v); its output:\n%s", p.name, p.err, p.output())
	case <-time.After(timeout):
		return nil, fmt.Errorf("%s not ready after %s; its output:\n%s", p.name, timeout, p.output())
	}
}

// waitHTTP polls url until it answers 200 (Hydra has no READY line).
func (p *proc) waitHTTP(client *http.Client, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v); its output:\n%s", p.name, p.err, p.output())
		default:
		}
		res, err := client.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s did not answer 200 within %s (last error: %v); its output:\n%s", p.name, url, timeout, err, p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wait waits for the process to end by itself and returns its exit status;
// past the time-out its group is killed and an error returned.
func (p *proc) wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		p.signal(syscall.SIGKILL)
		<-p.done
		return -1, fmt.Errorf("%s did not finish in time (%v) and was killed; its output:\n%s", p.name, ctx.Err(), p.output())
	}
	return exitStatus(p.err)
}

func exitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return 128 + int(st.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return -1, err
}

func (p *proc) signal(sig syscall.Signal) {
	if p.cmd.Process != nil {
		// The whole group: the process and whatever it started.
		syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// stop asks the process to end (sig), then kills its group after grace.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	p.signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.signal(syscall.SIGKILL)
		<-p.done
	}
	// Leftovers of the group (a child that ignored the signal).
	p.signal(syscall.SIGKILL)
}

// cleanEnv is the environment for every process of a scenario: the
// harness's own, without proxy settings or Node options that would send
// traffic elsewhere or change how Node runs.
func cleanEnv(extra ...string) []string {
	drop := map[string]bool{
		"HTTP_PROXY": true, "HTTPS_PROXY": true, "http_proxy": true, "https_proxy": true, "ALL_PROXY": true, "all_proxy": true,
		"NO_PROXY": true, "no_proxy": true, "NODE_OPTIONS": true, "NODE_USE_ENV_PROXY": true, "NODE_EXTRA_CA_CERTS": true,
		"SSLKEYLOGFILE": true, "OAUTHLINT_PROXY": true, "BROWSER": true, "DISPLAY": true, "WAYLAND_DISPLAY": true,
		"XDG_CURRENT_DESKTOP": true, "OAUTHLINT_E2E_INNER": true,
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}
