#!/usr/bin/env bash
# lint.sh — static analysis of the module: staticcheck and govulncheck.
#
# Idempotent, for CI on a clean machine whose only network is the Go module
# proxy: the pinned tools are built with `go install` into .cache/bin (kept
# while their module version and the Go version match), and since vuln.go.dev
# may not be reachable, govulncheck reads a local database built from the OSV
# entries in the pinned golang.org/x/vulndb module (fetched through the proxy,
# checked against the checksum database) by tools/lint/mkvulndb, cached in
# .cache/vulndb/<version>. Runs both checks and exits non-zero if either one
# reports anything; govulncheck fails only on vulnerabilities whose symbols
# the code calls (the ones it only imports or requires are listed, as info).
#
#   scripts/lint.sh
#
# To take newer vulnerability data, set VULNDB_VERSION to what
#   go list -m golang.org/x/vulndb@latest
# gives (the module has no tags: its versions are pseudo-versions).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd -P)"

STATICCHECK_VERSION=v0.8.2 # honnef.co/go/tools
GOVULNCHECK_VERSION=v1.9.0 # golang.org/x/vuln
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018 # golang.org/x/vulndb

# took: how long since the last call, for the log.
last=$SECONDS
took() {
	echo "   ($((SECONDS - last))s)"
	last=$SECONDS
}

cache="$root/.cache"
bin="$cache/bin"
gover="$(go env GOVERSION)"

# installed BINARY MODULE VERSION: whether $bin/BINARY was built from
# MODULE@VERSION by the Go in use.
installed() {
	local info
	info="$(go version -m "$bin/$1" 2>/dev/null)" || return 1
	[[ "$(head -n1 <<<"$info")" == *": $gover" ]] &&
		awk -v m="$2" -v v="$3" '$1 == "mod" && $2 == m && $3 == v { ok = 1 } END { exit !ok }' <<<"$info"
}

# ensure BINARY MODULE VERSION PACKAGE
ensure() {
	if installed "$1" "$2" "$3"; then
		return
	fi
	echo "-- installing $4@$3 into .cache/bin"
	GOBIN="$bin" go install "$4@$3"
	installed "$1" "$2" "$3" || {
		echo "lint: $bin/$1 is not $2@$3 built by $gover after go install" >&2
		exit 1
	}
}

echo "== lint tools"
mkdir -p "$bin"
ensure staticcheck honnef.co/go/tools "$STATICCHECK_VERSION" honnef.co/go/tools/cmd/staticcheck
ensure govulncheck golang.org/x/vuln "$GOVULNCHECK_VERSION" golang.org/x/vuln/cmd/govulncheck
took

# The vulnerability database, one directory per vulndb version. It is built
# in a temporary directory and renamed into place, so an existing directory
# is complete; other versions' directories are removed.
db="$cache/vulndb/$VULNDB_VERSION"
if [[ ! -f "$db/index/modules.json" ]]; then
	echo "-- building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION"
	mkdir -p "$cache/vulndb"
	find "$cache/vulndb" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	tmp="$cache/vulndb/.tmp.$$"
	(cd tools/lint && GOWORK=off go run ./mkvulndb -version "$VULNDB_VERSION" -out "$tmp")
	mv "$tmp" "$db"
	took
fi

echo "go:          $gover"
echo "staticcheck: $("$bin/staticcheck" -version)"
echo "govulncheck: golang.org/x/vuln@$GOVULNCHECK_VERSION"
echo "vulndb:      golang.org/x/vulndb@$VULNDB_VERSION ($(cat "$db/index/db.json"))"

status=0

echo "== staticcheck"
if "$bin/staticcheck" ./...; then
	echo "staticcheck: no issues"
else
	echo "staticcheck: FAILED" >&2
	status=1
fi
took

echo "== govulncheck"
if "$bin/govulncheck" -db "file://$db" ./...; then
	echo "govulncheck: no called vulnerabilities"
else
	echo "govulncheck: FAILED" >&2
	status=1
fi
took

exit "$status"
