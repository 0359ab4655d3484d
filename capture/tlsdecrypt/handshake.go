package tlsdecrypt

import (
	"bytes"
	"crypto/sha256"
	"errors"
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	hsHelloRequest       = 0
	hsClientHello        = 1
	hsServerHello        = 2
	hsNewSessionTicket   = 4
	hsEndOfEarlyData     = 5
	hsEncryptedExtension = 8
	hsFinished           = 20
	hsKeyUpdate          = 24
)

// Extensions read (RFC 8446 §4.2, RFC 6066, RFC 7301, RFC 7366, RFC 5077).
const (
	extServerName        = 0
	extALPN              = 16
	extEncryptThenMAC    = 22
	extSessionTicket     = 35
	extPreSharedKey      = 41
	extEarlyData         = 42
	extSupportedVersions = 43
)

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest:
// SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
var helloRetryRandom = sha256.Sum256([]byte("HelloRetryRequest"))

// clientHello is what a ClientHello tells a passive reader.
type clientHello struct {
	random     []byte
	sessionID  []byte
	sni        string
	alpn       []string
	versions   []uint16 // supported_versions
	earlyData  bool
	etm        bool
	ticket     []byte // session_ticket extension data (RFC 5077)
	psk        bool
	maxVersion uint16
}

// serverHello is what a ServerHello (or HelloRetryRequest) tells.
type serverHello struct {
	random    []byte
	sessionID []byte
	suite     uint16
	version   uint16 // negotiated (supported_versions wins)
	alpn      string
	etm       bool
	hrr       bool
}

// reader is a bounds-checked cursor over handshake bytes.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])<<8 | int(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) vec8() []byte  { return r.bytes(r.u8()) }
func (r *reader) vec16() []byte { return r.bytes(r.u16()) }

// parseClientHello parses a ClientHello body (after the 4-byte header).
func parseClientHello(body []byte) (*clientHello, error) {
	r := &reader{b: body}
	ch := &clientHello{}
	ch.maxVersion = uint16(r.u16())
	ch.random = bytes.Clone(r.bytes(32))
	ch.sessionID = bytes.Clone(r.vec8())
	r.vec16() // cipher suites
	r.vec8()  // compression methods
	if r.bad {
		return nil, errors.New("malformed ClientHello")
	}
	if len(r.b) == 0 {
		return ch, nil // no extensions (SSL 3.0 style)
	}
	exts := &reader{b: r.vec16()}
	if r.bad {
		return nil, errors.New("malformed ClientHello extensions")
	}
	for len(exts.b) > 0 {
		typ := exts.u16()
		e := &reader{b: exts.vec16()}
		if exts.bad {
			return nil, errors.New("malformed ClientHello extension")
		}
		switch typ {
		case extServerName:
			list := &reader{b: e.vec16()}
			for len(list.b) > 0 && !list.bad {
				kind := list.u8()
				name := list.vec16()
				if kind == 0 && ch.sni == "" {
					ch.sni = string(name)
				}
			}
		case extALPN:
			list := &reader{b: e.vec16()}
			for len(list.b) > 0 && !list.bad {
				if p := list.vec8(); len(p) > 0 {
					ch.alpn = append(ch.alpn, string(p))
				}
			}
		case extSupportedVersions:
			list := &reader{b: e.vec8()}
			for len(list.b) >= 2 {
				ch.versions = append(ch.versions, uint16(list.u16()))
			}
		case extEarlyData:
			ch.earlyData = true
		case extEncryptThenMAC:
			ch.etm = true
		case extSessionTicket:
			ch.ticket = bytes.Clone(e.b)
		case extPreSharedKey:
			ch.psk = true
		}
	}
	return ch, nil
}

// parseServerHello parses a ServerHello body.
func parseServerHello(body []byte) (*serverHello, error) {
	r := &reader{b: body}
	sh := &serverHello{}
	sh.version = uint16(r.u16())
	sh.random = bytes.Clone(r.bytes(32))
	sh.sessionID = bytes.Clone(r.vec8())
	sh.suite = uint16(r.u16())
	r.u8() // compression method
	if r.bad {
		return nil, errors.New("malformed ServerHello")
	}
	sh.hrr = bytes.Equal(sh.random, helloRetryRandom[:])
	if len(r.b) == 0 {
		return sh, nil
	}
	exts := &reader{b: r.vec16()}
	if r.bad {
		return nil, errors.New("malformed ServerHello extensions")
	}
	for len(exts.b) > 0 {
		typ := exts.u16()
		e := &reader{b: exts.vec16()}
		if exts.bad {
			return nil, errors.New("malformed ServerHello extension")
		}
		switch typ {
		case extSupportedVersions:
			if v := e.u16(); !e.bad {
				sh.version = uint16(v)
			}
		case extALPN:
			list := &reader{b: e.vec16()}
			if p := list.vec8(); !list.bad {
				sh.alpn = string(p)
			}
		case extEncryptThenMAC:
			sh.etm = true
		}
	}
	return sh, nil
}

// encryptedExtensions is what TLS 1.3 EncryptedExtensions tell.
type encryptedExtensions struct {
	alpn      string
	earlyData bool
}

func parseEncryptedExtensions(body []byte) (*encryptedExtensions, error) {
	r := &reader{b: body}
	exts := &reader{b: r.vec16()}
	if r.bad {
		return nil, errors.New("malformed EncryptedExtensions")
	}
	ee := &encryptedExtensions{}
	for len(exts.b) > 0 {
		typ := exts.u16()
		e := &reader{b: exts.vec16()}
		if exts.bad {
			return nil, errors.New("malformed EncryptedExtensions")
		}
		switch typ {
		case extALPN:
			list := &reader{b: e.vec16()}
			if p := list.vec8(); !list.bad {
				ee.alpn = string(p)
			}
		case extEarlyData:
			ee.earlyData = true
		}
	}
	return ee, nil
}

// parseNewSessionTicket12 returns the ticket of a TLS 1.2
// NewSessionTicket (RFC 5077 §3.3).
func parseNewSessionTicket12(body []byte) []byte {
	r := &reader{b: body}
	r.bytes(4) // lifetime hint
	t := r.vec16()
	if r.bad {
		return nil
	}
	return bytes.Clone(t)
}
