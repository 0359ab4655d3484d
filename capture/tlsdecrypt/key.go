package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Key derivations, written once:
//
//   - TLS 1.3 (RFC 8446 §7.1, §7.3): HKDF-Expand-Label(secret, "key"/"iv")
//     gives each direction's record key and IV from the logged traffic
//     secret; a KeyUpdate replaces the secret with
//     HKDF-Expand-Label(secret, "traffic upd", "", Hash.length).
//   - TLS 1.2 (RFC 5246 §5, §6.3): the PRF P_hash expands the logged
//     master secret into the key block (MAC keys, encryption keys, IVs).

// cipherKind is how records are protected.
type cipherKind uint8

const (
	kindGCM cipherKind = iota + 1
	kindChaCha
	kindCBC
)

// suite describes a cipher suite this package can read.
type suite struct {
	id    uint16
	name  string
	tls13 bool
	kind  cipherKind
	// keyLen is the encryption key length; ivLen the implicit IV from the
	// key block (TLS 1.2 GCM: the 4-byte salt; ChaCha20 and TLS 1.3: 12).
	keyLen int
	ivLen  int
	// hash is the PRF / HKDF hash; mac the CBC record MAC hash.
	hash   func() hash.Hash
	mac    func() hash.Hash
	macLen int
}

func sha384() hash.Hash { return sha512.New384() }

// suites lists the suites by id. Key exchange does not matter once the
// master secret is logged, so RSA, DHE and ECDHE variants of a bulk
// cipher share one entry shape.
var suites = map[uint16]*suite{}

func init() {
	add := func(id uint16, name string, tls13 bool, kind cipherKind, keyLen, ivLen int, h func() hash.Hash, mac func() hash.Hash, macLen int) {
		suites[id] = &suite{id: id, name: name, tls13: tls13, kind: kind, keyLen: keyLen, ivLen: ivLen, hash: h, mac: mac, macLen: macLen}
	}
	// TLS 1.3 (RFC 8446 §B.4).
	add(0x1301, "TLS_AES_128_GCM_SHA256", true, kindGCM, 16, 12, sha256.New, nil, 0)
	add(0x1302, "TLS_AES_256_GCM_SHA384", true, kindGCM, 32, 12, sha384, nil, 0)
	add(0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, kindChaCha, 32, 12, sha256.New, nil, 0)
	// TLS 1.2 AEAD (RFC 5288, RFC 5289, RFC 7905).
	for _, s := range []struct {
		id   uint16
		name string
	}{
		{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"}, {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
		{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}, {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
	} {
		add(s.id, s.name, false, kindGCM, 16, 4, sha256.New, nil, 0)
	}
	for _, s := range []struct {
		id   uint16
		name string
	}{
		{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"}, {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
		{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}, {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
	} {
		add(s.id, s.name, false, kindGCM, 32, 4, sha384, nil, 0)
	}
	add(0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, kindChaCha, 32, 12, sha256.New, nil, 0)
	add(0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, kindChaCha, 32, 12, sha256.New, nil, 0)
	add(0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, kindChaCha, 32, 12, sha256.New, nil, 0)
	// TLS 1.2 CBC with HMAC (RFC 5246, RFC 5289); the PRF is SHA-256
	// unless the suite names SHA-384.
	for _, s := range []struct {
		id     uint16
		name   string
		keyLen int
		mac    func() hash.Hash
		macLen int
		prf    func() hash.Hash
	}{
		{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, 20, sha256.New},
		{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, 20, sha256.New},
		{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, 32, sha256.New},
		{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", 32, sha256.New, 32, sha256.New},
		{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, 20, sha256.New},
		{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, 20, sha256.New},
		{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, 32, sha256.New},
		{0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", 32, sha256.New, 32, sha256.New},
		{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 16, sha1.New, 20, sha256.New},
		{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 32, sha1.New, 20, sha256.New},
		{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, 20, sha256.New},
		{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, 20, sha256.New},
		{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, 32, sha256.New},
		{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 32, sha384, 48, sha384},
		{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, 32, sha256.New},
		{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 32, sha384, 48, sha384},
	} {
		add(s.id, s.name, false, kindCBC, s.keyLen, 16, s.prf, s.mac, s.macLen)
	}
}

// SuiteName names a cipher suite id ("TLS_AES_128_GCM_SHA256"), with the
// hex id when the suite is not one this package reads.
func SuiteName(id uint16) string {
	if s := suites[id]; s != nil {
		return s.name
	}
	return fmt.Sprintf("0x%04X", id)
}

// VersionName names a protocol version as crypto/tls does ("TLS 1.3").
func VersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04X", v)
}

// hkdfExpandLabel is HKDF-Expand-Label (RFC 8446 §7.1) with an empty
// context, the only form record keys need.
func hkdfExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	full := "tls13 " + label
	if len(full) > 255 || len(context) > 255 {
		return nil, fmt.Errorf("HKDF label too long")
	}
	info := make([]byte, 0, 4+len(full)+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	return hkdf.Expand(h, secret, string(info), length)
}

// trafficKeys13 derives a TLS 1.3 record key and IV from a traffic secret.
func trafficKeys13(s *suite, secret []byte) (key, iv []byte, err error) {
	if len(secret) != s.hash().Size() {
		return nil, nil, fmt.Errorf("the logged secret is %d bytes, but %s needs %d (key log from another connection?)", len(secret), s.name, s.hash().Size())
	}
	if key, err = hkdfExpandLabel(s.hash, secret, "key", nil, s.keyLen); err != nil {
		return nil, nil, err
	}
	iv, err = hkdfExpandLabel(s.hash, secret, "iv", nil, 12)
	return key, iv, err
}

// nextSecret13 is the traffic secret after a KeyUpdate (RFC 8446 §7.2).
func nextSecret13(s *suite, secret []byte) ([]byte, error) {
	return hkdfExpandLabel(s.hash, secret, "traffic upd", nil, s.hash().Size())
}

// prf12 is the TLS 1.2 PRF: P_hash(secret, label + seed) (RFC 5246 §5).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	mac := hmac.New(h, secret)
	out := make([]byte, 0, n+mac.Size())
	mac.Write(ls)
	a := mac.Sum(nil) // A(1)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// keyBlock12 are the TLS 1.2 record keys of both directions
// (RFC 5246 §6.3): client MAC, server MAC, client key, server key,
// client IV, server IV, in that order in the PRF output.
type keyBlock12 struct {
	clientMAC, serverMAC []byte
	clientKey, serverKey []byte
	clientIV, serverIV   []byte
}

func deriveKeyBlock12(s *suite, master, clientRandom, serverRandom []byte) keyBlock12 {
	macLen := 0
	ivLen := s.ivLen
	if s.kind == kindCBC {
		macLen = s.macLen
		ivLen = 0 // TLS 1.1+ CBC records carry an explicit IV
	}
	n := 2*macLen + 2*s.keyLen + 2*ivLen
	seed := append(append([]byte(nil), serverRandom...), clientRandom...)
	kb := prf12(s.hash, master, "key expansion", seed, n)
	var k keyBlock12
	take := func(l int) []byte { b := kb[:l:l]; kb = kb[l:]; return b }
	k.clientMAC, k.serverMAC = take(macLen), take(macLen)
	k.clientKey, k.serverKey = take(s.keyLen), take(s.keyLen)
	k.clientIV, k.serverIV = take(ivLen), take(ivLen)
	return k
}

// newAEAD builds the record cipher of an AEAD suite.
func newAEAD(s *suite, key []byte) (cipher.AEAD, error) {
	switch s.kind {
	case kindGCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	case kindChaCha:
		return chacha20poly1305.New(key)
	}
	return nil, fmt.Errorf("%s is not an AEAD suite", s.name)
}
