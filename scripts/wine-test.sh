#!/usr/bin/env bash
# Runs the Windows build of steward under Wine, unattended and without a
# display: a smoke test of `steward.exe run` supervising the Windows build of
# internal/testprog, driven over the named pipe with ps/stop/start/restart
# (stopping a service must kill its child tree), then `steward.exe service
# install/start/status/stop/uninstall` against Wine's service manager.
# Installs wine64 (and, when this Wine lacks bcryptprimitives.dll!ProcessPrng,
# which Go programs need, a mingw-w64 compiler to build a stand-in) with
# apt-get when missing. Prints PASS/FAIL lines and, last, "N passed, N failed";
# exits non-zero on any failure. Usage: bash scripts/wine-test.sh
set -uo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

passed=0 failed=0 skipped=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
# skip: a check Wine cannot make; it counts as neither.
skip() { echo "SKIP $*"; skipped=$((skipped + 1)); }
summary() {
  echo "wine-test took $(($(date +%s) - started))s; $skipped skipped"
  echo "$passed passed, $failed failed"
}
# die reports a failed setup step and ends the run.
die() {
  fail "$*"
  summary
  exit 1
}
# check DESCRIPTION COMMAND...: PASS when the command succeeds; its output
# is shown only when it fails.
check() {
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then
    pass "$what"
  else
    fail "$what"
    [ -n "$out" ] && sed 's/^/    /' <<<"$out"
  fi
  return 0
}

# --- tools -----------------------------------------------------------------
updated=
apt_install() {
  command -v apt-get >/dev/null || die "install $*: no apt-get here; install it by hand"
  local log
  log=$(mktemp)
  if [ -z "$updated" ]; then
    timeout 300 apt-get update -qq >"$log" 2>&1 || { cat "$log"; die "apt-get update"; }
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 ||
    { cat "$log"; die "apt-get install $*"; }
  rm -f "$log"
}
find_tool() { # NAME CANDIDATES...: the first that exists
  local c
  for c in "$@"; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}
wine_tools() {
  WINE=$(find_tool wine64 /usr/lib/wine/wine64 wine) &&
    WINESERVER=$(find_tool wineserver /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver)
}
if ! wine_tools; then
  echo "installing wine64"
  apt_install wine64
  wine_tools || die "wine64 installed, but no wine or wineserver found"
fi
echo "using $WINE ($("$WINE" --version 2>/dev/null))"

# --- a Wine prefix of our own, torn down at the end --------------------------
work=$(mktemp -d /tmp/steward-wine.XXXXXX)
export WINEPREFIX=$work/prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
bgpids=()
cleanup() {
  local p
  for p in "${bgpids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  timeout 20 "$WINESERVER" -k >/dev/null 2>&1
  timeout 20 "$WINESERVER" -w >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
timeout 180 "$WINE" wineboot --init >/dev/null 2>&1 </dev/null || die "wineboot --init"
timeout 60 "$WINESERVER" -w || die "wait for wineserver after wineboot"
# Keep one wineserver up for the whole run, so that each command does not
# start its own.
"$WINESERVER" -p </dev/null >/dev/null 2>&1
pass "Wine prefix ready ($(($(date +%s) - started))s)"

# winpath PATH: the Windows path of a Unix path (Wine maps / to Z:).
winpath() { local p=${1//\//\\}; echo "Z:$p"; }
# w ARGS...: run a Windows program, bounded in time, its output through a
# file: Wine's background processes (services.exe …) may inherit a pipe and
# keep it open, and a reader of the pipe would wait for them forever.
w() {
  local rc
  timeout 60 "$WINE" "$@" >"$work/w.out" 2>&1 </dev/null
  rc=$?
  cat "$work/w.out"
  return $rc
}

# --- cross-compile -----------------------------------------------------------
bin=$work/bin
mkdir -p "$bin"
export GOOS=windows GOARCH=amd64 CGO_ENABLED=0
for target in "steward.exe ./cmd/steward" "testprog.exe ./internal/testprog" "wincheck.exe ./internal/osservice/testdata/wincheck"; do
  set -- $target
  go build -o "$bin/$1" "$2" || die "cross-compile $2 for windows/amd64"
done
for pkg in osservice ipc; do
  go test -c -o "$bin/$pkg.test.exe" ./internal/$pkg || die "cross-compile the tests of internal/$pkg"
done
unset GOOS GOARCH CGO_ENABLED
pass "cross-compiled steward.exe, testprog.exe, wincheck.exe and the tests ($(($(date +%s) - started))s)"

# Go programs call bcryptprimitives.dll!ProcessPrng at start-up; Wine 8 has
# no such DLL. Build a stand-in only when this Wine needs it.
version=$(w "$bin/steward.exe" --version 2>&1)
if grep -q 'bcryptprimitives' <<<"$version"; then
  gcc=$(find_tool x86_64-w64-mingw32-gcc) || {
    echo "installing gcc-mingw-w64-x86-64"
    apt_install gcc-mingw-w64-x86-64
    gcc=$(find_tool x86_64-w64-mingw32-gcc) || die "no x86_64-w64-mingw32-gcc after installing it"
  }
  "$gcc" -shared -O2 -nostdlib -Wl,-e,DllMain -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    scripts/wine/processprng.c scripts/wine/bcryptprimitives.def -ladvapi32 -lkernel32 ||
    die "build the ProcessPrng stand-in"
  echo "installed a ProcessPrng stand-in (this Wine lacks bcryptprimitives.dll)"
fi
version=$(w "$bin/steward.exe" --version 2>&1)
check "steward.exe runs under Wine: $version" grep -q 'steward version' <<<"$version"

# The Windows side of internal/osservice (the service handler, the Service
# Control Manager queries) and of internal/ipc (the named pipe). The other
# tests run on Linux; t.TempDir cannot clean up under Wine 8, whose
# NtSetInformationFile lacks what Go's os.RemoveAll uses.
# unit_tests PKG REGEXP: run the tests of internal/PKG that REGEXP selects.
unit_tests() {
  local out
  out=$(w "$bin/$1.test.exe" -test.v -test.run "$2")
  if grep -q '^PASS$' <<<"$out"; then
    pass "Windows unit tests of internal/$1 ($(grep -c -- '^--- PASS' <<<"$out") tests)"
  else
    grep -- '--- FAIL' -A 5 <<<"$out"
    fail "Windows unit tests of internal/$1"
  fi
}
unit_tests osservice '^(TestExecute|TestSCM|TestCheck|TestWindowsStates|TestStartType|TestStewardOperations|TestLineWriter)'
unit_tests ipc '^TestPipe'

# --- smoke test: steward.exe run, driven over the named pipe -----------------
smoke=$work/smoke
mkdir -p "$smoke"
cp "$bin/testprog.exe" "$smoke/"
cat >"$smoke/steward.yaml" <<'EOF'
data_dir: data
api:
  socket: \\.\pipe\steward-wine-smoke
bus: {}
services:
  tree:
    command: ["./testprog.exe", "-spawn", "2", "-pidfile", "tree.pids"]
    stop: {signal: TERM, timeout: 5s}
  stubborn:
    command: ["./testprog.exe", "-ignore-term"]
    stop: {signal: TERM, timeout: 3s}
EOF
cfg=$(winpath "$smoke/steward.yaml")
st() { w "$bin/steward.exe" "$@" -c "$cfg"; }

check "validate" st validate
# No timeout(1) in between: $runpid is steward.exe's own process, which the
# test kills below (cleanup kills it in any case).
(cd "$smoke" && exec "$WINE" "$bin/steward.exe" run -c "$cfg" >"$smoke/run.log" 2>&1 </dev/null) &
runpid=$!
bgpids+=("$runpid")

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
# code COMMAND...: the exit status of a command.
code() { "$@" >/dev/null 2>&1; echo $?; }
# state NAME: the state column of NAME in steward ps.
state() { st ps | awk -v n="$1" '$1 == n { print $3 }'; }
state_is() { [ "$(state "$1")" = "$2" ]; }
# pids FILE: the pids in a -pidfile, on one line.
pids() { tr -d '\r' <"$1" | tr '\n' ' '; }

if wait_for 30 st ps; then pass "steward.exe run serves the API on \\\\.\\pipe\\steward-wine-smoke"; else
  cat "$smoke/run.log"
  die "steward.exe run serves the API"
fi
check "ps: tree running" wait_for 10 state_is tree running
check "ps: stubborn running" wait_for 10 state_is stubborn running
json=$(st ps -o json)
check "ps -o json lists both services" grep -q '"name": "stubborn"' <<<"$json"
# The embedded NATS server with JetStream on its file store.
check "bus: the events stream is up" wait_for 30 eval 'st bus streams | grep -q STEWARD_EVENTS'
check "bus pub: a message stored" st bus pub wine.smoke hello

wait_for 10 test -s "$smoke/tree.pids" || fail "tree wrote its children's pids"
kids=$(pids "$smoke/tree.pids")
mainpid=$(st ps -o json | tr -d ' \n' | grep -o '"name":"tree"[^}]*"pid":[0-9]*' | grep -o '[0-9]*$')
check "tree's children run (pids $kids)" w "$bin/wincheck.exe" alive $kids
check "stop tree: exit 0" st stop tree
check "ps: tree stopped" state_is tree stopped
check "stop killed tree's process and its children" w "$bin/wincheck.exe" gone -wait 5s $mainpid $kids

rm -f "$smoke/tree.pids"
check "start tree: exit 0" st start tree
check "ps: tree running again" wait_for 10 state_is tree running
wait_for 10 test -s "$smoke/tree.pids"
kids=$(pids "$smoke/tree.pids")
before=$(st ps -o json | tr -d ' \n' | grep -o '"name":"tree"[^}]*"pid":[0-9]*' | grep -o '[0-9]*$')
rm -f "$smoke/tree.pids"
check "restart tree: exit 0" st restart tree
after=$(st ps -o json | tr -d ' \n' | grep -o '"name":"tree"[^}]*"pid":[0-9]*' | grep -o '[0-9]*$')
check "restart gave tree a new process ($before -> $after)" test -n "$after" -a "$before" != "$after"
check "restart killed the old process and its children" w "$bin/wincheck.exe" gone -wait 5s $before $kids

# A service that ignores CTRL_BREAK: the break must reach it (it says so in
# its log), and the job is terminated after stop.timeout. Wine 8's
# GenerateConsoleCtrlEvent fails whatever the console (a console from a
# terminal, from AllocConsole, none), and steward then kills the job at
# once: that is checked instead.
t0=$(date +%s%N)
check "stop stubborn (ignores CTRL_BREAK): exit 0" st stop stubborn
ms=$((($(date +%s%N) - t0) / 1000000))
check "ps: stubborn stopped" state_is stubborn stopped
if why=$(grep -o 'send CTRL_BREAK_EVENT[^"]*' "$smoke/run.log"); then
  skip "CTRL_BREAK to the service's process group: this Wine's GenerateConsoleCtrlEvent fails ($(head -n 1 <<<"$why"))"
  check "without CTRL_BREAK, stop killed the job at once (took ${ms}ms)" test "$ms" -lt 2500
else
  check "CTRL_BREAK reached stubborn's process group" grep -q 'ignored INT' "$smoke/data/logs/stubborn.log"
  check "stubborn was killed after its stop.timeout of 3s (took ${ms}ms)" test "$ms" -ge 2900
fi
check "stop of an unknown service fails" test "$(code st stop nosuch)" != 0

# Killing steward.exe outright closes its job objects: nothing survives it.
check "start stubborn again" st start stubborn
wait_for 10 test -s "$smoke/tree.pids"
kids=$(pids "$smoke/tree.pids")
all=$(st ps -o json | tr -d ' \n' | grep -o '"pid":[0-9]*' | grep -o '[0-9]*' | tr '\n' ' ')
kill -KILL "$runpid" 2>/dev/null
wait "$runpid" 2>/dev/null
check "killing steward.exe killed every supervised process ($all$kids)" w "$bin/wincheck.exe" gone -wait 10s $all $kids

# --- steward.exe as a service of Wine's service manager ----------------------
svcdir=$work/service
mkdir -p "$svcdir"
cp "$bin/testprog.exe" "$svcdir/"
# No data_dir and no api.socket: the Windows defaults, %ProgramData%\steward
# and \\.\pipe\steward.
cat >"$svcdir/steward.yaml" <<'EOF'
services:
  tree:
    command: ["./testprog.exe", "-spawn", "1", "-pidfile", "tree.pids"]
    stop: {signal: TERM, timeout: 5s}
EOF
scfg=$(winpath "$svcdir/steward.yaml")
# steward.log, in the default data dir %ProgramData%\steward: that is
# C:\ProgramData on Windows, but Wine 8 gives services C:\users\Public.
svclog() { find "$WINEPREFIX/drive_c" -path '*/steward/steward.log' 2>/dev/null | head -n 1; }
sv() { w "$bin/steward.exe" service "$@" -c "$scfg"; }

doc() { w "$bin/steward.exe" doctor -c "$scfg" 2>&1 | tr -d '\r'; }
check "service status before install: exit 4 (not installed)" test "$(code sv status)" = 4
check "doctor before install: exit 1" test "$(code w "$bin/steward.exe" doctor -c "$scfg")" = 1
out=$(doc)
check "doctor before install: no Windows service steward" grep -q '^fail  no Windows service steward' <<<"$out"
out=$(sv install 2>&1)
check "service install: exit 0" test $? -eq 0
echo "  $out" | head -n 1
out=$(sv install 2>&1)
check "service install again fails: already installed" grep -q 'already installed' <<<"$out"
check "the Event Log source steward is registered" \
  w reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\steward'
info=$(w "$bin/wincheck.exe" service steward 2>&1)
check "installed to start automatically" grep -q '^start_type: 2' <<<"$info"
check "installed command line runs steward run -c CONFIG --service-manager" \
  grep -qF -- "run -c $scfg --service-manager" <<<"$info"
if grep -q '^recovery: type 1' <<<"$info"; then
  pass "recovery actions: restart"
elif grep -q '^recovery: error' <<<"$info"; then
  skip "recovery actions: this Wine does not keep them ($(grep '^recovery: error' <<<"$info" | head -n 1))"
else
  fail "recovery actions: restart ($(grep '^recovery' <<<"$info" | head -n 1))"
fi
check "service status after install: exit 3 (stopped)" test "$(code sv status)" = 3
out=$(doc)
check "doctor after install: the service is installed" grep -q '^ok    Windows service steward is installed' <<<"$out"
check "doctor after install: its start type is automatic" grep -q '^ok    its start type is automatic' <<<"$out"
check "doctor after install: it runs this binary and config" grep -q '^ok    the service runs ' <<<"$out"
check "doctor after install: no check fails (stopped is a warning)" test "$(code w "$bin/steward.exe" doctor -c "$scfg")" = 0

# scm_state: the state Wine's service manager reports for steward.
scm_state() { w "$bin/wincheck.exe" state steward | tr -d '\r'; }
scm_running() { [ "$(scm_state)" = running ]; }
check "service start: exit 0" sv start
check "the service manager reports steward running" wait_for 20 scm_running
check "once reported running, its API answers at once on the default pipe \\\\.\\pipe\\steward" \
  w "$bin/steward.exe" ps --socket '\\.\pipe\steward'
check "service status: exit 0 (running)" test "$(code sv status)" = 0
out=$(doc)
check "doctor while it runs: the API answers" grep -q '^ok    the API at .* answers' <<<"$out"
check "the service supervises tree" wait_for 10 test -s "$svcdir/tree.pids"
svckids=$(pids "$svcdir/tree.pids" 2>/dev/null)
svcall=$(w "$bin/steward.exe" ps -o json --socket '\\.\pipe\steward' | tr -d ' \n' | grep -o '"pid":[0-9]*' | grep -o '[0-9]*' | tr '\n' ' ')
out=$(w "$bin/steward.exe" os-service status steward)
check "os-service status steward: running" grep -q 'state: *running' <<<"$out"
out=$(w "$bin/steward.exe" os-service list)
check "os-service list shows steward" grep -q '^steward ' <<<"$out"
log=$(svclog)
check "steward's log is in %ProgramData%\\steward\\steward.log (${log#"$WINEPREFIX/"})" grep -q 'steward running' "${log:-/nonexistent}"

check "service stop: exit 0" sv stop
check "service status after stop: exit 3 (stopped)" test "$(code sv status)" = 3
check "stopping the service stopped its services ($svcall$svckids)" w "$bin/wincheck.exe" gone -wait 10s $svcall $svckids
check "service restart (from stopped): exit 0" sv restart
check "service status after restart: exit 0 (running)" test "$(code sv status)" = 0
wait_for 20 w "$bin/steward.exe" ps --socket '\\.\pipe\steward'
out=$(w "$bin/steward.exe" events --socket '\\.\pipe\steward')
check "the service's stop was orderly: its run recorded \"steward stopped\"" grep -q 'steward stopped' <<<"$out"
check "service uninstall (while running): exit 0" sv uninstall
check "service status after uninstall: exit 4 (not installed)" test "$(code sv status)" = 4
check "uninstall removed the Event Log source" \
  test "$(code w reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\steward')" != 0
out=$(sv uninstall 2>&1)
check "service uninstall again fails: not installed" grep -q 'not installed' <<<"$out"
out=$(w "$bin/steward.exe" run -c "$scfg" --service-manager 2>&1)
check "run --service-manager outside the service manager fails clearly" grep -q 'Service Control Manager' <<<"$out"

summary
[ "$failed" -eq 0 ]
