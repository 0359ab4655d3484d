package tlsdecrypt

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
)

// Sealer encrypts records as a TLS endpoint does, with the same key
// derivations the decryptor uses. oauthlint never takes part in TLS; the
// sealer exists to write test captures and benchmarks (internal/tlsgen),
// which tshark then decrypts independently with the same key log.
type Sealer struct {
	k       *recordKeys
	version uint16
}

// NewSealer13 returns a TLS 1.3 record sealer for a traffic secret.
func NewSealer13(suiteID uint16, secret []byte) (*Sealer, error) {
	s := suites[suiteID]
	if s == nil || !s.tls13 {
		return nil, fmt.Errorf("%s is not a TLS 1.3 suite", SuiteName(suiteID))
	}
	k, err := newKeys13(s, secret, "sealer")
	if err != nil {
		return nil, err
	}
	return &Sealer{k: k, version: 0x0303}, nil
}

// NewSealers12 returns the client's and the server's TLS 1.2 record
// sealers for a master secret (etm: encrypt-then-MAC for CBC suites).
func NewSealers12(suiteID uint16, master, clientRandom, serverRandom []byte, etm bool) (client, server *Sealer, err error) {
	s := suites[suiteID]
	if s == nil || s.tls13 {
		return nil, nil, fmt.Errorf("%s is not a TLS 1.2 suite", SuiteName(suiteID))
	}
	kb := deriveKeyBlock12(s, master, clientRandom, serverRandom)
	ck, err := newKeys12(s, kb.clientKey, kb.clientIV, kb.clientMAC, etm && s.kind == kindCBC)
	if err != nil {
		return nil, nil, err
	}
	sk, err := newKeys12(s, kb.serverKey, kb.serverIV, kb.serverMAC, etm && s.kind == kindCBC)
	if err != nil {
		return nil, nil, err
	}
	return &Sealer{k: ck, version: 0x0303}, &Sealer{k: sk, version: 0x0303}, nil
}

// Update applies a TLS 1.3 KeyUpdate to the sealer.
func (s *Sealer) Update() error {
	k, err := s.k.update()
	if err != nil {
		return err
	}
	s.k = k
	return nil
}

// Seal appends to dst one record of content type typ holding pt (at
// most 16 KiB).
func (s *Sealer) Seal(dst []byte, typ byte, pt []byte) []byte {
	k := s.k
	if k.tls13 {
		n := len(pt) + 1 + k.aead.Overhead()
		hdr := [5]byte{recApplicationData, 3, 3, byte(n >> 8), byte(n)}
		dst = append(dst, hdr[:]...)
		inner := append(append(make([]byte, 0, len(pt)+1), pt...), typ)
		dst = k.aead.Seal(dst, k.seqNonce(), inner, hdr[:])
		k.seq++
		return dst
	}
	hdr := []byte{typ, byte(s.version >> 8), byte(s.version)}
	switch k.suite.kind {
	case kindGCM:
		// The explicit nonce is the sequence number, as most stacks do.
		n := 8 + len(pt) + k.aead.Overhead()
		dst = append(dst, typ, hdr[1], hdr[2], byte(n>>8), byte(n))
		var explicit [8]byte
		binary.BigEndian.PutUint64(explicit[:], k.seq)
		dst = append(dst, explicit[:]...)
		copy(k.nonce[:4], k.iv)
		copy(k.nonce[4:], explicit[:])
		dst = k.aead.Seal(dst, k.nonce[:], pt, k.aad12(hdr, len(pt)))
	case kindChaCha:
		n := len(pt) + k.aead.Overhead()
		dst = append(dst, typ, hdr[1], hdr[2], byte(n>>8), byte(n))
		dst = k.aead.Seal(dst, k.seqNonce(), pt, k.aad12(hdr, len(pt)))
	case kindCBC:
		bs := k.block.BlockSize()
		iv := make([]byte, bs)
		binary.BigEndian.PutUint64(iv[bs-8:], k.seq^0x5a5a5a5a5a5a5a5a)
		body := append([]byte(nil), pt...)
		if !k.etm {
			k.mac.Reset()
			k.mac.Write(k.aad12([]byte{typ, hdr[1], hdr[2]}, len(pt)))
			k.mac.Write(pt)
			body = k.mac.Sum(body)
		}
		pad := bs - (len(body)+1)%bs
		for i := 0; i <= pad; i++ {
			body = append(body, byte(pad))
		}
		ct := make([]byte, len(body))
		cipher.NewCBCEncrypter(k.block, iv).CryptBlocks(ct, body)
		payload := append(iv, ct...)
		if k.etm {
			k.mac.Reset()
			k.mac.Write(k.aad12([]byte{typ, hdr[1], hdr[2]}, len(payload)))
			k.mac.Write(payload)
			payload = k.mac.Sum(payload)
		}
		n := len(payload)
		dst = append(dst, typ, hdr[1], hdr[2], byte(n>>8), byte(n))
		dst = append(dst, payload...)
	}
	k.seq++
	return dst
}
