"""Regenerate the bundled sample data in ``sample_data/digits/``.

Uses scikit-learn's bundled handwritten digits (``load_digits``: 1,797 real
8x8 scans, intensities 0..16). The data are split in half (stratified,
``random_state=0``); models are trained on one half and predict the other
(899 held-out rows). No network access is needed and the output is
deterministic.

Outputs
-------
predictions.csv
    Ten-class predictions: ``id, label, prediction, score_0 .. score_9,
    image, ink, stroke``. Scores are probabilities rounded to 6 significant
    digits; each row sums to 1 within 1e-6.
predictions_weaker.csv
    The same held-out rows and columns from a weaker ten-class model (Gaussian
    naive Bayes on the same features), to compare two models.
concepts.csv
    Multi-label (concepts a digit can share): ``id, labels`` (the concepts joined by ``|``:
    ``even``, ``prime``, ``closed_loop``, ``greater_than_5``; empty for the digit 1),
    ``score_<concept>`` (each concept's own probability from its own logistic regression,
    ``C=1``, on the same pooled features), ``image, ink, stroke`` (the same images).
binary_three.csv
    Digit 3 versus the rest (about 10% positives): ``id, label`` (``three`` or
    ``other``), ``score`` (probability of ``three``), ``image, ink, stroke``.
images/<id>.png
    Each held-out scan upsampled to 64x64 (nearest neighbour), black ink on
    white, shared by both CSVs.

Models
------
Both models are deliberately weak so the dashboard has real mistakes to show:
a logistic regression (``C=3``) for the ten classes and one (``C=10``) for
"three", each fitted on the scans average-pooled from 8x8 down to 4x4
(16 features). Pooling blurs away detail that tells e.g. 3/5/8/9 apart, so
errors are varied, and the multiclass probabilities are under-confident rather
than all near 0 or 1, which keeps calibration and threshold views interesting.

Achieved on the held-out half: ten-class accuracy 0.8687 (781/899);
"three" ROC AUC 0.9728 with 92/899 positives (10.2%).

Metadata: ``ink`` is the fraction of non-zero pixels (3 decimals); ``stroke``
is ``thin``/``medium``/``thick`` by terciles of total intensity over the
held-out rows.

Run ``python scripts/make_sample_data.py`` from anywhere.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

SEED = 0
OUT = Path(__file__).resolve().parents[1] / "sample_data" / "digits"


def pooled(images):
    """Average-pool (n, 8, 8) scans to 4x4 and flatten to 16 features in [0, 1]."""
    return images.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(len(images), -1) / 16


def sig6(x):
    """Round to 6 significant digits (keeps tiny probabilities non-zero)."""
    x = np.asarray(x, dtype=float)
    return np.array([float(f"{v:.6g}") for v in x.ravel()]).reshape(x.shape)


def round_rows(proba):
    """Round probabilities, then put the rounding residual on each row's largest entry."""
    p = sig6(proba)
    rows = np.arange(len(p))
    top = p.argmax(axis=1)
    p[rows, top] = sig6(p[rows, top] + 1.0 - p.sum(axis=1))
    return p


# Concepts a digit can share (multi-label): each digit's set is fixed by its class. The digit 1
# has none of them, so the sample also has samples with no label.
CONCEPTS = {
    "even": {0, 2, 4, 6, 8},
    "prime": {2, 3, 5, 7},
    "closed_loop": {0, 6, 8, 9},
    "greater_than_5": {6, 7, 8, 9},
}


def concept_predictions(X, y, train, test, ids, meta):
    """The multi-label sample: one logistic regression (``C=1``) per concept, one-vs-rest on the
    same 16 pooled features, each giving its concept's own probability."""
    truth = {name: np.isin(y, sorted(digits)).astype(int) for name, digits in CONCEPTS.items()}
    scores = {}
    for name, target in truth.items():
        model = LogisticRegression(C=1, max_iter=5000).fit(X[train], target[train])
        scores[f"score_{name}"] = sig6(model.predict_proba(X[test])[:, 1])
    labels = ["|".join(name for name in CONCEPTS if truth[name][i]) for i in test]
    return pd.concat([pd.DataFrame({"id": ids, "labels": labels, **scores}), meta], axis=1)


def main():
    digits = load_digits()
    images, y = digits.images, digits.target
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.5, stratify=y, random_state=SEED
    )
    test = np.sort(test)
    X = pooled(images)

    ids = [f"d{i:04d}" for i in test]
    total = images[test].sum(axis=(1, 2))
    meta = pd.DataFrame({
        "image": [f"images/{i}.png" for i in ids],
        "ink": np.round((images[test] > 0).mean(axis=(1, 2)), 3),
        "stroke": pd.qcut(total, 3, labels=["thin", "medium", "thick"]).astype(str),
    })

    # Ten-class model.
    multi = LogisticRegression(C=3, max_iter=5000).fit(X[train], y[train])
    proba = round_rows(multi.predict_proba(X[test]))
    pred = multi.classes_[proba.argmax(axis=1)]
    scores = pd.DataFrame(proba, columns=[f"score_{k}" for k in multi.classes_])
    predictions = pd.concat(
        [pd.DataFrame({"id": ids, "label": y[test], "prediction": pred}), scores, meta],
        axis=1,
    )

    # A second, weaker ten-class model on the same held-out rows (same ids), for comparisons:
    # Gaussian naive Bayes on the same 16 pooled features.
    weaker = GaussianNB().fit(X[train], y[train])
    proba_w = round_rows(weaker.predict_proba(X[test]))
    pred_w = weaker.classes_[proba_w.argmax(axis=1)]
    predictions_weaker = pd.concat(
        [pd.DataFrame({"id": ids, "label": y[test], "prediction": pred_w}),
         pd.DataFrame(proba_w, columns=[f"score_{k}" for k in weaker.classes_]), meta],
        axis=1,
    )

    # Binary model: three versus the rest.
    is_three = (y == 3).astype(int)
    binary = LogisticRegression(C=10, max_iter=5000).fit(X[train], is_three[train])
    p_three = sig6(binary.predict_proba(X[test])[:, 1])
    binary_three = pd.concat([
        pd.DataFrame({
            "id": ids,
            "label": np.where(is_three[test] == 1, "three", "other"),
            "score": p_three,
        }),
        meta,
    ], axis=1)

    concepts = concept_predictions(X, y, train, test, ids, meta)

    (OUT / "images").mkdir(parents=True, exist_ok=True)
    concepts.to_csv(OUT / "concepts.csv", index=False)
    predictions.to_csv(OUT / "predictions.csv", index=False)
    predictions_weaker.to_csv(OUT / "predictions_weaker.csv", index=False)
    binary_three.to_csv(OUT / "binary_three.csv", index=False)
    for name, img in zip(ids, images[test]):
        gray = (255 - np.round(img * 255 / 16)).astype(np.uint8)  # black ink on white
        Image.fromarray(gray, mode="L").resize((64, 64), Image.NEAREST).save(
            OUT / "images" / f"{name}.png", optimize=True
        )

    acc = accuracy_score(y[test], pred)
    auc = roc_auc_score(is_three[test], p_three)
    print(f"wrote {len(ids)} rows and images to {OUT}")
    print(f"ten-class accuracy: {acc:.4f} ({(pred == y[test]).sum()}/{len(ids)})")
    print(f"three-vs-rest ROC AUC: {auc:.4f}, positives {is_three[test].sum()}"
          f"/{len(ids)} ({is_three[test].mean():.1%})")
    from sklearn.metrics import f1_score

    concept_truth = np.column_stack([concepts["labels"].str.split("|").map(lambda s, c=c: c in s) for c in CONCEPTS])
    concept_pred = concepts[[f"score_{c}" for c in CONCEPTS]].to_numpy() >= 0.5
    print(f"concepts: samples F1 {f1_score(concept_truth, concept_pred, average='samples', zero_division=0):.4f}, "
          f"subset accuracy {np.mean((concept_truth == concept_pred).all(axis=1)):.4f}")


if __name__ == "__main__":
    main()
