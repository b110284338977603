#!/usr/bin/env bash
# Install evaldash and open the dashboard on the bundled digits sample (or on the file given).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -r requirements.txt -e .
exec python3 -m streamlit run app.py --server.address 127.0.0.1 --server.headless true \
    --browser.gatherUsageStats false --browser.serverAddress localhost --client.showErrorDetails type -- "$@"
