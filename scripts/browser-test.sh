#!/usr/bin/env bash
# Browser tests of the web dashboard: installs Debian's chromium when it is
# missing and the test harness's npm packages (internal/web/e2e, from its
# lock file), builds steward, runs it on loopback with the demo stack of
# internal/web/e2e/demo.yaml and, beside it, a fleet of two clustered
# stewards (fleet-a.yaml, fleet-b.yaml), and drives the dashboards in headless Chromium
# with Playwright. Screenshots of every page go to $ARTIFACTS (default: a new
# temporary directory, printed at the end). Exits non-zero on any failure;
# the last line is "N passed, N failed".
# Usage: [ARTIFACTS=DIR] bash scripts/browser-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

work=$(mktemp -d)
pid=
fleet_pids=()
# stop ends steward run PID: TERM, then KILL after 20 s.
stop() {
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
  fi
}
cleanup() {
  stop "$pid"
  for p in "${fleet_pids[@]}"; do stop "$p"; done
  rm -rf "$work"
}
trap cleanup EXIT

# give_up reports a failure of the harness itself (not of a test) and exits.
give_up() {
  echo "browser-test: $*" >&2
  if [ -s "$work/steward.log" ]; then echo "--- steward's log:" >&2; tail -n 40 "$work/steward.log" >&2; fi
  echo "0 passed, 1 failed"
  exit 1
}

# dashboard_url prints the dashboard URL steward printed in its log $1.
dashboard_url() {
  # The line steward prints for people: msg="dashboard: ..." url=URL token_file=FILE
  sed -n 's/.*msg="dashboard:[^"]*" url=\([^ ]*\) .*/\1/p' "$1" | head -n 1
}

sudo=
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "== installing Debian's chromium"
  $sudo apt-get update -qq || give_up "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null || give_up "apt-get install chromium failed"
fi
"$chromium" --version 2>/dev/null || true

echo "== npm ci (internal/web/e2e)"
(cd internal/web/e2e && npm ci --no-audit --no-fund --loglevel=error) || give_up "npm ci failed"

echo "== build steward"
go build -o "$work/steward" ./cmd/steward || give_up "go build failed"

echo "== start steward with the demo stack"
mkdir -p "$work/demo"
cp internal/web/e2e/demo.yaml "$work/demo/steward.yaml"
"$work/steward" run -c "$work/demo/steward.yaml" >"$work/steward.log" 2>&1 &
pid=$!
url=
for _ in $(seq 1 200); do
  kill -0 "$pid" 2>/dev/null || give_up "steward run exited"
  url=$(dashboard_url "$work/steward.log")
  [ -n "$url" ] && "$work/steward" -c "$work/demo/steward.yaml" ps >/dev/null 2>&1 && break
  sleep 0.1
done
[ -n "$url" ] || give_up "steward printed no dashboard URL"
echo "dashboard at $url"

echo "== start a fleet of two stewards (fleet-a, fleet-b) on loopback"
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
a_bus=$(free_port); a_route=$(free_port); b_bus=$(free_port); b_route=$(free_port)
printf 'the fleet secret of the browser tests\n' >"$work/fleet.secret"
chmod 600 "$work/fleet.secret"
for n in a b; do
  mkdir -p "$work/fleet-$n"
  sed -e "s|@A_BUS@|$a_bus|; s|@A_ROUTE@|$a_route|g; s|@B_BUS@|$b_bus|; s|@B_ROUTE@|$b_route|g; s|@SECRET@|$work/fleet.secret|" \
    "internal/web/e2e/fleet-$n.yaml" >"$work/fleet-$n/steward.yaml"
  "$work/steward" run -c "$work/fleet-$n/steward.yaml" >"$work/fleet-$n.log" 2>&1 &
  fleet_pids+=($!)
done
fleet_url=
for _ in $(seq 1 300); do
  for p in "${fleet_pids[@]}"; do kill -0 "$p" 2>/dev/null || { tail -n 40 "$work"/fleet-*.log >&2; give_up "a fleet steward exited"; }; done
  fleet_url=$(dashboard_url "$work/fleet-a.log")
  [ -n "$fleet_url" ] && "$work/steward" -c "$work/fleet-a/steward.yaml" nodes 2>/dev/null | grep -q 'fleet-b .*up' && break
  fleet_url=
  sleep 0.1
done
[ -n "$fleet_url" ] || { tail -n 40 "$work"/fleet-*.log >&2; give_up "the fleet did not come up"; }
echo "fleet dashboard at $fleet_url"

artifacts=${ARTIFACTS:-$(mktemp -d -t steward-screenshots.XXXXXX)}
mkdir -p "$artifacts"
echo "== playwright (headless chromium)"
status=0
(cd internal/web/e2e && STEWARD_URL="$url" STEWARD_BIN="$work/steward" STEWARD_CONFIG="$work/demo/steward.yaml" \
  STEWARD_TOKEN_FILE="$work/demo/data/api.token" ARTIFACTS="$artifacts" CHROMIUM="$chromium" \
  FLEET_URL="$fleet_url" FLEET_TOKEN_FILE="$work/fleet-a/data/api.token" FLEET_CONFIG_B="$work/fleet-b/steward.yaml" \
  STEWARD_RESULT="$work/result" node dashboard.test.mjs) || status=$?

if [ "$status" != 0 ]; then
  echo "--- steward's log (last 60 lines):"
  tail -n 60 "$work/steward.log"
fi
echo "screenshots: $artifacts"
echo "browser tests took $((SECONDS - started))s"
if [ -s "$work/result" ]; then
  result=$(cat "$work/result")
else
  result="0 passed, 1 failed"
  status=1
fi
cleanup
trap - EXIT
echo "$result"
exit "$status"
