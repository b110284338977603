"""evaldash.show: the dashboard in a background process on 127.0.0.1, reused by a second call;
the files it writes give the server the data (and fingerprint) the notebook has; findings and
decision records come back from the annotation database."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import evaldash
from classification_cases import BINARY_CSV, DIGITS_CSV, make_case
from evaldash import InputError
from evaldash.annotations import AnnotationStore
from evaldash.api import _plan, frame_of_dataset
from evaldash.dataset import load_predictions
from evaldash.notebook_runs import read_manifest, source_key


def _run(*args):
    """The run show() would open, with its file written."""
    run, write = _plan(*args)
    if write is not None:
        write()
    return run


def _answer(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "findings.db")


def test_show_serves_in_the_background_reuses_the_server_and_stops(db, tmp_path):
    case = make_case("k5")
    first = evaldash.show(case.y_true, case.scores, db=db, name="model A")
    try:
        assert first.url.startswith("http://127.0.0.1:") and first._server.alive
        assert _answer(first.url) == 200
        # a second call opens its runs in the same server, each reachable by its ds key
        second = evaldash.show({"v1": case.frame(), "v2": DIGITS_CSV}, db=db)
        assert second._server is first._server and second.port == first.port
        v1, v2 = second.runs
        assert second.url == f"{first._server.url}/?ds={v1.key}"
        listed = read_manifest(first._server.manifest)
        assert [r["label"] for r in listed] == ["v1", "v2"]
        assert listed[1]["path"] == str(DIGITS_CSV.resolve())
        assert _answer(second.url) == 200
        page = second._repr_html_()
        assert f'<iframe src="{second.url}"' in page and "Open the dashboard in its own tab" in page
        # another database: another server
        other = evaldash.show(DIGITS_CSV, db=str(tmp_path / "other.db"))
        assert other._server is not first._server
        args = other._server.proc.args
        # the sidebar may open files of the private folder and, as serve's default, of the file's folder
        assert [args[i + 1] for i, a in enumerate(args) if a == "--data-root"] == [
            str(first._server.folder), str(DIGITS_CSV.resolve().parent)]
        assert "--data-root" in first._server.proc.args and str(DIGITS_CSV.parent) not in first._server.proc.args
        other.stop()
        assert not other._server.alive
    finally:
        first.stop()
    assert not first._server.alive
    with pytest.raises(OSError):
        _answer(first.url)


@pytest.mark.parametrize("ending", ["", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n"],
                         ids=["exit", "killed"])
def test_the_server_stops_when_the_interpreter_exits(ending, tmp_path):
    script = (
        "import evaldash, sys\n"
        f"h = evaldash.show({str(DIGITS_CSV)!r}, db={str(tmp_path / 'x.db')!r})\n"
        "print(h._server.folder, h._server.proc.pid, flush=True)\n" + ending
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == (0 if not ending else -9), out.stderr
    folder, pid = out.stdout.split()[-2], int(out.stdout.split()[-1])
    if ending:  # killed: its private folder is left behind (nothing runs after SIGKILL)
        import shutil

        shutil.rmtree(folder)
    else:
        assert not os.path.exists(folder)
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # reaped by init once it ends
            os.kill(pid, 0)
            time.sleep(0.1)


@pytest.mark.parametrize("make", [
    lambda c: c.frame(),
    lambda c: pa.Table.from_pandas(c.frame()),
    lambda c: evaldash.evaluate(c.y_true, c.scores, y_pred=c.y_pred, classes=np.arange(c.k)),
    lambda c: evaldash.evaluate(c.frame()).evaluation,
    lambda c: evaldash.evaluate(c.frame()).dataset,
])
@pytest.mark.parametrize("name", ["binary", "k12", "missing-in-pred"])
def test_the_written_file_gives_the_server_the_same_data(make, name, tmp_path):
    case = make_case(name)
    run = _run(make(case), "run", None, {}, tmp_path)
    served = load_predictions(run.path, positive=run.positive, images_root=run.images_root)
    assert served.fingerprint() == run.fingerprint == evaldash.evaluate(case.frame()).dataset.fingerprint()


def test_arrays_with_pixels_and_a_binary_file_reach_the_server_as_given(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (6, 5, 5), dtype=np.uint8)
    run = _run(np.array([0, 1, 1, 0, 1, 0]), "px", rng.random(6), {"images": pixels, "classes": [0, 1]}, tmp_path)
    served = load_predictions(run.path, positive=run.positive, images_root=run.images_root)
    assert served.fingerprint() == run.fingerprint
    assert all(p is not None for p in served.image_paths)
    binary = evaldash.evaluate(BINARY_CSV)
    rebuilt = load_predictions(_run(binary.dataset, "b", None, {}, tmp_path).path)
    assert rebuilt.fingerprint() == binary.dataset.fingerprint()
    assert frame_of_dataset(binary.dataset)["prediction"].tolist() == list(np.asarray(binary.dataset.classes)[binary.dataset.y_pred])


def test_findings_and_decision_records_come_back_by_sample_id(db, tmp_path, monkeypatch):
    from evaldash.decision import DecisionRecord, DeploymentInputs
    from evaldash.notebook_server import Dashboard, Run

    results = evaldash.evaluate(DIGITS_CSV)
    fingerprint = results.dataset.fingerprint()
    store = AnnotationStore(db)
    store.record(fingerprint, "d0003", "Ana", "tag", "label error")
    store.record(fingerprint, "d0003", "Ana", "note", "looks like a 7")
    store.record(fingerprint, "d0010", "Bo", "label", "4")
    record = DecisionRecord(fingerprint, "predictions.csv", "3", 0.42, DeploymentInputs(prevalence=0.1), {}, {}, {},
                            rationale="fewer misses", approver="Cy", created_at=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc))
    store.save_decision(record)
    store.close()

    class _Server:  # the database side only: no process needed to read findings back
        pass

    server = _Server()
    server.db = db
    handle = Dashboard(server, [Run("digits", str(DIGITS_CSV))])
    found = handle.findings()
    assert list(found.index) == ["d0003", "d0010"] and found.index.name == "sample_id"
    assert found.loc["d0003", "tags"] == ("label error",) and found.loc["d0003", "note"] == "looks like a 7"
    assert found.loc["d0010", "corrected_label"] == "4" and found.loc["d0010", "annotator"] == "Bo"
    chosen = handle.thresholds()
    assert chosen[["run", "class", "threshold", "chosen_on", "approver"]].values.tolist() == [
        ["digits", "3", 0.42, "/decision", "Cy"]]
    # a threshold moved to on /threshold, as that page notes it (see tests/test_notebook_runs.py)
    from evaldash.notebook_runs import record_threshold

    server.manifest = tmp_path / "runs-1.json"
    monkeypatch.setenv("EVALDASH_NOTEBOOK_RUNS", str(server.manifest))
    record_threshold(str(DIGITS_CSV), "8", 0.35)
    record_threshold(str(tmp_path / "another.csv"), "8", 0.5)  # not a run of this handle
    chosen = handle.thresholds()
    assert chosen[["run", "class", "threshold", "chosen_on"]].values.tolist() == [
        ["digits", "8", 0.35, "/threshold"], ["digits", "3", 0.42, "/decision"]]  # newest first


def test_show_refuses_bad_input_before_starting_anything(db):
    with pytest.raises(InputError, match=r"scores has 2 rows but y_true has 3 labels"):
        evaldash.show([0, 1, 1], np.zeros((2, 2)), db=db)
    with pytest.raises(InputError, match=r"threshold= is chosen in the dashboard"):
        evaldash.show(DIGITS_CSV, threshold=0.5, db=db)
    with pytest.raises(TypeError, match=r"show\(\) got an unexpected keyword argument 'clases'"):
        evaldash.show([0, 1], np.zeros((2, 2)), clases=[0, 1], db=db)
    with pytest.raises(InputError, match=r"nowhere\.csv: file not found"):
        evaldash.show("nowhere.csv", db=db)
    with pytest.raises(InputError, match=r"the dict of runs is empty"):
        evaldash.show({}, db=db)
    from evaldash.notebook_server import _servers

    running = [s for s in _servers if s.alive]
    # found while the new server starts: that server is stopped again
    with pytest.raises(InputError, match=r"<DataFrame>: column 'score_a' has missing values at row 1"):
        evaldash.show({"v1": pd.DataFrame({"label": ["a"], "score_a": [np.nan], "score_b": [1.0]})}, db=db)
    assert [s for s in _servers if s.alive] == running
    with pytest.raises(InputError, match=r"cannot be written as Parquet.*expected columns of plain values"):
        evaldash.show(pd.DataFrame({"label": ["a", "b"], "prediction": ["a", "a"], "odd": [1, "x"]}), db=db)


def test_a_busy_port_is_an_input_error_with_the_servers_words(db):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(InputError, match=rf"the dashboard server stopped .* on port {port}"):
            evaldash.show(DIGITS_CSV, port=port, db=db)


def test_source_key_is_the_dashboards():
    from evaldash.ui import Source

    assert source_key("/a/b.csv", "x", None) == Source("/a/b.csv", "x", None).key
    assert source_key("/a/b.csv", None, "/imgs") == Source("/a/b.csv", None, "/imgs", label="n").key
