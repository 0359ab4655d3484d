// Package certs manages oauthlint's per-install certificate authority for
// the MITM proxy: an ECDSA P-256 CA created on first use in the user's
// config directory (key 0600, directory 0700), leaf certificates signed per
// host and cached, and instructions for trusting the CA in each client
// ecosystem. The CA is never shared between installs and its key is never
// printed.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// File names inside the CA directory.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// caValidity and leafValidity: the CA lives long (re-trusting is a
// chore); leaves are short and regenerated per run.
const (
	caValidity   = 5 * 365 * 24 * time.Hour
	leafValidity = 30 * 24 * time.Hour
)

// CA is the loaded authority.
type CA struct {
	Dir  string
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
	// minting holds the leaves being made: connections to the same new
	// host wait for one, those to other hosts do not wait at all.
	minting map[string]*minting
	// leafKey is the key of every leaf this process mints, made with the
	// first one (as mitmproxy does): a leaf for a new host then costs a
	// signature, not a key generation as well. It is never written
	// anywhere, and the leaves it serves are trusted only through the CA.
	leafKeyOnce sync.Once
	leafKey     *ecdsa.PrivateKey
	leafSPKI    []byte // leafKey's SubjectPublicKeyInfo, DER
	leafKeyErr  error
}

type minting struct {
	done chan struct{}
	cert *tls.Certificate
	err  error
}

// DefaultDir is where the CA lives: $OAUTHLINT_CA_DIR, else
// <user config dir>/oauthlint (e.g. ~/.config/oauthlint).
func DefaultDir() (string, error) {
	if d := os.Getenv("OAUTHLINT_CA_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("certs: no user config directory (%v); set OAUTHLINT_CA_DIR", err)
	}
	return filepath.Join(base, "oauthlint"), nil
}

// CertPath is the CA certificate file (PEM).
func (ca *CA) CertPath() string { return filepath.Join(ca.Dir, CertFile) }

// Fingerprint is the SHA-256 of the CA certificate, for people to compare.
func (ca *CA) Fingerprint() string {
	sum := sha256.Sum256(ca.der)
	return hex.EncodeToString(sum[:])
}

// PEM returns the CA certificate in PEM.
func (ca *CA) PEM() []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der}) }

// DER returns the CA certificate in DER.
func (ca *CA) DER() []byte { return append([]byte(nil), ca.der...) }

// Load reads the CA from dir. It refuses a key readable by others.
func Load(dir string) (*CA, error) {
	keyPath := filepath.Join(dir, KeyFile)
	st, err := os.Stat(keyPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("certs: no CA in %s; create one with 'oauthlint ca init'", dir)
		}
		return nil, fmt.Errorf("certs: %w", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("certs: %s is readable by other users (mode %o); run: chmod 600 %s", keyPath, st.Mode().Perm(), keyPath)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, fmt.Errorf("certs: %s holds no PEM key; remove the directory and run 'oauthlint ca init'", keyPath)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", keyPath, err)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil {
		return nil, fmt.Errorf("certs: %s holds no PEM certificate", filepath.Join(dir, CertFile))
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("certs: %s does not match %s; remove the directory and run 'oauthlint ca init'", CertFile, KeyFile)
	}
	if time.Now().After(cert.NotAfter) {
		return nil, fmt.Errorf("certs: the CA in %s expired on %s; remove the directory, run 'oauthlint ca init' and trust the new CA", dir, cert.NotAfter.Format("2006-01-02"))
	}
	return &CA{Dir: dir, Cert: cert, key: key, der: cb.Bytes, leaves: map[string]*tls.Certificate{}}, nil
}

// LoadOrCreate loads the CA from dir, creating it on first use. created
// says whether a new CA was made (its trust must then be set up).
func LoadOrCreate(dir string) (ca *CA, created bool, err error) {
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
		ca, err := Load(dir)
		return ca, false, err
	}
	ca, err = Create(dir)
	return ca, err == nil, err
}

// Create makes a new CA in dir (0700), refusing to overwrite one.
func Create(dir string) (*CA, error) {
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
		return nil, fmt.Errorf("certs: a CA already exists in %s", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   fmt.Sprintf("oauthlint MITM CA %s %s", host, now.UTC().Format("2006-01-02")),
			Organization: []string{"oauthlint local CA (this machine only)"},
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, KeyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	return Load(dir)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// Leaf returns a certificate for host (a name or an IP literal) signed by
// the CA, cached for the life of the CA value. A leaf is made once however
// many connections ask for it at the same time, and outside the cache's
// lock, so that new hosts are signed in parallel.
func (ca *CA) Leaf(host string) (*tls.Certificate, error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ca.mu.Lock()
	if c, ok := ca.leaves[host]; ok && time.Now().Before(c.Leaf.NotAfter.Add(-time.Hour)) {
		ca.mu.Unlock()
		return c, nil
	}
	if m, ok := ca.minting[host]; ok {
		ca.mu.Unlock()
		<-m.done
		return m.cert, m.err
	}
	if ca.minting == nil {
		ca.minting = map[string]*minting{}
	}
	m := &minting{done: make(chan struct{})}
	ca.minting[host] = m
	ca.mu.Unlock()
	m.cert, m.err = ca.newLeaf(host)
	ca.mu.Lock()
	delete(ca.minting, host)
	if m.err == nil {
		ca.leaves[host] = m.cert
	}
	ca.mu.Unlock()
	close(m.done)
	return m.cert, m.err
}

// newLeaf signs a new certificate for host.
func (ca *CA) newLeaf(host string) (*tls.Certificate, error) {
	ca.leafKeyOnce.Do(func() {
		ca.leafKey, ca.leafKeyErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if ca.leafKeyErr == nil {
			ca.leafSPKI, ca.leafKeyErr = x509.MarshalPKIXPublicKey(&ca.leafKey.PublicKey)
		}
	})
	key, err := ca.leafKey, ca.leafKeyErr
	if err != nil {
		return nil, err
	}
	tmpl, err := ca.leafTemplate(host)
	if err != nil {
		return nil, err
	}
	var der []byte
	if ca.directLeafOK(host) {
		der, err = ca.leafDER(tmpl)
	} else {
		der, err = x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	}
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.der}, PrivateKey: key, Leaf: leaf}, nil
}

// leafTemplate is the leaf certificate for host: a new serial, valid
// from an hour ago (clocks differ) for leafValidity, at most as long as
// the CA.
func (ca *CA) leafTemplate(host string) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host, Organization: []string{leafOrganization}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	return tmpl, nil
}

// Fetch implements goproxy's CertStorage: our leaves, never goproxy's CA.
func (ca *CA) Fetch(host string, _ func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	return ca.Leaf(host)
}

// Bundle writes the system trust store plus the CA to path (PEM) for
// clients whose trust variable replaces the system roots (SSL_CERT_FILE,
// REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) and returns path.
func (ca *CA) Bundle(path string) (string, error) {
	var out []byte
	for _, f := range systemBundles {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			out = append(out, b...)
			if out[len(out)-1] != '\n' {
				out = append(out, '\n')
			}
			break
		}
	}
	out = append(out, ca.PEM()...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return "", fmt.Errorf("certs: %w", err)
	}
	return path, nil
}

// systemBundles are the usual CA bundle locations (Debian/Ubuntu, Fedora,
// Alpine, macOS Homebrew OpenSSL, SUSE).
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/cert.pem",
	"/usr/local/etc/openssl/cert.pem",
	"/etc/ssl/ca-bundle.pem",
}
