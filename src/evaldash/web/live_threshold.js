// The live threshold: a slider and the numbers and curves that follow it, with no server round
// trip while the thumb moves. Two mounts of this one module share a page-wide bus:
//   role "slider"  (key "threshold")          the range input; publishes the grid position;
//   role "metrics" (key "threshold_metrics")  precision, recall, F1, counts, ROC/PR/threshold/DET curves.
// The server sends the exact counts (tp, fp) at every slider position, computed by the core; this
// code only divides and formats them as the server does (3 decimals, half-even on exact ties).
// On release (or 200 ms after the last key press) the slider sends the threshold to the server,
// which stores it and updates the URL.

const BUS = "evaldash:threshold";
const SET = "evaldash:threshold-set";
const live = (window.__evaldashLive = window.__evaldashLive || { token: null, index: null });

function column(table, name) {
  return table.getChild(name).toArray();
}

// Python's f"{x:.3f}": exact decimal rounding of the double, ties (only x = j/16 here) to even.
export function fmt3(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "n/a";
  const sixteenths = x * 16;
  if (Number.isInteger(sixteenths) && sixteenths % 2 !== 0) {
    const k = Math.floor(x * 1000);
    const even = k % 2 === 0 ? k : k + 1;
    return (even / 1000).toFixed(3);
  }
  return x.toFixed(3);
}

const count = (n) => n.toLocaleString("en-US");
// a rate as a percentage with three significant digits (DET rates span 1e-6 to 1)
const rate = (x) => (Number.isFinite(x) ? `${Number((x * 100).toPrecision(3))}%` : "n/a");

function thresholdText(t, probability) {
  if (!Number.isFinite(t)) return t > 0 ? "+inf" : "-inf";
  return probability ? t.toFixed(3) : String(Number(t.toPrecision(4)));
}

function publish(token, index, source) {
  live.token = token;
  live.index = index;
  window.dispatchEvent(new CustomEvent(BUS, { detail: { token, index, source } }));
}

// --- the slider -------------------------------------------------------------------------------

function mountSlider(args) {
  const { data, parentElement, setTriggerValue } = args;
  let root = parentElement.querySelector(".ed-slider");
  if (!root) {
    root = document.createElement("div");
    root.className = "ed-slider";
    root.innerHTML =
      '<label class="ed-label"><span class="ed-label-text"></span>' +
      '<span class="ed-value" data-testid="threshold-value"></span></label>' +
      '<input type="range" class="ed-range" min="0" step="1" aria-label="Threshold">' +
      '<div class="ed-ends"><span class="ed-lo"></span><span class="ed-hi"></span></div>';
    parentElement.appendChild(root);
    const input = root.querySelector("input");
    const state = (root._state = { token: null, grid: null, applied: null, recent: [], timer: null });
    const show = (i) => {
      const t = state.grid[i];
      root.querySelector(".ed-value").textContent = thresholdText(t, state.probability);
      input.setAttribute("aria-valuetext", String(t));
      root.dataset.threshold = String(t);
      root.dataset.index = String(i);
    };
    // a released drag is sent at once; key presses 200 ms after the last one (one rerun per burst)
    const commit = (delay = 200) => {
      clearTimeout(state.timer);
      state.timer = setTimeout(() => {
        const t = state.grid[input.valueAsNumber];
        state.recent.push(t);
        if (state.recent.length > 20) state.recent.shift();
        setTriggerValue("commit", t);
        // The server writes the URL too, but Streamlit shows a fragment run's query change only
        // with the next message; the address bar must follow now (same text as the server's %.6g).
        const url = new URL(window.location.href);
        url.searchParams.set("t", String(Number(t.toPrecision(6))));
        window.history.replaceState(window.history.state, "", url);
      }, delay);
    };
    input.addEventListener("input", () => {
      show(input.valueAsNumber);
      publish(state.token, input.valueAsNumber, "slider");
    });
    input.addEventListener("pointerdown", () => { state.pointer = true; });
    input.addEventListener("change", () => {
      commit(state.pointer ? 0 : 200);
      state.pointer = false;
    });
    const onSet = (e) => {
      if (e.detail.token !== state.token) return;
      input.value = String(e.detail.index);
      show(input.valueAsNumber);
      publish(state.token, input.valueAsNumber, "slider");
      commit(0);
    };
    window.addEventListener(SET, onSet);
    state.show = show;
    state.cleanup = () => window.removeEventListener(SET, onSet);
  }
  const state = root._state;
  const input = root.querySelector("input");
  state.grid = column(data.grid, "t");
  state.probability = data.probability;
  root.querySelector(".ed-label-text").textContent = data.label;
  root.querySelector(".ed-lo").textContent = thresholdText(state.grid[0], data.probability);
  root.querySelector(".ed-hi").textContent = thresholdText(state.grid[state.grid.length - 1], data.probability);
  input.max = String(state.grid.length - 1);
  // A new class or dataset, or a threshold set on the server (typed, suggested, linked), moves
  // the thumb; the echo of this slider's own commits does not (the thumb may have moved on).
  const fromServer = data.t !== state.applied && !state.recent.includes(data.t);
  if (data.token !== state.token || fromServer) {
    state.token = data.token;
    input.value = String(data.index);
    state.show(data.index);
    publish(state.token, data.index, "server");
  }
  state.applied = data.t;
  return () => state.cleanup();
}

// --- the numbers and the curves ----------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
// Charts are drawn at the width they are shown (one unit of the view box is one CSS pixel), so
// their 12 px text stays 12 px on a laptop and a projector; 360 wide while the box has no width.
const M = { l: 58, r: 16, t: 20, b: 44 };

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// One chart: fixed axes, static curves as paths, markers moved per frame, a hover read-out. Drawn
// again (markers where they were) when its box's width changes by more than a few pixels.
function chart(box, spec) {
  const size = () => {
    const w = Math.round(box.getBoundingClientRect().width);
    const W = w > 0 ? Math.max(200, w) : 360;
    return [W, Math.round(Math.min(Math.max(W * 0.66, 190), 330))];
  };
  let [W, H] = size();
  let drawn = drawChart(box, spec, W, H);
  let last = null;
  if (box._resize) box._resize.disconnect();
  if (typeof ResizeObserver !== "undefined") {
    box._resize = new ResizeObserver(() => {
      const [w, h] = size();
      if (Math.abs(w - W) < 8) return;
      [W, H] = [w, h];
      drawn = drawChart(box, spec, W, H);
      if (last) drawn.move(...last);
    });
    box._resize.observe(box);
  }
  return { move(...args) { last = args; drawn.move(...args); } };
}

function drawChart(box, spec, W, H) {
  box.textContent = "";
  const legendRow = document.createElement("div");
  legendRow.className = "ed-legend-row";
  box.appendChild(legendRow);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "ed-chart", role: "img", "aria-label": spec.title,
    "data-left": M.l, "data-right": W - M.r }, box);
  const [x0, x1] = spec.xRange, [y0, y1] = spec.yRange;
  const sx = (x) => M.l + ((x - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const sy = (y) => H - M.b - ((y - y0) / (y1 - y0 || 1)) * (H - M.t - M.b);
  const title = document.createElement("div");
  title.className = "ed-title";
  title.textContent = spec.title;
  box.insertBefore(title, legendRow);
  // ticks: the spec's [value, label] pairs (round values from the server: figures.nice_ticks; the
  // DET chart's probit axes), else the two ends
  const ends = (a, b) => [a, b].map((v) => [v, Number(v.toPrecision(3)).toString()]);
  // every other tick when the labels would touch (a narrow chart)
  const thin = (ticks, room) => (ticks.length > 2 && Math.max(...ticks.map(([, l]) => l.length)) * 7.5 + 8 > room
    ? ticks.filter((_, k) => k % 2 === 0) : ticks);
  const xAll = spec.xTicks && spec.xTicks.length ? spec.xTicks : ends(x0, x1);
  const xTicks = thin(xAll, (W - M.l - M.r) / Math.max(1, xAll.length - 1));
  const yTicks = spec.yTicks && spec.yTicks.length ? spec.yTicks : ends(y0, y1);
  for (const [fx, label] of xTicks) {
    el("line", { x1: sx(fx), x2: sx(fx), y1: sy(y0), y2: sy(y1), class: "ed-grid" }, svg);
    // a long label at the right end stays inside the chart
    const anchor = sx(fx) + label.length * 3.6 > W ? "end" : "middle";
    el("text", { x: sx(fx), y: H - M.b + 16, class: "ed-tick ed-xtick", "text-anchor": anchor }, svg).textContent = label;
  }
  for (const [fy, label] of yTicks) {
    el("line", { x1: sx(x0), x2: sx(x1), y1: sy(fy), y2: sy(fy), class: "ed-grid" }, svg);
    el("text", { x: M.l - 5, y: sy(fy) + 4, class: "ed-tick ed-ytick", "text-anchor": "end" }, svg).textContent = label;
  }
  el("text", { x: (M.l + W - M.r) / 2, y: H - 8, class: "ed-axis", "text-anchor": "middle" }, svg).textContent = spec.xLabel;
  el("text", { x: 14, y: (M.t + H - M.b) / 2, class: "ed-axis", "text-anchor": "middle",
    transform: `rotate(-90 14 ${(M.t + H - M.b) / 2})` }, svg).textContent = spec.yLabel;
  spec.series.forEach((s) => {
    const kind = s.kind || "line";
    if (kind === "bars") {
      for (let i = 0; i < s.x.length; i++) {
        if (!Number.isFinite(s.y[i])) continue;
        const x0b = sx(s.x[i] - s.width[i] / 2), x1b = sx(s.x[i] + s.width[i] / 2);
        const bar = el("rect", { x: x0b, width: Math.max(0.5, x1b - x0b - 1), y: sy(Math.max(s.y[i], y0)),
          height: Math.max(0, sy(y0) - sy(Math.max(s.y[i], y0))), class: "ed-bar " + (s.cls || "") }, svg);
        bar.dataset.index = String(i);
        if (spec.selected === i && s === spec.series[0]) bar.classList.add("ed-bar-selected");
      }
    } else if (kind === "points") {
      for (let i = 0; i < s.x.length; i++) {
        if (Number.isFinite(s.x[i]) && Number.isFinite(s.y[i])) el("circle", { cx: sx(s.x[i]), cy: sy(s.y[i]), r: 3.5, class: "ed-point " + (s.cls || "") }, svg);
      }
    } else {
      let d = "";
      for (let i = 0; i < s.x.length; i++) {
        const y = s.y[i];
        if (!Number.isFinite(y) || !Number.isFinite(s.x[i])) continue;
        d += (d ? "L" : "M") + sx(s.x[i]).toFixed(1) + "," + sy(y).toFixed(1);
      }
      el("path", { d, class: "ed-line " + (s.cls || ""), fill: "none" }, svg);
    }
    const item = document.createElement("span");
    item.className = "ed-legend-item";
    const sw = el("svg", { width: 18, height: 8, "aria-hidden": "true" }, item);
    if (kind === "line") el("line", { x1: 0, x2: 18, y1: 4, y2: 4, class: "ed-line " + (s.cls || "") }, sw);
    else el("rect", { x: 5, y: 0, width: 8, height: 8, class: "ed-bar " + (s.cls || "") }, sw);
    item.appendChild(document.createTextNode(s.name));
    legendRow.appendChild(item);
  });
  const vline = spec.vertical ? el("line", { y1: sy(y0), y2: sy(y1), class: "ed-vline" }, svg) : null;
  const markers = (spec.markers || []).map((cls) => el("circle", { r: 5, class: "ed-marker " + cls }, svg));
  const tip = el("text", { x: M.l + 6, y: M.t + 13, class: "ed-tip" }, svg);
  const hover = el("circle", { r: 3.5, class: "ed-hover" }, svg);
  hover.style.display = "none";
  // hover and click: the nearest drawn point of the first series, with its threshold
  const first = spec.series[0];
  const nearest = (evt) => {
    const r = svg.getBoundingClientRect();
    const px = ((evt.clientX - r.left) / r.width) * W, py = ((evt.clientY - r.top) / r.height) * H;
    let best = -1, bestD = Infinity;
    for (let i = 0; i < first.x.length; i++) {
      const dx = sx(first.x[i]) - px, dy = Number.isFinite(first.y[i]) ? sy(first.y[i]) - py : 1e9;
      const dd = spec.byX ? dx * dx : dx * dx + dy * dy;
      if (dd < bestD) { bestD = dd; best = i; }
    }
    return best;
  };
  svg.addEventListener("mousemove", (evt) => {
    const i = nearest(evt);
    if (i < 0) return;
    hover.style.display = "";
    hover.setAttribute("cx", sx(first.x[i]));
    hover.setAttribute("cy", sy(Number.isFinite(first.y[i]) ? first.y[i] : y0));
    tip.textContent = spec.describe(i);
    svg.dataset.hoverIndex = String(i);
  });
  svg.addEventListener("mouseleave", () => { hover.style.display = "none"; tip.textContent = ""; });
  svg.addEventListener("click", (evt) => {
    const i = nearest(evt);
    if (i >= 0 && spec.onPick) spec.onPick(first.t[i]);
    if (i >= 0 && spec.onPickIndex) spec.onPickIndex(i);
  });
  return {
    move(points, x) {
      points.forEach(([px, py], n) => {
        const ok = Number.isFinite(px) && Number.isFinite(py);
        markers[n].style.display = ok ? "" : "none";
        if (ok) { markers[n].setAttribute("cx", sx(px)); markers[n].setAttribute("cy", sy(py)); }
      });
      if (vline) {
        const ok = Number.isFinite(x);
        vline.style.display = ok ? "" : "none";
        if (ok) { const X = sx(Math.min(Math.max(x, x0), x1)); vline.setAttribute("x1", X); vline.setAttribute("x2", X); }
      }
    },
  };
}

const METRICS = [["precision", "Precision"], ["recall", "Recall"], ["f1", "F1"], ["fpr", "FPR"], ["specificity", "Specificity"]];
const COUNTS = [["tp", "TP"], ["fp", "FP"], ["fn", "FN"], ["tn", "TN"]];

function mountMetrics(args) {
  const { data, parentElement } = args;
  let root = parentElement.querySelector(".ed-metrics");
  if (!root) {
    root = document.createElement("div");
    root.className = "ed-metrics";
    const card = ([k, label]) =>
      `<div class="ed-card" data-metric="${k}"><div class="ed-card-label">${label}</div><div class="ed-card-value"></div></div>`;
    root.innerHTML =
      `<div class="ed-row">${METRICS.map(card).join("")}</div>` +
      `<div class="ed-row">${COUNTS.map(card).join("")}</div>` +
      '<div class="ed-caption ed-exact"></div><div class="ed-caption ed-note"></div>' +
      '<div class="ed-charts"><div class="ed-roc"></div><div class="ed-pr"></div><div class="ed-thr"></div><div class="ed-det"></div>' +
      '<div class="ed-cm"><div class="ed-cm-title">Confusion at this threshold</div><table class="ed-cm-table">' +
      '<tr><th></th><th class="ed-pp"></th><th class="ed-pn"></th></tr>' +
      '<tr><th class="ed-ap"></th><td class="ed-cell ed-good" data-cell="tp"></td><td class="ed-cell ed-bad" data-cell="fn"></td></tr>' +
      '<tr><th class="ed-an"></th><td class="ed-cell ed-bad" data-cell="fp"></td><td class="ed-cell ed-good" data-cell="tn"></td></tr>' +
      "</table></div></div>";
    parentElement.appendChild(root);
    const state = (root._state = { token: null, index: null, frame: 0, pending: null });
    const onBus = (e) => {
      if (e.detail.token !== state.token) return;
      state.pending = e.detail.index;
      if (!state.frame) {
        state.frame = requestAnimationFrame(() => {
          state.frame = 0;
          state.render(state.pending);
        });
      }
    };
    window.addEventListener(BUS, onBus);
    state.cleanup = () => window.removeEventListener(BUS, onBus);
  }
  const state = root._state;
  const grid = column(data.grid, "t"), TP = column(data.grid, "tp"), FP = column(data.grid, "fp");
  const P = data.n_pos, N = data.n_neg, prob = data.probability;
  const pick = (t) => {
    // the slider position nearest to a curve point's threshold (+inf: the top)
    let i = grid.length - 1;
    if (Number.isFinite(t)) {
      let lo = 0, hi = grid.length - 1;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (grid[mid] < t) lo = mid + 1; else hi = mid; }
      i = lo > 0 && Math.abs(grid[lo - 1] - t) < Math.abs(grid[lo] - t) ? lo - 1 : lo;
    }
    window.dispatchEvent(new CustomEvent(SET, { detail: { token: state.token, index: i } }));
  };
  const c = data;
  const roc = { x: column(c.roc, "fpr"), y: column(c.roc, "tpr"), t: column(c.roc, "threshold") };
  const pr = { x: column(c.pr, "recall"), y: column(c.pr, "precision"), t: column(c.pr, "threshold") };
  const th = { t: column(c.thr, "threshold"), p: column(c.thr, "precision"), r: column(c.thr, "recall"), f: column(c.thr, "f1") };
  const at = (s, i, a, b) => `threshold ${thresholdText(s.t[i], prob)} · ${a} ${fmt3(s.x[i])} · ${b} ${fmt3(s.y[i])}`;
  const rocSeries = [{ name: `class ${data.class_name}`, cls: "ed-s0", ...roc }];
  const prSeries = [{ name: `class ${data.class_name}`, cls: "ed-s0", ...pr }];
  if (c.avg) {
    rocSeries.push({ name: "macro-average", cls: "ed-s3", x: column(c.avg, "grid"), y: column(c.avg, "tpr"), t: [] });
    prSeries.push({ name: "macro-average", cls: "ed-s3", x: column(c.avg, "grid"), y: column(c.avg, "precision"), t: [] });
  }
  rocSeries.push({ name: "chance", cls: "ed-chance", x: [0, 1], y: [0, 1], t: [] });
  const charts = {
    roc: chart(root.querySelector(".ed-roc"), {
      title: `ROC curve, AUC ${fmt3(data.auc)}`, xLabel: "false positive rate", yLabel: "true positive rate (recall)",
      xRange: [0, 1], yRange: [0, 1], xTicks: data.ticks.unit, yTicks: data.ticks.unit, series: rocSeries, markers: ["ed-s0"],
      describe: (i) => at(roc, i, "FPR", "TPR"), onPick: pick,
    }),
    pr: chart(root.querySelector(".ed-pr"), {
      title: `Precision-recall, AP ${fmt3(data.ap)}`, xLabel: "recall", yLabel: "precision",
      xRange: [0, 1], yRange: [0, 1], xTicks: data.ticks.unit, yTicks: data.ticks.unit, series: prSeries, markers: ["ed-s0"],
      describe: (i) => at(pr, i, "recall", "precision"), onPick: pick,
    }),
    thr: chart(root.querySelector(".ed-thr"), {
      title: "Metrics against the threshold", xLabel: "threshold", yLabel: "value",
      xRange: [grid[0], grid[grid.length - 1]], yRange: [0, 1], vertical: true, byX: true,
      xTicks: data.ticks.threshold, yTicks: data.ticks.unit,
      series: [
        { name: "precision", cls: "ed-s1", x: th.t, y: th.p, t: th.t },
        { name: "recall", cls: "ed-s2", x: th.t, y: th.r, t: th.t },
        { name: "F1", cls: "ed-s0", x: th.t, y: th.f, t: th.t },
      ],
      markers: ["ed-s1", "ed-s2", "ed-s0"],
      describe: (i) => `threshold ${thresholdText(th.t[i], prob)} · P ${fmt3(th.p[i])} · R ${fmt3(th.r[i])} · F1 ${fmt3(th.f[i])}`,
      onPick: pick,
    }),
  };
  // DET: false negative against false positive rate on normal-deviate axes (probit computed by the
  // server, also for each slider position: det_x, det_y in the grid)
  const detBox = root.querySelector(".ed-det");
  const DX = data.det ? column(data.grid, "det_x") : null, DY = data.det ? column(data.grid, "det_y") : null;
  if (data.det) {
    const det = { x: column(c.det, "x"), y: column(c.det, "y"), t: column(c.det, "threshold"),
      fpr: column(c.det, "fpr"), fnr: column(c.det, "fnr") };
    const ax = data.det_axis;
    charts.det = chart(detBox, {
      title: "DET curve (normal-deviate axes)", xLabel: "false positive rate", yLabel: "false negative rate",
      xRange: ax.range, yRange: ax.range, xTicks: ax.ticks, yTicks: ax.ticks,
      series: [{ name: `class ${data.class_name}`, cls: "ed-s0", ...det }], markers: ["ed-s0"],
      describe: (i) => `threshold ${thresholdText(det.t[i], prob)} · FPR ${rate(det.fpr[i])} · FNR ${rate(det.fnr[i])}`,
      onPick: pick,
    });
  } else {
    detBox.textContent = "";
  }
  const label = `${data.class_name}`;
  root.querySelector(".ed-pp").textContent = `predicted ${label}`;
  root.querySelector(".ed-pn").textContent = "predicted other";
  root.querySelector(".ed-ap").textContent = `actual ${label}`;
  root.querySelector(".ed-an").textContent = "actual other";
  const values = Object.fromEntries([...root.querySelectorAll(".ed-card")].map((e) => [e.dataset.metric, e.querySelector(".ed-card-value")]));
  const cells = Object.fromEntries([...root.querySelectorAll(".ed-cell")].map((e) => [e.dataset.cell, e]));
  state.render = (i) => {
    state.index = i;
    const tp = TP[i], fp = FP[i], fn = P - tp, tn = N - fp, t = grid[i];
    const m = {
      precision: tp + fp > 0 ? tp / (tp + fp) : NaN,
      recall: P > 0 ? tp / P : NaN,
      f1: 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : NaN,
      fpr: N > 0 ? fp / N : NaN,
      specificity: N > 0 ? tn / N : NaN,
    };
    for (const [k] of METRICS) values[k].textContent = fmt3(m[k]);
    const n = { tp, fp, fn, tn };
    for (const [k] of COUNTS) { values[k].textContent = count(n[k]); cells[k].textContent = `${k.toUpperCase()} ${count(n[k])}`; }
    root.querySelector(".ed-exact").textContent = `Exact threshold: ${String(t)}`;
    root.querySelector(".ed-note").textContent = Number.isNaN(m.precision)
      ? "Precision is undefined here: no sample scores at or above the threshold." : "";
    root.dataset.threshold = String(t);
    root.dataset.index = String(i);
    charts.roc.move([[m.fpr, m.recall]]);
    charts.pr.move([[m.recall, m.precision]]);
    charts.thr.move([[t, m.precision], [t, m.recall], [t, m.f1]], t);
    if (charts.det) charts.det.move([[DX[i], DY[i]]]);
    window.__evaldashFrames = (window.__evaldashFrames || 0) + 1;
  };
  state.token = data.token;
  // the slider is the source of truth once it has published for this token
  state.render(live.token === data.token ? live.index : data.index);
  return () => state.cleanup();
}

// --- a static chart with one marker (coverage against accuracy, reliability diagram) ------------

function mountChart({ data, parentElement, setTriggerValue }) {
  let box = parentElement.querySelector(".ed-static");
  if (!box) {
    box = document.createElement("div");
    box.className = "ed-static";
    parentElement.appendChild(box);
  }
  const series = data.series.map((s) => ({ ...s, t: s.x }));
  const first = series[0];
  // one operating point ("marker": [x, y]) or several ("markers": [{x, y, cls}])
  const points = data.markers || (data.marker ? [{ x: data.marker[0], y: data.marker[1], cls: "ed-op" }] : []);
  const c = chart(box, {
    title: data.title, xLabel: data.x_label, yLabel: data.y_label, xRange: data.x_range, yRange: data.y_range,
    xTicks: data.x_ticks, yTicks: data.y_ticks,
    series, markers: points.map((p) => p.cls), byX: first.kind === "bars",
    selected: data.pick && data.selected !== null && data.selected !== undefined ? data.pick.indexOf(data.selected) : -1,
    describe: (i) => (first.hover ? first.hover[i] : `${data.x_label} ${fmt3(first.x[i])} · ${data.y_label} ${fmt3(first.y[i])}`),
    // a chart with "pick" ids (one per point of the first series) sends the clicked point's id
    onPickIndex: data.pick ? (i) => setTriggerValue("pick", data.pick[i]) : null,
  });
  box.classList.toggle("ed-pickable", Boolean(data.pick));
  c.move(points.map((p) => [p.x === null ? NaN : p.x, p.y === null ? NaN : p.y]));
}

export default function (args) {
  const role = args.data.role;
  return role === "slider" ? mountSlider(args) : role === "chart" ? mountChart(args) : mountMetrics(args);
}
