"""The results object :func:`evaldash.compare` returns: B minus A as ``evaldash compare`` computes
it (:func:`evaldash.compare.compare`), with its views as data."""

from __future__ import annotations

import html
import json

import pandas as pd

from evaldash.report import to_jsonable
from evaldash.results import Results

HEADLINE_MULTILABEL = ("subset_accuracy", "hamming_loss", "samples_f1", "macro_f1", "micro_f1", "macro_roc_auc")


class Comparison:
    """B minus A with bootstrap intervals, as ``evaldash compare`` computes it.

    Attributes
    ----------
    a, b : Results
    result : dict
        What :func:`evaldash.compare.compare` returns: ``delta``, ``intervals``, ``unavailable``,
        ``paired``, ``fixed``/``broken``/``both_wrong``, ``shared_classes``, ``only_in_a``,
        ``only_in_b``, ``verdict`` (and ``verdict_auc``), ``level``, ``resamples``, ``seed``.
    """

    def __init__(self, a: Results, b: Results, result: dict):
        self.a, self.b, self.result = a, b, result

    @property
    def verdict(self) -> str:
        return self.result["verdict"]

    def to_dict(self) -> dict:
        """The object ``evaldash compare --json`` writes: ``a`` and ``b`` reports and the comparison."""
        return json.loads(json.dumps(to_jsonable({"a": self.a.report(), "b": self.b.report(), **self.result})))

    def summary(self) -> pd.DataFrame:
        """One row per headline metric with a delta (accuracy, macro_f1, macro_roc_auc, ece; multi-label:
        subset_accuracy, hamming_loss, samples_f1, macro_f1, micro_f1, macro_roc_auc): a, b, delta,
        low, high (the interval of the delta; NaN where none)."""
        r = self.result
        head_a, head_b = self.a.evaluation.headline(), self.b.evaluation.headline()
        headline = (HEADLINE_MULTILABEL if r.get("task") == "multilabel" else
                    ("accuracy", "macro_f1", "macro_roc_auc", "ece"))
        names = [n for n in headline if n in r["delta"]]
        return pd.DataFrame({"a": [head_a[n] for n in names], "b": [head_b[n] for n in names],
                             "delta": [r["delta"][n] for n in names],
                             "low": [r["intervals"].get(n, [float("nan")] * 2)[0] for n in names],
                             "high": [r["intervals"].get(n, [float("nan")] * 2)[1] for n in names]},
                            index=pd.Index(names, name="metric"))

    def per_class(self) -> pd.DataFrame:
        """F1 of each shared class: delta (B minus A), low, high."""
        r = self.result
        shared = r["shared_classes"]
        return pd.DataFrame({"delta_f1": [r["delta"][f"f1[{c}]"] for c in shared],
                             "low": [r["intervals"][f"f1[{c}]"][0] for c in shared],
                             "high": [r["intervals"][f"f1[{c}]"][1] for c in shared]},
                            index=pd.Index(shared, name="class"))

    def __repr__(self) -> str:
        return f"<evaldash Comparison: {self.verdict}>"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(f"<tr><th style='text-align:left'>{esc(str(m))}</th><td>{v.a:.3f}</td><td>{v.b:.3f}</td>"
                       f"<td>{v.delta:+.3f}</td><td>[{v.low:+.3f}, {v.high:+.3f}]</td></tr>"
                       for m, v in self.summary().iterrows())
        r = self.result
        pairing = "paired (same sample ids)" if r["paired"] else "unpaired (different samples)"
        return (f"<div class='evaldash-compare'><strong>evaldash compare</strong>: A = {esc(self.a.dataset.source)}, "
                f"B = {esc(self.b.dataset.source)}; {esc(pairing)}<table><tr><th>metric</th><th>A</th><th>B</th>"
                f"<th>delta</th><th>{r['level']:.0%} interval</th></tr>{rows}</table><p>{esc(self.verdict)}</p></div>")
