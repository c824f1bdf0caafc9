#!/usr/bin/env bash
# Release build: steward for linux/amd64, linux/arm64, windows/amd64 and
# darwin/arm64 (CGO_ENABLED=0, -trimpath, symbols stripped, the version
# stamped from git), a .deb and an .rpm of each Linux build with steward's
# systemd unit and man pages (nfpm, pinned below), and SHA256SUMS over all
# of them.
# Usage: bash scripts/release.sh [OUTDIR]   (default: dist)
# VERSION=v1.2.3 overrides the version `git describe --tags --dirty` gives.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
# deb and rpm versions start with a digit: an untagged build is 0.0.0-dev.<commit>.
case $version in
  v[0-9]* | [0-9]*) pkg_version=${version#v} ;;
  *) pkg_version=0.0.0-dev.$version ;;
esac

nfpm_version=v2.48.0
gobin=$(go env GOBIN)
gobin=${gobin:-$(go env GOPATH)/bin}
if ! "$gobin/nfpm" --version 2>/dev/null | grep -q "${nfpm_version#v}"; then
  go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$nfpm_version"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for target in linux/amd64 linux/arm64 windows/amd64 darwin/arm64; do
  goos=${target%/*} goarch=${target#*/}
  exe=steward_${version}_${goos}_${goarch}
  [ "$goos" = windows ] && exe=$exe.exe
  GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=$version" -o "$out/$exe" ./cmd/steward
  echo "built $exe"
done

# The unit is the one "steward service install" writes, printed with the
# packaged paths by the Linux build for this machine: packages are made on
# Linux (on another OS, "service unit" prints that OS's unit).
host=$out/steward_${version}_linux_$(go env GOARCH)
[ "$(go env GOOS)" = linux ] && [ -x "$host" ] || { echo "release.sh: the packages are built on linux/amd64 or linux/arm64" >&2; exit 1; }
"$host" service unit --executable /usr/bin/steward -c /etc/steward/steward.yaml >"$stage/steward.service"
cp packaging/nfpm.yaml packaging/steward.yaml packaging/*.sh "$stage/"
# The man pages, generated from the commands by a test (so the binary does
# not carry the generator), gzipped as Debian and Fedora ship them. A test
# binary links package main under its import path, hence the -X name.
go test ./cmd/steward -count=1 -run '^TestManPages$' -ldflags "-X github.com/stewardhq/steward/cmd/steward.version=$version" -args -man "$stage/man" >/dev/null
gzip -9n "$stage"/man/*.1
for goarch in amd64 arm64; do
  cp "$out/steward_${version}_linux_$goarch" "$stage/steward"
  for packager in deb rpm; do
    (cd "$stage" && GOARCH=$goarch PKG_VERSION=$pkg_version "$gobin/nfpm" package --config nfpm.yaml \
      --packager "$packager" --target "$out/") >/dev/null
  done
done
(cd "$out" && rm -f SHA256SUMS && sha256sum -- steward_* *.deb *.rpm >SHA256SUMS)
ls -l "$out"
