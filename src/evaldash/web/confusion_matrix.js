// The confusion matrix as a grid of buttons: rows are true classes, columns predicted classes.
// Clicking a cell (or Enter/Space on it) sends [row, column] to the server, which shows its
// images. Cells carry data-true/data-pred (positions in the shown classes) and the class names.
// Text only goes in with textContent, so class names need no escaping here. The server may send
// each cell's hover text ("hover": the count, the shown share with its bootstrap interval) and
// "hide_diagonal" (diagonal cells greyed and blank; they stay clickable).
// The grid fits the width it is given: the columns share it (at least "cell_px" each, smaller on a
// narrow screen), the cell text gets smaller in narrow cells and is left out in very narrow ones
// (the hover keeps it); only when even that does not fit does the box scroll, with its scrollbar
// in view (the box is at most a screen high). "columns" (optional) names the columns when they
// differ from the rows (a multi-label concept matrix: a "no label" row, a "no prediction" column).

export default function ({ data, parentElement, setTriggerValue }) {
  let root = parentElement.querySelector(".cm-root");
  if (!root) {
    root = document.createElement("div");
    root.className = "cm-root";
    parentElement.appendChild(root);
    root.addEventListener("click", (e) => {
      const cell = e.target.closest(".cm-cell");
      if (cell) setTriggerValue("cell", [Number(cell.dataset.true), Number(cell.dataset.pred)]);
    });
    // the cells' width decides how much text they hold (on load and when the window changes)
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => fitText(root)).observe(root);
  }
  const k = data.labels.length;
  const cols = data.columns || data.labels;
  const m = cols.length;
  const grid = document.createElement("div");
  grid.className = "cm-grid";
  grid.setAttribute("role", "grid");
  // a column is never narrower than MIN_CELL px: below that the box scrolls
  const least = Math.min(data.cell_px, MIN_CELL);
  grid.style.gridTemplateColumns = `minmax(0, max-content) repeat(${m}, minmax(${least}px, 1fr))`;
  const head = (text, cls) => {
    const e = document.createElement("div");
    e.className = cls;
    e.textContent = text;
    e.title = text;
    grid.appendChild(e);
  };
  head("predicted →\ntrue ↓", "cm-corner");
  cols.forEach((name) => head(name, "cm-col"));
  for (let i = 0; i < k; i++) {
    head(data.labels[i], "cm-row");
    for (let j = 0; j < m; j++) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "cm-cell" + (i === j ? " cm-diag" : "") + (i === j && data.hide_diagonal ? " cm-hidden" : "");
      if (data.selected && data.selected[0] === i && data.selected[1] === j) b.classList.add("cm-selected");
      b.dataset.true = String(i);
      b.dataset.pred = String(j);
      b.dataset.trueName = data.labels[i];
      b.dataset.predName = cols[j];
      b.style.background = data.fill[i][j];
      b.style.color = data.ink[i][j];
      if (data.show_text) b.textContent = data.text[i][j];
      const count = data.counts[i][j].toLocaleString("en-US");
      b.title = data.hover ? data.hover[i][j] : `true ${data.labels[i]} → predicted ${cols[j]}\n${count} samples` +
        (data.mode === "counts" ? "" : ` · ${data.text[i][j].replace("\n", " ")}`) + "\nclick to see them";
      b.setAttribute("aria-label", `true ${data.labels[i]}, predicted ${cols[j]}: ${count} samples`);
      grid.appendChild(b);
    }
  }
  root.replaceChildren(grid);
  const legend = document.createElement("div");
  legend.className = "cm-legend";
  legend.textContent = `colour: ${data.mode === "counts" ? data.legend.replace(/^count/, "count (log scale)") : data.legend}`;
  root.appendChild(legend);
  fitText(root);
}

const MIN_CELL = 18;

function fitText(root) {
  const cell = root.querySelector(".cm-cell");
  if (!cell) return;
  const w = cell.getBoundingClientRect().width;
  if (!w) return;
  root.classList.toggle("cm-compact", w < 44);
  root.classList.toggle("cm-small", w < 30);
  root.classList.toggle("cm-tiny", w < 16);
}
