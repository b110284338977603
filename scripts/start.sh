#!/usr/bin/env bash
# Install evaldash and open the dashboard on the bundled digits sample, or on the files given:
#   bash scripts/start.sh [PATH ...] [--port N] [--address ADDR --users FILE] [--db DB] ...
# Every option is `evaldash serve`'s (see `evaldash serve --help`); an unknown one is refused.
# Paths are taken relative to the folder you run it from.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python3 -m pip install -q --disable-pip-version-check -r "$root/requirements.txt" -e "$root"
exec python3 -m evaldash.cli serve "$@"
