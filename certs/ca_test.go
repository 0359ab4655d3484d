package certs

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestCreateLoadAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "oauthlint")
	ca, created, err := LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate: %v created=%v", err, created)
	}
	st, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %o", st.Mode().Perm())
	}
	st, _ = os.Stat(filepath.Join(dir, KeyFile))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %o", st.Mode().Perm())
	}
	if !ca.Cert.IsCA || ca.Cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("not an ECDSA CA")
	}
	again, created, err := LoadOrCreate(dir)
	if err != nil || created || again.Fingerprint() != ca.Fingerprint() {
		t.Fatalf("reload: %v created=%v", err, created)
	}
	if _, err := Create(dir); err == nil {
		t.Error("Create overwrote an existing CA")
	}
	// A key readable by others is refused with the command that fixes it.
	os.Chmod(filepath.Join(dir, KeyFile), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: %v", err)
	}
	os.Chmod(filepath.Join(dir, KeyFile), 0o600)
	// The PEM never contains the key.
	if strings.Contains(string(ca.PEM()), "PRIVATE") {
		t.Error("PEM export contains a private key")
	}
}

func TestLeafChainsToCA(t *testing.T) {
	ca, err := Create(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, host := range []string{"auth.example.com", "127.0.0.1", "::1", "mcp.example.com:443"} {
		leaf, err := ca.Leaf(host)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(host, ":443")
		if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
		again, _ := ca.Fetch(name, nil)
		if again != leaf {
			t.Errorf("%s: leaf not cached", host)
		}
	}
	other, _ := Create(filepath.Join(t.TempDir(), "other"))
	leaf, _ := other.Leaf("auth.example.com")
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "auth.example.com", Roots: pool}); err == nil {
		t.Error("a leaf of another install verified against this CA")
	}
}

func TestMismatchedFiles(t *testing.T) {
	a, _ := Create(filepath.Join(t.TempDir(), "a"))
	b, _ := Create(filepath.Join(t.TempDir(), "b"))
	os.WriteFile(filepath.Join(a.Dir, CertFile), b.PEM(), 0o644)
	if _, err := Load(a.Dir); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatch: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "oauthlint ca init") {
		t.Errorf("missing: %v", err)
	}
}

func TestBundle(t *testing.T) {
	ca, _ := Create(filepath.Join(t.TempDir(), "ca"))
	p, err := ca.Bundle(filepath.Join(t.TempDir(), "bundle.pem"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !strings.HasSuffix(string(b), string(ca.PEM())) {
		t.Error("bundle does not end with the CA")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Error("bundle is not PEM")
	}
}

func TestTrustHints(t *testing.T) {
	h := TrustHints("/x/ca.pem", "http://127.0.0.1:8888")
	for _, w := range []string{"NODE_EXTRA_CA_CERTS=/x/ca.pem", "REQUESTS_CA_BUNDLE", "--cacert /x/ca.pem", "SSL_CERT_FILE", "update-ca-certificates", "Firefox"} {
		if !strings.Contains(h, w) {
			t.Errorf("hints lack %q", w)
		}
	}
}

func TestLeafConcurrent(t *testing.T) {
	ca, err := Create(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatal(err)
	}
	// Many connections to a few new hosts at once: one leaf per host.
	hosts := []string{"a.example", "b.example:443", "127.0.0.9", "a.example:8443"}
	got := make([]*tls.Certificate, 64)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := ca.Leaf(hosts[i%len(hosts)])
			if err != nil {
				t.Error(err)
			}
			got[i] = c
		}()
	}
	wg.Wait()
	for i := range got {
		if j := i % len(hosts); j == 3 {
			if got[i] != got[0] {
				t.Errorf("a.example and a.example:8443 got different leaves")
			}
		} else if got[i] != got[j] {
			t.Errorf("%s: leaf minted more than once", hosts[j])
		}
	}
	if got[0] == got[1] || got[0] == got[2] {
		t.Error("different hosts share a leaf")
	}
}
