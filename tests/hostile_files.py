"""Generators of real-world predictions files that crashed or were misread: awkward metadata
(missing cells, mixed types, dates, booleans, numbers with infinities, nested values), repeated
CSV columns, ragged rows, trailing commas, list and object labels, deeply nested JSON, NUL bytes
in image paths, class names in two Unicode normal forms and a lone ``score_`` column.

Each ``write_*`` function writes one file into ``folder`` and returns its path. The files are
small and seeded, so a test can state exactly what the loader must answer.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd

CLASSES = ("cat", "dog", "bird")
N_AWKWARD = 120


def awkward_frame(n: int = N_AWKWARD, seed: int = 13) -> pd.DataFrame:
    """Three classes with scores, and metadata columns of every awkward kind.

    - ``site``: text with missing cells (the /errors TypeError of pandas 3);
    - ``batch``: strings and numbers mixed in one column, some missing;
    - ``captured``: dates (as text in CSV and JSON Lines, datetime64 with NaT in Parquet);
    - ``flagged``: booleans with a missing cell;
    - ``brightness``: floats with many values, missing cells and one infinity;
    - ``count``: a few integers with a missing cell;
    - ``empty``: every cell missing.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(CLASSES), n)
    p = rng.dirichlet(np.ones(len(CLASSES)), size=n)
    p[np.arange(n), y] += np.where(rng.random(n) < 0.7, 1.0, 0.0)  # about 20% mistakes
    p /= p.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"id": [f"s{i:03d}" for i in range(n)], "label": [CLASSES[c] for c in y]})
    for c, name in enumerate(CLASSES):
        frame[f"score_{name}"] = p[:, c]
    site = rng.choice(["north", "south", "east"], n).astype(object)
    site[[1, 7, 50]] = None
    batch = np.array([("b" + str(i % 3)) if i % 2 else i % 4 for i in range(n)], dtype=object)
    batch[[3, 9]] = None
    captured = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D")
    captured = pd.Series(captured).where(np.arange(n) % 17 != 4)
    flagged = (rng.random(n) < 0.3).astype(object)
    flagged[5] = None
    brightness = rng.normal(0.5, 0.2, n)
    brightness[[2, 11]] = np.nan
    brightness[20] = np.inf
    count = pd.array(rng.integers(0, 4, n), dtype="Int64")
    count[8] = pd.NA
    frame["site"] = site
    frame["batch"] = batch
    frame["captured"] = captured
    frame["flagged"] = flagged
    frame["brightness"] = brightness
    frame["count"] = count
    frame["empty"] = np.full(n, np.nan)
    return frame


def write_awkward(folder: Path, fmt: str = "csv") -> Path:
    """:func:`awkward_frame` as ``csv``, ``csv.gz``, ``parquet`` or ``jsonl``."""
    frame = awkward_frame()
    path = Path(folder) / f"awkward.{fmt}"
    if fmt in ("csv", "csv.gz"):
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        out = frame.copy()
        # Parquet holds one type per column: mixed values become text there
        out["batch"] = out["batch"].map(lambda v: None if v is None else str(v))
        out["flagged"] = out["flagged"].astype("boolean")
        out.to_parquet(path, index=False)
    else:
        with open(path, "w", encoding="utf-8") as fh:
            for record in frame.to_dict(orient="records"):
                clean = {}
                for key, value in record.items():
                    if value is None or value is pd.NA or value is pd.NaT:
                        continue  # a missing key, as JSON writers do
                    if isinstance(value, float) and np.isnan(value):
                        continue
                    if isinstance(value, pd.Timestamp):
                        value = value.date().isoformat()
                    if isinstance(value, np.generic):
                        value = value.item()
                    if isinstance(value, float) and np.isinf(value):
                        value = "inf"  # JSON has no infinity: a string in a numeric column
                    clean[key] = value
                fh.write(json.dumps(clean) + "\n")
    return path


def write_empty_metadata_cell(folder: Path) -> Path:
    """The issue's file: four rows, one empty cell in a text metadata column."""
    path = Path(folder) / "empty_cell.csv"
    path.write_text("id,label,prediction,source\n1,a,a,x\n2,b,a,\n3,a,b,y\n4,b,b,x\n", encoding="utf-8")
    return path


def write_duplicate_scores(folder: Path, gz: bool = False) -> Path:
    """``score_a`` twice: pandas would read the second as a class ``a.1``."""
    text = "label,score_a,score_b,score_a\na,0.9,0.1,0.9\nb,0.2,0.8,0.2\na,0.7,0.3,0.7\n"
    path = Path(folder) / ("dup.csv.gz" if gz else "dup.csv")
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_list_labels_parquet(folder: Path) -> Path:
    """A single-label Parquet file whose label column holds lists (a multi-label export)."""
    path = Path(folder) / "list_labels.parquet"
    pd.DataFrame({"label": [["a"], ["b"], ["a", "b"]], "prediction": ["a", "b", "a"]}).to_parquet(path)
    return path


def write_object_labels_jsonl(folder: Path) -> Path:
    """JSON Lines whose second row's label is an object."""
    path = Path(folder) / "object_labels.jsonl"
    rows = [{"label": "a", "prediction": "a"}, {"label": {"name": "b"}, "prediction": "b"},
            {"label": "b", "prediction": "a"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_deep_jsonl(folder: Path, depth: int = 100_000) -> Path:
    """JSON Lines whose second line nests a metadata value ``depth`` arrays deep."""
    path = Path(folder) / "deep.jsonl"
    deep = '{"label": "b", "prediction": "b", "extra": ' + "[" * depth + "]" * depth + "}"
    path.write_text('{"label": "a", "prediction": "a"}\n' + deep + "\n", encoding="utf-8")
    return path


def write_nul_image_path(folder: Path) -> Path:
    """JSON Lines whose third row's image path holds a NUL byte."""
    path = Path(folder) / "nul.jsonl"
    rows = [{"label": "a", "prediction": "a", "image": "a.png"},
            {"label": "b", "prediction": "b", "image": "b.png"},
            {"label": "b", "prediction": "a", "image": "c\x00.png"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


CAFE_NFC = "caf\u00e9"
CAFE_NFD = "cafe\u0301"


def write_nfc_nfd(folder: Path) -> Path:
    """``café`` composed (NFC) in the score column name and decomposed (NFD) in some labels."""
    path = Path(folder) / "nfd.csv"
    text = (f"label,prediction,score_{CAFE_NFC},score_tea\n{CAFE_NFC},{CAFE_NFC},0.8,0.2\n"
            f"{CAFE_NFD},{CAFE_NFD},0.6,0.4\ntea,tea,0.1,0.9\n{CAFE_NFD},tea,0.3,0.7\n")
    path.write_text(text, encoding="utf-8")
    return path


def write_ragged(folder: Path, gz: bool = False) -> Path:
    """Data row 2 has a field too many, data row 4 a field too few."""
    text = "label,prediction,site\na,a,x\nb,b,y,extra\na,b,x\nb,a\na,a,y\n"
    path = Path(folder) / ("ragged.csv.gz" if gz else "ragged.csv")
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_trailing_comma(folder: Path, header_too: bool) -> Path:
    """Every data row ends with a comma; with ``header_too`` the header does as well."""
    rows = ["a,a,0.9", "b,b,0.2", "a,b,0.4", "b,a,0.7"]
    header = "label,prediction,score" + ("," if header_too else "")
    path = Path(folder) / ("trailing_all.csv" if header_too else "trailing_rows.csv")
    path.write_text(header + "\n" + "".join(r + ",\n" for r in rows), encoding="utf-8")
    return path


def write_lone_score_prefix(folder: Path) -> Path:
    """A ``score_`` column with no class name after the prefix."""
    path = Path(folder) / "lone_score.csv"
    path.write_text("label,score_,score_b\na,0.9,0.1\nb,0.3,0.7\n", encoding="utf-8")
    return path


def exotic_frame(n: int = 60, seed: int = 1) -> pd.DataFrame:
    """Labels and predictions with metadata of unusual types: a categorical with gaps, time-zone
    aware datetimes, durations, bytes that are not UTF-8, 63-bit integers, a column of only
    infinities, a constant, nullable booleans and unsigned integers."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"label": rng.choice(["a", "b"], n), "prediction": rng.choice(["a", "b"], n)})
    frame["cat"] = pd.Categorical(rng.choice(["x", "y", None], n))
    frame["tz"] = pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Paris")
    frame["duration"] = pd.to_timedelta(rng.integers(0, 5, n), unit="s")
    frame["raw"] = [b"ab" if i % 2 else b"\x00\xff" for i in range(n)]
    frame["big"] = rng.integers(-2**62, 2**62, n)
    frame["infinite"] = np.where(np.arange(n) % 2, np.inf, -np.inf)
    frame["constant"] = 1.0
    frame["maybe"] = pd.array([True, False, None] * (n // 3), dtype="boolean")
    frame["unsigned"] = np.arange(n, dtype=np.uint64)
    return frame


def write_exotic_parquet(folder: Path) -> Path:
    path = Path(folder) / "exotic.parquet"
    exotic_frame().to_parquet(path, index=False)
    return path


def write_nested_metadata_jsonl(folder: Path) -> Path:
    """JSON Lines whose metadata holds lists and objects (fine as metadata, shown as text)."""
    path = Path(folder) / "nested_meta.jsonl"
    rows = [{"label": "ab"[i % 2], "prediction": "ab"[i // 2 % 2], "tags": ["x", i % 3] if i % 4 else None,
             "box": {"w": i % 2}} for i in range(24)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
