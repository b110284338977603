#!/usr/bin/env bash
# Install evaldash with its test tools, the system packages the tests need (Chromium for the
# browser tests, PostgreSQL's server binaries for the database tests, a Java runtime for the
# Spark engine's tests in local mode), and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -r requirements.txt -e '.[test]'

# initdb and pg_ctl, on PATH or where Debian puts them; the tests start their own server.
has_postgresql_server() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then return 0; fi
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ]; then return 0; fi
  done
  return 1
}

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
has_postgresql_server || packages+=(postgresql)
command -v java >/dev/null 2>&1 || packages+=(default-jre-headless)
if [ "${#packages[@]}" -gt 0 ]; then
  echo "installing ${packages[*]} (Debian packages) for the browser and database tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  # No system service: the database tests start a throwaway server of their own. Where no
  # policy-rc.d already forbids it, one is put in place for the install and removed after.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
  if [ -n "$policy" ]; then $SUDO rm -f "$policy"; trap - EXIT; fi
fi
# A worker per core (at most 4; EVALDASH_TEST_WORKERS to choose): the browser tests run in one, the
# Spark tests in one, the rest spread over all (pytest-xdist, --dist loadgroup).
python3 -m pytest -q -n "${EVALDASH_TEST_WORKERS:-auto}" --maxprocesses=4 --dist loadgroup "$@"
