"""Runs that ``evaldash.show`` adds to a dashboard already running (the server side).

``show`` starts the server once, on its first data; a later call writes its data as a file and
lists it in a small JSON manifest (``EVALDASH_NOTEBOOK_RUNS``, in the notebook's private
temporary folder). Each page run reads the manifest (only when it changed) and opens its files as
more runs of the session, reachable by ``?ds=<key>`` as any run opened in the sidebar. The
manifest is written by the process that started the server, so it is trusted as the server's
command line is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

ENV = "EVALDASH_NOTEBOOK_RUNS"

_cache: dict[str, tuple[tuple[int, int], list[dict]]] = {}


def source_key(path: str, positive: str | None, images_root: str | None) -> str:
    """The dashboard's key of a run (``ui.Source.key``): what ``?ds=`` names."""
    raw = f"{path}\x1f{positive}\x1f{images_root}"
    return hashlib.sha1(raw.encode()).hexdigest()[:10]


def write_manifest(path: str | Path, runs: list[dict]) -> None:
    """Replace the manifest at ``path`` by ``runs`` (path, positive, images_root, label), atomically."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(runs, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def read_manifest(path: str | Path) -> list[dict]:
    """The runs listed at ``path`` ([] when there is no manifest or it cannot be read)."""
    try:
        stat = os.stat(path)
    except OSError:
        return []
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(str(path))
    if cached is not None and cached[0] == version:
        return cached[1]
    try:
        runs = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    runs = [r for r in runs if isinstance(r, dict) and isinstance(r.get("path"), str)] if isinstance(runs, list) else []
    _cache[str(path)] = (version, runs)
    return runs


def add_notebook_runs(ui) -> None:
    """Open the manifest's runs in this session (``ui``: :mod:`evaldash.ui`, passed in so that this
    module imports no Streamlit); does nothing unless the server was started by ``show``."""
    manifest = os.environ.get(ENV)
    if not manifest:
        return
    for run in read_manifest(manifest):
        ui.add_run(ui.Source(run["path"], run.get("positive"), run.get("images_root"), label=str(run.get("label", ""))))


def thresholds_file(manifest: str | Path) -> Path:
    """Where a server started by ``show`` notes the thresholds chosen on /threshold (beside its
    manifest, in the notebook's private folder)."""
    manifest = Path(manifest)
    return manifest.with_name(manifest.stem + ".thresholds.json")


def record_threshold(path: str, class_name: str, threshold: float) -> None:
    """Note that ``threshold`` is the one chosen on /threshold for class ``class_name`` of the run
    read from ``path`` (the latest choice per run and class is kept), for ``show``'s handle
    (``.thresholds()``); does nothing on a server that ``show`` did not start."""
    manifest = os.environ.get(ENV)
    if not manifest:
        return
    target = thresholds_file(manifest)
    chosen = {f"{r['path']}\x1f{r['class']}": r for r in read_thresholds(target)}
    key = f"{path}\x1f{class_name}"
    if key in chosen and chosen[key]["threshold"] == float(threshold):
        return
    chosen[key] = {"path": path, "class": class_name, "threshold": float(threshold),
                   "chosen_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    write_manifest(target, list(chosen.values()))  # the same atomic replace


def read_thresholds(path: str | Path) -> list[dict]:
    """The thresholds noted by :func:`record_threshold` ([] when none or unreadable)."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [r for r in rows if isinstance(r, dict) and {"path", "class", "threshold"} <= set(r)] \
        if isinstance(rows, list) else []
