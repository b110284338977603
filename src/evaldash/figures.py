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

from evaldash import metrics


def text(value: str) -> str:
    """Escape a class name or metadata value for Plotly's HTML-ish titles and labels."""
    return html.escape(str(value), quote=False)


_BLUES = ((247, 251, 255), (222, 235, 247), (198, 219, 239), (158, 202, 225), (107, 174, 214),
          (66, 146, 198), (33, 113, 181), (8, 81, 156), (8, 48, 107))
_HIDDEN = "#e5e7eb"  # a hidden diagonal cell
CONFUSION_MODES = {"counts": "count", "true": "share of true class", "pred": "share of predicted class",
                   "score": "mean score"}


def confusion_cells(values: np.ndarray, counts: np.ndarray, mode: str,
                    row_totals: np.ndarray | None = None, hide_diagonal: bool = False,
                    shares: bool = True) -> dict[str, list]:
    """What each cell of a confusion-matrix grid shows, for ``values`` and ``counts`` of shape (k, k)
    (or (k, m): a multi-label concept matrix has a "no label" row and a "no prediction" column).

    Returns lists of k lists: ``text`` (count and % of the true class, a share, or a mean
    score), ``fill`` (a colour of the Blues scale: log counts in ``counts`` mode, so small
    off-diagonal counts stay visible next to the diagonal; else the value on [0, 1]) and ``ink``
    (black or white, readable on the fill); ``legend``: what the colour means. Percentages are
    of the true class's samples: ``row_totals`` (shape (k,)) gives them when only some classes
    are shown, default the rows of ``counts``.

    ``hide_diagonal``: the diagonal cells are blank and grey and left out of the colour scale,
    whose top is then the largest off-diagonal value, so the errors use the whole scale
    (``values`` and ``counts`` must then be square with the same classes on both axes).
    ``shares=False``: ``counts`` mode shows the count alone (narrow cells, side-by-side matrices).
    """
    totals = counts.sum(axis=1) if row_totals is None else np.asarray(row_totals)
    row_share = counts / np.maximum(totals, 1)[:, None]
    k, m = counts.shape[0], (counts.shape[1] if counts.ndim == 2 else 0)
    if mode == "counts":
        cell_text = [[(f"{counts[i, j]:,}\n{row_share[i, j]:.0%}" if shares else f"{counts[i, j]:,}")
                      if counts[i, j] else "0" for j in range(m)] for i in range(k)]
        z = np.log10(counts + 1.0)
        z = z / z.max() if z.size and z.max() > 0 else z
    elif mode == "score":
        cell_text = [[f"{values[i, j]:.2f}" if np.isfinite(values[i, j]) else "" for j in range(m)]
                     for i in range(k)]
        z = values
    else:
        cell_text = [[f"{values[i, j]:.0%}" if counts[i, j] else "0" for j in range(m)] for i in range(k)]
        z = values
    z = np.clip(np.nan_to_num(np.asarray(z, dtype=np.float64)), 0.0, 1.0)
    diagonal = np.eye(k, m, dtype=bool)
    top = None
    if hide_diagonal and k:
        raw = np.log10(counts + 1.0) if mode == "counts" else np.nan_to_num(np.asarray(values, dtype=np.float64))
        off = raw[~diagonal]
        top = float(off.max()) if off.size else 0.0
        z = np.where(diagonal, 0.0, np.clip(raw / top, 0.0, 1.0) if top > 0 else 0.0)
    pos = z * (len(_BLUES) - 1)
    lo = np.minimum(pos.astype(int), len(_BLUES) - 2)
    frac = (pos - lo)[..., None]
    scale = np.array(_BLUES, dtype=np.float64)
    rgb = np.rint(scale[lo] * (1 - frac) + scale[lo + 1] * frac).astype(int)
    fill = [[f"#{r:02x}{g:02x}{b:02x}" for r, g, b in row] for row in rgb]
    ink = [["#ffffff" if v > 0.55 else "#1f2937" for v in row] for row in z]
    legend = CONFUSION_MODES[mode]
    if hide_diagonal:
        for i in range(min(k, m)):
            cell_text[i][i], fill[i][i], ink[i][i] = "", _HIDDEN, "#6b7280"
        if mode == "counts":
            biggest = int(counts[~diagonal].max()) if k > 1 else 0
            legend += f"; diagonal hidden, darkest: the largest error ({biggest:,})"
        else:
            fmt = "{:.2f}" if mode == "score" else "{:.0%}"
            legend += f"; diagonal hidden, darkest: the largest error cell ({fmt.format(top or 0.0)})"
    return {"text": cell_text, "fill": fill, "ink": ink, "legend": legend, "hide_diagonal": hide_diagonal}


def confusion_hover(labels: list[str], values: np.ndarray, counts: np.ndarray, mode: str, intervals: dict,
                    row_totals: np.ndarray, small_sample: int = 30) -> list[list[str]]:
    """Hover text of each cell of a confusion grid, k lists of k strings: the classes, the count
    and the shown quantity with its 95% bootstrap interval (``intervals``: ``low``, ``high``,
    ``support`` and ``small`` of shape (k, k), see :func:`evaldash.matrix.cell_intervals`), a
    small-sample marker when the quantity rests on fewer than ``small_sample`` samples."""
    k = len(labels)
    low, high, support, small = intervals["low"], intervals["high"], intervals["support"], intervals["small"]
    out = []
    for i in range(k):
        row = []
        for j in range(k):
            n = int(counts[i, j])
            share = n / row_totals[i] if row_totals[i] else float("nan")
            lines = [f"true {labels[i]} → predicted {labels[j]}"]
            if mode in ("counts", "score"):
                head = f"{n:,} samples" + (f" · {share:.1%} of true {labels[i]}" if np.isfinite(share) else "")
                if mode == "score":
                    head = (f"mean score {values[i, j]:.3f} · " if np.isfinite(values[i, j]) else "") + head
                lines += [head, f"95% interval of the count: {low[i, j]:,.0f} to {high[i, j]:,.0f}"]
            else:
                whose = f"true {labels[i]}" if mode == "true" else f"predicted {labels[j]}"
                lines.append(f"{n:,} samples · {values[i, j]:.1%} of {whose}" if np.isfinite(values[i, j])
                             else f"{n:,} samples · no {whose} samples")
                if np.isfinite(low[i, j]):
                    lines.append(f"95% interval: {low[i, j]:.1%} to {high[i, j]:.1%}")
            if small[i, j]:
                who = f"predicted {labels[j]}" if mode == "pred" else f"true {labels[i]}"
                lines.append(f"⚠ few samples: {int(support[i, j]):,} {who} (under {small_sample})")
            lines.append("click to see them")
            row.append("\n".join(lines))
        out.append(row)
    return out


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[list]:
    """Round axis ticks within [``lo``, ``hi``]: multiples of the smallest step of 1, 2, 2.5 or 5
    times a power of ten that needs at most ``max_ticks`` ticks; [value, label] pairs, labels
    with the decimals of the step and thousands separators (0.2, 0.4 …; 1,000, 2,000 …).
    An empty or non-finite range has its one end as the only tick."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    lo, hi = min(lo, hi), max(lo, hi)
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        return [[float(lo), _tick_label(lo, 0 if float(lo).is_integer() else 3)]]
    exponent = math.floor(math.log10((hi - lo) / max(1, max_ticks - 1)))
    for e in (exponent, exponent + 1):
        for m in (1.0, 2.0, 2.5, 5.0):
            step = m * 10.0 ** e
            first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
            if last - first + 1 <= max_ticks:
                decimals = max(0, -e) + (1 if m == 2.5 else 0)
                return [[float(round(n * step, decimals + 2)), _tick_label(n * step, decimals)]
                        for n in range(first, last + 1)]
    return [[float(lo), _tick_label(lo, 3)], [float(hi), _tick_label(hi, 3)]]  # pragma: no cover


def _tick_label(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return "0" if float(value) == 0 or text.lstrip("-").strip("0.,") == "" else text


def with_ticks(spec: dict) -> dict:
    """A chart spec with round ticks (:func:`nice_ticks`) on both axes, unless it has its own."""
    for axis in ("x", "y"):
        if f"{axis}_ticks" not in spec:
            spec[f"{axis}_ticks"] = nice_ticks(*spec[f"{axis}_range"])
    return spec


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
    return with_ticks({
        "title": "Coverage against accuracy", "x_label": "coverage (share of predictions kept)",
        "y_label": "accuracy of kept", "x_range": [0.0, 1.0], "y_range": [math.floor(lo * 20) / 20, 1.0],
        "series": [{"name": "kept predictions", "kind": "line", "cls": "ed-s0",
                    "x": _numbers(coverage), "y": _numbers(accuracy)}],
        "marker": list(op) if op is not None and all(np.isfinite(op)) else None,
    })


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
    return with_ticks({"title": title, "x_label": x_label, "y_label": y_label, "x_range": [0.0, 1.0],
                       "y_range": [0.0, 1.0], "series": series, "marker": None, "markers": markers})


# Acklam's rational approximation of the inverse normal CDF (relative error below 1.2e-9)
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
      -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
      -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
      4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
_P_LOW = 0.02425


def _poly(coefs, x):
    out = np.zeros_like(x)
    for c in coefs:
        out = out * x + c
    return out


def probit(p) -> np.ndarray:
    """The standard normal quantile (inverse CDF) of each probability, same shape as ``p``:
    -inf at 0, +inf at 1, NaN outside [0, 1]. Acklam's approximation, vectorised."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    mid = (p >= _P_LOW) & (p <= 1 - _P_LOW)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = q * _poly(_A, r) / (_poly(_B, r) * r + 1.0)
    for side, tail in ((-1.0, (p > 0) & (p < _P_LOW)), (1.0, (p > 1 - _P_LOW) & (p < 1))):
        t = p[tail] if side < 0 else 1.0 - p[tail]
        q = np.sqrt(-2.0 * np.log(t))
        out[tail] = -side * _poly(_C, q) / (_poly(_D, q) * q + 1.0)
    out[p == 0] = -np.inf
    out[p == 1] = np.inf
    return out


DET_TICKS = (1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999, 1 - 1e-4, 1 - 1e-5, 1 - 1e-6)
_MAIN_TICKS = (1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.5, 0.99, 0.999, 1 - 1e-4, 1 - 1e-5, 1 - 1e-6)


def det_axis(smallest_rate: float, largest_rate: float = 0.5) -> dict:
    """The normal-deviate axis of a DET chart whose rates run from ``smallest_rate`` (the
    smallest non-zero one) to ``largest_rate``: from the power of ten at or below the smallest
    (between 1e-6 and 0.001) to the tick of :data:`DET_TICKS` at or above the largest (at
    least 50%). ``range``: [low, high] in probit units; ``ticks``: [probit, label] pairs;
    ``floor``, ``top``: the rates at the ends."""
    rate = smallest_rate if np.isfinite(smallest_rate) and smallest_rate > 0 else 1e-3
    floor = min(1e-3, max(1e-6, 10.0 ** math.floor(math.log10(rate) + 1e-9)))
    big = max(0.5, largest_rate if np.isfinite(largest_rate) else 0.5)
    top = next((t for t in DET_TICKS if t >= big - 1e-12 and t <= 1 - floor), 1 - floor)
    ends = probit(np.array([floor, top]))
    # ticks by priority (50%, the powers of ten and their complements, then the rest), each kept
    # when it stands at least a ninth of the axis from those kept, so the labels never overlap
    gap = (ends[1] - ends[0]) / 9
    kept: list[tuple[float, float]] = []
    for t in sorted(DET_TICKS, key=lambda t: (t not in _MAIN_TICKS, abs(math.log10(min(t, 1 - t) / 0.5)))):
        z = float(probit(np.array([t]))[0])
        if floor <= t <= top and all(abs(z - k) >= gap - 1e-9 for _, k in kept):
            kept.append((t, z))
    ticks = [[round(z, 4), _rate_label(t)] for t, z in sorted(kept, key=lambda p: p[1])]
    return {"range": [float(ends[0]), float(ends[1])], "ticks": ticks, "floor": floor, "top": top}


def _rate_label(rate: float) -> str:
    return f"{float(f'{rate * 100:.6g}'):g}%"


def det_coordinates(rates: np.ndarray, axis: dict) -> np.ndarray:
    """Rates as drawn on a DET axis (:func:`det_axis`): their probit, clipped to the axis (a rate
    of 0 sits on the axis's lower edge)."""
    lo, hi = axis["range"]
    return np.clip(probit(rates), lo, hi)


def det_curve(fpr: np.ndarray, tpr: np.ndarray, thresholds: np.ndarray, max_points: int = 1000) -> dict | None:
    """The detection error tradeoff curve from a one-vs-rest ROC sweep, reduced for drawing.

    ``fpr``, ``tpr``, ``thresholds``: shape (n_points,), as ``roc_curve(drop_intermediate=False)``
    (decreasing thresholds, the first +inf). The points are those of ``sklearn.metrics.det_curve``
    (``drop_intermediate=False``: from the last threshold, +inf included, with no false
    positive to the first that finds every positive), at most about ``max_points`` of them
    picked evenly along the drawn (probit) curve, leaving out points within 1/2000 of a normal
    deviate of a kept neighbour in both rates. Returns ``fpr``, ``fnr``, ``threshold``, and
    ``x``, ``y`` (the rates on the axis), shape (m,) each, and the ``axis``
    (:func:`det_axis`); None when a class has no positives or no negatives.
    """
    fnr, thr = 1.0 - tpr, thresholds
    if fpr.size < 2 or not (np.isfinite(fpr).all() and np.isfinite(fnr).all()):
        return None
    first = int(np.searchsorted(fpr, 0.0, side="right")) - 1
    last = int(np.searchsorted(1.0 - fnr, 1.0 - fnr[-1])) + 1  # tpr is increasing: its first maximum
    fpr, fnr, thr = fpr[first:last], fnr[first:last], thr[first:last]
    positive = np.concatenate([fpr[fpr > 0], fnr[fnr > 0]])
    axis = det_axis(float(positive.min()) if positive.size else float("nan"), float(max(fpr.max(), fnr.max())))
    # Only points where a rate enters a new cell of a fine probit grid can matter to the drawing
    # (between two of them both coordinates move less than a cell): the probit of a million
    # points is thus never needed. fpr rises and fnr falls along the sweep.
    cells = _probit_cells()
    keep = np.concatenate([np.searchsorted(fpr, cells), fpr.size - np.searchsorted(fnr[::-1], cells, side="right"),
                           [0, fpr.size - 1]])
    cand = np.unique(np.clip(keep, 0, fpr.size - 1))
    fpr, fnr, thr = fpr[cand], fnr[cand], thr[cand]
    x, y = det_coordinates(fpr, axis), det_coordinates(fnr, axis)
    idx = metrics.reduce_curve(x, y, max_points=max_points)
    return {"fpr": fpr[idx], "fnr": fnr[idx], "threshold": thr[idx], "x": x[idx], "y": y[idx], "axis": axis}


_CELLS: list = []


def _probit_cells() -> np.ndarray:
    """Rates at the edges of 24,000 equal cells of the normal-deviate axis from -6 to 6."""
    if not _CELLS:
        from statistics import NormalDist

        cdf = NormalDist().cdf
        _CELLS.append(np.array([cdf(z) for z in np.linspace(-6.0, 6.0, 24_001)]))
    return _CELLS[0]


def reliability_bin_rows(confidence: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Row indices of the samples in the reliability bin (``lower``, ``upper``] (the first bin,
    ``lower`` 0, also holds a confidence of 0), most confident first; shape (count,).
    The same rule as :func:`evaldash.metrics.reliability`."""
    inside = (confidence <= upper) & ((confidence > lower) | ((lower <= 0) & (confidence >= 0)))
    rows = np.flatnonzero(inside)
    return rows[np.argsort(-confidence[rows], kind="stable")]


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


def reliability_chart(bins: dict[str, np.ndarray], ece: float, selected: int | None = None) -> dict:
    """Reliability diagram as a chart spec (see :func:`coverage_chart`): accuracy per confidence
    bin (bar width = the bin), each bin's mean confidence, and the diagonal of perfect calibration.

    ``pick``: the bin index of each bar (a click on a bar sends it), ``selected``: the bin shown
    outlined (None: none)."""
    used = bins["count"] > 0
    mid = (bins["lower"] + bins["upper"]) / 2
    hover = [f"confidence ({lo:.2f}, {hi:.2f}] · accuracy {acc:.3f} · mean confidence {conf:.3f} · {n:,} samples"
             for lo, hi, acc, conf, n in zip(bins["lower"][used], bins["upper"][used], bins["accuracy"][used],
                                             bins["confidence"][used], bins["count"][used])]
    return with_ticks({
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
        "marker": None, "pick": np.flatnonzero(used).tolist(), "selected": selected,
    })


def scores_bar(classes: list[str], scores: np.ndarray, true: int, pred: int) -> go.Figure:
    """One sample's scores over all classes; the true class green, a wrong prediction red."""
    colors = ["#9ecae1"] * len(classes)
    colors[pred] = "#d62728" if pred != true else "#2ca02c"
    colors[true] = "#2ca02c"
    labels = [text(c) for c in classes]
    fig = go.Figure(go.Bar(x=labels, y=scores, marker_color=colors,
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    # two short lines: Plotly does not wrap a title, and a laptop's column is ~370 px wide
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=50, b=10),
                      title="scores by class<br><sup>green: true class · red: wrong prediction</sup>",
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
    bottom = max(0.0, lo - pad) if lo >= 0 else lo - pad  # no negative axis under costs that are never negative
    hover = [f"threshold {t:.4g} · cost {c:,.1f} per 10,000 · alerts {a:,.0f} per 10,000"
             for t, c, a in zip(curve["threshold"], cost, curve["alerts_per_10k"])]
    series = [{"name": "expected cost per 10,000 items", "kind": "line", "cls": "ed-s0",
               "x": _numbers(curve["threshold"]), "y": _numbers(cost), "hover": hover}]
    series += _marks(current, cheapest)
    return with_ticks({"title": "Expected cost against threshold", "x_label": "threshold",
                       "y_label": "cost per 10,000 items", "x_range": [float(x_range[0]), float(x_range[1])],
                       "y_range": [bottom, hi + pad], "series": series, "marker": None})


def operating_chart(title: str, x_label: str, y_label: str, x: np.ndarray, y: np.ndarray,
                    current: tuple[float, float] | None, cheapest: tuple[float, float] | None) -> dict:
    """One curve (ROC or PR) with the current and the cheapest threshold's points, as a chart spec."""
    series = [{"name": title, "kind": "line", "cls": "ed-s0", "x": _numbers(x), "y": _numbers(y)}]
    series += _marks(current, cheapest)
    return with_ticks({"title": title, "x_label": x_label, "y_label": y_label, "x_range": [0.0, 1.0],
                       "y_range": [0.0, 1.0], "series": series, "marker": None})


def _marks(current, cheapest) -> list[dict]:
    out = []
    for name, cls, p in (("current threshold", "ed-s1", current), ("cheapest threshold", "ed-s2", cheapest)):
        if p is not None and all(np.isfinite(p)):
            out.append({"name": name, "kind": "points", "cls": cls, "x": _numbers([p[0]]), "y": _numbers([p[1]])})
    return out
