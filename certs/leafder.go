package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"net"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The leaf a proxy mints for each new host is written here directly, in
// DER, rather than by x509.CreateCertificate: that function marshals the
// certificate by reflection and then verifies the signature it just made
// (against a misbehaving crypto.Signer; the CA key here is an in-memory
// ECDSA key), and the verification costs more than the signature. For a
// proxy that meets a new host per connection, minting the leaf was 7–10 %
// of each connection's CPU, most of it in CreateCertificate. The
// certificate is the one CreateCertificate makes from leafTemplate's
// template (leafder_test.go compares them byte for byte and verifies the
// chain); hosts and CAs it does not cover go through CreateCertificate.

var (
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidOrganization    = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidCommonName      = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidExtKeyUsage     = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKeyUsage        = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidAuthorityKeyID  = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidSubjectAltName  = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidServerAuth      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	leafOrganization   = "oauthlint MITM"
	keyUsageDigitalSig = []byte{0x07, 0x80} // BIT STRING: 7 unused bits, digitalSignature
	tagVersion         = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagExtensions      = cbasn1.Tag(3).Constructed().ContextSpecific()
	tagKeyID           = cbasn1.Tag(0).ContextSpecific()
	tagSANDNSName      = cbasn1.Tag(2).ContextSpecific()
	tagSANIPAddress    = cbasn1.Tag(7).ContextSpecific()
)

// directLeafOK reports whether leafDER can write the leaf for host with
// this CA: an ECDSA P-256 CA key (the CA oauthlint creates), and a host
// that is an IP address or a plain DNS name in printable ASCII (anything
// else goes through CreateCertificate, which checks and rejects as it
// always did).
func (ca *CA) directLeafOK(host string) bool {
	if ca.key == nil || ca.key.Curve != elliptic.P256() || host == "" || len(host) > 253 {
		return false
	}
	if net.ParseIP(host) != nil {
		return true
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// leafDER writes and signs the certificate CreateCertificate makes from
// tmpl (a leafTemplate of a host directLeafOK accepts) for the leaves'
// key.
func (ca *CA) leafDER(tmpl *x509.Certificate) ([]byte, error) {
	algorithm := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
	}
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(tagVersion, func(b *cryptobyte.Builder) { b.AddASN1Int64(2) }) // v3
		b.AddASN1BigInt(tmpl.SerialNumber)
		algorithm(b)
		b.AddBytes(ca.Cert.RawSubject) // issuer
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, tmpl.NotBefore)
			addTime(b, tmpl.NotAfter)
		})
		// Subject: O=oauthlint MITM, CN=host, in pkix.Name's order.
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addRDN(b, oidOrganization, leafOrganization)
			addRDN(b, oidCommonName, tmpl.Subject.CommonName)
		})
		b.AddBytes(ca.leafSPKI)
		b.AddASN1(tagExtensions, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				addExtension(b, oidKeyUsage, true, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(keyUsageDigitalSig) })
				})
				addExtension(b, oidExtKeyUsage, false, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidServerAuth) })
				})
				if len(ca.Cert.SubjectKeyId) > 0 {
					addExtension(b, oidAuthorityKeyID, false, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(tagKeyID, func(b *cryptobyte.Builder) { b.AddBytes(ca.Cert.SubjectKeyId) })
						})
					})
				}
				addExtension(b, oidSubjectAltName, false, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						for _, name := range tmpl.DNSNames {
							b.AddASN1(tagSANDNSName, func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
						}
						for _, ip := range tmpl.IPAddresses {
							if v4 := ip.To4(); v4 != nil {
								ip = v4
							}
							b.AddASN1(tagSANIPAddress, func(b *cryptobyte.Builder) { b.AddBytes(ip) })
						}
					})
				})
			})
		})
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(tbsDER)
	sig, err := ecdsa.SignASN1(rand.Reader, ca.key, digest[:])
	if err != nil {
		return nil, err
	}
	var cert cryptobyte.Builder
	cert.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		algorithm(b)
		b.AddASN1BitString(sig)
	})
	return cert.Bytes()
}

// addTime writes a validity time as RFC 5280 §4.1.2.5 asks: UTCTime
// from 1950 through 2049, GeneralizedTime otherwise, in UTC, to the
// second.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if y := t.Year(); y >= 1950 && y < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
}

// addRDN writes a relative distinguished name of one attribute, as a
// PrintableString when the value is one (as encoding/asn1 chooses), else
// as a UTF8String.
func addRDN(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, value string) {
	tag := cbasn1.PrintableString
	for i := 0; i < len(value); i++ {
		if !isPrintable(value[i]) {
			tag = cbasn1.UTF8String
			break
		}
	}
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(value)) })
		})
	})
}

// isPrintable is the PrintableString alphabet as encoding/asn1 marshals
// it (without the '*' and '&' it accepts when parsing).
func isPrintable(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == ' ' || c == '\'' || c == '(' || c == ')' || c == '+' || c == ',' || c == '-' || c == '.' ||
		c == '/' || c == ':' || c == '=' || c == '?'
}

func addExtension(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, critical bool, value func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}
