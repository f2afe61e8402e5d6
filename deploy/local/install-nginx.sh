#!/usr/bin/env bash
# install-nginx.sh - install nginx (and the openssl command) from Debian for
# tests/project/test_tls_proxy.py, which makes a self-signed certificate and runs its own nginx (its own
# config, pid, logs and temp paths in a temporary folder) terminating TLS in front of gunicorn.
#
# Usage (as root):  install-nginx.sh
# nginx-light is enough (ssl and proxy are built in); plain "nginx" where a release no longer ships it.
# A temporary policy-rc.d keeps the package's init script from starting the system nginx on :80.
# Idempotent: does nothing when both are installed.
set -euo pipefail

if [ ! -x /usr/sbin/nginx ] || ! command -v openssl >/dev/null 2>&1; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    install() { apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "$@" >/dev/null; }
    install nginx-light openssl 2>/dev/null || install nginx openssl
fi
/usr/sbin/nginx -v 2>&1
