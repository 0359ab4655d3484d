#!/bin/sh
# Runs every fuzz target for a while (default 30s each) and stops at the
# first failure; the crasher is kept under the package's
# testdata/fuzz/<Target>/ so that 'go test' replays it from then on.
#
#   scripts/fuzz.sh             # every target, 30s each (about 11 minutes)
#   scripts/fuzz.sh 5m          # every target, five minutes each
#   scripts/fuzz.sh 1m FuzzConn # the targets of that name only
set -eu
cd "$(dirname "$0")/.."
time=${1:-30s}
only=${2:-}
grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort | while read -r f; do
	dir=$(dirname "$f")
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r target; do
		if [ -n "$only" ] && [ "$target" != "$only" ]; then
			continue
		fi
		echo "== $dir $target ($time)"
		go test -run '^$' -fuzz "^$target\$" -fuzztime "$time" "$dir"
	done
done
