package input

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKeyLogs(t *testing.T) {
	dir := t.TempDir()
	line := "CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("01", 48) + "\n"
	a := filepath.Join(dir, "a.keys")
	env := filepath.Join(dir, "env.keys")
	os.WriteFile(a, []byte(line), 0o600)
	os.WriteFile(env, []byte(strings.Replace(line, "abab", "cdcd", 1)), 0o600)
	kl, notes, err := LoadKeyLogs([]string{a}, env)
	if err != nil || kl.Len() != 2 || len(notes) != 2 || !strings.HasPrefix(notes[1], "SSLKEYLOGFILE: ") {
		t.Fatalf("%v %d %q", err, kl.Len(), notes)
	}
	// The same file twice is read once.
	if kl, notes, _ := LoadKeyLogs([]string{a, a}, a); kl.Len() != 1 || len(notes) != 1 {
		t.Fatalf("duplicates: %d %q", kl.Len(), notes)
	}
	// A missing --keylog is an error; a missing SSLKEYLOGFILE a note.
	if _, _, err := LoadKeyLogs([]string{filepath.Join(dir, "nope")}, ""); err == nil || !strings.Contains(err.Error(), "--keylog") {
		t.Fatalf("missing --keylog: %v", err)
	}
	if kl, notes, err := LoadKeyLogs(nil, filepath.Join(dir, "later.keys")); err != nil || kl.Len() != 0 || !strings.Contains(notes[0], "not used") {
		t.Fatalf("missing SSLKEYLOGFILE: %v %q", err, notes)
	}
	// A file that is not a key log, and a directory.
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("GET / HTTP/1.1\r\nHost: x\r\n"), 0o600)
	for _, p := range []string{bad, dir} {
		if _, _, err := LoadKeyLogs([]string{p}, ""); err == nil {
			t.Errorf("%s accepted", p)
		}
	}
}

// TestReadPcapWithKeys: input.Read passes the keys to the pcap reader and
// reports what was and was not decrypted.
func TestReadPcapWithKeys(t *testing.T) {
	capPath := "../pcap/testdata/tls/go-tls13-h2.pcap"
	kl, _, err := LoadKeyLogs([]string{"../pcap/testdata/tls/go-tls13-h2.keys"}, "")
	if err != nil {
		t.Fatal(err)
	}
	exs, info, err := Read(capPath, Options{MaxBody: 1 << 20, Keys: kl})
	if err != nil || len(exs) != 5 || info.Decrypted != 1 || len(info.Undecrypted) != 0 || info.Entries != 5 {
		t.Fatalf("%v: %d exchanges, %+v", err, len(exs), info)
	}
	exs, info, err = Read(capPath, Options{MaxBody: 1 << 20})
	if err != nil || len(exs) != 0 || len(info.Undecrypted) != 1 || info.Undecrypted[0].ServerName != "as.oauthlint.test" {
		t.Fatalf("%v: %d exchanges, %+v", err, len(exs), info.Undecrypted)
	}
}
