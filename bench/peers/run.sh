#!/usr/bin/env bash
# Compares steward with supervisord, Monit and PM2 on this machine (Linux).
# Installs what is missing — supervisord and Monit from Debian's packages,
# with their daemons kept from starting as system services; PM2 from npm
# into a temporary prefix, never globally — builds steward once, and runs
# the driver (bench/peers/main.go) with the arguments given:
#
#   bash bench/peers/run.sh -out bench/peers/RESULTS.md   # full run, ~12 min on 2 cores
#   bash bench/peers/run.sh -smoke                        # one short run of each measure
#
# Everything the run starts lives in a temporary directory and is killed
# at the end; nothing else is touched.
set -euo pipefail
cd "$(dirname "$0")/../.."

tmp=$(mktemp -d /tmp/steward-peers-run.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

need=()
command -v supervisord >/dev/null || need+=(supervisor)
command -v monit >/dev/null || need+=(monit)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "run.sh: cannot install ${need[*]} (needs root and apt-get); measuring without them" >&2
  else
    # A policy-rc.d that answers 101 keeps the packages' scripts from
    # starting supervisord and monit as system services; remove it after
    # only if we created it.
    policy=/usr/sbin/policy-rc.d made_policy=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    [ -n "$made_policy" ] && rm -f "$policy"
  fi
fi

pm2=${PEERS_PM2:-}
if [ -z "$pm2" ] && command -v npm >/dev/null; then
  echo "run.sh: installing pm2 into $tmp/npm" >&2
  npm install --prefix "$tmp/npm" --no-audit --no-fund --loglevel=error pm2@7 >/dev/null
  pm2=$tmp/npm/node_modules/.bin/pm2
fi

version=$(git describe --always --dirty 2>/dev/null || echo dev)
go build -ldflags "-X main.version=$version" -o "$tmp/steward" ./cmd/steward
go build -o "$tmp/peerhelper" ./bench/peers/peerhelper

PEERS_COMMAND="bash bench/peers/run.sh $*" \
  go run ./bench/peers -steward "$tmp/steward" -helper "$tmp/peerhelper" ${pm2:+-pm2 "$pm2"} "$@"
