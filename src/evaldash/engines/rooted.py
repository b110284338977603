"""An evaluation of a file that stays in its engine, seen with another images root: the images
root changes only how a row's image path is resolved (:func:`evaldash.engines.rows.resolve_image`),
so the file is not read, checked or counted again. The view shares the open evaluation's
computations (its memo: sweeps, the cell table, background jobs; its locks; its row cache) and
differs only in its dataset's ``images_root``."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from evaldash.engines.rows import source_folder

_VIEWS = "images root views"  # the evaluation's memo entry: {images root: its view}


def images_root_of(dataset, images_root: str | None) -> str | None:
    """The folder a dataset's images must lie in with ``images_root`` given (None: the file's
    folder), resolved; None without an image column (as :func:`evaldash.engines.shared`)."""
    if dataset.image_column is None:
        return None
    return str(Path(images_root or source_folder(dataset.source)).resolve())


def with_images_root(evaluation, images_root: str | None):
    """``evaluation`` (an engine evaluation of either task) with its images read from
    ``images_root`` (None: the file's folder): itself when that is its root already, else a view
    kept with it (the same object for the same root, for every session) that shares what it
    computed and computes."""
    root = images_root_of(evaluation.dataset, images_root)
    if root == evaluation.dataset.images_root:
        return evaluation
    views = evaluation._memo.setdefault(_VIEWS, {})
    view = views.get(root)
    if view is None:
        d = evaluation.dataset
        rooted = replace(d, images_root=root)
        rooted.__dict__["_row_cache"] = d.row_cache  # rows read once for every root
        # the memo, locks and thresholds are passed on by reference: one set of computations
        view = views.setdefault(root, replace(evaluation, dataset=rooted))
    _share_computed(evaluation, view)
    return view


def _share_computed(a, b) -> None:
    """Give each of two evaluations of the same rows the cached values (``cached_property``) the
    other computed and it has not; none depends on the images root."""
    own = {f.name for f in fields(a)}
    for source, target in ((a, b), (b, a)):
        for name, value in list(source.__dict__.items()):
            if name not in own:
                target.__dict__.setdefault(name, value)
