#!/bin/sh
# After removal: let systemd forget the unit. The data dir stays.
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
