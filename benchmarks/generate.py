"""Generate large, realistic prediction files for benchmarks.

The columns follow ``sample_data/digits/predictions.csv``: ``id``, ``label``,
``score_<c>`` per class (a softmax of informative-but-imperfect logits), ``image``
(paths ``images/<name>.png`` relative to the output file, cycling over the digits
sample images, which are copied once next to the output) and three metadata
columns: ``source`` (categorical), ``brightness`` (numeric), ``captured`` (date
text). With ``--single-score`` (binary only) the file has ``label`` 0/1 and one
``score`` column, the probability of class 1.

The model behind the scores: class priors are imbalanced (Zipf-like, or ~10 %
positives for binary); each sample has a difficulty drawn from a gamma
distribution that scales how far its true class's logit stands out; every class
has a "confuser" class that gets part of that margin; 2 % of labels are wrong
(the model is confidently right about the real class). The margin is chosen by
bisection on a pilot sample so that accuracy (multi-class) or balanced accuracy
(binary) hits ``--target``.

Rows are generated and written in chunks with one seeded generator, so memory
stays flat and the same arguments always give the same file.

    python benchmarks/generate.py --preset 1m10
    python benchmarks/generate.py --rows 1000000 --classes 10 --format parquet \\
        --out benchmarks/data/1m_10.parquet
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_IMAGES = ROOT / "sample_data" / "digits" / "images"
DATA = Path(__file__).resolve().parent / "data"

PRESETS = {
    "1m10": dict(rows=1_000_000, classes=10, single_score=False, out=DATA / "1m_10.parquet"),
    "200k100": dict(rows=200_000, classes=100, single_score=False, out=DATA / "200k_100.parquet"),
    "10m2": dict(rows=10_000_000, classes=2, single_score=True, out=DATA / "10m_2.parquet"),
    # issue 18's engine benchmarks (bench_100m.py): 1.6 GB and 1.8 GB of Parquet, written in chunks
    # (~1 min and ~25 s here); give --out a disk with room
    "100m2": dict(rows=100_000_000, classes=2, single_score=True, out=DATA / "100m_2.parquet"),
    "20m10": dict(rows=20_000_000, classes=10, single_score=False, out=DATA / "20m_10.parquet"),
    # many classes (bench_many_classes.py): a score per class would be rows x classes floats
    # (8 GB at 1M x 1,000), so these files hold a predicted label instead
    "1m1000": dict(rows=1_000_000, classes=1000, predictions_only=True, out=DATA / "1m_1000.parquet"),
    "100k10000": dict(rows=100_000, classes=10_000, predictions_only=True, out=DATA / "100k_10000.parquet"),
    "100k1000": dict(rows=100_000, classes=1000, single_score=False, out=DATA / "100k_1000.parquet"),  # with scores
    # multi-label (bench_multilabel.py): a 'labels' list of about 3 concepts per row and one
    # independent score per concept
    "1m100ml": dict(rows=1_000_000, classes=100, multilabel=True, out=DATA / "1m_100_multilabel.parquet"),
}
LABEL_CARDINALITY = 3.0  # mean true labels per row of a multi-label file
SOURCES = np.array(["camera_a", "camera_b", "scanner", "web"])
SOURCE_SHARES = np.array([0.45, 0.30, 0.15, 0.10])
LABEL_NOISE = 0.02
TEMPERATURE = 1.6  # > 1: somewhat over-confident probabilities, as trained networks are
CHUNK_VALUES = 8_000_000  # rows x classes generated at once


def class_priors(k: int, rng: np.random.Generator, positive_share: float = 0.1) -> np.ndarray:
    """Imbalanced class probabilities, ndarray of shape (k,)."""
    if k == 2:
        return np.array([1.0 - positive_share, positive_share])
    p = 1.0 / np.arange(1, k + 1) ** 0.8  # largest class ~ 6x the smallest for k=10
    p = p[rng.permutation(k)]
    return p / p.sum()


def logits(labels: np.ndarray, k: int, margin: float, log_prior: np.ndarray,
           confuser: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Informative-but-imperfect logits, ndarray of shape (n, k)."""
    n = labels.size
    rows = np.arange(n)
    out = rng.standard_normal((n, k))
    out += log_prior
    difficulty = rng.gamma(2.0, 0.5, size=n)  # mean 1, a long tail of easy samples
    # the class the model "sees": the label, except for a few annotation errors
    seen = labels.copy()
    wrong = rng.random(n) < LABEL_NOISE
    seen[wrong] = (labels[wrong] + rng.integers(1, k, size=int(wrong.sum()))) % k
    out[rows, seen] += margin * difficulty
    if k > 2:
        out[rows, confuser[seen]] += 0.5 * margin * difficulty * rng.random(n)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = z * TEMPERATURE
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def choose_margin(k: int, priors: np.ndarray, confuser: np.ndarray, target: float,
                  seed: int) -> float:
    """Margin whose accuracy (balanced accuracy for k=2) on a pilot sample is ``target``."""
    rng = np.random.default_rng(seed + 1)
    n = 40_000
    labels = rng.choice(k, size=n, p=priors)
    state = rng.bit_generator.state
    lo, hi = 0.0, 20.0
    for _ in range(30):
        mid = (lo + hi) / 2
        rng.bit_generator.state = state  # the same noise for every candidate margin
        pred = logits(labels, k, mid, np.log(priors), confuser, rng).argmax(axis=1)
        if k == 2:
            quality = np.mean([np.mean(pred[labels == c] == c) for c in (0, 1)])
        else:
            quality = np.mean(pred == labels)
        lo, hi = (mid, hi) if quality < target else (lo, mid)
    return (lo + hi) / 2


def copy_images(out: Path) -> list[str]:
    """Copy the sample images into ``<out's folder>/images`` once; return the relative paths.

    A copy, not a symlink: evaldash resolves links and refuses images whose real
    path lies outside the file's folder.
    """
    names = sorted(p.name for p in SAMPLE_IMAGES.glob("*.png"))
    target = out.parent / "images"
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (target / name).exists():
            shutil.copyfile(SAMPLE_IMAGES / name, target / name)
    return [f"images/{name}" for name in names]


def chunk_table(start: int, n: int, k: int, single_score: bool, margin: float, priors: np.ndarray,
                confuser: np.ndarray, images: pa.Array, rng: np.random.Generator,
                float32: bool) -> pa.Table:
    labels = rng.choice(k, size=n, p=priors)
    proba = softmax(logits(labels, k, margin, np.log(priors), confuser, rng))
    dtype = np.float32 if float32 else np.float64
    ids = pc.binary_join_element_wise(
        "s", pc.utf8_lpad(pa.array(np.arange(start, start + n)).cast(pa.string()), width=8, padding="0"), "")
    cols = {"id": ids, "label": pa.array(labels.astype(np.int64))}
    if single_score:
        cols["score"] = pa.array(proba[:, 1].astype(dtype))
    else:
        for c in range(k):
            cols[f"score_{c}"] = pa.array(proba[:, c].astype(dtype))
    cols["image"] = pc.take(images, pa.array(np.arange(start, start + n) % len(images)))
    cols["source"] = pc.take(pa.array(SOURCES), pa.array(rng.choice(len(SOURCES), size=n, p=SOURCE_SHARES)))
    cols["brightness"] = pa.array(np.round(np.clip(rng.normal(0.5, 0.12, size=n), 0, 1), 3))
    days = 19723 + rng.integers(0, 366, size=n, dtype=np.int32)  # 2024-01-01 onwards
    cols["captured"] = pc.cast(pa.array(days, type=pa.date32()), pa.string())
    return pa.table(cols)


def predictions_chunk(start: int, n: int, k: int, target: float, priors: np.ndarray, confuser: np.ndarray,
                      images: pa.Array, rng: np.random.Generator) -> pa.Table:
    """Rows with a ``prediction`` column instead of scores: right with probability ``target``;
    a mistake goes to the true class's confuser (60 %) or to any other class."""
    labels = rng.choice(k, size=n, p=priors)
    if start == 0 and n >= k:  # every class occurs at least once, so the file has all k classes
        labels[rng.choice(n, size=k, replace=False)] = np.arange(k)
    wrong = rng.random(n) >= target
    to_confuser = rng.random(n) < 0.6
    other = (labels + rng.integers(1, k, size=n)) % k
    pred = np.where(wrong, np.where(to_confuser, confuser[labels], other), labels)
    ids = pc.binary_join_element_wise(
        "s", pc.utf8_lpad(pa.array(np.arange(start, start + n)).cast(pa.string()), width=8, padding="0"), "")
    cols = {"id": ids, "label": pa.array(labels.astype(np.int64)), "prediction": pa.array(pred.astype(np.int64))}
    cols["image"] = pc.take(images, pa.array(np.arange(start, start + n) % len(images)))
    cols["source"] = pc.take(pa.array(SOURCES), pa.array(rng.choice(len(SOURCES), size=n, p=SOURCE_SHARES)))
    cols["brightness"] = pa.array(np.round(np.clip(rng.normal(0.5, 0.12, size=n), 0, 1), 3))
    days = 19723 + rng.integers(0, 366, size=n, dtype=np.int32)
    cols["captured"] = pc.cast(pa.array(days, type=pa.date32()), pa.string())
    return pa.table(cols)


def concept_prevalences(k: int, rng: np.random.Generator) -> np.ndarray:
    """Per-concept shares of positive rows, shape (k,): Zipf-like, summing to LABEL_CARDINALITY
    (each at most 0.5)."""
    p = 1.0 / np.arange(1, k + 1) ** 0.8
    p = p[rng.permutation(k)]
    p = np.minimum(p * LABEL_CARDINALITY / p.sum(), 0.5)
    return p * LABEL_CARDINALITY / p.sum()


def multilabel_chunk(start: int, n: int, k: int, prevalence: np.ndarray, images: pa.Array,
                     rng: np.random.Generator) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Rows of a multi-label file: ``id``, ``labels`` (a list of concept names), ``score_<concept>``
    (each concept's own probability: a logistic of a per-row difficulty-scaled margin plus noise,
    independent across concepts; 2 % of the indicators flipped as label noise), ``image``."""
    y = rng.random((n, k)) < prevalence
    seen = y ^ (rng.random((n, k)) < LABEL_NOISE)
    difficulty = rng.gamma(2.0, 0.5, size=(n, 1))
    z = rng.standard_normal((n, k)) + np.where(seen, 1.0, -1.0) * 1.6 * difficulty - 1.0
    scores = 1.0 / (1.0 + np.exp(-z))
    names = pa.array([f"concept_{c:03d}" for c in range(k)])
    rows, cols = np.nonzero(y)
    offsets = np.concatenate([[0], np.cumsum(np.count_nonzero(y, axis=1))]).astype(np.int32)
    ids = pc.binary_join_element_wise(
        "s", pc.utf8_lpad(pa.array(np.arange(start, start + n)).cast(pa.string()), width=8, padding="0"), "")
    table = {"id": ids, "labels": pa.ListArray.from_arrays(pa.array(offsets), names.take(pa.array(cols)))}
    for c in range(k):
        table[f"score_concept_{c:03d}"] = pa.array(scores[:, c])
    table["image"] = pc.take(images, pa.array(np.arange(start, start + n) % len(images)))
    return pa.table(table), y, scores >= 0.5


def generate_multilabel(out: Path, rows: int, classes: int, seed: int = 0) -> dict:
    """Write a multi-label Parquet file; return a summary (rows, label cardinality, F1, seconds)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    prevalence = concept_prevalences(classes, rng)
    images = pa.array(copy_images(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    chunk = max(10_000, CHUNK_VALUES // classes)
    writer = None
    labels = tp = predicted = 0
    try:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            table, y, pred = multilabel_chunk(start, n, classes, prevalence, images, rng)
            labels += int(np.count_nonzero(y))
            predicted += int(np.count_nonzero(pred))
            tp += int(np.count_nonzero(y & pred))
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=chunk)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(out)
    return {"out": str(out), "rows": rows, "classes": classes, "label_cardinality": labels / rows,
            "micro_f1": 2 * tp / (labels + predicted), "bytes": out.stat().st_size,
            "seconds": time.perf_counter() - t0}


def generate(out: Path, rows: int, classes: int, fmt: str = "parquet", single_score: bool = False,
             seed: int = 0, target: float | None = None, float32: bool = False,
             predictions_only: bool = False) -> dict:
    """Write the file; return a summary (rows, accuracy, class shares, seconds)."""
    if single_score and classes != 2:
        raise SystemExit("--single-score needs --classes 2")
    if classes < 2:
        raise SystemExit("--classes must be at least 2")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    priors = class_priors(classes, rng)
    confuser = (np.arange(classes) + rng.integers(1, classes, size=classes)) % classes
    target = target if target is not None else (0.80 if classes == 2 else 0.85)
    margin = 0.0 if predictions_only else choose_margin(classes, priors, confuser, target, seed)
    images = pa.array(copy_images(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    chunk = max(10_000, CHUNK_VALUES // classes)
    writer = None
    correct = 0
    counts = np.zeros(classes, dtype=np.int64)
    try:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            if predictions_only:
                table = predictions_chunk(start, n, classes, target, priors, confuser, images, rng)
            else:
                table = chunk_table(start, n, classes, single_score, margin, priors, confuser, images, rng, float32)
            labels = table["label"].to_numpy()
            counts += np.bincount(labels, minlength=classes)
            if predictions_only:
                pred = table["prediction"].to_numpy()
            elif single_score:
                pred = (table["score"].to_numpy() > 0.5).astype(np.int64)
            else:
                pred = np.column_stack([table[f"score_{c}"].to_numpy() for c in range(classes)]).argmax(axis=1)
            correct += int(np.sum(pred == labels))
            if fmt == "parquet":
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table, row_group_size=chunk)
            else:
                if writer is None:
                    writer = pacsv.CSVWriter(tmp, table.schema)
                writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(out)
    return {
        "out": str(out), "rows": rows, "classes": classes, "margin": round(margin, 4),
        "accuracy": correct / rows, "largest_class_share": counts.max() / rows,
        "smallest_class_share": counts.min() / rows, "bytes": out.stat().st_size,
        "seconds": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), help="1m10: 1M x 10, 200k100: 200k x 100, 10m2: 10M binary, 100m2: 100M binary, 20m10: 20M x 10, "
                   "1m1000: 1M x 1,000 and 100k10000: 100k x 10,000 (predicted labels, no scores), "
                   "1m100ml: 1M x 100 multi-label")
    p.add_argument("--rows", type=int)
    p.add_argument("--classes", type=int)
    p.add_argument("--single-score", action="store_true", help="binary: label 0/1 and one 'score' column")
    p.add_argument("--format", choices=("parquet", "csv"), default=None, help="default: from --out, else parquet")
    p.add_argument("--out", type=Path)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", type=float, help="accuracy (multi-class, default 0.85) or balanced accuracy (binary, 0.80)")
    p.add_argument("--float32", action="store_true", help="store scores as float32 (default float64)")
    p.add_argument("--predictions-only", action="store_true",
                   help="a 'prediction' column instead of one score per class (many classes)")
    p.add_argument("--multilabel", action="store_true",
                   help="a multi-label file: a 'labels' list (about 3 per row) and one independent score per class")
    args = p.parse_args(argv)
    spec = dict(PRESETS[args.preset]) if args.preset else {}
    for key in ("rows", "classes", "out"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    spec["single_score"] = spec.get("single_score", False) or args.single_score
    spec["predictions_only"] = spec.get("predictions_only", False) or args.predictions_only
    missing = [k for k in ("rows", "classes", "out") if k not in spec]
    if missing:
        p.error(f"give --preset or {', '.join('--' + m for m in missing)}")
    out = Path(spec["out"])
    if spec.get("multilabel") or args.multilabel:
        summary = generate_multilabel(out, spec["rows"], spec["classes"], args.seed)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
        return 0
    fmt = args.format or ("csv" if out.name.endswith(".csv") else "parquet")
    summary = generate(out, spec["rows"], spec["classes"], fmt, spec["single_score"], args.seed,
                       args.target, args.float32, spec["predictions_only"])
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
