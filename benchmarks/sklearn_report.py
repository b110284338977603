"""The baseline: what a user would write with pandas and scikit-learn instead of ``evaldash report``.

Reads the whole file with ``pd.read_parquet`` (or ``pd.read_csv``), takes the
argmax (multi-class) or ``score >= 0.5`` (single-score binary) as the
prediction, then computes the confusion matrix, per-class precision/recall/F1
(``average=None``) and, one-vs-rest, per-class ROC AUC and average precision.
For single-score binary files only the positive class (1) gets ROC AUC and AP,
as a user would write it. Prints a small JSON object.

    python benchmarks/sklearn_report.py benchmarks/data/1m_10.parquet
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)


def main(path: str) -> int:
    df = pd.read_csv(path) if path.endswith((".csv", ".csv.gz")) else pd.read_parquet(path)
    y = df["label"].to_numpy()
    if "score" in df.columns:
        score = df["score"].to_numpy()
        classes = [0, 1]
        y_pred = (score >= 0.5).astype(y.dtype)
        ranked = {1: score}
    else:
        score_cols = sorted((c for c in df.columns if c.startswith("score_")), key=lambda c: int(c[6:]))
        classes = [int(c[6:]) for c in score_cols]
        scores = df[score_cols].to_numpy()
        y_pred = np.asarray(classes)[scores.argmax(axis=1)]
        ranked = {c: scores[:, i] for i, c in enumerate(classes)}
    cm = confusion_matrix(y, y_pred, labels=classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        y, y_pred, labels=classes, average=None, zero_division=0)
    auc = {str(c): roc_auc_score(y == c, s) for c, s in ranked.items()}
    ap = {str(c): average_precision_score(y == c, s) for c, s in ranked.items()}
    out = {
        "n": int(len(y)),
        "accuracy": float(np.trace(cm) / cm.sum()),
        "macro_f1": float(np.mean(f1)),
        "precision": dict(zip(map(str, classes), precision.tolist())),
        "recall": dict(zip(map(str, classes), recall.tolist())),
        "f1": dict(zip(map(str, classes), f1.tolist())),
        "roc_auc": auc,
        "average_precision": ap,
        "confusion_matrix": cm.tolist(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
