"""Two multi-label runs on one engine compared as the memory path compares them: the same draws.

The multi-label bootstrap draws the rows themselves (:func:`evaldash.multilabel_compare.resampled_multilabel`,
index resampling, every resample a vector of per-row counts), so its intervals cannot come from
grouped aggregates without changing the draws. Up to :data:`IN_MEMORY_MAX_CELLS` rows × concepts
per file, each file's label, prediction and score columns are read back by the engine
(:meth:`~evaldash.engines.multilabel_evaluation.EngineMultilabelEvaluation.to_dataset`, as ``evaldash
compare --engine duckdb`` does) and :func:`evaldash.multilabel_compare.compare_multilabel` runs on
them: the deltas, the paired intervals, the concept-cell moves and the fixed / broken rows are the
memory path's, bit for bit. Galleries then show those rows a page at a time from the engine's own
evaluations (their records read by the row cache, a page per query). Above the limit the page says
so in one line.
"""

from __future__ import annotations

import numpy as np

from evaldash import bootstrap as bs

# rows x concepts of one file read back: the row bootstrap takes about 3 s per 300,000 (1,000
# resamples with macro ROC AUC, 2 cores), so about 20 s here; the data read back is about 20 MB
IN_MEMORY_MAX_CELLS = 2_000_000


def fits(a, b, max_cells: int | None = None) -> bool:
    """Whether both runs are small enough to read back for the row bootstrap (:data:`IN_MEMORY_MAX_CELLS`)."""
    limit = IN_MEMORY_MAX_CELLS if max_cells is None else max_cells
    return all(e.dataset.n * max(e.dataset.n_classes, 1) <= limit for e in (a, b))


def in_memory(e):
    """The memory path's :class:`~evaldash.multilabel_evaluation.MultilabelEvaluation` of engine
    run ``e`` (its columns read by the engine once, kept in ``e``'s memo), at ``e``'s thresholds."""
    from evaldash.multilabel_evaluation import evaluate_multilabel

    return e.memo("in memory", lambda run: evaluate_multilabel(run.to_dataset(), thresholds=run.thresholds))


class MultilabelEnginePair:
    """Runs ``a`` and ``b`` (engine multi-label evaluations) compared with the memory path's numbers:
    :meth:`compare`, :attr:`rows_b` (B's row of each of A's rows, or None unless paired),
    :meth:`moved` and :meth:`fixed_broken` (A's row numbers, in the memory path's order)."""

    def __init__(self, a, b):
        from evaldash.multilabel_compare import _aligned

        self.a, self.b = a, b
        self.mem_a, self.mem_b = in_memory(a), in_memory(b)
        self.rows_b = _aligned(self.mem_a, self.mem_b)

    @property
    def paired(self) -> bool:
        return self.rows_b is not None

    def compare(self, resamples: int = bs.DEFAULT_RESAMPLES, seed: int = bs.DEFAULT_SEED,
                level: float = bs.LEVEL) -> dict:
        """:func:`evaldash.multilabel_compare.compare_multilabel` of the two runs."""
        from evaldash.multilabel_compare import compare_multilabel

        return compare_multilabel(self.mem_a, self.mem_b, resamples, seed, level)

    def moved(self, true: int, pred: int) -> dict[str, np.ndarray]:
        """:func:`evaldash.multilabel_compare.concept_cell_moves` (needs :attr:`paired`)."""
        from evaldash.multilabel_compare import concept_cell_moves

        return concept_cell_moves(self.mem_a, self.mem_b, self.rows_b, true, pred)

    def fixed_broken(self) -> dict[str, np.ndarray]:
        """:func:`evaldash.multilabel_compare.exact_match_changes` (needs :attr:`paired`)."""
        from evaldash.multilabel_compare import exact_match_changes

        return exact_match_changes(self.mem_a, self.mem_b, self.rows_b)
