#!/usr/bin/env bash
# Install evaldash with its test tools, the system packages the browser tests need, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -r requirements.txt -e '.[test]'
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Chromium (Debian package) for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
python3 -m pytest -q "$@"
