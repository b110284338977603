"""The results object :func:`evaldash.evaluate` returns: views of an :class:`Evaluation` as data.

Every method derives a view from what the evaluation computed once: the report dict (the
same as ``evaldash report --json``), the confusion matrix and the per-class table as labelled
DataFrames, one class's threshold sweep, the samples of one confusion cell, and figures. In a
notebook it shows as a compact HTML summary, every class name escaped.
"""

from __future__ import annotations

import html
import json
import math

import numpy as np
import pandas as pd

from evaldash import metrics
from evaldash.dataset import Dataset
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation
from evaldash.report import report_json

SUMMARY_CLASSES = 12  # classes listed in the HTML summary; the rest are counted


class Results:
    """The evaluation of one dataset (build with :func:`evaldash.evaluate`).

    Attributes
    ----------
    evaluation : Evaluation
        Everything computed (the object the CLI and the dashboard use).
    dataset : Dataset
        The validated data.
    """

    def __init__(self, evaluation: Evaluation, frame: pd.DataFrame | None = None, path: str | None = None):
        self.evaluation = evaluation
        # what show() writes for the server (the table as given), or the file it came from
        self._frame = frame
        self._path = path

    @property
    def dataset(self) -> Dataset:
        return self.evaluation.dataset

    @property
    def classes(self) -> list[str]:
        return list(self.dataset.classes)

    def __repr__(self) -> str:
        d = self.dataset
        return (f"<evaldash Results: {d.n:,} samples, {d.n_classes} classes, "
                f"accuracy {self.evaluation.accuracy:.4f}, source {d.source!r}>")

    # --- views ----------------------------------------------------------------------------------
    def report(self) -> dict:
        """Every metric as a dict with the keys of ``evaldash report --json`` (parsed from the same
        JSON, so NaN where the CLI writes NaN)."""
        return json.loads(report_json(self.evaluation))

    def confusion_matrix(self, normalize: str | None = None) -> pd.DataFrame:
        """The confusion matrix, rows the true class, columns the predicted class (both labelled
        by class name); ``normalize``: None (counts), ``"true"`` (rows sum to 1) or ``"pred"``."""
        modes = {None: "counts", "true": "true", "pred": "pred"}
        if normalize not in modes:
            raise InputError(f"confusion_matrix(normalize={normalize!r}); expected None, 'true' or 'pred'")
        values = self.evaluation.confusion_view(modes[normalize])
        index = pd.Index(self.classes, name="true")
        return pd.DataFrame(values, index=index, columns=pd.Index(self.classes, name="predicted"))

    def per_class(self) -> pd.DataFrame:
        """One row per class (the index): precision, recall, f1, support, specificity, fpr,
        prevalence, roc_auc, average_precision (the report's ``per_class``)."""
        table = pd.DataFrame.from_dict(self.report()["per_class"], orient="index")
        table.index.name = "class"
        return table.astype({"support": np.int64})

    def _class(self, cls) -> int:
        if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool) and str(cls) not in self.classes:
            if not 0 <= int(cls) < self.dataset.n_classes:
                raise InputError(f"class index {cls} out of range; expected 0 to {self.dataset.n_classes - 1} "
                                 f"or a class name of {self.classes[:20]}")
            return int(cls)
        return self.dataset.class_index(str(cls))

    def sweep(self, cls) -> pd.DataFrame:
        """Class ``cls`` (name or index) against the rest at every distinct score, highest first:
        threshold (predict ``cls`` when its score >= threshold; the first row, +inf, predicts it
        never), tp, fp, fn, tn, precision, recall, f1, fpr. Shape (n_distinct_scores + 1, 9)."""
        s = self.evaluation.sweep(self._class(cls))
        at = metrics.rates(s.tp, s.fp, s.n_pos, s.n_neg)
        out = pd.DataFrame({"threshold": s.thresholds, **{k: at[k] for k in
                                                          ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "fpr")}})
        return out

    def cell_samples(self, true, pred) -> pd.DataFrame:
        """The samples whose true class is ``true`` and predicted class ``pred`` (names or indices),
        most confident first: id, true, predicted, confidence, image and the metadata columns; the
        index is the sample's row in the data (as the dashboard numbers it)."""
        rows = self.evaluation.cell_samples(self._class(true), self._class(pred))
        frame = self.dataset.frame().iloc[rows]
        frame.index.name = "row"
        return frame

    def figures(self) -> dict:
        """Plotly figures: ``confusion_matrix``, and with scores ``roc`` and ``precision_recall``
        (a curve per class), with probabilities ``reliability``. Class names are escaped."""
        import plotly.graph_objects as go

        from evaldash.figures import text

        names = [text(c) for c in self.classes]
        cm = self.evaluation.confusion
        out = {"confusion_matrix": go.Figure(
            go.Heatmap(z=cm, x=names, y=names, colorscale="Blues", hovertemplate="true %{y}<br>predicted %{x}<br>"
                       "%{z} samples<extra></extra>"),
            layout={"title": {"text": "Confusion matrix"}, "xaxis": {"title": {"text": "predicted"}},
                    "yaxis": {"title": {"text": "true"}, "autorange": "reversed"}})}
        if self.dataset.has_scores:
            roc, pr = go.Figure(), go.Figure()
            for c, name in enumerate(names):
                cv = self.evaluation.class_curves(c)
                roc.add_scatter(x=cv["roc_fpr"], y=cv["roc_tpr"], name=name, mode="lines")
                pr.add_scatter(x=cv["pr_recall"], y=cv["pr_precision"], name=name, mode="lines")
            roc.update_layout(title={"text": "ROC (one class against the rest)"}, xaxis_title="false positive rate",
                              yaxis_title="true positive rate")
            pr.update_layout(title={"text": "Precision-recall"}, xaxis_title="recall", yaxis_title="precision")
            out["roc"], out["precision_recall"] = roc, pr
        cal = self.evaluation.calibration
        if cal["available"]:
            bins = cal["bins"]
            used = bins["count"] > 0
            rel = go.Figure(go.Bar(x=((bins["lower"] + bins["upper"]) / 2)[used], y=bins["accuracy"][used],
                                   width=(bins["upper"] - bins["lower"])[used], name="accuracy"))
            rel.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration")
            rel.update_layout(title={"text": f"Reliability (ECE {cal['ece']:.3f})"}, xaxis_title="confidence",
                              yaxis_title="accuracy")
            out["reliability"] = rel
        return out

    # --- notebooks ------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        d = self.dataset
        e = self.evaluation
        head = e.headline()
        rows = [("samples", f"{d.n:,}"), ("classes", f"{d.n_classes:,}"), ("accuracy", _num(head["accuracy"])),
                ("macro F1", _num(head["macro_f1"]))]
        if d.has_scores:
            rows.append(("macro ROC AUC", _num(head["macro_roc_auc"])))
        if e.calibration["available"]:
            rows.append(("ECE", _num(head["ece"])))
        esc = html.escape
        summary = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        table = e.per_class
        shown = range(min(d.n_classes, SUMMARY_CLASSES))
        per_class = "".join(
            f"<tr><td style='text-align:left'>{esc(d.classes[c])}</td><td>{_num(table['precision'][c])}</td>"
            f"<td>{_num(table['recall'][c])}</td><td>{_num(table['f1'][c])}</td><td>{int(table['support'][c]):,}</td></tr>"
            for c in shown)
        more = (f"<p>… and {d.n_classes - SUMMARY_CLASSES:,} more classes (<code>per_class()</code>)</p>"
                if d.n_classes > SUMMARY_CLASSES else "")
        return (f"<div class='evaldash-results'><strong>evaldash</strong> · {esc(d.source)}"
                f"<table>{summary}</table>"
                f"<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
                f"{per_class}</table>{more}</div>")


def _num(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3f}"


class MultilabelResults(Results):
    """The evaluation of one multi-label dataset (build with :func:`evaldash.evaluate`): the views
    of :class:`Results`, where the confusion matrix is the concept matrix.

    Attributes
    ----------
    evaluation : MultilabelEvaluation
    dataset : MultilabelDataset
    """

    def __repr__(self) -> str:
        d = self.dataset
        return (f"<evaldash MultilabelResults: {d.n:,} samples, {d.n_classes} classes, "
                f"samples F1 {self.evaluation.averages['samples']['f1']:.4f}, source {d.source!r}>")

    def report(self) -> dict:
        """Every metric as a dict with the keys of ``evaldash report --json`` on a multi-label file."""
        from evaldash.multilabel_report import multilabel_report_json

        return json.loads(multilabel_report_json(self.evaluation))

    def confusion_matrix(self, normalize: str | None = None) -> pd.DataFrame:
        """The concept matrix, shape (k + 1, k + 1): cell (i, j) counts the samples labelled i
        and predicted j; the last row is "(no label)", the last column "(no prediction)".
        ``normalize``: None (counts) or ``"true"`` (over the samples of the row: the diagonal is
        each class's recall)."""
        modes = {None: "counts", "true": "true"}
        if normalize not in modes:
            raise InputError(f"confusion_matrix(normalize={normalize!r}); expected None or 'true' for multi-label "
                             f"data")
        view = self.evaluation.matrix(modes[normalize])
        return pd.DataFrame(view.values, index=pd.Index(list(view.rows), name="true"),
                            columns=pd.Index(list(view.columns), name="predicted"))

    def _cell(self, value) -> int:
        from evaldash.views import NO_LABEL, NO_PREDICTION

        if isinstance(value, str) and value in (NO_LABEL, NO_PREDICTION) and value not in self.classes:
            return self.dataset.n_classes
        if isinstance(value, (int, np.integer)) and int(value) == self.dataset.n_classes:
            return int(value)
        return self._class(value)

    def cell_samples(self, true, pred) -> pd.DataFrame:
        """The samples in concept-matrix cell (``true``, ``pred``) (names, indices, or "(no label)" /
        "(no prediction)"), most confident first: id, true and predicted label sets (names joined
        by ', '), image and the metadata columns; the index is the sample's row in the data."""
        rows = self.evaluation.cell_samples(self._cell(true), self._cell(pred))
        d = self.dataset
        frame = self.evaluation.label_sets(rows)
        if d.image_paths is not None:
            frame["image"] = d.image_paths[rows]
        for column in d.metadata.columns:
            frame[column] = d.metadata[column].to_numpy()[rows]
        frame.index = pd.Index(rows, name="row")
        return frame

    def figures(self) -> dict:
        """Plotly figures: ``confusion_matrix`` (the concept matrix), and with scores ``roc`` and
        ``precision_recall`` (a curve per class). Class names are escaped."""
        import plotly.graph_objects as go

        from evaldash.figures import text

        view = self.evaluation.matrix("counts")
        out = {"confusion_matrix": go.Figure(
            go.Heatmap(z=view.values, x=[text(c) for c in view.columns], y=[text(c) for c in view.rows],
                       colorscale="Blues",
                       hovertemplate="labelled %{y}<br>predicted %{x}<br>%{z} samples<extra></extra>"),
            layout={"title": {"text": "Concept matrix"}, "xaxis": {"title": {"text": "predicted"}},
                    "yaxis": {"title": {"text": "labelled"}, "autorange": "reversed"}})}
        if self.dataset.has_scores:
            roc, pr = go.Figure(), go.Figure()
            for c, name in enumerate(self.classes):
                cv = self.evaluation.class_curves(c)
                roc.add_scatter(x=cv["roc_fpr"], y=cv["roc_tpr"], name=text(name), mode="lines")
                pr.add_scatter(x=cv["pr_recall"], y=cv["pr_precision"], name=text(name), mode="lines")
            roc.update_layout(title={"text": "ROC (each class on its own)"}, xaxis_title="false positive rate",
                              yaxis_title="true positive rate")
            pr.update_layout(title={"text": "Precision-recall"}, xaxis_title="recall", yaxis_title="precision")
            out["roc"], out["precision_recall"] = roc, pr
        return out

    def _repr_html_(self) -> str:
        d = self.dataset
        head = self.evaluation.headline()
        rows = [("samples", f"{d.n:,}"), ("classes", f"{d.n_classes:,}"),
                ("subset accuracy", _num(head["subset_accuracy"])), ("Hamming loss", _num(head["hamming_loss"])),
                ("samples F1", _num(head["samples_f1"])), ("macro F1", _num(head["macro_f1"])),
                ("micro F1", _num(head["micro_f1"]))]
        if d.has_scores:
            rows.append(("macro ROC AUC", _num(head["macro_roc_auc"])))
        esc = html.escape
        summary = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        table = self.evaluation.per_class
        per_class = "".join(
            f"<tr><td style='text-align:left'>{esc(d.classes[c])}</td><td>{_num(table['precision'][c])}</td>"
            f"<td>{_num(table['recall'][c])}</td><td>{_num(table['f1'][c])}</td><td>{int(table['support'][c]):,}</td></tr>"
            for c in range(min(d.n_classes, SUMMARY_CLASSES)))
        more = (f"<p>… and {d.n_classes - SUMMARY_CLASSES:,} more classes (<code>per_class()</code>)</p>"
                if d.n_classes > SUMMARY_CLASSES else "")
        return (f"<div class='evaldash-results'><strong>evaldash</strong> (multi-label) · {esc(d.source)}"
                f"<table>{summary}</table>"
                f"<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
                f"{per_class}</table>{more}</div>")


def results_for(evaluation, frame: pd.DataFrame | None = None, path: str | None = None) -> Results:
    """The results object of ``evaluation``, by its task: :class:`MultilabelResults` for a
    multi-label evaluation (the same views), else :class:`Results`."""
    if getattr(evaluation, "task", None) == "multilabel":
        return MultilabelResults(evaluation, frame, path)
    return Results(evaluation, frame, path)
