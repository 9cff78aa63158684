#!/usr/bin/env bash
# Runs Passerelle's benchmarks (bench/README.md): installs what they compare with, builds the gateway, the harness,
# the minimal YARP peer and the Go echo backend, runs the mode, writes bench/results/YYYY-MM-DD-MODE.md and prints
# its table.
#   bench/run.sh                         # propagation, 50 changes
#   bench/run.sh propagation --changes 200
#   bench/run.sh pingpong                # WebSocket round trips: no proxy, Passerelle, nginx, HAProxy, minimal YARP
#   bench/run.sh stream | hold | http | churn
#   bench/run.sh pingpong --runs 5 --peers passerelle,haproxy
#   bench/run.sh all                     # every mode, then results/YYYY-MM-DD-all.md (options go to every mode but propagation)
#   bench/run.sh MODE --help             # a mode's options
# Exit code: 0 measured and the targets met, 3 measured and a target missed, other: could not measure.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-propagation}"
[ $# -gt 0 ] && shift
case "$mode" in
  propagation | pingpong | stream | hold | http | churn | all) ;;
  *) echo "bench: unknown mode '$mode' (propagation, pingpong, stream, hold, http, churn, all)" >&2; exit 2 ;;
esac

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
tmp=bench/results/tmp
mkdir -p "$tmp"

# The peers and tools, from Debian; apt-get only when one is missing.
packages=(golang-go golang-github-gorilla-websocket-dev wrk nginx haproxy)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]} (apt-get; log in $tmp/apt.log)" >&2
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } >"$tmp/apt.log" 2>&1; then
    tail -n 20 "$tmp/apt.log" >&2
    echo "bench: could not install ${missing[*]}" >&2
    exit 2
  fi
fi
for tool in taskset go wrk nginx haproxy; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
# The live GC heap of the .NET peers in hold (a dotnet tool from NuGet); hold leaves those columns empty without it.
if [ ! -x "$tmp/tools/dotnet-gcdump" ]; then
  dotnet tool install --tool-path "$tmp/tools" dotnet-gcdump --version 10.0.750501 >"$tmp/tools.log" 2>&1 ||
    echo "bench: could not install dotnet-gcdump (log in $tmp/tools.log): hold will not show the GC heap" >&2
fi

# hold keeps up to 10,000 proxied WebSockets, 2 descriptors each in the proxy: as many files as the hard limit allows
# (raising the hard limit itself needs CAP_SYS_RESOURCE; hold lowers its default to what fits).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

build_log=$tmp/build.log
echo "bench: building the gateway, the harness, the minimal YARP peer (Release) and the Go echo backend (log in $build_log)" >&2
if ! {
  dotnet build -c Release src/Passerelle &&
    dotnet build -c Release bench/Passerelle.Bench &&
    dotnet build -c Release bench/Peers/MinimalYarp &&
    # Debian's gorilla/websocket is in /usr/share/gocode: GOPATH mode builds without any network.
    GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$PWD/$tmp/go-cache" go build -o "$tmp/echo-server" ./bench/EchoServer
} >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  echo "bench: build failed" >&2
  exit 2
fi

bench=(dotnet bench/Passerelle.Bench/bin/Release/net10.0/Passerelle.Bench.dll)
common=(--gateway src/Passerelle/bin/Release/net10.0/passerelle.dll --results bench/results)

# Runs one mode. Every mode but propagation compares peers: each proxy is pinned to core 0 by the mode, and the bench
# process (the load) with the echo backend it starts, to core 1.
run_mode() {
  local name=$1
  shift
  echo "bench: running $name" >&2
  if [ "$name" = propagation ]; then
    "${bench[@]}" propagation "${common[@]}" "$@"
  else
    taskset -c 1 "${bench[@]}" "$name" "${common[@]}" "$@"
  fi
}

if [ "$mode" != all ]; then
  run_mode "$mode" "$@" && exit 0 || exit $?
fi

worst=0
for name in propagation pingpong stream hold http churn; do
  code=0
  if [ "$name" = propagation ]; then run_mode "$name" || code=$?; else run_mode "$name" "$@" || code=$?; fi
  echo "bench: $name exited with $code" >&2
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
    worst=1
  elif [ "$code" -eq 3 ] && [ "$worst" -eq 0 ]; then
    worst=3
  fi
done
"${bench[@]}" summary "${common[@]}" || worst=1
exit "$worst"
