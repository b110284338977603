"""Hostile inputs: predictions files whose every user-controlled text is Markdown, HTML or a formula.

Class names, ids, a metadata column's name and values, and a second metadata column's name are
made of Markdown image and link syntax, raw HTML and spreadsheet formulas. Every URL in them points
at ``http://127.0.0.1:PORT/...``: a test listens on that port, so a browser that renders any of
these texts as Markdown or HTML (instead of showing it as typed) asks that port for something.
Each file has images, so galleries and the Details dialog show them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

# a run (file) name: no "/" can be in a file name, so its image and link are relative
# (to the server itself); tests look for these paths in the browser's requests
RUN_NAME = "![run](run-image.png) [run](run-link) <img src=run-html.png> b.csv"
RUN_PATHS = ("run-image.png", "run-link", "run-html.png")


def hostile_classes(port: int) -> list[str]:
    """Four class names: a Markdown image, a Markdown link, an HTML image and a formula (with
    Markdown emphasis and a Streamlit icon)."""
    base = f"http://127.0.0.1:{port}"
    return [f"![t]({base}/class-image.png)", f"[click]({base}/class-link)", f"<img src={base}/class-html.png>",
            f'=HYPERLINK("{base}/class-formula") **bold** :material/home:']


def hostile_ids(port: int, n: int) -> list[str]:
    """``n`` unique ids, each a Markdown image, an HTML image, a Markdown link or a formula."""
    base = f"http://127.0.0.1:{port}"
    kinds = [lambda i: f"![i{i}]({base}/id-{i}.png)", lambda i: f"<img src={base}/id-html-{i}.png>",
             lambda i: f"[id{i}]({base}/id-link-{i})", lambda i: f"=1+{i}"]
    return [kinds[i % len(kinds)](i) for i in range(n)]


def hostile_metadata(port: int) -> tuple[str, list[str], str]:
    """(name of a metadata column with few values, its values, name of a numeric metadata column)."""
    base = f"http://127.0.0.1:{port}"
    return (f"![m]({base}/meta-column.png)",
            [f"![v]({base}/meta-value.png)", f"<img src={base}/meta-html.png>", f"[v]({base}/meta-link)"],
            f'=HYPERLINK("{base}/meta-formula")')


# a tag, a note and an annotator's name an annotator may type
def hostile_tag(port: int) -> str:
    return f"![tag](http://127.0.0.1:{port}/tag.png)"


def hostile_note(port: int) -> str:
    return f"<img src=http://127.0.0.1:{port}/note.png> [note](http://127.0.0.1:{port}/note-link)"


def hostile_annotator(port: int) -> str:
    return f"![who](http://127.0.0.1:{port}/annotator.png)"


def write_hostile_predictions(folder: Path, port: int, n: int = 96, seed: int = 0,
                              name: str = "hostile.csv") -> Path:
    """Write a predictions CSV of ``n`` samples (ids, labels, per-class probabilities, images and
    two metadata columns, all texts hostile) into ``folder``; returns its path. The images are
    written once to ``folder/images``. The same ``n`` and ``port`` with another ``seed`` give a
    second model of the same samples (for /compare)."""
    folder = Path(folder)
    classes = hostile_classes(port)
    k = len(classes)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k  # every class has samples
    logits = rng.normal(0.0, 1.0, size=(n, k))
    logits[np.arange(n), y] += 1.6  # about 70% right: every cell of the matrix has samples
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        path = images / f"s{i:03d}.png"
        if not path.exists():
            shade = (40 + 50 * (i % k), 200 - 40 * (i % k), 90 + (i * 7) % 160)
            Image.new("RGB", (24, 24), shade).save(path)
    column, values, numeric = hostile_metadata(port)
    frame = pd.DataFrame({"id": hostile_ids(port, n), "label": [classes[c] for c in y]})
    for c, cls in enumerate(classes):
        frame[f"score_{cls}"] = np.round(scores[:, c], 6)
    frame["score_" + classes[-1]] = np.round(1.0 - frame[[f"score_{c}" for c in classes[:-1]]].sum(axis=1), 6)
    frame["image"] = [f"images/s{i:03d}.png" for i in range(n)]
    frame[column] = [values[i % len(values)] for i in range(n)]
    frame[numeric] = np.round(rng.uniform(0.0, 1.0, n), 3)
    path = folder / name
    frame.to_csv(path, index=False)
    return path
