package certs

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"testing"
)

// TestLeafDERLikeCreateCertificate: the leaf written directly is, up to
// its signature, the certificate x509.CreateCertificate makes from the
// same template, byte for byte; it parses, its signature verifies
// against the CA, and it chains to the CA for its host.
func TestLeafDERLikeCreateCertificate(t *testing.T) {
	ca, err := Create(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Leaf("warm-up.example"); err != nil { // makes the leaf key
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, host := range []string{"auth.example.com", "EXAMPLE.org", "localhost", "a-b.c-d.example", "my_host.internal",
		"127.0.0.1", "127.3.200.7", "::1", "2001:db8::17", "::ffff:10.0.0.1"} {
		if !ca.directLeafOK(host) {
			t.Fatalf("%s: not written directly", host)
		}
		got := directAndReference(t, ca, host)
		opts := x509.VerifyOptions{DNSName: host, Roots: pool}
		if _, err := got.Verify(opts); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}

// directAndReference writes host's leaf directly and has
// CreateCertificate make it from the same template, and checks that
// they are the same certificate up to the signature and that the direct
// one's signature verifies against the CA.
func directAndReference(t testing.TB, ca *CA, host string) *x509.Certificate {
	t.Helper()
	tmpl, err := ca.leafTemplate(host)
	if err != nil {
		t.Fatal(err)
	}
	want, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &ca.leafKey.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("%q: CreateCertificate refuses it (%v) but it is written directly", host, err)
	}
	der, err := ca.leafDER(tmpl)
	if err != nil {
		t.Fatalf("%q: %v", host, err)
	}
	got, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("%q: %v", host, err)
	}
	ref, _ := x509.ParseCertificate(want)
	if !bytes.Equal(got.RawTBSCertificate, ref.RawTBSCertificate) {
		t.Fatalf("%q: TBS differs from CreateCertificate's\n got %x\nwant %x", host, got.RawTBSCertificate, ref.RawTBSCertificate)
	}
	if got.SignatureAlgorithm != ref.SignatureAlgorithm {
		t.Fatalf("%q: signature algorithm %v, want %v", host, got.SignatureAlgorithm, ref.SignatureAlgorithm)
	}
	if err := got.CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatalf("%q: %v", host, err)
	}
	return got
}

// Hosts the direct writer does not cover go through CreateCertificate,
// which accepts or refuses them as it always did.
func TestLeafFallback(t *testing.T) {
	ca, err := Create(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"*.example.com", "bücher.example", "", "a b"} {
		if ca.directLeafOK(host) {
			t.Errorf("%q written directly", host)
		}
	}
	leaf, err := ca.Leaf("*.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Leaf.DNSNames[0] != "*.example.com" || leaf.Leaf.Subject.CommonName != "*.example.com" {
		t.Errorf("fallback leaf for *.example.com: %v %v", leaf.Leaf.DNSNames, leaf.Leaf.Subject)
	}
	if _, err := ca.Leaf("bücher.example"); err == nil {
		t.Error("a non-ASCII DNS name was signed (CreateCertificate refuses it)")
	}
}

// BenchmarkLeaf: minting a leaf for a new host, written directly and by
// CreateCertificate.
func BenchmarkLeaf(b *testing.B) {
	ca, err := Create(filepath.Join(b.TempDir(), "ca"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ca.Leaf("warm-up.example"); err != nil {
		b.Fatal(err)
	}
	tmpl, _ := ca.leafTemplate("127.8.9.10")
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := ca.leafDER(tmpl); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateCertificate", func(b *testing.B) {
		for b.Loop() {
			if _, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &ca.leafKey.PublicKey, ca.key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzLeafDER: for any host the direct writer takes, its certificate is
// CreateCertificate's up to the signature (and for any other host it is
// not used).
func FuzzLeafDER(f *testing.F) {
	for _, h := range []string{"auth.example.com", "127.0.0.1", "::1", "a_b", "-", "1.2.3", "x.", "fe80::1%eth0"} {
		f.Add(h)
	}
	ca, err := Create(filepath.Join(f.TempDir(), "ca"))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := ca.Leaf("warm-up.example"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !ca.directLeafOK(host) {
			return
		}
		directAndReference(t, ca, host)
	})
}
