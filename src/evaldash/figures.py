"""Figures built from numbers already computed; nothing here computes metrics.

Most charts are drawn in the browser by the small scripts in ``web/`` (no charting library to
load): these functions return what each shows as plain dicts (cell texts and colours, chart
specs). ``scores_bar`` is a plain ``go.Figure``; class names reach Plotly escaped, as text.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go



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


def _numbers(values) -> list:
    """Floats for JSON (which has no NaN or infinity: those become None), 5 significant digits."""
    return [float(f"{v:.5g}") if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def coverage_chart(coverage: np.ndarray, accuracy: np.ndarray, op: tuple[float, float] | None) -> dict:
    """Accuracy of the kept predictions against coverage (selective prediction), as a chart spec.

    Chart specs are drawn in the browser by ``web/live_threshold.js`` (role ``chart``): a title,
    axis labels and ranges, ``series`` (``kind`` line, bars or points; x and y lists; bars
    have ``width``; optional ``hover`` texts) and an operating-point ``marker`` (x, y) or None.
    """
    lo = float(np.nanmin(accuracy)) if np.isfinite(accuracy).any() else 0.0
    return {
        "title": "Coverage against accuracy", "x_label": "coverage (share of predictions kept)",
        "y_label": "accuracy of kept", "x_range": [0.0, 1.0], "y_range": [math.floor(lo * 20) / 20, 1.0],
        "series": [{"name": "kept predictions", "kind": "line", "cls": "ed-s0",
                    "x": _numbers(coverage), "y": _numbers(accuracy)}],
        "marker": list(op) if op is not None and all(np.isfinite(op)) else None,
    }


def curves_chart(title: str, x_label: str, y_label: str, curves: dict[str, tuple[np.ndarray, np.ndarray]],
                 points: dict[str, tuple[float, float]] | None = None, diagonal: bool = False) -> dict:
    """Several curves on one chart spec (see :func:`coverage_chart`): ``curves`` maps a name to
    (x, y); ``points`` maps the same names to an operating point drawn in the curve's colour."""
    colours = ["ed-s0", "ed-s2", "ed-s1", "ed-s3"]
    series = [{"name": name, "kind": "line", "cls": colours[n % len(colours)], "x": _numbers(x), "y": _numbers(y)}
              for n, (name, (x, y)) in enumerate(curves.items())]
    if diagonal:
        series.append({"name": "chance", "kind": "line", "cls": "ed-chance", "x": [0.0, 1.0], "y": [0.0, 1.0]})
    markers = [{"x": _numbers([p[0]])[0], "y": _numbers([p[1]])[0], "cls": colours[list(curves).index(name) % len(colours)]}
               for name, p in (points or {}).items() if name in curves]
    return {"title": title, "x_label": x_label, "y_label": y_label, "x_range": [0.0, 1.0], "y_range": [0.0, 1.0],
            "series": series, "marker": None, "markers": markers}


def difference_cells(diff: np.ndarray) -> dict[str, list]:
    """Cells of a difference of confusion matrices (B minus A, shape (k, k)): signed counts,
    red where B has more samples than A off the diagonal (more mistakes) and blue on the diagonal
    (more right answers), the reverse in the other direction."""
    k = diff.shape[0]
    scale = max(1, int(np.abs(diff).max()))
    text, fill, ink = [], [], []
    for i in range(k):
        t_row, f_row, i_row = [], [], []
        for j in range(k):
            v = int(diff[i, j])
            better = (v > 0) == (i == j)
            strength = abs(v) / scale
            base = (33, 113, 181) if better else (214, 39, 40)
            rgb = [round(255 - (255 - c) * (0.15 + 0.85 * strength)) if v else 255 for c in base]
            t_row.append(f"{v:+,}" if v else "0")
            f_row.append("#{:02x}{:02x}{:02x}".format(*rgb))
            i_row.append("#ffffff" if strength > 0.6 and v else "#1f2937")
        text.append(t_row)
        fill.append(f_row)
        ink.append(i_row)
    return {"text": text, "fill": fill, "ink": ink, "legend": "B minus A (blue: better for B, red: worse)"}


def reliability_chart(bins: dict[str, np.ndarray], ece: float) -> dict:
    """Reliability diagram as a chart spec (see :func:`coverage_chart`): accuracy per confidence
    bin (bar width = the bin), each bin's mean confidence, and the diagonal of perfect calibration."""
    used = bins["count"] > 0
    mid = (bins["lower"] + bins["upper"]) / 2
    hover = [f"confidence ({lo:.2f}, {hi:.2f}] · accuracy {acc:.3f} · mean confidence {conf:.3f} · {n:,} samples"
             for lo, hi, acc, conf, n in zip(bins["lower"][used], bins["upper"][used], bins["accuracy"][used],
                                             bins["confidence"][used], bins["count"][used])]
    return {
        "title": f"Reliability diagram (ECE {ece:.3f})", "x_label": "confidence", "y_label": "accuracy",
        "x_range": [0.0, 1.0], "y_range": [0.0, 1.0],
        "series": [
            {"name": "accuracy", "kind": "bars", "cls": "ed-s0", "x": _numbers(mid[used]),
             "y": _numbers(bins["accuracy"][used]), "width": _numbers((bins["upper"] - bins["lower"])[used]),
             "hover": hover},
            {"name": "mean confidence", "kind": "points", "cls": "ed-s2", "x": _numbers(bins["confidence"][used]),
             "y": _numbers(bins["accuracy"][used])},
            {"name": "perfect calibration", "kind": "line", "cls": "ed-chance", "x": [0.0, 1.0], "y": [0.0, 1.0]},
        ],
        "marker": None,
    }


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


def cost_chart(curve: dict[str, np.ndarray], current: tuple[float, float] | None,
               cheapest: tuple[float, float] | None, x_range: tuple[float, float]) -> dict:
    """Expected cost per 10,000 items against the threshold (``curve`` from
    :meth:`evaldash.decision.CostCurve.drawn`), with the current and the cheapest threshold
    marked, as a chart spec (see :func:`coverage_chart`)."""
    cost = np.asarray(curve["cost_per_10k"], dtype=np.float64)
    finite = cost[np.isfinite(cost)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = (hi - lo) * 0.05 or 1.0
    hover = [f"threshold {t:.4g} · cost {c:,.1f} per 10,000 · alerts {a:,.0f} per 10,000"
             for t, c, a in zip(curve["threshold"], cost, curve["alerts_per_10k"])]
    series = [{"name": "expected cost per 10,000 items", "kind": "line", "cls": "ed-s0",
               "x": _numbers(curve["threshold"]), "y": _numbers(cost), "hover": hover}]
    series += _marks(current, cheapest)
    return {"title": "Expected cost against threshold", "x_label": "threshold", "y_label": "cost per 10,000 items",
            "x_range": [float(x_range[0]), float(x_range[1])], "y_range": [lo - pad, hi + pad],
            "series": series, "marker": None}


def operating_chart(title: str, x_label: str, y_label: str, x: np.ndarray, y: np.ndarray,
                    current: tuple[float, float] | None, cheapest: tuple[float, float] | None) -> dict:
    """One curve (ROC or PR) with the current and the cheapest threshold's points, as a chart spec."""
    series = [{"name": title, "kind": "line", "cls": "ed-s0", "x": _numbers(x), "y": _numbers(y)}]
    series += _marks(current, cheapest)
    return {"title": title, "x_label": x_label, "y_label": y_label, "x_range": [0.0, 1.0], "y_range": [0.0, 1.0],
            "series": series, "marker": None}


def _marks(current, cheapest) -> list[dict]:
    out = []
    for name, cls, p in (("current threshold", "ed-s1", current), ("cheapest threshold", "ed-s2", cheapest)):
        if p is not None and all(np.isfinite(p)):
            out.append({"name": name, "kind": "points", "cls": cls, "x": _numbers([p[0]]), "y": _numbers([p[1]])})
    return out
