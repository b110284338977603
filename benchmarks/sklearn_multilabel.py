"""The multi-label baseline: what a user would write with pandas and scikit-learn instead of
``evaldash report`` on a multi-label file.

Reads the Parquet file with ``pd.read_parquet``, turns the ``labels`` lists into an indicator
matrix (``MultiLabelBinarizer`` over the score columns' classes), predicts a class when its score
is >= 0.5, then computes per-class precision/recall/F1 (``average=None``), per-class ROC AUC and
average precision (``average=None``), the samples averages of precision/recall/F1, subset
accuracy, Hamming loss and label ranking average precision. Prints a small JSON object.

    python benchmarks/sklearn_multilabel.py benchmarks/data/1m_100_multilabel.parquet
"""

from __future__ import annotations

import json
import sys

import pandas as pd
from sklearn.metrics import (accuracy_score, average_precision_score, hamming_loss,
                             label_ranking_average_precision_score, precision_recall_fscore_support, roc_auc_score)
from sklearn.preprocessing import MultiLabelBinarizer


def main(path: str) -> int:
    df = pd.read_parquet(path)
    score_cols = sorted(c for c in df.columns if c.startswith("score_"))
    classes = [c[len("score_"):] for c in score_cols]
    y = MultiLabelBinarizer(classes=classes).fit_transform(df["labels"])
    scores = df[score_cols].to_numpy()
    pred = (scores >= 0.5).astype(y.dtype)
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, average=None, zero_division=0)
    samples = precision_recall_fscore_support(y, pred, average="samples", zero_division=0)
    out = {
        "n": int(len(df)),
        "precision": dict(zip(classes, precision.tolist())),
        "recall": dict(zip(classes, recall.tolist())),
        "f1": dict(zip(classes, f1.tolist())),
        "roc_auc": dict(zip(classes, roc_auc_score(y, scores, average=None).tolist())),
        "average_precision": dict(zip(classes, average_precision_score(y, scores, average=None).tolist())),
        "samples": dict(zip(("precision", "recall", "f1"), samples[:3])),
        "subset_accuracy": accuracy_score(y, pred),
        "hamming_loss": hamming_loss(y, pred),
        "label_ranking_average_precision": label_ranking_average_precision_score(y, scores),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
