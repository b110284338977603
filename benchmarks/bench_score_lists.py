"""Loading a list of scores per row (issue 15) against the same data in ``score_<class>`` columns.

Writes 1M rows × 10 classes (seeded) to ``benchmarks/data/lists/`` in Parquet, CSV and JSON Lines, each
with ``score_<class>`` columns and with a ``probs`` list (a Parquet list column, JSON array text in CSV,
JSON arrays in JSON Lines); times ``load_predictions`` on each (best of ``--repeat``, in this process) and checks
that every form gives the same scores. ``python benchmarks/bench_score_lists.py [--rows N]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evaldash.dataset import load_predictions

DATA = Path(__file__).resolve().parent / "data" / "lists"


def write_forms(n: int, k: int) -> dict[str, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), y] += 1.5
    p = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), 6)
    names = [f"c{j}" for j in range(k)]
    forms = {"score columns (parquet)": DATA / f"columns_{n}.parquet", "list (parquet)": DATA / f"list_{n}.parquet",
             "score columns (csv)": DATA / f"columns_{n}.csv", "JSON array text (csv)": DATA / f"list_{n}.csv",
             "score columns (jsonl)": DATA / f"columns_{n}.jsonl", "JSON arrays (jsonl)": DATA / f"list_{n}.jsonl"}
    if all(f.exists() for f in forms.values()):
        return forms
    columns = pd.DataFrame({"label": np.asarray(names, dtype=object)[y]})
    for j, c in enumerate(names):
        columns[f"score_{c}"] = p[:, j]
    columns.to_parquet(forms["score columns (parquet)"], index=False)
    columns.to_csv(forms["score columns (csv)"], index=False)
    columns.to_json(forms["score columns (jsonl)"], orient="records", lines=True)
    lists = pd.DataFrame({"label": y, "probs": list(p)})
    lists.to_parquet(forms["list (parquet)"], index=False)
    text = ["[" + ", ".join(map(repr, row)) + "]" for row in p.tolist()]
    pd.DataFrame({"label": y, "probs": text}).to_csv(forms["JSON array text (csv)"], index=False)
    with open(forms["JSON arrays (jsonl)"], "w") as fh:
        for label, row in zip(y.tolist(), p.tolist()):
            fh.write(json.dumps({"label": label, "probs": row}) + "\n")
    return forms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    forms = write_forms(args.rows, args.classes)
    names = ",".join(f"c{j}" for j in range(args.classes))
    reference = None
    for form, path in forms.items():
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            d = load_predictions(path, classes=None if form.startswith("score") else names)
            best = min(best, time.perf_counter() - start)
        if reference is None:
            reference = d
        assert d.classes == reference.classes and np.array_equal(d.scores, reference.scores)
        assert np.array_equal(d.y_true, reference.y_true)
        print(f"{form:<26} {path.stat().st_size / 1e6:8.1f} MB  load {best:6.2f} s")


if __name__ == "__main__":
    main()
