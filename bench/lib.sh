# Shared by bench/pcap.sh and bench/tls.sh (sourced, not run): checking the
# tools, timing a command, keeping the best of several oauthlint runs.
# Expects WORK, TSHARK and RUNS to be set.

# bench_tools checks /usr/bin/time and installs tshark (Debian package)
# when TSHARK=1 and it is missing; without it, TSHARK becomes 0.
bench_tools() {
	mkdir -p "$WORK/bin"
	if [[ ! -x /usr/bin/time ]]; then
		echo "bench: /usr/bin/time is needed for peak RSS (apt-get install -y time)" >&2
		exit 2
	fi
	if [[ $TSHARK == 1 ]] && ! command -v tshark >/dev/null; then
		echo "bench: installing tshark (Debian package)..." >&2
		if [[ $(id -u) == 0 ]]; then
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark) >&2 || true
		fi
		if ! command -v tshark >/dev/null; then
			echo "bench: tshark is not available; running oauthlint only (TSHARK=0)" >&2
			TSHARK=0
		fi
	fi
}

# measure OUT ERR CMD...: runs CMD under /usr/bin/time -v with its output
# in OUT and ERR, and prints "seconds rss_kb cpu_seconds".
measure() {
	local log="$WORK/time.log" out=$1 err=$2
	shift 2
	/usr/bin/time -v -o "$log" "$@" >"$out" 2>"$err" || true
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
		/User time \(seconds\)/ { cpu += $2 }
		/System time \(seconds\)/ { cpu += $2 }
		/Maximum resident set size/ { rss = $2 }
		END { printf "%.3f %d %.2f\n", s, rss, cpu }' "$log"
}

# best_of CMD...: runs oauthlint's CMD RUNS times (output in
# $WORK/oauthlint.json) and sets best_s and best_cpu (the fastest run) and
# best_rss (the largest peak RSS, KiB).
best_of() {
	best_s=""
	best_cpu=""
	best_rss=0
	local i s rss cpu
	for ((i = 1; i <= RUNS; i++)); do
		read -r s rss cpu < <(measure "$WORK/oauthlint.json" "$WORK/oauthlint.stderr" "$@")
		echo "oauthlint run $i: ${s}s wall, ${cpu}s CPU, peak RSS $((rss / 1024)) MiB" >&2
		if [[ -z $best_s ]] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
			best_s=$s
			best_cpu=$cpu
		fi
		((rss > best_rss)) && best_rss=$rss
	done
}
