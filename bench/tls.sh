#!/usr/bin/env bash
# Benchmark oauthlint's TLS decryption end to end (reading a TLS capture
# with its key log to findings) against tshark with the same key log, on
# the same generated capture, in the same run.
#
#   bench/tls.sh                              # 64 MiB, TLS 1.3, HTTP/2
#   VERSION=1.2 H2=0 bench/tls.sh             # TLS 1.2 (ECDHE-ECDSA AES-128-GCM), HTTP/1.1
#   SIZE=256MiB VERSION=1.2 SUITE=TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 bench/tls.sh
#
# Environment:
#   SIZE     capture size (bytes or KiB/MiB/GiB), default 64MiB
#   SEED     generator seed, default 1 (same seed + options = same file)
#   VERSION  1.2 | 1.3, default 1.3
#   SUITE    cipher suite name (default: AES-128-GCM for the version)
#   H2       1 for HTTP/2 (default), 0 for HTTP/1.1
#   RUNS     oauthlint runs (the best is reported), default 3
#   TSHARK   1 to run tshark (default), 0 to skip it
#   WORK     directory for binaries, captures and outputs, default /tmp/oauthlint-bench
#
# Reports wall and CPU time, throughput (file MB per wall second) and peak
# RSS (/usr/bin/time -v) for `oauthlint analyze --keylog K` and for
# `tshark -o tls.keylog_file:K -r F -Y 'http.request || http2.headers.method'
# -T fields ...`, checks that both found the same number of requests, and
# times the reader alone (decryption, HTTP/1.1 and HTTP/2, no analysis)
# with the Go benchmark BenchmarkReadTLS on the same kind of traffic.
set -euo pipefail

SIZE=${SIZE:-64MiB}
SEED=${SEED:-1}
VERSION=${VERSION:-1.3}
SUITE=${SUITE:-}
H2=${H2:-1}
RUNS=${RUNS:-3}
TSHARK=${TSHARK:-1}
WORK=${WORK:-/tmp/oauthlint-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_tools

echo "building oauthlint and tlsgen..." >&2
(cd "$ROOT" && go build -o "$WORK/bin/oauthlint" ./cmd/oauthlint && go build -o "$WORK/bin/tlsgen" ./bench/tlsgen)

name="tls$VERSION-${SUITE:-default}-h2$H2-seed$SEED-$SIZE"
CAP="$WORK/$name.pcap"
KEYS="$WORK/$name.keys"
h2flag=()
[[ $H2 == 1 ]] && h2flag=(-h2)
suiteflag=()
[[ -n $SUITE ]] && suiteflag=(-suite "$SUITE")
if [[ ! -s $CAP || ! -s $KEYS ]]; then
	echo "generating $CAP..." >&2
	"$WORK/bin/tlsgen" -seed "$SEED" -size "$SIZE" -version "$VERSION" "${suiteflag[@]}" "${h2flag[@]}" -o "$CAP" -keylog "$KEYS" >&2
fi
BYTES=$(stat -Lc %s "$CAP") # -L: the size of the capture, not of a link to it
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
cat "$CAP" "$KEYS" >/dev/null # warm the page cache: both tools read from memory

best_of "$WORK/bin/oauthlint" analyze --keylog "$KEYS" --format json --fail-on none "$CAP"
ours=$(grep -o '"exchanges": *[0-9]*' "$WORK/oauthlint.json" | head -1 | grep -o '[0-9]*$')
findings=$(grep -o '"findings": *[0-9]*' "$WORK/oauthlint.json" | tail -1 | grep -o '[0-9]*$')
if grep -q "not decrypted" "$WORK/oauthlint.stderr"; then
	echo "WARNING: oauthlint left connections undecrypted (see $WORK/oauthlint.stderr)" >&2
fi

printf '\ncapture: %s (%s MB, TLS %s %s, HTTP/%s, seed %s)\n' "$CAP" "$MB" "$VERSION" "${SUITE:-AES-128-GCM}" "$([[ $H2 == 1 ]] && echo 2 || echo 1.1)" "$SEED"
printf '%-10s %9s %9s %9s %12s %10s\n' tool "wall s" "CPU s" "MB/s" "peak RSS" requests
printf '%-10s %9s %9s %9s %8s MiB %10s\n' oauthlint "$best_s" "$best_cpu" \
	"$(awk -v b="$BYTES" -v s="$best_s" 'BEGIN { printf "%.0f", b / 1e6 / s }')" "$((best_rss / 1024))" "$ours"

if [[ $TSHARK == 1 ]]; then
	read -r ts trss tcpu < <(measure "$WORK/tshark.tsv" "$WORK/tshark.stderr" \
		tshark -o "tls.keylog_file:$KEYS" -r "$CAP" -Y 'http.request || http2.headers.method' \
		-T fields -e http.request.method -e http.request.uri -e http2.headers.method -e http2.headers.path)
	# One line per frame; HTTP/2 frames may carry several requests.
	theirs=$(awk -F'\t' '{ n = 0; if ($1 != "") n++; if ($3 != "") n += split($3, m, ","); total += n } END { print total + 0 }' "$WORK/tshark.tsv")
	printf '%-10s %9s %9s %9s %8s MiB %10s\n' tshark "$ts" "$tcpu" \
		"$(awk -v b="$BYTES" -v s="$ts" 'BEGIN { printf "%.0f", b / 1e6 / s }')" "$((trss / 1024))" "$theirs"
	printf '\noauthlint is %sx faster than tshark on this file (wall time; %sx in CPU time)\n' \
		"$(awk -v a="$ts" -v b="$best_s" 'BEGIN { printf "%.1f", a / b }')" "$(awk -v a="$tcpu" -v b="$best_cpu" 'BEGIN { printf "%.1f", a / b }')"
	if [[ $ours != "$theirs" ]]; then
		echo "WARNING: request counts differ (oauthlint $ours, tshark $theirs)" >&2
	fi
fi
printf 'findings: %s (JSON report in %s)\n' "$findings" "$WORK/oauthlint.json"

echo >&2
echo "reader alone (decryption + HTTP, no analysis): go test -bench ReadTLS" >&2
(cd "$ROOT" && PCAP_BENCH_MB=${READER_MB:-64} go test ./capture/pcap -run '^$' -bench 'ReadTLS' -benchmem -count 1)
