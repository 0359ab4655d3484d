package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Record types (RFC 8446 §5.1, RFC 5246 §6.2.1).
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
	recHeartbeat        = 24
)

const (
	recordHeaderLen = 5
	// maxPlaintext is 2^14; a TLS 1.2 ciphertext may add 2048 bytes
	// (RFC 5246 §6.2.3), a TLS 1.3 one 256 (RFC 8446 §5.2).
	maxPlaintext  = 1 << 14
	maxCiphertext = maxPlaintext + 2048
)

// errAuth is an authentication failure: the record's tag or MAC does not
// match, so the keys are wrong or the bytes were damaged.
var errAuth = errors.New("authentication failed")

// recordKeys protect the records of one direction.
type recordKeys struct {
	suite   *suite
	tls13   bool
	aead    cipher.AEAD
	iv      []byte // TLS 1.3 and ChaCha20: 12 bytes; TLS 1.2 GCM: 4-byte salt
	block   cipher.Block
	mac     hash.Hash
	macKey  []byte
	etm     bool // encrypt-then-MAC (RFC 7366)
	seq     uint64
	nonce   [12]byte
	aad     [13]byte
	secret  []byte // TLS 1.3 traffic secret, for KeyUpdate
	label   string // which secret: "handshake", "application", "early"
	updates int    // KeyUpdates applied
}

func newKeys13(s *suite, secret []byte, label string) (*recordKeys, error) {
	key, iv, err := trafficKeys13(s, secret)
	if err != nil {
		return nil, err
	}
	a, err := newAEAD(s, key)
	if err != nil {
		return nil, err
	}
	return &recordKeys{suite: s, tls13: true, aead: a, iv: iv, secret: secret, label: label}, nil
}

func newKeys12(s *suite, key, iv, macKey []byte, etm bool) (*recordKeys, error) {
	k := &recordKeys{suite: s, iv: iv, label: "application", etm: etm}
	switch s.kind {
	case kindGCM, kindChaCha:
		a, err := newAEAD(s, key)
		if err != nil {
			return nil, err
		}
		k.aead = a
	case kindCBC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		k.block = b
		k.mac = hmac.New(s.mac, macKey)
		k.macKey = macKey
	}
	return k, nil
}

// update applies a TLS 1.3 KeyUpdate: the next traffic secret, sequence
// numbers from zero.
func (k *recordKeys) update() (*recordKeys, error) {
	next, err := nextSecret13(k.suite, k.secret)
	if err != nil {
		return nil, err
	}
	n, err := newKeys13(k.suite, next, k.label)
	if err != nil {
		return nil, err
	}
	n.updates = k.updates + 1
	return n, nil
}

// open decrypts one record (hdr is its 5-byte header, payload the rest)
// into dst and returns the plaintext and its content type (the inner type
// for TLS 1.3). The sequence number advances only on success.
func (k *recordKeys) open(dst, hdr, payload []byte) ([]byte, byte, error) {
	if k.tls13 {
		return k.open13(dst, hdr, payload)
	}
	switch k.suite.kind {
	case kindGCM:
		return k.openGCM12(dst, hdr, payload)
	case kindChaCha:
		return k.openChaCha12(dst, hdr, payload)
	case kindCBC:
		return k.openCBC12(dst, hdr, payload)
	}
	return nil, 0, fmt.Errorf("unsupported cipher")
}

func (k *recordKeys) seqNonce() []byte {
	copy(k.nonce[:], k.iv)
	for i := 0; i < 8; i++ {
		k.nonce[4+i] ^= byte(k.seq >> (56 - 8*i))
	}
	return k.nonce[:]
}

// open13: AEAD over the whole record, header as additional data
// (RFC 8446 §5.2); the content type is the last non-zero byte.
func (k *recordKeys) open13(dst, hdr, payload []byte) ([]byte, byte, error) {
	if len(payload) < k.aead.Overhead()+1 {
		return nil, 0, fmt.Errorf("record of %d bytes is shorter than its authentication tag", len(payload))
	}
	pt, err := k.aead.Open(dst[:0], k.seqNonce(), payload, hdr)
	if err != nil {
		return nil, 0, errAuth
	}
	k.seq++
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, fmt.Errorf("decrypted record has no content type (all padding)")
	}
	return pt[:i], pt[i], nil
}

// additional data of TLS 1.2 records: seq_num + type + version + length
// (RFC 5246 §6.2.3.3).
func (k *recordKeys) aad12(hdr []byte, n int) []byte {
	binary.BigEndian.PutUint64(k.aad[:8], k.seq)
	k.aad[8], k.aad[9], k.aad[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(k.aad[11:], uint16(n))
	return k.aad[:]
}

// openGCM12: 8-byte explicit nonce after the 4-byte salt (RFC 5288 §3).
func (k *recordKeys) openGCM12(dst, hdr, payload []byte) ([]byte, byte, error) {
	if len(payload) < 8+k.aead.Overhead() {
		return nil, 0, fmt.Errorf("record of %d bytes is shorter than its nonce and tag", len(payload))
	}
	copy(k.nonce[:4], k.iv)
	copy(k.nonce[4:], payload[:8])
	ct := payload[8:]
	pt, err := k.aead.Open(dst[:0], k.nonce[:], ct, k.aad12(hdr, len(ct)-k.aead.Overhead()))
	if err != nil {
		return nil, 0, errAuth
	}
	k.seq++
	return pt, hdr[0], nil
}

// openChaCha12: the nonce is the IV XOR the sequence number (RFC 7905 §2).
func (k *recordKeys) openChaCha12(dst, hdr, payload []byte) ([]byte, byte, error) {
	if len(payload) < k.aead.Overhead() {
		return nil, 0, fmt.Errorf("record of %d bytes is shorter than its tag", len(payload))
	}
	pt, err := k.aead.Open(dst[:0], k.seqNonce(), payload, k.aad12(hdr, len(payload)-k.aead.Overhead()))
	if err != nil {
		return nil, 0, errAuth
	}
	k.seq++
	return pt, hdr[0], nil
}

// openCBC12: explicit IV, then either MAC-then-encrypt (RFC 5246
// §6.2.3.2) or encrypt-then-MAC (RFC 7366 §3). Padding and MAC are both
// checked: a record that fails either is not trusted.
func (k *recordKeys) openCBC12(dst, hdr, payload []byte) ([]byte, byte, error) {
	bs := k.block.BlockSize()
	ml := k.suite.macLen
	if k.etm {
		if len(payload) < bs+bs+ml || (len(payload)-ml)%bs != 0 {
			return nil, 0, fmt.Errorf("encrypt-then-MAC record of %d bytes is not IV + whole blocks + MAC", len(payload))
		}
		ct := payload[:len(payload)-ml]
		k.mac.Reset()
		k.mac.Write(k.aad12(hdr, len(ct)))
		k.mac.Write(ct)
		var sum [64]byte
		if !hmac.Equal(k.mac.Sum(sum[:0]), payload[len(payload)-ml:]) {
			return nil, 0, errAuth
		}
		pt := k.decryptCBC(dst, ct)
		pad := int(pt[len(pt)-1])
		if pad+1 > len(pt) {
			return nil, 0, errAuth
		}
		for _, c := range pt[len(pt)-1-pad:] {
			if int(c) != pad {
				return nil, 0, errAuth
			}
		}
		k.seq++
		return pt[:len(pt)-1-pad], hdr[0], nil
	}
	if len(payload) < bs+bs || len(payload)%bs != 0 {
		return nil, 0, fmt.Errorf("CBC record of %d bytes is not IV + whole blocks", len(payload))
	}
	pt := k.decryptCBC(dst, payload)
	pad := int(pt[len(pt)-1])
	if pad+1+ml > len(pt) {
		return nil, 0, errAuth
	}
	for _, c := range pt[len(pt)-1-pad:] {
		if int(c) != pad {
			return nil, 0, errAuth
		}
	}
	body := pt[:len(pt)-1-pad-ml]
	mac := pt[len(body) : len(body)+ml]
	k.mac.Reset()
	k.mac.Write(k.aad12(hdr, len(body)))
	k.mac.Write(body)
	var sum [64]byte
	if !hmac.Equal(k.mac.Sum(sum[:0]), mac) {
		return nil, 0, errAuth
	}
	k.seq++
	return body, hdr[0], nil
}

// decryptCBC decrypts IV || ciphertext into dst (the plaintext blocks
// without the IV).
func (k *recordKeys) decryptCBC(dst, payload []byte) []byte {
	bs := k.block.BlockSize()
	n := len(payload) - bs
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	cipher.NewCBCDecrypter(k.block, payload[:bs]).CryptBlocks(dst, payload[bs:])
	return dst
}
