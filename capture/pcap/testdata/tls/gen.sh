#!/usr/bin/env bash
# Records the TLS test captures of this directory: real clients (Go,
# curl, Node, OpenSSL, headless Chromium) against a Go HTTPS server (and
# OpenSSL's s_server for encrypt-then-MAC) on loopback, captured with
# tcpdump, each with the key log its client wrote.
#
#   capture/pcap/testdata/tls/gen.sh          # all scenarios
#   ONLY=curl-tls13-aes256-h2 capture/pcap/testdata/tls/gen.sh
#
# Needs tcpdump, curl, node, openssl, chromium, editcap and root (for
# tcpdump on lo). Every file NAME.pcap has NAME.keys beside it; the
# tests read them without any of these tools.
set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$DIR/../../../.." && pwd)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=8443
SSLPORT=8444

(cd "$ROOT" && go build -o "$WORK/gen" ./capture/pcap/testdata/tls/gen)

start_server() {
	"$WORK/gen" server -addr 127.0.0.1:$PORT "$@" &
	SERVER=$!
	for _ in $(seq 50); do
		if curl -sk -o /dev/null https://127.0.0.1:$PORT/ 2>/dev/null; then return; fi
		sleep 0.1
	done
	echo "server did not start" >&2
	exit 1
}

stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

# record NAME CMD...: captures the loopback traffic of CMD into NAME.pcap,
# with the key log the command writes to $KEYS.
record() {
	local name=$1
	shift
	if [[ -n ${ONLY:-} && $ONLY != "$name" ]]; then return; fi
	echo "== $name" >&2
	KEYS="$WORK/$name.keys"
	: >"$KEYS"
	tcpdump -i lo -s 0 -U -w "$WORK/$name.pcap" "tcp port $PORT or tcp port $SSLPORT" 2>/dev/null &
	local td=$!
	sleep 1.5 # tcpdump needs a moment before it captures
	KEYS=$KEYS "$@"
	sleep 1
	kill -INT $td
	wait $td || true
	cp "$WORK/$name.pcap" "$DIR/$name.pcap"
	cp "$KEYS" "$DIR/$name.keys"
}

goclient() { "$WORK/gen" client -url https://127.0.0.1:$PORT -keylog "$KEYS" "$@"; }
# Keep the requests identical for every client: an MCP call without a
# token (401), metadata, the authorization request, the token request,
# the MCP call with the token.
AUTHZ='/authorize?response_type=code&client_id=demo&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback&state=af0ifjsldkj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256'
TOKEN='grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback&client_id=demo&code_verifier=dBjftJeZ4CVP-mJ92K1s-QQ4cm6Z8b4v3yZ0xW9J3nc'
curlflow() {
	local u=https://127.0.0.1:$PORT
	# --next keeps the connection but resets the options: -d applies to
	# the token request only.
	SSLKEYLOGFILE=$KEYS curl -sk "$@" -o /dev/null "$u/mcp" -o /dev/null "$u/.well-known/oauth-authorization-server" -o /dev/null "$u$AUTHZ" \
		--next -sk "$@" -o /dev/null -d "$TOKEN" "$u/token" \
		--next -sk "$@" -o /dev/null -H "Authorization: Bearer 2YotnFZFEjr1zCsicMWpAA" "$u/mcp"
}

start_server
record go-tls13-h2 goclient -version 1.3 -h2
record go-tls13-h1 goclient -version 1.3
record go-tls12-ecdsa-aes128gcm-h1 goclient -version 1.2 -suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
record go-tls12-rsa-aes256gcm-h2 goclient -version 1.2 -suite TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 -h2
record go-tls12-chacha20-h2 goclient -version 1.2 -suite TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 -h2
record go-tls12-cbc-sha-h1 goclient -version 1.2 -suite TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
record go-tls12-cbc-sha256-h1 goclient -version 1.2 -suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
record curl-tls13-aes256-h2 curlflow --http2 --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384
record curl-tls13-chacha20-h1 curlflow --http1.1 --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256
record curl-tls12-aes128gcm-h2 curlflow --http2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256

# Node: HTTP/1.1 and HTTP/2 clients with --tls-keylog.
nodeflow() {
	NODE_TLS_REJECT_UNAUTHORIZED=0 NODE_OPTIONS="--tls-keylog=$KEYS" node "$DIR/gen/client.mjs" "https://127.0.0.1:$PORT" "$@" 2>/dev/null
}
record node-tls13-h1 nodeflow h1
record node-tls13-h2 nodeflow h2

# OpenSSL: a TLS 1.3 KeyUpdate in each direction between two requests
# (s_client's K command asks the server to update its keys too).
keyupdate() {
	{
		printf 'GET /before-keyupdate HTTP/1.1\r\nHost: as.oauthlint.test\r\n\r\n'
		sleep 0.5
		printf 'K\n'
		sleep 0.5
		printf 'GET /after-keyupdate HTTP/1.1\r\nHost: as.oauthlint.test\r\nConnection: close\r\n\r\n'
		sleep 0.5
	} | openssl s_client -connect 127.0.0.1:$PORT -tls1_3 -alpn http/1.1 -keylogfile "$KEYS" >/dev/null 2>&1 || true
}
record openssl-tls13-keyupdate keyupdate

# Headless Chromium: HTTP/2, the browser's own TLS stack (BoringSSL).
chromium_flow() {
	SSLKEYLOGFILE=$KEYS timeout 30 chromium --headless --no-sandbox --disable-gpu --ignore-certificate-errors \
		--user-data-dir="$WORK/chrome" --dump-dom "https://127.0.0.1:$PORT$AUTHZ" >/dev/null 2>&1 || true
}
record chromium-h2 chromium_flow
stop_server

# A HelloRetryRequest: the server takes only P-256 key shares.
start_server -p256-only
record go-tls13-hrr goclient -version 1.3 -h2
stop_server

# TLS 1.2 CBC with encrypt-then-MAC (RFC 7366): OpenSSL on both sides
# negotiates it by default.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/k.pem" -out "$WORK/c.pem" -days 1 -subj /CN=localhost 2>/dev/null
etm() {
	openssl s_server -accept $SSLPORT -cert "$WORK/c.pem" -key "$WORK/k.pem" -www -tls1_2 -cipher ECDHE-RSA-AES128-SHA256 >/dev/null 2>&1 &
	local s=$!
	sleep 0.5
	SSLKEYLOGFILE=$KEYS curl -sk --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA256 -o /dev/null "https://127.0.0.1:$SSLPORT/etm-test" || true
	kill $s
}
record curl-tls12-cbc-etm etm

# The same capture with its keys embedded (pcapng Decryption Secrets
# Block), as editcap writes it.
if [[ -z ${ONLY:-} ]]; then
	editcap --inject-secrets "tls,$DIR/go-tls13-h2.keys" "$DIR/go-tls13-h2.pcap" "$DIR/go-tls13-h2-dsb.pcapng"
fi
ls -la "$DIR" >&2
