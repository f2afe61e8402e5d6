#!/usr/bin/env bash
# install-slapd.sh - the OpenLDAP pieces the directory login needs, from Debian packages.
#
# Usage (as root):  install-slapd.sh
#   - libldap2-dev, libsasl2-dev (and gcc): python-ldap, which django-auth-ldap needs, has no binary
#     wheel for CPython 3.11 on Linux, so `pip install` compiles it against these headers. The
#     Makefile's install step calls this script before pip for that reason.
#   - slapd, ldap-utils: the tests (tests/security/ldap_helpers.py) start their own slapd from a
#     throw-away cn=config; the system instance is never configured or started (a temporary
#     policy-rc.d keeps the package's init script from starting it, debconf asks nothing).
# Idempotent: does nothing when everything is already there.
set -euo pipefail

packages=(libldap2-dev libsasl2-dev gcc slapd ldap-utils)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    # No questions: let the package skip building a system directory we never use.
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
fi
PATH=$PATH:/usr/sbin slapd -VV 2>&1 | head -n 1
