#!/usr/bin/env bash
# Runs every Passerelle test. Installs, once, the Debian packages the tests use as real peers (websocketd,
# python3-websockets, curl, redis-server, chromium) and the browser driver (npm), then runs
# `dotnet test` on the whole solution and prints one closing line: "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")"

packages=()
command -v websocketd >/dev/null 2>&1 || packages+=(websocketd)
/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 || packages+=(python3-websockets)
command -v curl >/dev/null 2>&1 || packages+=(curl)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
[ -x /usr/bin/chromium ] || packages+=(chromium)
if [ ${#packages[@]} -gt 0 ]; then
  echo "test.sh: installing ${packages[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# The browser test drives Debian's Chromium with playwright-core (no browser download); Node.js 20 comes with
# the machine image (Debian's own nodejs 18 is too old for playwright-core).
if [ ! -d tests/browser/node_modules ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# A test that hangs fails the run after 5 minutes, naming itself, instead of holding CI until its time limit.
dotnet test Passerelle.slnx -c Release --blame-hang-timeout 5m --blame-hang-dump-type none "$@" 2>&1 | tee "$log" || status=$?

# One summary line for people and CI, summed over the test assemblies.
grep -oE 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" \
  | awk -F'[:,] +' '{f+=$2; p+=$4; s+=$6} END {printf "%d passed, %d failed, %d skipped\n", p, f, s}'
exit $status
