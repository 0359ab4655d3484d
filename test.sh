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

# The end-to-end scenarios (e2e/, docs/e2e.md) run real servers and clients:
# ORY Hydra, node oidc-provider, the MCP SDK and mcp-remote. The installer is
# idempotent (npm ci, a pinned Hydra build of about five minutes the first
# time, tcpdump); OAUTHLINT_E2E=1 makes a missing piece a failure instead of a
# skip. OAUTHLINT_SKIP_E2E=1 leaves them out.
if [ "${OAUTHLINT_SKIP_E2E:-}" != "1" ]; then
	echo "== e2e dependencies (npm packages, ORY Hydra, tcpdump)"
	scripts/ensure-e2e-deps.sh
	export OAUTHLINT_E2E=1
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
go test -race -count=1 -timeout 30m "$@" ./...

echo "== all tests passed"
