"""Per-class thresholds (``report --thresholds FILE.json``) applied in the engine: each row's decision
is a SQL expression of its scores (:func:`decision`, the rule of
:func:`evaldash.decision.apply_thresholds`), and only the (true class, decision) cells come back;
:func:`evaldash.decision.operating_points_of_cells` reports them as the memory path does."""

from __future__ import annotations

import numpy as np

from evaldash.confusion_counts import ConfusionCounts
from evaldash.engines import sql


def decision(k: int, thresholds, fallback: str) -> str:
    """The class a row is given under per-class ``thresholds``: among the classes whose score is at
    or above their threshold, the highest score, the lowest class on equal scores (as ``np.argmax``);
    where none passes, ``k`` (abstain) or the arg-max class (``fallback`` "argmax").

    A class's score counts only where it passes (NULL otherwise); GREATEST skips NULLs in both
    engines, and is NULL when no class passes."""
    passing = [f"CASE WHEN {sql.score(c)} >= {sql.number(t)} THEN {sql.score(c)} END" for c, t in
               zip(range(k), thresholds)]
    top = "GREATEST(" + ", ".join(passing) + ")" if k > 1 else passing[0]
    otherwise = sql.argmax(k) if fallback == "argmax" else str(k)
    return ("CASE " + " ".join(f"WHEN {p} = {top} THEN {c}" for c, p in enumerate(passing))
            + f" ELSE {otherwise} END")


def decision_cells(k: int, thresholds, fallback: str) -> str:
    """(y_true, y_pred, n) of every observed (true class, decision) cell, decision k = abstained."""
    return (f"SELECT y_true, ev_d AS y_pred, COUNT(*) AS n FROM (SELECT y_true, {decision(k, thresholds, fallback)} "
            f"AS ev_d FROM ev_rows) ev_x GROUP BY y_true, ev_d ORDER BY y_true, ev_d")


def operating_points(evaluation, thresholds, fallback: str = "abstain"):
    """:func:`evaldash.decision.operating_points` of an engine's evaluation (no per-row predictions)."""
    from evaldash.decision import _check_rule, operating_points_of_cells

    k = evaluation.dataset.n_classes
    t = _check_rule(thresholds, k, fallback)
    f = evaluation.engine.frame(decision_cells(k, t, fallback))
    cells = ConfusionCounts(k, f["y_true"].to_numpy(np.int64), f["y_pred"].to_numpy(np.int64),
                            f["n"].to_numpy(np.int64), k + 1)
    return operating_points_of_cells(cells, t, fallback)
