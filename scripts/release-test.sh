#!/usr/bin/env bash
# Checks a release build (scripts/release.sh) with tools nobody here wrote:
# dpkg-deb and rpm read the packages' metadata and contents, the packaged
# binary reports the stamped version and accepts the packaged config,
# systemd-analyze verifies the packaged unit, and sha256sum checks SHA256SUMS.
# Usage: bash scripts/release-test.sh DIST   (DIST as release.sh left it)
set -euo pipefail
dist=$(cd "$1" && pwd)
fail() { echo "FAIL $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS"
[ "$(ls "$dist"/steward_* | grep -vc '\.deb$')" = 4 ] || fail "want 4 binaries in $dist"
version=$(ls "$dist"/steward_*_linux_amd64 | sed -E 's|.*/steward_(.*)_linux_amd64$|\1|')

for deb in "$dist"/*.deb; do
  arch=$(dpkg-deb -f "$deb" Architecture)
  [ "$(dpkg-deb -f "$deb" Package)" = steward ] || fail "$deb: package name"
  dpkg-deb -c "$deb" | awk '{print $6}' | sort >"$tmp/list"
  for path in ./usr/bin/steward ./usr/lib/systemd/system/steward.service ./etc/steward/steward.yaml ./var/lib/steward/ \
    ./usr/share/man/man1/steward.1.gz ./usr/share/man/man1/steward-service-unit.1.gz; do
    grep -qx "$path" "$tmp/list" || fail "$deb ($arch) lacks $path"
  done
  dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/steward/steward.yaml || fail "$deb: the config is not a conffile"
done
echo "PASS deb metadata and contents"

if command -v rpm >/dev/null; then
  for r in "$dist"/*.rpm; do
    [ "$(rpm -qp --qf '%{NAME}' "$r")" = steward ] || fail "$r: package name"
    rpm -qlp "$r" | grep -v '^/usr/share/man/man1/steward.*\.1\.gz$' | sort | tr '\n' ' ' |
      grep -q '^/etc/steward/steward.yaml /usr/bin/steward /usr/lib/systemd/system/steward.service /var/lib/steward $' ||
      fail "$r: contents $(rpm -qlp "$r" | tr '\n' ' ')"
    [ "$(rpm -qlp "$r" | grep -c '^/usr/share/man/man1/')" -gt 50 ] || fail "$r: man pages"
    rpm -qpc "$r" | grep -qx /etc/steward/steward.yaml || fail "$r: the config is not a config file"
  done
  echo "PASS rpm metadata and contents"
else
  echo "SKIP rpm: no rpm here"
fi

# The amd64 package, unpacked: what an install would put on the machine.
root=$tmp/root
dpkg-deb -x "$dist"/*_amd64.deb "$root"
[ "$("$root/usr/bin/steward" --version)" = "steward version $version" ] || fail "packaged binary: $("$root/usr/bin/steward" --version)"
"$root/usr/bin/steward" validate -c "$root/etc/steward/steward.yaml" >/dev/null || fail "packaged config does not validate"
"$root/usr/bin/steward" service unit --executable /usr/bin/steward -c /etc/steward/steward.yaml |
  cmp -s - "$root/usr/lib/systemd/system/steward.service" || fail "packaged unit differs from steward service unit"
grep -qx 'ExecStart=/usr/bin/steward run -c /etc/steward/steward.yaml --service-manager' "$root/usr/lib/systemd/system/steward.service" ||
  fail "packaged unit's ExecStart"
if command -v man >/dev/null; then
  out=$(MANPAGER=cat man --warnings -l "$root/usr/share/man/man1/steward-ps.1.gz" 2>&1) &&
    grep -qE "steward-ps +- " <<<"$out" && ! grep -q warning <<<"$out" || fail "man steward-ps: $out"
  grep -q "steward $version" <<<"$out" || fail "man steward-ps does not name version $version"
  echo "PASS man pages"
fi
if command -v systemd-analyze >/dev/null; then
  # verify needs the command to exist: point it at the unpacked binary.
  sed "s|/usr/bin/steward|$root/usr/bin/steward|" "$root/usr/lib/systemd/system/steward.service" >"$tmp/steward.service"
  out=$(systemd-analyze verify "$tmp/steward.service" 2>&1) && [ -z "$out" ] || fail "systemd-analyze verify: $out"
  echo "PASS systemd-analyze verify"
fi
echo "PASS release $version"
