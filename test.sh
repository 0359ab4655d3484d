#!/usr/bin/env bash
# The whole test suite: formatting, vet, and every Go test with the race
# detector. This is what CI runs (.ci/run calls it unchanged).
#
#   ./test.sh            everything
#   ./test.sh -short     skip the slow tests
#   ./test.sh -run X     only tests matching X (any go test flag works)
set -euo pipefail
cd "$(dirname "$0")"

echo "== go version: $(go version)"

# What the tests need beyond Go, installed idempotently (CI starts from a
# clean machine). OAUTHLINT_SKIP_BROWSER=1 skips the headless-Chromium test
# of the HTML report where Chromium cannot be installed.
if [ "${OAUTHLINT_SKIP_BROWSER:-}" != "1" ]; then
	echo "== chromium (HTML report browser test)"
	OAUTHLINT_CHROMIUM="$(scripts/ensure-chromium.sh)"
	export OAUTHLINT_CHROMIUM
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 "$@" ./...

echo "== all tests passed"
