package pcap_test

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/pcap"
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
)

// The captures in testdata/tls were recorded with real clients and key
// logs (testdata/tls/gen.sh: Go, curl, Node, OpenSSL, headless Chromium;
// TLS 1.2 and 1.3, every cipher family, HTTP/1.1 and HTTP/2, a
// HelloRetryRequest, KeyUpdates, encrypt-then-MAC). Each must decrypt
// completely to the exchanges in its .want file.

var updateTLS = flag.Bool("update-tls", false, "rewrite testdata/tls/*.want from what the reader finds")

func tlsCaptures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/tls/*.pcap*")
	if err != nil || len(files) < 10 {
		t.Fatalf("testdata/tls holds %d captures (%v)", len(files), err)
	}
	return files
}

func base(f string) string {
	return strings.TrimSuffix(strings.TrimSuffix(f, ".pcapng"), ".pcap")
}

func loadKeys(t *testing.T, f string) *tlsdecrypt.KeyLog {
	t.Helper()
	kl := tlsdecrypt.NewKeyLog()
	b, err := os.ReadFile(base(f) + ".keys")
	if os.IsNotExist(err) {
		return kl // keys embedded in the capture
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kl.ReadBytes(b, f); err != nil {
		t.Fatal(err)
	}
	return kl
}

func describe(exs []*capture.Exchange) string {
	var b strings.Builder
	for _, ex := range exs {
		status := "-"
		if ex.Response != nil {
			status = fmt.Sprint(ex.Response.Status)
		}
		fmt.Fprintf(&b, "%s %s %s %s", ex.Request.Method, ex.Request.URL, ex.Request.Proto, status)
		if ex.TLS != nil {
			fmt.Fprintf(&b, " %s %s %s", ex.TLS.Version, ex.TLS.CipherSuite, ex.TLS.ALPN)
		}
		fmt.Fprintf(&b, " req=%d resp=", len(ex.Request.Body))
		if ex.Response != nil {
			fmt.Fprintf(&b, "%d", len(ex.Response.Body))
		}
		for _, g := range ex.Gaps {
			b.WriteString(" [" + string(g.Kind) + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestTLSCaptures(t *testing.T) {
	for _, f := range tlsCaptures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			exs, info, err := pcap.ReadFile(f, pcap.Options{Keys: loadKeys(t, f)})
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Warnings) > 0 || info.UndecryptedConnections > 0 || info.DecryptedConnections == 0 {
				t.Fatalf("decrypted %d, undecrypted %d, warnings %v", info.DecryptedConnections, info.UndecryptedConnections, info.Warnings)
			}
			got := describe(exs)
			want := base(f) + ".want"
			if *updateTLS {
				if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			w, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run go test -run TestTLSCaptures -update-tls)", err)
			}
			if got != string(w) {
				t.Errorf("exchanges:\n%s\nwant (%s):\n%s", got, want, w)
			}
			for _, ex := range exs {
				if !strings.HasPrefix(ex.Request.URL.String(), "https://") || ex.TLS == nil || ex.TLS.Version == "" {
					t.Errorf("%s: not marked as TLS", ex)
				}
			}
		})
	}
}

// TestTLSCapturesWithoutKeys: the same captures without keys give no
// exchange, one warning per connection naming the server and time, and
// the hint on how to record keys.
func TestTLSCapturesWithoutKeys(t *testing.T) {
	for _, f := range tlsCaptures(t) {
		if strings.HasSuffix(f, ".pcapng") {
			continue // its keys are inside
		}
		exs, info, err := pcap.ReadFile(f, pcap.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(exs) != 0 || info.UndecryptedConnections == 0 || len(info.Undecrypted) != info.UndecryptedConnections {
			t.Fatalf("%s: %d exchanges, %d undecrypted", f, len(exs), info.UndecryptedConnections)
		}
		u := info.Undecrypted[0]
		if u.Kind != "no-keys" || u.Start.IsZero() || len(u.Ref.Frames) != 2 || u.Server == "" {
			t.Errorf("%s: %+v", f, u)
		}
		var conn, hint bool
		for _, w := range info.Warnings {
			conn = conn || (strings.Contains(w.Msg, "encrypted connection") && strings.Contains(w.Msg, " at 20") && strings.Contains(w.Msg, "not decrypted"))
			hint = hint || (strings.Contains(w.Msg, "SSLKEYLOGFILE") && strings.Contains(w.Msg, "NODE_OPTIONS=--tls-keylog"))
		}
		if !conn || !hint {
			t.Errorf("%s: warnings %v", f, info.Warnings)
		}
	}
}

// TestTLSWrongAndPartialKeys: a key log for other connections, one whose
// secrets are wrong, and one cut in half give undecrypted connections
// with the reason, never an exchange made of garbage.
func TestTLSWrongAndPartialKeys(t *testing.T) {
	f := "testdata/tls/go-tls13-h2.pcap"
	other := loadKeys(t, "testdata/tls/go-tls12-cbc-sha-h1.pcap")
	exs, info, _ := pcap.ReadFile(f, pcap.Options{Keys: other})
	if len(exs) != 0 || len(info.Undecrypted) != 1 || !strings.Contains(info.Undecrypted[0].Reason, "client random") {
		t.Fatalf("other keys: %d exchanges %+v", len(exs), info.Undecrypted)
	}
	raw, _ := os.ReadFile(base(f) + ".keys")
	var wrong, half bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		fl := strings.Fields(line)
		s := []byte(fl[2])
		s[10] ^= 1 // still hex: flips one bit of a digit
		fmt.Fprintf(&wrong, "%s %s %s\n", fl[0], fl[1], s)
		if strings.HasPrefix(fl[0], "CLIENT_") || strings.HasPrefix(fl[0], "SERVER_HANDSHAKE") {
			half.WriteString(line + "\n")
		}
	}
	for name, text := range map[string]string{"wrong": wrong.String(), "partial": half.String()} {
		kl := tlsdecrypt.NewKeyLog()
		kl.ReadBytes([]byte(text), name)
		exs, info, _ := pcap.ReadFile(f, pcap.Options{Keys: kl})
		for _, ex := range exs {
			if ex.Response != nil && len(ex.Gaps) == 0 {
				t.Errorf("%s: exchange with a response and no gap from a broken key log: %s", name, ex)
			}
		}
		var reason string
		for _, w := range info.Warnings {
			reason += w.Msg + "\n"
		}
		if !strings.Contains(reason, "not decrypted") && !strings.Contains(reason, "could not be decrypted") {
			t.Errorf("%s: no reason given: %s", name, reason)
		}
	}
}

// TestDecryptionSecretsBlockAnywhere: keys embedded by editcap are used,
// also when the block comes after the connection it decrypts.
func TestDecryptionSecretsBlockAnywhere(t *testing.T) {
	f := "testdata/tls/go-tls13-h2-dsb.pcapng"
	want := describe(mustRead(t, "testdata/tls/go-tls13-h2.pcap", loadKeys(t, "testdata/tls/go-tls13-h2.pcap")))
	exs, info, err := pcap.ReadFile(f, pcap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(exs); got != want || info.SecretsBlocks != 1 {
		t.Fatalf("DSB first: %d blocks\n%s\nwant\n%s", info.SecretsBlocks, got, want)
	}
	// Move the block to the end of the file.
	raw, _ := os.ReadFile(f)
	var blocks [][]byte
	for p := 0; p+8 <= len(raw); {
		n := int(binary.LittleEndian.Uint32(raw[p+4:]))
		blocks = append(blocks, raw[p:p+n])
		p += n
	}
	var moved, dsb []byte
	for _, b := range blocks {
		if binary.LittleEndian.Uint32(b) == 10 {
			dsb = b
			continue
		}
		moved = append(moved, b...)
	}
	if dsb == nil {
		t.Fatal("no Decryption Secrets Block in the test capture")
	}
	moved = append(moved, dsb...)
	exs, info, err = pcap.Read(bytes.NewReader(moved), "moved.pcapng", pcap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(exs); got != want || info.UndecryptedConnections != 0 {
		t.Fatalf("DSB last: %v\n%s\nwant\n%s", info.Warnings, got, want)
	}
}

func mustRead(t *testing.T, f string, kl *tlsdecrypt.KeyLog) []*capture.Exchange {
	t.Helper()
	exs, _, err := pcap.ReadFile(f, pcap.Options{Keys: kl})
	if err != nil {
		t.Fatal(err)
	}
	return exs
}

// TestTLSRequestListMatchesTshark: tshark, given the same key log, finds
// the same requests (HTTP/1.x and HTTP/2) in every test capture. Skipped
// without tshark.
func TestTLSRequestListMatchesTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install -y tshark)")
	}
	for _, f := range tlsCaptures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			args := []string{"-r", f, "-Y", "http.request || http2.headers.method", "-T", "fields",
				"-e", "http.request.method", "-e", "http.request.uri", "-e", "http2.headers.method", "-e", "http2.headers.path"}
			if _, err := os.Stat(base(f) + ".keys"); err == nil {
				args = append([]string{"-o", "tls.keylog_file:" + base(f) + ".keys"}, args...)
			}
			out, err := exec.Command(tshark, args...).Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			var theirs []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				fl := strings.Split(line, "\t")
				for len(fl) < 4 {
					fl = append(fl, "")
				}
				if fl[0] != "" {
					theirs = append(theirs, fl[0]+" "+fl[1])
				}
				// Several HTTP/2 streams may share a frame.
				if fl[2] != "" {
					ms, ps := strings.Split(fl[2], ","), strings.Split(fl[3], ",")
					for i := range ms {
						if i < len(ps) {
							theirs = append(theirs, ms[i]+" "+ps[i])
						}
					}
				}
			}
			var ours []string
			for _, ex := range mustRead(t, f, loadKeys(t, f)) {
				ours = append(ours, ex.Request.Method+" "+ex.Request.URL.RequestURI())
			}
			sort.Strings(ours)
			sort.Strings(theirs)
			if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
				t.Errorf("oauthlint:\n%s\ntshark:\n%s", strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
			}
		})
	}
}

// FuzzReadTLS mutates real TLS captures (with their key logs) through the
// whole reader: TCP, TLS records and handshake, decryption, HTTP/1.1 and
// HTTP/2. Nothing panics; whatever is read is a complete exchange or
// says what is missing.
func FuzzReadTLS(f *testing.F) {
	kl := tlsdecrypt.NewKeyLog()
	for _, name := range []string{"go-tls13-h2", "go-tls12-cbc-sha-h1", "curl-tls12-cbc-etm", "openssl-tls13-keyupdate"} {
		b, err := os.ReadFile("testdata/tls/" + name + ".pcap")
		if err != nil {
			f.Fatal(err)
		}
		k, _ := os.ReadFile("testdata/tls/" + name + ".keys")
		kl.ReadBytes(k, name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		exs, info, err := pcap.Read(bytes.NewReader(b), "fuzz.pcap", pcap.Options{Keys: kl})
		if err != nil {
			return
		}
		for _, ex := range exs {
			if ex.Request == nil || ex.Request.URL == nil {
				t.Fatal("exchange without request")
			}
			if f := ex.Ref.Frames; len(f) != 2 || f[0] < 1 || f[1] < f[0] {
				t.Fatalf("exchange %s: frames %v", ex.Request.URL, f)
			}
			if ex.Response != nil && (ex.Response.Status < 100 || ex.Response.Status > 999) {
				t.Fatalf("exchange %s: status %d", ex.Request.URL, ex.Response.Status)
			}
		}
		for _, u := range info.Undecrypted {
			if f := u.Ref.Frames; len(f) != 2 || f[0] < 1 || f[1] < f[0] {
				t.Fatalf("undecrypted connection %s: frames %v", u.Server, f)
			}
		}
		if info.UndecryptedConnections != len(info.Undecrypted) {
			t.Fatalf("%d undecrypted, %d listed", info.UndecryptedConnections, len(info.Undecrypted))
		}
	})
}
