"""Multi-label prediction files shared by the engine tests: random label sets and tied scores in
every input form (label lists, JSON arrays or joined names in CSV, label_<class> indicators; given
predictions as lists or pred_<class>), with the edge cases the memory path allows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from evaldash.tasks import evaluate_dataset, load_dataset

NAMES = ("cat", "dog", "café", "owl", "emu", "yak")


def label_sets(k: int = 5, n: int = 600, seed: int = 0, every: bool = False):
    """(y_true of shape (n, k) bool, scores of shape (n, k)): class 1 is never labelled (unless
    ``every``: row 0 then has every label), class 2 never reaches 0.5 (never predicted at the
    default threshold), row 1 has no label (as about a tenth of the rows); scores rounded to two
    decimals (ties), rows 5 and 6 all 0.45."""
    rng = np.random.default_rng(seed)
    y = rng.random((n, k)) < 0.35
    y[:, 1] = False
    y[0] = True
    y[0, 1] = every
    y[1] = False
    s = np.round(np.clip(0.6 * rng.random((n, k)) + 0.35 * y, 0, 1), 2)
    s[:, 2] = np.round(0.49 * rng.random(n), 2)
    s[5] = s[6] = 0.45
    return y, s


def frame(form: str = "list", k: int = 5, n: int = 600, seed: int = 0, given: str | None = None,
          scores: bool = True, sep: str = "|", every: bool = False) -> pd.DataFrame:
    """A multi-label table in ``form``: ``list``, ``json`` or ``text`` (a label-set column), or
    ``indicator`` (label_<class> 0/1) / ``bool`` (true/false); ``given``: ``list``, ``text`` or
    ``indicator`` predictions; ``scores`` False: predictions only."""
    y, s = label_sets(k, n, seed, every)
    names = list(NAMES[:k])
    rng = np.random.default_rng(seed + 100)
    out = pd.DataFrame({"id": [f"s{'0' * (i % 3)}{i}" for i in range(n)]})

    def as_sets(matrix, column, style):
        lists = [[names[j] for j in np.flatnonzero(row)] for row in matrix]
        if style == "list":
            # a few spellings that name the same class (padded), and the order of items varies
            lists = [[(" " + x if (i % 17 == 3 and x == names[0]) else x) for x in (l[::-1] if i % 2 else l)]
                     for i, l in enumerate(lists)]
            out[column] = lists
        elif style == "json":
            out[column] = [json.dumps(l, ensure_ascii=False) for l in lists]
        elif style == "text":
            out[column] = [sep.join(l) for l in lists]
        elif style in ("indicator", "bool"):
            prefix = "label_" if column == "labels" else "pred_"
            for j, name in enumerate(names):
                out[prefix + name] = matrix[:, j] if style == "bool" else matrix[:, j].astype(int)
        else:
            raise ValueError(style)

    as_sets(y, "labels", form)
    if given is not None:
        pred = (s >= 0.55) if scores else rng.random((n, k)) < 0.3
        as_sets(pred, "predicted_labels", given)
    if scores:
        for j, name in enumerate(names):
            out[f"score_{name}"] = s[:, j]
    out["site"] = rng.choice(["north", "south"], size=n)
    return out


def write(table: pd.DataFrame, path: Path, parts: int = 1) -> Path:
    if path.suffix == ".csv":
        table.to_csv(path, index=False)
    elif parts > 1:
        path.mkdir(parents=True)
        for i, chunk in enumerate(np.array_split(np.arange(len(table)), parts)):
            table.iloc[chunk].to_parquet(path / f"part-{i:05d}.parquet", index=False)
    else:
        table.to_parquet(path, index=False)
    return path


def memory_evaluation(path, threshold=None, thresholds=None, label_sep: str = "|"):
    """The memory path's evaluation of ``path`` (a folder: its files joined in path order)."""
    p = Path(path)
    if p.is_dir():
        joined = pd.concat([pd.read_parquet(f) for f in sorted(p.glob("*.parquet"))], ignore_index=True)
        p = p.with_suffix(".joined.parquet")
        joined.to_parquet(p, index=False)
    return evaluate_dataset(load_dataset(p, label_sep=label_sep), threshold=threshold, thresholds=thresholds)

