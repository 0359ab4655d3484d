package pcap

import "errors"

// parseClientHello is a light reader of the SNI and first ALPN protocol
// of a ClientHello. The reader itself now takes them from tlsdecrypt's
// handshake parser; this one is kept for the FuzzClientHello target and
// TestParseClientHello, which pin its behaviour on split and damaged
// hellos.

var errNeedMore = errors.New("need more bytes")

// parseClientHello extracts the SNI host name and the first ALPN protocol
// from the TLS records at the start of a client stream (RFC 8446 §4.1.2,
// RFC 6066 §3, RFC 7301 §3.1). It returns errNeedMore until the whole
// ClientHello is there.
func parseClientHello(b []byte) (sni, alpn string, err error) {
	// Gather the handshake bytes from consecutive handshake records.
	var hs []byte
	cut := false // a non-handshake record follows: no more handshake bytes
	for len(b) > 0 {
		// The content type first: a stream that does not start with a
		// handshake record is no ClientHello however many bytes follow.
		if b[0] != 0x16 {
			if hs == nil {
				return "", "", errors.New("not a TLS handshake record")
			}
			cut = true
			break
		}
		if len(b) < 5 {
			return "", "", errNeedMore
		}
		n := int(b[3])<<8 | int(b[4])
		if len(b) < 5+n {
			hs = append(hs, b[5:]...)
			if len(hs) >= 4 && len(hs) >= 4+int(hs[1])<<16|int(hs[2])<<8|int(hs[3]) {
				break
			}
			return "", "", errNeedMore
		}
		hs = append(hs, b[5:5+n]...)
		b = b[5+n:]
		if len(hs) >= 4 && len(hs) >= 4+(int(hs[1])<<16|int(hs[2])<<8|int(hs[3])) {
			break
		}
	}
	more := errNeedMore
	if cut {
		more = errors.New("ClientHello cut short by a non-handshake record")
	}
	if len(hs) < 4 {
		return "", "", more
	}
	if hs[0] != 1 {
		return "", "", errors.New("first handshake message is not a ClientHello")
	}
	n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
	if len(hs) < 4+n {
		return "", "", more
	}
	p := hs[4 : 4+n]
	// legacy_version(2) random(32)
	if len(p) < 34 {
		return "", "", errors.New("short ClientHello")
	}
	p = p[34:]
	skip := func(lenBytes int) bool {
		if len(p) < lenBytes {
			return false
		}
		l := 0
		for i := 0; i < lenBytes; i++ {
			l = l<<8 | int(p[i])
		}
		if len(p) < lenBytes+l {
			return false
		}
		p = p[lenBytes+l:]
		return true
	}
	if !skip(1) || !skip(2) || !skip(1) { // session id, cipher suites, compression
		return "", "", errors.New("malformed ClientHello")
	}
	if len(p) < 2 {
		return "", "", nil // no extensions
	}
	extLen := int(p[0])<<8 | int(p[1])
	p = p[2:]
	if len(p) < extLen {
		return "", "", errors.New("malformed ClientHello extensions")
	}
	p = p[:extLen]
	for len(p) >= 4 {
		typ := int(p[0])<<8 | int(p[1])
		l := int(p[2])<<8 | int(p[3])
		if len(p) < 4+l {
			break
		}
		e := p[4 : 4+l]
		p = p[4+l:]
		switch typ {
		case 0: // server_name
			if len(e) >= 5 && e[2] == 0 {
				nl := int(e[3])<<8 | int(e[4])
				if len(e) >= 5+nl {
					sni = string(e[5 : 5+nl])
				}
			}
		case 16: // application_layer_protocol_negotiation
			if len(e) >= 3 {
				pl := int(e[2])
				if len(e) >= 3+pl {
					alpn = string(e[3 : 3+pl])
				}
			}
		}
	}
	return sni, alpn, nil
}
