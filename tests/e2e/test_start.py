"""The other ways to start the dashboard on a file: `evaldash serve PATH` and EVALDASH_PREDICTIONS."""

import os
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from dashboard import ROOT, Dashboard, _free_port

pytestmark = pytest.mark.e2e
BINARY = ROOT / "sample_data" / "digits" / "binary_three.csv"


def _start(cmd: list[str], env: dict, log) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


@pytest.mark.parametrize("how", ["evaldash serve", "EVALDASH_PREDICTIONS"])
def test_start_on_a_given_file(how, browser, binary_ev, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "EVALDASH_PREDICTIONS"}
    if how == "evaldash serve":
        cmd = [sys.executable, "-m", "evaldash.cli", "serve", str(BINARY), "--port", str(port)]
    else:
        env["EVALDASH_PREDICTIONS"] = str(BINARY)
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "server.log", "wb") as log:
        proc = _start(cmd, env, log)
        try:
            _wait_healthy(url, proc)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            try:
                dash = Dashboard(context.new_page(), url).open("/")
                d = binary_ev.dataset
                expect(dash.sidebar).to_contain_text("binary_three.csv")
                expect(dash.sidebar).to_contain_text(f"{d.n:,} samples · 2 classes · positive class: three")
                expect(dash.metric("Samples")).to_have_text(f"{d.n:,}")
            finally:
                context.close()
            if how == "evaldash serve":  # bound to every interface, as a user starts it
                banner = (tmp_path / "server.log").read_text(errors="replace")
                assert f"URL: http://localhost:{port}" in banner
                # no "External URL": Streamlit did not ask checkip.amazonaws.com (network at run time)
                assert "External URL" not in banner and "external IP" not in banner, banner
        finally:
            proc.terminate()  # `evaldash serve` becomes the streamlit process (exec)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
