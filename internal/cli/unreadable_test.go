package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/internal/tlsgen"
	"github.com/oauthlint/oauthlint/rules"
)

// A packet capture whose key log lacks the keys of the connection that
// carried the client's OpenID configuration request: analyze passes the
// undecrypted connection to the analysis, so the client is not accused
// of giving up after the RFC 8414 location answered 404 (SEQ-ASM-ORDER
// is not-available, the exit status 0), and the report lists the
// connection (inputs[].undecrypted, a line in the table).
func TestAnalyzeUndecryptedConnection(t *testing.T) {
	t.Setenv("SSLKEYLOGFILE", "")
	src, _, err := har.ReadFile("../../rules/builtin/testdata/SEQ-ASM-ORDER/silent-remembered-location.har", har.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src = src[:len(src)-1] // the re-read 20 minutes later
	dir := t.TempDir()
	capPath, keyPath := filepath.Join(dir, "login.pcap"), filepath.Join(dir, "keys.log")
	var keys bytes.Buffer
	sent, err := tlsgen.WriteFile(capPath, &keys, src, tlsgen.Options{Seed: 3, PerConn: 1})
	if err != nil {
		t.Fatal(err)
	}
	// One connection per exchange, four key log lines per connection.
	lines := strings.Split(strings.TrimSpace(keys.String()), "\n")
	var kept []string
	for i, ex := range sent {
		if ex.Request.URL.Path != "/.well-known/openid-configuration" {
			kept = append(kept, lines[4*i:4*i+4]...)
		}
	}
	if len(kept) != len(lines)-4 {
		t.Fatalf("kept %d of %d key lines", len(kept), len(lines))
	}
	if err := os.WriteFile(keyPath, []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errs := run(t, "", "analyze", "--format", "json", "--keylog", keyPath, capPath)
	if code != ExitOK {
		t.Fatalf("exit %d (a finding was claimed from the undecrypted connection?): %s\n%s", code, errs, out)
	}
	if !strings.Contains(errs, "not decrypted") {
		t.Errorf("no warning about the connection: %s", errs)
	}
	r := parseReport(t, out)
	if len(r.Inputs) != 1 || len(r.Inputs[0].Undecrypted) != 1 {
		t.Fatalf("inputs %+v", r.Inputs)
	}
	u := r.Inputs[0].Undecrypted[0]
	if u.ServerName != "auth.example.com" || u.Kind != "no-keys" || len(u.Ref.Frames) != 2 || u.Start.IsZero() {
		t.Errorf("undecrypted %+v", u)
	}
	na := false
	for _, fd := range r.Findings {
		if fd.Outcome == rules.Fail {
			t.Errorf("%s fails: %s", fd.Rule, fd.Message)
		}
		if fd.Rule == "SEQ-ASM-ORDER" && fd.Outcome == rules.NotAvailable {
			na = strings.Contains(fd.Message, "auth.example.com:443") && strings.Contains(fd.Message, "not decrypted")
		}
	}
	if !na {
		t.Errorf("SEQ-ASM-ORDER is not reported not-available with the connection: %s", out)
	}

	code, out, errs = run(t, "", "analyze", "--format", "table", "--keylog", keyPath, capPath)
	if code != ExitOK || !strings.Contains(out, "  undecrypted: 1 TLS connection(s) could not be read") {
		t.Errorf("exit %d, table:\n%s\n%s", code, out, errs)
	}
}
