#!/bin/sh
# After install or upgrade: let systemd see the unit. The service is not
# enabled or started: "systemctl enable --now steward" does that once the
# config holds your services.
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  if systemctl is-active --quiet steward; then
    systemctl try-restart steward || true
  fi
fi
