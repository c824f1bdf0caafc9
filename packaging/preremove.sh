#!/bin/sh
# Before removal (not before an upgrade): stop steward and its services.
set -e
case "$1" in
  remove | purge | 0) ;;
  *) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
  systemctl disable --now steward || true
fi
