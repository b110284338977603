"""Prediction files shared by the engine tests: random data with ties, edge cases, written as
Parquet (one file or a partitioned folder) and CSV."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from evaldash.dataset import load_predictions
from evaldash.evaluation import evaluate
from evaldash.report import to_jsonable


def multiclass_ties(n: int = 3000, k: int = 4, seed: int = 0, absent: int | None = 3) -> pd.DataFrame:
    """k classes whose score rows come from 25 distinct probability vectors (many tied scores);
    class ``absent`` never occurs in the labels."""
    rng = np.random.default_rng(seed)
    table = rng.dirichlet(np.ones(k), size=25)
    table[3] = np.full(k, 1.0 / k)  # a row of equal scores: argmax ties go to the first class
    rows = rng.integers(0, 25, size=n)
    scores = table[rows]
    labels = np.where(rng.random(n) < 0.6, scores.argmax(axis=1), rng.integers(0, k, size=n))
    if absent is not None:
        labels = np.where(labels == absent, (absent + 1) % k, labels)
    ids = np.array([f"x{'0' * int(i % 3)}{i}" for i in range(n)])  # ids of mixed lengths
    frame = pd.DataFrame({"id": ids, "label": labels})
    for c in range(k):
        frame[f"score_{c}"] = scores[:, c]
    frame["site"] = rng.choice(["north", "south", "east"], size=n)
    return frame


def binary_ties(n: int = 4000, seed: int = 1, unit: bool = True) -> pd.DataFrame:
    """One score per row, rounded to two decimals (ties); extreme scores at both ends; outside
    [0, 1] when ``unit`` is False."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    s = np.clip(np.round(0.3 * y + rng.random(n) * 0.7, 2), 0, 1)
    s[:5] = [0.0, 1.0, 1e-300, 1 - 1e-16, 0.5]
    if not unit:
        s = (s - 0.5) * 1e6
        s[5] = -1e300
    return pd.DataFrame({"id": np.arange(n) * 7, "label": np.where(y == 1, "fraud", "ok"), "score": s})


def predictions_only(n: int = 500, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.array(["cat", "dog", "café", "007"])
    return pd.DataFrame({"label": names[rng.integers(0, 4, n)], "prediction": names[rng.integers(0, 4, n)]})


def write(frame: pd.DataFrame, path: Path, parts: int = 1) -> Path:
    """``frame`` as Parquet (a folder of ``parts`` files when above 1) or CSV, by ``path``'s suffix."""
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif parts > 1:
        path.mkdir(parents=True)
        for i, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
            frame.iloc[chunk].to_parquet(path / f"part-{i:05d}.parquet", index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def memory_report(path, **kw) -> tuple[dict, object]:
    """(the JSON-ready report, the evaluation) of the memory path; a folder is read as its
    concatenated files."""
    p = Path(path)
    if p.is_dir():
        frame = pd.concat([pd.read_parquet(f) for f in sorted(p.glob("*.parquet"))], ignore_index=True)
        single = p.with_suffix(".joined.parquet")
        frame.to_parquet(single, index=False)
        p = single
    threshold = kw.pop("threshold", None)
    evaluation = evaluate(load_predictions(p, **kw), threshold=threshold)
    report = to_jsonable(evaluation.report())
    report["source"] = str(path)  # a folder's report names the folder
    return report, evaluation


def differences(a, b, path: str = "", tol: float = 1e-9) -> list[str]:
    """Where two JSON-ready values differ (floats by more than ``tol``, relative to 1)."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}/{key}: only in {'the first' if key in a else 'the second'}")
            else:
                out += differences(a[key], b[key], f"{path}/{key}", tol)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: lengths {len(a)} and {len(b)}"]
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]", tol)
    elif isinstance(a, float) and isinstance(b, float):
        if not math.isclose(a, b, rel_tol=tol, abs_tol=tol):
            out.append(f"{path}: {a!r} and {b!r}")
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: {a!r} and {b!r}")
    return out


def status_recorder(labels: list):
    """A stand-in for ``st.empty`` whose status boxes append their label and each update to
    ``labels``, and "(removed)" when emptied: the steps a page shows while an engine works."""
    class Status:
        def __init__(self, label, **kwargs):
            labels.append(label)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, label=None, **kwargs):
            labels.append(label)

    class Empty:
        status = Status

        def empty(self):
            labels.append("(removed)")

    return Empty
