"""Plotly figures built from numbers already computed; nothing here computes metrics.

Every function returns a plain ``go.Figure``. Class names are passed to Plotly
as data (never inside HTML templates unescaped): hover templates use
``%{customdata}`` and tick labels, which Plotly renders as text.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

_MARGIN = dict(l=10, r=10, t=40, b=10)
_OP_MARKER = dict(size=14, color="#d62728", symbol="circle", line=dict(color="white", width=2))


def text(value: str) -> str:
    """Escape a class name or metadata value for Plotly's HTML-ish titles and labels."""
    return html.escape(str(value), quote=False)


_BLUES = ((247, 251, 255), (222, 235, 247), (198, 219, 239), (158, 202, 225), (107, 174, 214),
          (66, 146, 198), (33, 113, 181), (8, 81, 156), (8, 48, 107))
CONFUSION_MODES = {"counts": "count", "true": "share of true class", "pred": "share of predicted class",
                   "score": "mean score"}


def confusion_cells(values: np.ndarray, counts: np.ndarray, mode: str,
                    row_totals: np.ndarray | None = None) -> dict[str, list]:
    """What each cell of a confusion-matrix grid shows, for ``values`` and ``counts`` of shape (k, k).

    Returns lists of k lists: ``text`` (count and % of the true class, a share, or a mean
    score), ``fill`` (a colour of the Blues scale: log counts in ``counts`` mode, so small
    off-diagonal counts stay visible next to the diagonal; else the value on [0, 1]) and ``ink``
    (black or white, readable on the fill); ``legend``: what the colour means. Percentages are
    of the true class's samples: ``row_totals`` (shape (k,)) gives them when only some classes
    are shown, default the rows of ``counts``.
    """
    totals = counts.sum(axis=1) if row_totals is None else np.asarray(row_totals)
    row_share = counts / np.maximum(totals, 1)[:, None]
    k = counts.shape[0]
    if mode == "counts":
        cell_text = [[f"{counts[i, j]:,}\n{row_share[i, j]:.0%}" if counts[i, j] else "0" for j in range(k)]
                     for i in range(k)]
        z = np.log10(counts + 1.0)
        z = z / z.max() if z.size and z.max() > 0 else z
    elif mode == "score":
        cell_text = [[f"{values[i, j]:.2f}" if np.isfinite(values[i, j]) else "" for j in range(k)]
                     for i in range(k)]
        z = values
    else:
        cell_text = [[f"{values[i, j]:.0%}" if counts[i, j] else "0" for j in range(k)] for i in range(k)]
        z = values
    z = np.clip(np.nan_to_num(np.asarray(z, dtype=np.float64)), 0.0, 1.0)
    pos = z * (len(_BLUES) - 1)
    lo = np.minimum(pos.astype(int), len(_BLUES) - 2)
    frac = (pos - lo)[..., None]
    scale = np.array(_BLUES, dtype=np.float64)
    rgb = np.rint(scale[lo] * (1 - frac) + scale[lo + 1] * frac).astype(int)
    fill = [[f"#{r:02x}{g:02x}{b:02x}" for r, g, b in row] for row in rgb]
    ink = [["#ffffff" if v > 0.55 else "#1f2937" for v in row] for row in z]
    return {"text": cell_text, "fill": fill, "ink": ink, "legend": CONFUSION_MODES[mode]}


def roc_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], op: tuple[float, float] | None = None,
               title: str = "ROC curve") -> go.Figure:
    """ROC curves: ``curves`` maps a name to (fpr, tpr); ``op`` is the operating point (fpr, tpr)."""
    fig = go.Figure()
    for n, (name, (fpr, tpr)) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=text(name), line=_curve_line(n)))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                             line=dict(dash="dot", color="gray")))
    _add_op(fig, op)
    fig.update_layout(title=title, xaxis_title="false positive rate", yaxis_title="true positive rate",
                      height=380, margin=_MARGIN, legend=dict(x=0.55, y=0.05))
    fig.update_xaxes(range=[-0.01, 1.01])
    fig.update_yaxes(range=[-0.01, 1.01])
    return fig


def pr_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], op: tuple[float, float] | None = None,
              title: str = "Precision-recall curve") -> go.Figure:
    """PR curves: ``curves`` maps a name to (recall, precision); ``op`` is (recall, precision)."""
    fig = go.Figure()
    for n, (name, (recall, precision)) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=recall, y=precision, mode="lines", name=text(name), line_shape="hv",
                                 line=_curve_line(n)))
    _add_op(fig, op)
    fig.update_layout(title=title, xaxis_title="recall", yaxis_title="precision", height=380,
                      margin=_MARGIN, legend=dict(x=0.02, y=0.05))
    fig.update_xaxes(range=[-0.01, 1.01])
    fig.update_yaxes(range=[-0.01, 1.05])
    return fig


def threshold_figure(thresholds: np.ndarray, series: dict[str, np.ndarray], t: float | None,
                     title: str = "Metrics against threshold") -> go.Figure:
    """Precision, recall, F1 (or any ``series``) against threshold, with a vertical line at ``t``."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=thresholds, y=values, mode="lines", name=name))
    if t is not None and np.isfinite(t):
        fig.add_vline(x=t, line=dict(color="#d62728", width=2))
    fig.update_layout(title=title, xaxis_title="threshold (score ≥ threshold is positive)",
                      yaxis_title="value", height=380, margin=_MARGIN, hovermode="x unified")
    fig.update_yaxes(range=[-0.01, 1.05])
    return fig


def coverage_figure(coverage: np.ndarray, accuracy: np.ndarray, op: tuple[float, float] | None) -> go.Figure:
    """Accuracy of the kept predictions against coverage (selective prediction)."""
    fig = go.Figure(go.Scatter(x=coverage, y=accuracy, mode="lines", name="kept predictions"))
    _add_op(fig, op)
    fig.update_layout(title="Coverage against accuracy", xaxis_title="coverage (share of predictions kept)",
                      yaxis_title="accuracy of kept predictions", height=380, margin=_MARGIN)
    fig.update_xaxes(range=[-0.01, 1.01])
    return fig


def reliability_figure(bins: dict[str, np.ndarray], ece: float) -> go.Figure:
    """Reliability diagram: accuracy against mean confidence per bin, bar width = bin."""
    used = bins["count"] > 0
    mid = (bins["lower"] + bins["upper"]) / 2
    fig = go.Figure()
    fig.add_trace(go.Bar(x=mid[used], y=bins["accuracy"][used], width=(bins["upper"] - bins["lower"])[used],
                         name="accuracy", marker_color="#1f77b4", customdata=bins["count"][used],
                         hovertemplate="confidence %{x:.2f}<br>accuracy %{y:.3f}<br>%{customdata} samples"
                                       "<extra></extra>"))
    fig.add_trace(go.Scatter(x=bins["confidence"][used], y=bins["accuracy"][used], mode="markers",
                             name="mean confidence", marker=dict(color="#ff7f0e")))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                             line=dict(dash="dot", color="gray")))
    fig.update_layout(title=f"Reliability diagram (ECE {ece:.3f})", xaxis_title="confidence",
                      yaxis_title="accuracy", height=380, margin=_MARGIN, bargap=0.05)
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.05])
    return fig


def scores_bar(classes: list[str], scores: np.ndarray, true: int, pred: int) -> go.Figure:
    """One sample's scores over all classes; the true class green, a wrong prediction red."""
    colors = ["#9ecae1"] * len(classes)
    colors[pred] = "#d62728" if pred != true else "#2ca02c"
    colors[true] = "#2ca02c"
    labels = [text(c) for c in classes]
    fig = go.Figure(go.Bar(x=labels, y=scores, marker_color=colors,
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), title="scores by class (green: true class, red: wrong prediction)",
                      xaxis=dict(type="category"))
    return fig


def confusion_2x2(tp: int, fp: int, fn: int, tn: int, positive: str) -> go.Figure:
    """The binary confusion matrix at the current threshold."""
    z = np.array([[tp, fn], [fp, tn]])
    labels_x = [f"predicted {text(positive)}", "predicted rest"]
    labels_y = [f"true {text(positive)}", "true rest"]
    names = [["TP", "FN"], ["FP", "TN"]]
    fig = go.Figure(go.Heatmap(z=np.log10(z + 1.0), x=labels_x, y=labels_y, colorscale="Blues", showscale=False,
                               text=[[f"{names[i][j]}<br>{z[i, j]}" for j in range(2)] for i in range(2)],
                               texttemplate="%{text}", hoverinfo="skip"))
    fig.update_layout(height=230, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(autorange="reversed"), xaxis=dict(side="top"))
    return fig


_AVERAGE_COLORS = ("#9e9e9e", "#c7a26a")


def _curve_line(n: int) -> dict:
    """The first curve (the chosen class) strong; averages after it thin and muted."""
    if n == 0:
        return dict(color="#1f77b4", width=2.5)
    return dict(color=_AVERAGE_COLORS[(n - 1) % len(_AVERAGE_COLORS)], width=1.5, dash="dash")


def _add_op(fig: go.Figure, op: tuple[float, float] | None) -> None:
    if op is None or not all(np.isfinite(op)):
        return
    fig.add_trace(go.Scatter(x=[op[0]], y=[op[1]], mode="markers", name="operating point", marker=_OP_MARKER))
