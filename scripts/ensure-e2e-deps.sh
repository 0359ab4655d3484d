#!/usr/bin/env bash
# ensure-e2e-deps.sh — install what the end-to-end harness (e2e/) needs:
#
#   - the Node packages of e2e/node, exactly as e2e/node/package-lock.json pins
#     them (npm ci): @modelcontextprotocol/sdk, oidc-provider, mcp-remote, undici;
#   - ORY Hydra v2.3.0, built from the Go module proxy with the versions pinned
#     by e2e/tools/hydra/go.mod and go.sum (cgo, for its in-memory SQLite), into
#     $OAUTHLINT_E2E_CACHE/bin (default: .cache/e2e/bin in the repository);
#   - tcpdump (Debian package), for the pcap leg;
#   - Claude Code (npm @anthropic-ai/claude-code, the native claude binary,
#     pinned by e2e/claude/package-lock.json) for the claude-code scenarios;
#     OAUTHLINT_E2E_CLAUDE=0 skips it (and those scenarios).
#
# Idempotent and fast when everything is there: each step records what it
# built from (a hash of the lockfile, of go.mod+go.sum) and does nothing while
# that has not changed. The Hydra build is the slow part (about 5 minutes on 2
# cores with an empty Go build cache).
#
# Usage: scripts/ensure-e2e-deps.sh        (then: OAUTHLINT_E2E=1 go test ./e2e/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${OAUTHLINT_E2E_CACHE:-$root/.cache/e2e}"
hydra_version=v2.3.0

say() { echo "ensure-e2e-deps: $*" >&2; }
die() { say "$*"; exit 1; }

# apt_install PKG...: install Debian packages quietly, loudly on failure.
apt_updated=
apt_install() {
	[[ "$(id -u)" == 0 ]] || die "need root to install $* (or install it yourself: apt-get install -y $*)"
	command -v apt-get >/dev/null || die "$* missing and apt-get is not available; install $* yourself"
	export DEBIAN_FRONTEND=noninteractive
	local log
	log="$(mktemp)"
	if [[ -z "$apt_updated" ]]; then
		apt-get update -q >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; die "apt-get update failed"; }
		apt_updated=1
	fi
	apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; die "apt-get install $* failed"; }
	rm -f "$log"
}

# npm_ci DIR [FILE]: npm ci in $root/DIR when its package-lock.json changed
# since the last install there (or FILE, which the install provides, is
# not executable).
npm_ci() {
	local dir="$root/$1" want
	local stamp="$dir/node_modules/.oauthlint-lock.sha256"
	want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && ( -z "${2:-}" || -x "$2" ) ]]; then
		return
	fi
	say "npm ci in $1"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
	echo "$want" >"$stamp"
}

# 1. Node and the npm packages.
command -v node >/dev/null || die "node is not installed (Node 20 or later is needed: apt-get install -y nodejs npm)"
major="$(node -p 'process.versions.node.split(".")[0]')"
((major >= 20)) || die "node $(node --version) is too old; the harness needs Node 20 or later"
command -v npm >/dev/null || apt_install npm
npm_ci e2e/node

# 2. Hydra, built from the pinned tool module.
bin="$cache/bin/hydra-$hydra_version"
hstamp="$bin.sha256"
hwant="$(cat "$root/e2e/tools/hydra/go.mod" "$root/e2e/tools/hydra/go.sum" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$bin" || ! -f "$hstamp" || "$(cat "$hstamp")" != "$hwant" ]]; then
	command -v gcc >/dev/null || apt_install gcc libc6-dev
	say "building ORY Hydra $hydra_version into $bin (takes a few minutes the first time)"
	mkdir -p "$cache/bin"
	(
		cd "$root/e2e/tools/hydra"
		# The same tags and version stamp as Hydra's own release build.
		CGO_ENABLED=1 go build -trimpath -tags sqlite,sqlite_omit_load_extension \
			-ldflags "-X github.com/ory/hydra/v2/driver/config.Version=$hydra_version" \
			-o "$bin.tmp" github.com/ory/hydra/v2
	)
	mv "$bin.tmp" "$bin"
	echo "$hwant" >"$hstamp"
fi

# 3. tcpdump.
command -v tcpdump >/dev/null || apt_install tcpdump

# 4. Claude Code (about 400 MB: its native binary for this platform).
claude_msg="claude-code skipped (OAUTHLINT_E2E_CLAUDE=0)"
if [[ "${OAUTHLINT_E2E_CLAUDE:-}" != "0" ]]; then
	claude="$root/e2e/claude/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
	npm_ci e2e/claude "$claude"
	version="$("$claude" --version)" || die "the claude binary at $claude does not run"
	claude_msg="claude ${version%%$'\n'*}"
fi

say "ready: node $(node --version), hydra $bin, tcpdump $(command -v tcpdump), $claude_msg"
