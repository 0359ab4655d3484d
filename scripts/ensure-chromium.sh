#!/usr/bin/env bash
# ensure-chromium.sh — make sure a headless-capable Chromium is installed for
# the HTML report's browser test (report/html_browser_test.go).
#
# Idempotent: does nothing when a Chromium binary is already on the machine.
# Installs Debian's `chromium` package otherwise (needs root, as in CI).
# Prints the path of the binary on success, so callers can do
#   OAUTHLINT_CHROMIUM="$(scripts/ensure-chromium.sh)" go test ./report
set -euo pipefail

find_chromium() {
	local c
	for c in "${OAUTHLINT_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
		if [[ -n "$c" && -x "$c" ]]; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

if path="$(find_chromium)"; then
	echo "$path"
	exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
	echo "ensure-chromium: chromium is not installed and this is not root; run: sudo apt-get install -y chromium" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "ensure-chromium: chromium is not installed and apt-get is not available; install Chromium and set OAUTHLINT_CHROMIUM to its path" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Quiet on success, loud on failure: the install log goes to stderr only
# when apt-get fails.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "ensure-chromium: apt-get install chromium failed (see above)" >&2
	exit 1
fi

if path="$(find_chromium)"; then
	echo "$path"
	exit 0
fi
echo "ensure-chromium: apt-get installed chromium but no binary was found at /usr/bin/chromium" >&2
exit 1
