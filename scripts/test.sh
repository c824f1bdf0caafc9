#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then checks formatting,
# vets for every OS, cross-compiles, runs every test with the race detector
# (integration tests included, against the real binary built with -cover) and
# prints the total statement coverage. Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "tools"
go version
# staticcheck and the nats CLI, pinned, into GOBIN (default: $(go env GOPATH)/bin). The Wine and
# browser steps install their own packages (apt-get / npm) when missing.
staticcheck_version=v0.8.2
gobin=$(go env GOBIN)
gobin=${gobin:-$(go env GOPATH)/bin}
if ! "$gobin/staticcheck" -version 2>/dev/null | grep -q "(${staticcheck_version#v})"; then
  go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
fi
"$gobin/staticcheck" -version
# The nats CLI, pinned: the bus's integration tests use it as a client nobody
# here wrote (they skip without it).
natscli_version=v0.5.0
if ! "$gobin/nats" --version 2>/dev/null | grep -q "${natscli_version#v}"; then
  go install "github.com/nats-io/natscli/nats@$natscli_version"
fi
"$gobin/nats" --version
# nats.js, pinned by its lock file, for the bus's test with a JavaScript
# client (it skips, saying so, without node and npm).
if command -v npm >/dev/null; then
  (cd cmd/steward/testdata/natsjs && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "npm ci of nats.js failed: the nats.js test will skip"
fi
# Python's openpyxl reads the workbooks the workbook kind writes (a reader
# nobody here wrote); its test skips, saying so, without it.
if ! { python3 -c 'import openpyxl' || /usr/bin/python3 -c 'import openpyxl'; } 2>/dev/null && command -v apt-get >/dev/null; then
  { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 \
      apt-get install -y -qq --no-install-recommends python3-openpyxl; } >/dev/null ||
    echo "python3-openpyxl could not be installed: the openpyxl test will skip"
fi

# From Debian, when missing: rpm reads the .rpm packages the release build
# makes, a standalone nats-server (2.9 on bookworm) serves the test of
# bus.url against a server steward did not embed, and tmux is the real
# terminal steward top's test runs in; each check skips, saying so, without
# its tool.
missing=()
command -v rpm >/dev/null || missing+=(rpm)
command -v tmux >/dev/null || missing+=(tmux)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null ||
    echo "could not install ${missing[*]}: their checks will skip"
fi

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet (linux, windows, darwin)"
go vet ./...
GOOS=windows go vet ./...
GOOS=darwin go vet ./...

step "staticcheck (linux, windows, darwin)"
for goos in linux windows darwin; do
  GOOS=$goos "$gobin/staticcheck" ./...
done

step "release build: 4 targets cross-compiled (CGO_ENABLED=0), .deb and .rpm, checked"
dist=$(mktemp -d)
bash scripts/release.sh "$dist" >/dev/null
bash scripts/release-test.sh "$dist"
rm -rf "$dist"

step "go test -race (unit and integration) with coverage"
covdir=$(mktemp -d)
trap 'rm -rf "$covdir"' EXIT
mkdir -p "$covdir/unit" "$covdir/bin"
# Integration tests build the real binary with -cover and run it with
# GOCOVERDIR=$STEWARD_COVDIR, so its statements count too.
STEWARD_COVDIR="$covdir/bin" go test -race -count=1 -timeout 20m \
  -cover -coverpkg=./... ./... -args -test.gocoverdir="$covdir/unit"
bash scripts/wine-test.sh
bash scripts/browser-test.sh

step "coverage (unit + integration) of the product code"
go tool covdata textfmt -i="$covdir/unit,$covdir/bin" -o "$covdir/all.txt"
# Measurement programs (bench/) and test helpers (testprog, testwait, testfs, deptest, apitest) are not
# product code; everything else counts.
grep -vE '/(bench/|internal/testprog/|internal/testwait/|internal/testfs/|internal/deptest/|internal/api/apitest/)' "$covdir/all.txt" > "$covdir/cover.txt"
go tool cover -func="$covdir/cover.txt" | tail -n 1
