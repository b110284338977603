"""A page needing every class's ROC AUC and AP on an engine while they are still being computed after
the first view (:mod:`evaldash.engines.background`): it shows which class's exact sweep it waits for."""

from __future__ import annotations

import streamlit as st

from evaldash.ui.text import md


def missing_summaries(evaluation) -> list[int]:
    """The classes whose exact summary (one sort of every row) is not computed yet: [] in memory,
    without scores, or when every one is there."""
    from evaldash.engines.evaluation import OnEngine

    if not isinstance(evaluation, OnEngine) or not evaluation.dataset.has_scores \
            or "ranking" in evaluation.__dict__:  # computed already (a cached property)
        return []
    memo = evaluation._memo
    if getattr(evaluation.dataset, "score_mirror", None) is not None:
        return [] if "mirrored summaries" in memo else [evaluation.dataset.positive]
    return [c for c in range(evaluation.dataset.n_classes) if ("summary", c) not in memo]


def wait_for_ranking(evaluation) -> None:
    """Before a page reads ``evaluation.ranking``: compute (or wait for the background's) every
    class's exact summary not there yet, in a status box naming each class as it goes."""
    missing = missing_summaries(evaluation)
    # a multi-label file's micro average: one sort of every (sample, concept) score
    micro = hasattr(evaluation, "micro_summary") and evaluation.dataset.has_scores and "micro" not in evaluation._memo
    if not missing and not micro:
        return
    shown = st.empty()
    try:
        label = "Exact sweeps of the other classes (ROC AUC, average precision), one sort of every row each"
        with shown.status(f"{label}…") as status:
            for i, c in enumerate(missing):
                status.update(label=f"{label}: class {md(evaluation.dataset.classes[c])} ({i + 1} of {len(missing)})…")
                evaluation.sweep_summary(c)
            if micro:
                status.update(label="The micro average's exact sweep (every class's scores pooled, one sort)…")
                evaluation.micro_summary()
    finally:
        shown.empty()
