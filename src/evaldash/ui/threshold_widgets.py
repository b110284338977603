"""The live threshold: its slider, the numbers and curves that follow it, the class and threshold a page starts from."""

from __future__ import annotations

import contextlib
import functools
import math
import os

import numpy as np
import pyarrow as pa
import streamlit as st

from evaldash import figures
from evaldash.evaluation import Evaluation
from evaldash.ui.components import _live_component
from evaldash.ui.links import deep_link, kept, remember


def set_threshold(evaluation: Evaluation, cls: int, value: float) -> None:
    """Make ``value`` the threshold (``threshold_t``), kept within class ``cls``'s slider range
    (+inf, "flag nothing", becomes the slider's top)."""
    lo, hi, _ = evaluation.slider_range(cls)
    st.session_state["threshold_t"] = min(max(float(value), lo), hi)


def _store_committed_threshold(evaluation: Evaluation, cls: int) -> None:
    # the slider was released: it sends the threshold it landed on
    t = committed_threshold()
    if t is not None and math.isfinite(t):
        set_threshold(evaluation, cls, t)


def live_threshold(evaluation: Evaluation, cls: int, t: float, label: str,
                   slider_box=None, metrics_box=None) -> None:
    """The threshold slider (key ``threshold``) and what follows it (key ``threshold_metrics``).

    The browser gets the core's exact counts at every slider position and the drawn curves
    once, and updates precision, recall, F1, the counts and the operating points on each
    movement of the thumb without the server; the DET curve (:func:`figures.det_curve`) comes with
    each slider position's place on its normal-deviate axes, so its point follows too. On
    release it sends the threshold, which becomes ``threshold_t`` (:func:`set_threshold`).
    ``slider_box``/``metrics_box``: where to put each (containers or columns; default: here, with
    no container of their own: each element is one more for a first view to draw).
    """
    slider_box = slider_box if slider_box is not None else contextlib.nullcontext()
    metrics_box = metrics_box if metrics_box is not None else contextlib.nullcontext()
    live = evaluation.live_threshold(cls, t)
    grid = live["grid"]
    token = f"{id(evaluation)}:{cls}:{repr(float(t)) if live['inserted'] else ''}"
    common = {"token": token, "t": float(t), "index": live["index"], "probability": evaluation.dataset.is_probability}
    with slider_box:
        _live_component("evaldash_threshold_slider")(
            key="threshold", on_commit_change=functools.partial(_store_committed_threshold, evaluation, cls),
            data={**common, "role": "slider", "label": label, "grid": pa.table({"t": grid})})
    # Arrow tables, not DataFrames: pandas' conversion starts a thread pool for each frame (about
    # 90 ms of a new session's first view); the class's curves are built once
    frames = evaluation.memo(("live_tables", cls), lambda e: _curve_tables(e, cls))
    table = {"t": grid, "tp": _js_counts(live["tp"]), "fp": _js_counts(live["fp"])}
    det_axis = frames.get("det_axis")  # the memoised dict is shared: read, never pop
    if det_axis is not None:
        # where each slider position puts the point on the DET curve's normal-deviate axes
        with np.errstate(invalid="ignore", divide="ignore"):
            table["det_x"] = figures.det_coordinates(live["fp"] / live["n_neg"], det_axis).astype(np.float32)
            table["det_y"] = figures.det_coordinates(1.0 - live["tp"] / live["n_pos"], det_axis).astype(np.float32)
    auc, ap = evaluation.class_ranking(cls)  # this class's alone: an engine sorts each class's scores apart
    number = lambda v: None if math.isnan(v) else float(v)  # noqa: E731 - JSON has no NaN
    with metrics_box:
        _live_component("evaldash_threshold_metrics")(
            key="threshold_metrics",
            data={**common, "role": "metrics", "class_name": evaluation.dataset.classes[cls],
                  "n_pos": live["n_pos"], "n_neg": live["n_neg"], "auc": number(auc),
                  "ap": number(ap), "det_axis": det_axis,
                  "ticks": {"unit": figures.nice_ticks(0.0, 1.0),
                            "threshold": figures.nice_ticks(float(grid[0]), float(grid[-1]))},
                  "grid": pa.table(table), **{k: v for k, v in frames.items() if k != "det_axis"}})


def _js_counts(counts: np.ndarray) -> np.ndarray:
    """Counts the browser can do arithmetic with: Arrow's int64 arrives there as BigInt, which does
    not mix with numbers; as float64 they stay exact (below 2**53). The memory path's int32 stays."""
    return counts.astype(np.float64) if counts.dtype == np.int64 else counts


def _curve_tables(evaluation: Evaluation, cls: int) -> dict:
    """The drawn curves of class ``cls`` as Arrow tables for the live threshold (built once):
    ROC, PR, metrics against the threshold, the macro averages, the DET curve and its axis."""
    c = evaluation.class_curves(cls)
    out = {
        "roc": pa.table({"fpr": c["roc_fpr"], "tpr": c["roc_tpr"], "threshold": c["roc_threshold"]}),
        "pr": pa.table({"recall": c["pr_recall"], "precision": c["pr_precision"], "threshold": c["pr_threshold"]}),
        "thr": pa.table({k: c[k] for k in ("threshold", "precision", "recall", "f1")}),
    }
    avg = evaluation.average_curves if not evaluation.dataset.is_binary else {}
    if avg:
        out["avg"] = pa.table({"grid": avg["roc macro-average"][0], "tpr": avg["roc macro-average"][1],
                               "precision": avg["pr macro-average"][1]})
    det = evaluation.memo(("det", cls), lambda e: figures.det_curve(*e.sweep(cls).roc()))
    if det is not None:
        out["det"] = pa.table({k: det[k].astype(np.float32) for k in ("x", "y", "fpr", "fnr", "threshold")})
        out["det_axis"] = det["axis"]
    return out


def threshold_choice(evaluation: Evaluation) -> tuple[int, float, float, float]:
    """The class (key ``class_select``) and threshold (``threshold_t``) a threshold page starts from,
    shared by ``/threshold`` and ``/decision``: the last ones chosen on this dataset, or those of a
    deep link ``?class=<name>&t=<value>`` when the page is entered, the threshold kept within the
    class's slider range. Returns (class, low, high, step) of that range; ``threshold_t`` is set."""
    d = evaluation.dataset
    default_class = d.positive if d.positive is not None else 0
    remember("class_select", default_class)
    if st.session_state["class_select"] not in range(d.n_classes):
        st.session_state["class_select"] = default_class
    link_class, link_t = deep_link("class"), deep_link("t")
    if link_class in d.classes:
        st.session_state["class_select"] = d.classes.index(link_class)
    c = st.session_state["class_select"]
    lo, hi, step = evaluation.slider_range(c)
    t0 = kept("threshold_t", 0.5 if d.is_probability else 0.0)
    try:
        if link_t is not None and math.isfinite(float(link_t)):
            t0 = float(link_t)
    except ValueError:
        pass
    st.session_state["threshold_t"] = min(max(float(t0), lo), hi) if math.isfinite(float(t0)) else hi
    return c, lo, hi, step


def committed_threshold() -> float | None:
    """The threshold the slider sent on release (in its commit callback), else None."""
    state = st.session_state.get("threshold")
    value = getattr(state, "commit", None) if state is not None else None
    if value is None and isinstance(state, dict):
        value = state.get("commit")
    return None if value is None else float(value)


def note_threshold(evaluation: Evaluation, cls: int, t: float) -> None:
    """The threshold the page shows for class ``cls`` is the one chosen: a dashboard started by
    ``evaldash.show`` hands it to the notebook's ``.thresholds()`` (written when it changes)."""
    from evaldash.notebook_runs import ENV, record_threshold

    source = st.session_state.get("source")
    if source is None or not os.environ.get(ENV):
        return
    name = evaluation.dataset.classes[cls]
    noted = st.session_state.setdefault("_noted_thresholds", {})
    if noted.get((source.key, name)) != float(t):
        record_threshold(source.path, name, float(t))
        noted[(source.key, name)] = float(t)
