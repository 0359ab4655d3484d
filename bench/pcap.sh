#!/usr/bin/env bash
# Benchmark oauthlint's pcap input end to end (reading to findings) against
# tshark on the same generated capture, in the same run.
#
#   bench/pcap.sh                      # 64 MiB capture, seed 1
#   SIZE=1GiB bench/pcap.sh            # the 1 GB capture of the README
#   SIZE=256MiB SEED=7 FORMAT=pcapng RUNS=5 bench/pcap.sh
#
# Environment:
#   SIZE    capture size (bytes or KiB/MiB/GiB), default 64MiB
#   SEED    generator seed, default 1 (same seed + size = same file)
#   FORMAT  pcap | pcap-nano | pcapng, default pcap
#   RUNS    oauthlint runs (the best is reported), default 3
#   TSHARK  1 to run tshark (default), 0 to skip it
#   WORK    directory for binaries, captures and outputs, default /tmp/oauthlint-bench
#
# Reports wall and CPU time, throughput (file MB per wall second) and peak RSS
# (/usr/bin/time -v) for `oauthlint analyze` and for
# `tshark -o tcp.reassemble_out_of_order:TRUE -r F -Y http.request -T fields
# -e http.request.method -e http.request.uri -e http.file_data`, and checks
# that both found the same number of requests.
set -euo pipefail

SIZE=${SIZE:-64MiB}
SEED=${SEED:-1}
FORMAT=${FORMAT:-pcap}
RUNS=${RUNS:-3}
TSHARK=${TSHARK:-1}
WORK=${WORK:-/tmp/oauthlint-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_tools

echo "building oauthlint and pcapgen..." >&2
(cd "$ROOT" && go build -o "$WORK/bin/oauthlint" ./cmd/oauthlint && go build -o "$WORK/bin/pcapgen" ./bench/pcapgen)

ext=pcap
[[ $FORMAT == pcapng ]] && ext=pcapng
CAP="$WORK/bench-seed$SEED-$SIZE-$FORMAT.$ext"
if [[ ! -s $CAP ]]; then
	echo "generating $CAP..." >&2
	"$WORK/bin/pcapgen" -seed "$SEED" -size "$SIZE" -format "$FORMAT" -o "$CAP" >&2
fi
BYTES=$(stat -Lc %s "$CAP") # -L: the size of the capture, not of a link to it
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
cat "$CAP" >/dev/null # warm the page cache: both tools read from memory

best_of "$WORK/bin/oauthlint" analyze --format json --fail-on none "$CAP"
ours=$(grep -o '"exchanges": *[0-9]*' "$WORK/oauthlint.json" | head -1 | grep -o '[0-9]*$')
findings=$(grep -o '"findings": *[0-9]*' "$WORK/oauthlint.json" | tail -1 | grep -o '[0-9]*$')

printf '\ncapture: %s (%s MB, seed %s, %s)\n' "$CAP" "$MB" "$SEED" "$FORMAT"
printf '%-10s %9s %9s %9s %12s %10s\n' tool "wall s" "CPU s" "MB/s" "peak RSS" requests
printf '%-10s %9s %9s %9s %8s MiB %10s\n' oauthlint "$best_s" "$best_cpu" \
	"$(awk -v b="$BYTES" -v s="$best_s" 'BEGIN { printf "%.0f", b / 1e6 / s }')" "$((best_rss / 1024))" "$ours"

if [[ $TSHARK == 1 ]]; then
	read -r ts trss tcpu < <(measure "$WORK/tshark.tsv" "$WORK/tshark.stderr" \
		tshark -o tcp.reassemble_out_of_order:TRUE -r "$CAP" -Y http.request \
		-T fields -e http.request.method -e http.request.uri -e http.file_data)
	theirs=$(awk -F'\t' '$1 != ""' "$WORK/tshark.tsv" | wc -l)
	printf '%-10s %9s %9s %9s %8s MiB %10s\n' tshark "$ts" "$tcpu" \
		"$(awk -v b="$BYTES" -v s="$ts" 'BEGIN { printf "%.0f", b / 1e6 / s }')" "$((trss / 1024))" "$theirs"
	printf '\noauthlint is %sx faster than tshark on this file (wall time; %sx in CPU time)\n' \
		"$(awk -v a="$ts" -v b="$best_s" 'BEGIN { printf "%.1f", a / b }')" "$(awk -v a="$tcpu" -v b="$best_cpu" 'BEGIN { printf "%.1f", a / b }')"
	if [[ $ours != "$theirs" ]]; then
		echo "WARNING: request counts differ (oauthlint $ours, tshark $theirs)" >&2
	fi
fi
printf 'findings: %s (JSON report in %s)\n' "$findings" "$WORK/oauthlint.json"
