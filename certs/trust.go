package certs

import (
	"fmt"
	"strings"
)

// TrustHints tells people how to make each kind of client trust the CA at
// caPath, for the live proxy at proxyURL.
func TrustHints(caPath, proxyURL string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("oauthlint's CA certificate: %s\n", caPath)
	w("Route the client through the proxy and make it trust this CA:\n\n")
	w("  Node.js        HTTPS_PROXY=%s NODE_EXTRA_CA_CERTS=%s node client.js\n", proxyURL, caPath)
	w("                 (Node's fetch ignores HTTPS_PROXY before Node 24; 'oauthlint capture -- node client.js' sets it up)\n")
	w("  Python         HTTPS_PROXY=%s REQUESTS_CA_BUNDLE=<bundle> SSL_CERT_FILE=<bundle> python client.py\n", proxyURL)
	w("  curl           curl --proxy %s --cacert %s https://…\n", proxyURL, caPath)
	w("  Go             HTTPS_PROXY=%s SSL_CERT_FILE=<bundle> ./client\n", proxyURL)
	w("                 (<bundle> = the system roots plus this CA; 'oauthlint capture -- CMD' writes one for you)\n")
	w("  Debian/Ubuntu  sudo cp %s /usr/local/share/ca-certificates/oauthlint.crt && sudo update-ca-certificates\n", caPath)
	w("  macOS          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s\n", caPath)
	w("  Windows        certutil -addstore -f ROOT %s\n", caPath)
	w("  Firefox        Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import\n")
	w("  Chrome/Chromium  chrome --proxy-server=%s --ignore-certificate-errors-spki-list=<spki> or import under Settings → Privacy and security → Security → Manage certificates\n", proxyURL)
	w("\nRemove the trust again when you are done: this CA can impersonate any site to this machine.\n")
	return b.String()
}
