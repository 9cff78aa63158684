#!/usr/bin/env bash
# Runs a Passerelle benchmark (bench/README.md): builds the gateway and the harness in Release, runs the mode,
# writes bench/results/YYYY-MM-DD-MODE.md and prints its table.
#   bench/run.sh                         # propagation, 50 changes
#   bench/run.sh propagation --changes 200
#   bench/run.sh pingpong                # WebSocket round trips: direct, Passerelle, nginx, HAProxy
#   bench/run.sh hold                    # memory per idle proxied WebSocket: Passerelle, nginx, HAProxy
# Exit code: 0 measured and the promise held, 3 measured and the promise did not hold, other: could not measure.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-propagation}"
[ $# -gt 0 ] && shift

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p bench/results/tmp
build_log=bench/results/tmp/build.log
echo "bench: building src/Passerelle and bench/Passerelle.Bench (Release; log in $build_log)" >&2
if ! { dotnet build -c Release src/Passerelle && dotnet build -c Release bench/Passerelle.Bench; } >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  echo "bench: build failed" >&2
  exit 2
fi

# pingpong and hold compare with nginx and HAProxy from Debian, and pin the bench process (echo backend and load) to core 1;
# the mode pins each proxy to core 0 itself.
pin=()
if [ "$mode" = pingpong ] || [ "$mode" = hold ]; then
  if ! command -v nginx >/dev/null || ! command -v haproxy >/dev/null; then
    echo "bench: installing nginx and haproxy (apt-get; log in bench/results/tmp/apt.log)" >&2
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx haproxy; } >bench/results/tmp/apt.log 2>&1; then
      echo "bench: could not install nginx and haproxy: their rows will say not measured" >&2
    fi
  fi
  if ! command -v taskset >/dev/null; then
    echo "bench: $mode needs taskset (util-linux)" >&2
    exit 2
  fi
  pin=(taskset -c 1)
fi

echo "bench: running $mode" >&2
exec "${pin[@]}" dotnet bench/Passerelle.Bench/bin/Release/net10.0/Passerelle.Bench.dll "$mode" \
  --gateway src/Passerelle/bin/Release/net10.0/passerelle.dll --results bench/results "$@"
