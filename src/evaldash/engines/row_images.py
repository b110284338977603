"""What became of the image paths of a few rows (a gallery page, one sample) of a file that stays
in its engine: checked as the memory path checks a whole file when it loads
(:func:`evaldash.image_paths.resolve_images`), for the rows shown only, since checking every row
ahead would read every path of the file."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pandas as pd

from evaldash.engines.rows import RowColumn, source_folder
from evaldash.image_paths import ImageCheck, resolve_images


def rows_image_check(dataset, rows, where: str = " on this page") -> ImageCheck | None:
    """The :class:`~evaldash.image_paths.ImageCheck` of ``rows`` of an engine dataset (its images
    root, the file's folder first for relative paths); None without an image column or rows.
    ``where`` names the rows in its sentences ("No image for 2 of 24 samples on this page: ...")."""
    if dataset.image_column is None or not len(rows):
        return None
    raw = RowColumn(dataset, "image paths", "ev_image", lambda r: r[-1])[[int(r) for r in rows]]
    base = source_folder(dataset.source)
    root = dataset.images_root or base
    series = pd.Series([_text(v) for v in raw], dtype=object)
    _, _, check = resolve_images(series, Path(root), Path(base), dataset.source, dataset.image_column)
    return replace(check, where=where)


def _text(value) -> str | None:
    """A path as the engine's row holds it, as text; None when there is none (as
    :func:`evaldash.engines.rows.resolve_image`: a path with a NUL byte names no file)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return None if "\x00" in text else text
