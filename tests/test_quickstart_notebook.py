"""docs/quickstart.ipynb runs on a real Jupyter kernel (nbclient + ipykernel): it evaluates a
scikit-learn model's arrays, shows the dashboard, tags a sample in headless Chromium, reads the
finding back with .findings() and stops the server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "quickstart.ipynb"
CHROMIUM = "/usr/bin/chromium"


def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    import nbformat  # the test extra: nbclient, ipykernel, nbformat
    from nbclient import NotebookClient

    assert shutil.which(CHROMIUM) or os.path.exists(CHROMIUM), f"the notebook drives {CHROMIUM}"
    # the kernel (and the server it starts) use this checkout and a database of this test only
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = {i: "".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", []))
               for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    text = "\n".join(outputs.values())
    assert "scores has 9 columns but y_true holds 10 distinct labels" in text
    assert " 200" in text and "tagged test-" in text and "stopped: True" in text
    findings = next(o for o in outputs.values() if "tagged from the quickstart" in o)
    assert "label error" in findings and "notebook" in findings
    html = [o["data"]["text/html"] for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]
    assert any("<iframe src=\"http://127.0.0.1:" in h for h in html)
    assert any("evaldash-results" in h for h in html)
