#!/usr/bin/env bash
# Benchmark `oauthlint capture` (MITM proxy with recording to HAR and live
# analysis on) against a bare goproxy MITM on the same CA (the baseline)
# and mitmdump, on this machine, with the same HTTPS upstream and load
# generator (bench/proxybench). See docs/proxy-bench.md for the figures.
#
#   bench/proxy.sh                         # 3 repeats of every measurement
#   REPEATS=5 DUR=10 bench/proxy.sh
#   PROXIES="goproxy oauthlint" bench/proxy.sh
#   OAUTHLINT=/path/to/oauthlint bench/proxy.sh   # measure that binary (before/after)
#
# Environment:
#   REPEATS   repeats of every measurement, default 3 (ranges are reported)
#   DUR       seconds of each throughput run, default 8 (+1 s warm-up)
#   LAT_DUR   seconds of each unloaded latency run, default 5 (+1 s warm-up)
#   NC_DUR    seconds of each new-connections run, default 5 (+1 s warm-up)
#   CONNS     keep-alive connections of the throughput runs, default 16
#   NC_CONNS  concurrent new connections, default 8
#   HOSTS     hosts cycled through by the "cached hosts" new-connections run, default 64
#   MODES     which measurements, default "rate paced latency throughput newconns cached"
#   RATE      requests per second of the "rate" run, default 2000: CONNS
#             connections for DUR seconds at that pace, on a fresh proxy
#             of its own; every proxy then does the same work, so its CPU
#             time per request compares proxies and builds with less
#             noise than the back-to-back rates (±3 % against ±15 % here)
#   GAP       pause before each request of the paced latency run, default 10ms
#   PROXIES   which proxies, default "goproxy oauthlint mitmdump"; also "mitm":
#             oauthlint's proxy package alone, exchanges recorded then
#             discarded (no HAR, no analysis), and "oauthlint-nohar":
#             capture and analysis without --har, to split the overhead
#   MITMDUMP  1 to install mitmproxy with apt if missing (default), 0 not to
#   OAUTHLINT an oauthlint binary to measure instead of building ./cmd/oauthlint
#   OAUTHLINT_BEFORE  another oauthlint binary, measured as the proxy
#             "oauthlint-before" (add it to PROXIES) in the same run, for
#             before/after comparisons
#   WORK      directory for binaries, CAs, HAR and results, default /tmp/oauthlint-proxybench
#
# For each repeat and each proxy, in that order: with MODES holding
# "rate", the proxy is started fresh for the fixed-rate run alone (its
# CPU time per request) and stopped; then started fresh again for the
# rest: the added latency (one connection, one request at a time,
# alternating blocks straight to the upstream and through the proxy: added
# p50 = proxy p50 - direct p50), unloaded (a GAP pause before each request,
# so the proxy is idle when it comes), then back to back; throughput (CONNS keep-alive connections,
# requests back to back: req/s, p50, p99); new connections per second with
# a new host per connection (127.x.y.z, so the proxy mints a certificate
# for each) and cycling through HOSTS hosts seen before (certificate cache
# hits); then the proxy's peak RSS (VmHWM) and its shutdown. The request
# mix: 75% GET of a 1–20 KB JSON list, 10% POST of 1–4 KB JSON, 5% token
# requests (client_credentials, a fresh token each), 5% authorization
# server metadata; API calls carry the last bearer token. The client
# speaks HTTP/1.1 and verifies the proxy's certificates (its CA); every
# proxy verifies the upstream's (its own CA, upstream-ca.pem).
set -euo pipefail

REPEATS=${REPEATS:-3}
DUR=${DUR:-8}
LAT_DUR=${LAT_DUR:-5}
NC_DUR=${NC_DUR:-5}
CONNS=${CONNS:-16}
NC_CONNS=${NC_CONNS:-8}
HOSTS=${HOSTS:-64}
PROXIES=${PROXIES:-goproxy oauthlint mitmdump}
MODES=${MODES:-rate paced latency throughput newconns cached}
RATE=${RATE:-2000}
GAP=${GAP:-10ms}
MITMDUMP=${MITMDUMP:-1}
OAUTHLINT=${OAUTHLINT:-}
WORK=${WORK:-/tmp/oauthlint-proxybench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$WORK/bin"
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
CMDS="$WORK/commands.txt"
: >"$CMDS"

if [[ " $PROXIES " == *" mitmdump "* ]] && ! command -v mitmdump >/dev/null; then
	if [[ $MITMDUMP == 1 && $(id -u) == 0 ]]; then
		echo "bench: installing mitmproxy (Debian package)..." >&2
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mitmproxy) >&2 || true
	fi
	if ! command -v mitmdump >/dev/null; then
		echo "bench: mitmdump is not available (apt-get install -y mitmproxy); skipping it" >&2
		PROXIES=${PROXIES//mitmdump/}
	fi
fi

echo "building proxybench..." >&2
(cd "$ROOT" && go build -o "$WORK/bin/proxybench" ./bench/proxybench)
if [[ -z $OAUTHLINT ]]; then
	echo "building oauthlint..." >&2
	(cd "$ROOT" && go build -o "$WORK/bin/oauthlint" ./cmd/oauthlint)
	OAUTHLINT="$WORK/bin/oauthlint"
fi
PB="$WORK/bin/proxybench"

# run CMD...: logs the command, then runs it.
run() {
	printf '%q ' "$@" >>"$CMDS"
	echo >>"$CMDS"
	"$@"
}

# wait_port PORT [PID]: until something listens on 127.0.0.1:PORT (30 s).
wait_port() {
	for _ in $(seq 300); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then
			return 0
		fi
		if [[ -n ${2:-} ]] && ! kill -0 "$2" 2>/dev/null; then
			echo "bench: the proxy exited before listening" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "bench: nothing listens on port $1" >&2
	return 1
}

# The upstream, for the whole run.
rm -f "$WORK/upstream.addr"
"$PB" upstream -dir "$WORK" 2>"$WORK/upstream.log" &
UP_PID=$!
PROXY_PID=
cleanup() {
	[[ -n $PROXY_PID ]] && kill -KILL "$PROXY_PID" 2>/dev/null || true
	kill "$UP_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do [[ -s $WORK/upstream.addr ]] && break; sleep 0.1; done
UP=$(cat "$WORK/upstream.addr")
UPCA="$WORK/upstream-ca.pem"
wait_port "${UP##*:}"

# One CA for oauthlint and goproxy.
CA="$WORK/ca"
[[ -f $CA/ca-key.pem ]] || "$OAUTHLINT" ca init --ca-dir "$CA" >/dev/null 2>&1
MITMCONF="$WORK/mitmproxy"

# start_proxy NAME: starts it on a free port; sets PROXY_PID, PROXY_URL, PROXY_CA.
start_proxy() {
	local port cmd out=/dev/null
	port=$("$PB" freeport)
	case $1 in
	goproxy)
		cmd=("$PB" goproxy -listen "127.0.0.1:$port" -ca-dir "$CA" -upstream-ca "$UPCA")
		PROXY_CA="$CA/ca.pem"
		;;
	mitm)
		cmd=("$PB" mitm -listen "127.0.0.1:$port" -ca-dir "$CA" -upstream-ca "$UPCA")
		PROXY_CA="$CA/ca.pem"
		;;
	oauthlint)
		rm -f "$WORK/capture.har"
		cmd=("$OAUTHLINT" capture --proxy "127.0.0.1:$port" --ca-dir "$CA" --upstream-ca "$UPCA"
			--har "$WORK/capture.har" --fail-on none --format json)
		out="$WORK/oauthlint-report.json"
		PROXY_CA="$CA/ca.pem"
		;;
	oauthlint-before)
		rm -f "$WORK/capture-before.har"
		cmd=("${OAUTHLINT_BEFORE:?set OAUTHLINT_BEFORE to measure oauthlint-before}" capture --proxy "127.0.0.1:$port" --ca-dir "$CA"
			--upstream-ca "$UPCA" --har "$WORK/capture-before.har" --fail-on none --format json)
		out="$WORK/oauthlint-before-report.json"
		PROXY_CA="$CA/ca.pem"
		;;
	oauthlint-nohar)
		cmd=("$OAUTHLINT" capture --proxy "127.0.0.1:$port" --ca-dir "$CA" --upstream-ca "$UPCA"
			--fail-on none --format json)
		out="$WORK/oauthlint-nohar-report.json"
		PROXY_CA="$CA/ca.pem"
		;;
	mitmdump)
		cmd=(mitmdump -q --listen-host 127.0.0.1 -p "$port" --set confdir="$MITMCONF"
			--set ssl_verify_upstream_trusted_ca="$UPCA")
		PROXY_CA="$MITMCONF/mitmproxy-ca-cert.pem"
		;;
	esac
	printf '%q ' "${cmd[@]}" >>"$CMDS"
	echo >>"$CMDS"
	"${cmd[@]}" >"$out" 2>"$WORK/$1.log" &
	PROXY_PID=$!
	PROXY_URL="http://127.0.0.1:$port"
	wait_port "$port" "$PROXY_PID"
}

# stop_proxy NAME REP [MODE]: records its peak RSS, interrupts it and waits
# for it (oauthlint writes its final report then: that time is recorded
# too), as a result of MODE (default rss).
stop_proxy() {
	local rss t0 t1
	rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PROXY_PID/status")
	t0=$(date +%s.%N)
	kill -INT "$PROXY_PID"
	for _ in $(seq 1200); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
	t1=$(date +%s.%N)
	PROXY_PID=
	printf '{"proxy":"%s","mode":"%s","rep":%d,"rss_kb":%d,"seconds":%s}\n' "$1" "${3:-rss}" "$2" "$rss" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" >>"$RESULTS"
}

load() {
	run "$PB" load -upstream "$UP" -upstream-ca "$UPCA" -out "$RESULTS" "$@" >&2
}

# proxied MODE NAME REP ARGS...: a load of MODE through the running proxy
# NAME, measuring its CPU time.
proxied() {
	load -mode "$1" -label "$2" -rep "$3" -proxy "$PROXY_URL" -proxy-ca "$PROXY_CA" -pid "$PROXY_PID" "${@:4}"
}

{
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel: $(uname -sr); $(go version); mitmdump: $(mitmdump --version 2>/dev/null | awk '/^Mitmproxy/ { print $2 }')"
	"$PB" pagefault | sed "s/^/memory: /"
	echo "transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
	echo "before: $(uptime)"
} | tee "$WORK/machine.txt" >&2

base=0
for rep in $(seq "$REPEATS"); do
	echo "== repeat $rep/$REPEATS: $(uptime)" >&2
	# The ceiling: straight to the upstream.
	if [[ " $MODES " == *" throughput "* ]]; then
		load -mode throughput -label direct -rep "$rep" -c "$CONNS" -d "${DUR}s"
	fi
	if [[ " $MODES " == *" newconns "* ]]; then
		base=$((base + 50000))
		load -mode newconns -label direct -rep "$rep" -c "$NC_CONNS" -d "${NC_DUR}s" -host-base "$base"
	fi
	for p in $PROXIES; do
		if [[ " $MODES " == *" rate "* ]]; then
			start_proxy "$p"
			proxied throughput "$p" "$rep" -c "$CONNS" -d "${DUR}s" -rate "$RATE"
			stop_proxy "$p" "$rep" rss-rate
		fi
		start_proxy "$p"
		for m in $MODES; do
			base=$((base + 50000))
			case $m in
			rate) continue ;;
			paced) proxied latency "$p" "$rep" -d "${LAT_DUR}s" -gap "$GAP" ;;
			latency) proxied latency "$p" "$rep" -d "${LAT_DUR}s" ;;
			throughput) proxied throughput "$p" "$rep" -c "$CONNS" -d "${DUR}s" ;;
			newconns) proxied newconns "$p" "$rep" -c "$NC_CONNS" -d "${NC_DUR}s" -host-base "$base" ;;
			cached) proxied newconns "$p" "$rep" -c "$NC_CONNS" -d "${NC_DUR}s" -host-base "$base" -hosts "$HOSTS" ;;
			*) echo "bench: unknown mode $m" >&2; exit 2 ;;
			esac
		done
		stop_proxy "$p" "$rep"
	done
done
echo "after: $(uptime)" | tee -a "$WORK/machine.txt" >&2

echo
cat "$WORK/machine.txt"
echo
"$PB" report "$RESULTS"
echo
echo "Commands run (also in $CMDS):"
sort -u "$CMDS" | sed -E 's/-rep [0-9]+/-rep N/; s/-host-base [0-9]+/-host-base B/; s/-pid [0-9]+/-pid PID/; s/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g; s/(-p )[0-9]+/\1PORT/' | sort -u | sed 's/^/  /'
