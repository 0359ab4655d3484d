#!/usr/bin/env bash
# The whole test suite: formatting, vet, staticcheck, govulncheck, every Go
# test with the race detector (the end-to-end scenarios included), and each
# fuzz target briefly. This is what CI runs (.ci/run calls it unchanged).
#
#   ./test.sh            everything
#   ./test.sh -short     skip the slow tests
#   ./test.sh -run X     only tests matching X (any go test flag works)
set -euo pipefail
cd "$(dirname "$0")"

# Go 1.26.10: the standard library fixes govulncheck asks for (net/http,
# crypto/tls, crypto/x509, html/template in 1.26.9 and 1.26.10). The go
# command fetches that toolchain from the module proxy once (about 76 MB);
# OAUTHLINT_GOTOOLCHAIN=local keeps the installed Go.
export GOTOOLCHAIN="${OAUTHLINT_GOTOOLCHAIN:-go1.26.10}"
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

echo "== staticcheck, govulncheck (pinned tools, vulnerability data from the module proxy)"
scripts/lint.sh

echo "== go test -race"
go test -race -count=1 -timeout 30m "$@" ./...

# Every fuzz target briefly, from its seed corpus (testdata/fuzz); longer
# runs: scripts/fuzz.sh 5m.
if [ "${OAUTHLINT_SKIP_FUZZ:-}" != "1" ]; then
	echo "== fuzz (${OAUTHLINT_FUZZTIME:-2s} per target)"
	scripts/fuzz.sh "${OAUTHLINT_FUZZTIME:-2s}"
fi

echo "== all tests passed"
