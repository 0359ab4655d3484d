package pcap

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// tlsConn handles a TLS connection. Without keys the bytes cannot be read,
// so it only takes the server name (SNI) and ALPN from the ClientHello and
// says once per connection what was skipped. A decryptor (issue: --keylog)
// will replace it: it will parse the records of both directions, derive
// the keys from the handshake, and feed the plaintext to an httpConn (or
// an HTTP/2 parser when ALPN says h2) through the connHandler interface.
type tlsConn struct {
	s         *stream
	client    int
	midstream bool
	hello     []byte // client bytes collected until the ClientHello is complete
	need      int    // bytes needed before parsing is worth trying
	reported  bool
	first     pktRef
	sni, alpn string
}

// maxHello bounds the bytes collected for a ClientHello (post-quantum key
// shares make them a few kilobytes; more is not a ClientHello we can use).
const maxHello = 64 << 10

func newTLSConn(s *stream, client int, midstream bool) *tlsConn {
	return &tlsConn{s: s, client: client, midstream: midstream}
}

func (t *tlsConn) data(dir int, b []byte, at pktRef) {
	if t.first.frame == 0 {
		t.first = at
	}
	if t.reported || dir != t.client {
		return
	}
	if t.midstream {
		t.report(at)
		return
	}
	t.hello = append(t.hello, b...)
	if len(t.hello) < t.need && len(t.hello) < maxHello {
		return
	}
	t.need = tlsRecordsNeed(t.hello)
	if len(t.hello) < t.need && len(t.hello) < maxHello {
		return
	}
	sni, alpn, err := parseClientHello(t.hello)
	if errors.Is(err, errNeedMore) && len(t.hello) < maxHello {
		return
	}
	t.sni, t.alpn = sni, alpn
	t.report(t.first)
}

func (t *tlsConn) gap(dir int, n int, at pktRef) {
	if dir == t.client {
		t.report(at)
	}
}

func (t *tlsConn) end(dir int, why endReason, at pktRef) {}

func (t *tlsConn) finish(why endReason, at pktRef) { t.report(at) }

func (t *tlsConn) report(at pktRef) {
	if t.reported {
		return
	}
	t.reported = true
	t.hello = nil
	if t.first.frame == 0 {
		t.first = at
	}
	server := t.s.c.ep[1-t.client]
	host, port := t.sni, server.Port()
	via := ""
	if t.s.tunnelTo != "" {
		// Inside a CONNECT tunnel the peer is the proxy; name the target.
		via = " through the proxy at " + server.String()
		if h, p, err := net.SplitHostPort(t.s.tunnelTo); err == nil {
			if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
				port = uint16(n)
			}
			if host == "" {
				host = h
			}
		}
	}
	if host == "" {
		host = t.s.r.hostName(server.Addr())
	}
	target := server.String()
	if host != "" {
		target = netJoin(printableHost(host), port)
	}
	target += via
	what := "encrypted connection"
	if t.midstream {
		what = "encrypted connection (its handshake was not captured)"
	}
	if t.alpn != "" {
		what += " (ALPN " + t.alpn + ")"
	}
	r := t.s.r
	r.tlsConns++
	if r.tlsConns > maxTLSWarnings {
		// Past the first connections a summary is more useful than a
		// line per connection (a browser opens hundreds).
		if len(r.tlsMore) < 10 && host != "" && !contains(r.tlsMore, host) {
			r.tlsMore = append(r.tlsMore, printableHost(host))
		}
		return
	}
	r.warn(t.first.frame, t.s.c.connString(), fmt.Sprintf("%s to %s at %s: no TLS keys; decryption arrives with --keylog", what, target, tsString(t.first.ts)))
}

// maxTLSWarnings is how many encrypted connections get a warning of
// their own; the rest are summed up in one.
const maxTLSWarnings = 20

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func netJoin(host string, port uint16) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}

var errNeedMore = errors.New("need more bytes")

// tlsRecordsNeed returns how many bytes b must hold to end on a record
// boundary, so that parsing is only tried when a record completes (linear
// time however the bytes trickle in).
func tlsRecordsNeed(b []byte) int {
	p := 0
	for p+5 <= len(b) {
		p += 5 + (int(b[p+3])<<8 | int(b[p+4]))
	}
	if p < len(b) {
		return p + 5 // a partial record header
	}
	return p // complete records (parse now), or the end of a partial one
}

// parseClientHello extracts the SNI host name and the first ALPN protocol
// from the TLS records at the start of a client stream (RFC 8446 §4.1.2,
// RFC 6066 §3, RFC 7301 §3.1). It returns errNeedMore until the whole
// ClientHello is there.
func parseClientHello(b []byte) (sni, alpn string, err error) {
	// Gather the handshake bytes from consecutive handshake records.
	var hs []byte
	for len(b) > 0 {
		if len(b) < 5 {
			return "", "", errNeedMore
		}
		if b[0] != 0x16 {
			if hs == nil {
				return "", "", errors.New("not a TLS handshake record")
			}
			break
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
	if len(hs) < 4 {
		return "", "", errNeedMore
	}
	if hs[0] != 1 {
		return "", "", errors.New("first handshake message is not a ClientHello")
	}
	n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
	if len(hs) < 4+n {
		return "", "", errNeedMore
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

// printableHost keeps a server name from the wire safe to print.
func printableHost(h string) string {
	if len(h) > 253 {
		h = h[:253]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '?'
		}
		return r
	}, h)
}
