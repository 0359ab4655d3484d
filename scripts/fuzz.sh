#!/bin/sh
# Runs every fuzz target (every 'func Fuzz*' in a _test.go file of the
# module) for a while, default 30s each. The seeds are each target's f.Add
# calls plus its package's testdata/fuzz/<Target>/ files; what the fuzzer
# finds interesting is kept in Go's fuzz cache ($(go env GOCACHE)/fuzz,
# shared with 'go test -fuzz'). A crasher is written to the package's
# testdata/fuzz/<Target>/, so that 'go test' replays it from then on; the
# script goes on with the other targets and fails at the end.
#
#   scripts/fuzz.sh             # every target, 30s each (about 13 minutes)
#   scripts/fuzz.sh 2s          # CI: every target briefly (about 1.5 minutes)
#   scripts/fuzz.sh 5m          # every target, five minutes each
#   scripts/fuzz.sh 1m FuzzConn # the targets of that name only
#
# The times are for a build cache that already holds the instrumented
# packages; the first build on a clean machine compiles the standard
# library and every dependency once more with the instrumentation (about
# 5 CPU-minutes). Each package's test binary is built once, before the
# targets run one after the other ('go test -fuzz' would build it again
# for every target). FUZZ_PARALLEL=N sets the fuzzing workers per target
# (default: one per CPU); FUZZ_BUILD_JOBS=N the packages built at once
# (default 2); FUZZ_MINIMIZE the time spent shrinking each new input or
# crasher (default 1s; Go's is 60s, under which the targets that read
# whole captures, milliseconds a run, spend nearly all their time
# minimizing: FuzzReadTLS ran 33 inputs in 30s with 10s, 12 000 with 1s;
# 0 turns minimizing off).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
time=${1:-30s}
only=${2:-}
cache=$(go env GOCACHE)/fuzz
mod=$(go list -m)
bin=$(mktemp -d "${TMPDIR:-/tmp}/oauthlint-fuzz.XXXXXX")
trap 'rm -rf "$bin"' EXIT
trap 'exit 130' INT TERM
start=$(date +%s)

# The module's packages with tests (go list leaves out testdata, .cache
# and node_modules' Go-less trees), then their fuzz targets:
# "dir target" lines in $bin/targets.
: >"$bin/targets"
for dir in $(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}}{{end}}' ./... | sed "s|^$root|.|"); do
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort || true); do
		if [ -z "$only" ] || [ "$target" = "$only" ]; then
			echo "$dir $target" >>"$bin/targets"
		fi
	done
done
if [ ! -s "$bin/targets" ]; then
	echo "no fuzz target matched ${only:-anything}" >&2
	exit 1
fi

# Build. -fuzz (any pattern) makes 'go test -c' add the coverage
# instrumentation the fuzzer needs, to every package the tests import,
# the standard library's included: on a cold build cache that is most of
# the time. The package with the most dependencies is built alone first,
# so that the others, built FUZZ_BUILD_JOBS at a time, find nearly all of
# theirs in the cache instead of compiling them twice at once. Vet is
# left to the test suite.
dirs=$(cut -d' ' -f1 "$bin/targets" | sort -u)
echo "== building $(echo "$dirs" | wc -l | tr -d ' ') test binaries"
go list -test -f '{{.ImportPath}} {{len .Deps}}' $dirs |
	awk '$1 ~ /\.test$/ && NF == 2 { sub(/\.test$/, "", $1); print $2, $1 }' | sort -rn | cut -d' ' -f2 >"$bin/pkgs"
build='go test -c -vet=off -fuzz . -o "$0/$(echo "$1" | tr ./ __).test" "$1" || true'
head -n 1 "$bin/pkgs" | xargs -r -n 1 sh -c "$build" "$bin"
tail -n +2 "$bin/pkgs" | xargs -r -P "${FUZZ_BUILD_JOBS:-2}" -n 1 sh -c "$build" "$bin"
echo "-- built in $(($(date +%s) - start))s"

failed=""
ran=0
while read -r dir target; do
	pkg=$mod${dir#.}
	exe="$bin/$(echo "$pkg" | tr ./ __).test"
	if [ ! -x "$exe" ]; then
		echo "FAIL: $dir $target: the test binary was not built"
		failed="$failed $dir:$target(build)"
		continue
	fi
	echo "== $dir $target ($time)"
	ran=$((ran + 1))
	t0=$(date +%s)
	corpus="$dir/testdata/fuzz/$target"
	before=$(ls "$corpus" 2>/dev/null || true)
	# Run in the package directory: the seeds and crashers live in its
	# testdata/fuzz/<Target>/. The cache directory is the one
	# 'go test -fuzz' uses for the package. stdin is not the target list.
	{
		rc=0
		(cd "$dir" && "$exe" -test.run '^$' -test.fuzz "^$target\$" -test.fuzztime "$time" \
			-test.fuzzcachedir "$cache/$pkg" -test.fuzzminimizetime "${FUZZ_MINIMIZE:-1s}" \
			${FUZZ_PARALLEL:+-test.parallel "$FUZZ_PARALLEL"} </dev/null) || rc=$?
		echo "$rc" >"$bin/rc"
	} 2>&1 | tee "$bin/log"
	rc=$(cat "$bin/rc")
	after=$(ls "$corpus" 2>/dev/null || true)
	if [ "$rc" -ne 0 ] && [ "$before" = "$after" ] && grep -q '^ *context deadline exceeded$' "$bin/log" &&
		! grep -q -e 'Failing input written' -e '^panic: ' "$bin/log"; then
		# Go's fuzz coordinator can report its own -fuzztime deadline as
		# a failure when it races the workers' shutdown
		# (golang.org/issue/75804, fixed in Go 1.27): no input failed.
		echo "note: $dir $target: 'context deadline exceeded' at the -fuzztime deadline without a failing input (Go's fuzz coordinator race, golang.org/issue/75804): not a finding"
		rc=0
	fi
	if [ "$rc" -ne 0 ]; then
		failed="$failed $dir:$target"
		echo "FAIL: $dir $target: the failing input is in $corpus/ (replay: go test -run '^$target\$' $dir)"
	fi
	echo "-- $target: $(($(date +%s) - t0))s"
done <"$bin/targets"

echo "== $ran fuzz target(s) for $time each; $(($(date +%s) - start))s in all"
if [ -n "$failed" ]; then
	echo "fuzzing failed:$failed" >&2
	exit 1
fi
