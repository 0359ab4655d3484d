#!/bin/sh
# Runs the hostile-input and load tests at a size the default suite
# (test.sh) skips: the floods and big inputs of internal/hostile, the
# capture proxy under its full load (1000 connections, not the tenth the
# race detector allows), and the secret-leak sweep over every fixture in
# every output format.
#
#   scripts/hostile.sh          # OAUTHLINT_HOSTILE=big: a few minutes
#   scripts/hostile.sh full     # 10^6 HAR entries, 10^6 half-open
#                               # connections, 20000 flows: tens of minutes
#
# Each case runs the real binary and checks: no panic, a clear error or a
# report with warnings and gaps, and a bounded peak RSS.
set -eu
cd "$(dirname "$0")/.."
tier=${1:-big}
case $tier in
big | full) ;;
*)
	echo "usage: scripts/hostile.sh [big|full]" >&2
	exit 2
	;;
esac
export OAUTHLINT_HOSTILE=$tier
echo "== hostile inputs ($tier)"
go test -count=1 -timeout 90m ./internal/hostile/
echo "== capture proxy under full load, secret-leak sweeps over every fixture"
go test -count=1 -timeout 30m -run 'CaptureUnderLoad|CaptureKill9|NoSecret' ./internal/cli/ ./report/
