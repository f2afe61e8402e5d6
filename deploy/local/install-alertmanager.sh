#!/usr/bin/env bash
# install-alertmanager.sh - install Prometheus Alertmanager (and amtool) from Debian's
# "prometheus-alertmanager" package (0.25 on Debian 12), without starting the system service.
#
# Usage (as root):  install-alertmanager.sh
# Gives /usr/bin/prometheus-alertmanager (the daemon; Debian renames the upstream "alertmanager")
# and /usr/bin/amtool. The tests run their own instances with start-alertmanager.sh.
# A temporary policy-rc.d keeps the package's init script from starting the system-wide
# Alertmanager on :9093 (and its cluster listener on :9094).
# Idempotent: does nothing when both binaries are already on PATH. Prints the version.
set -euo pipefail

if ! command -v prometheus-alertmanager >/dev/null 2>&1 || ! command -v amtool >/dev/null 2>&1; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 prometheus-alertmanager >/dev/null
fi
# If a system-wide instance got started anyway, stop it so it cannot hold :9093/:9094.
if [ -s /run/prometheus/prometheus-alertmanager.pid ] && kill -0 "$(cat /run/prometheus/prometheus-alertmanager.pid)" 2>/dev/null; then
    kill "$(cat /run/prometheus/prometheus-alertmanager.pid)" 2>/dev/null || true
fi
prometheus-alertmanager --version 2>&1 | head -n 1
