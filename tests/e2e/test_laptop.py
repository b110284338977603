"""A laptop screen (1024×768) and a common one (1400×900): every confusion-matrix cell inside its
visible box, labels whole, the deployment inputs and a curve in the first screen, chart text
readable with round ticks, no Deploy button or developer menu, no emoji."""

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from evaldash.annotations import AnnotationStore

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1024, "height": 768}
COMMON = {"width": 1400, "height": 900}
SIZES = pytest.mark.parametrize("size", [LAPTOP, COMMON], ids=["1024x768", "1400x900"])

# Cells whose box pokes out of an ancestor that clips its overflow (a scroll box, a column), or out
# of the window: the part outside cannot be seen without scrolling that box. Walks up through
# shadow roots too (components may live in one).
_HIDDEN_CELLS_JS = """cells => cells.filter(cell => {
    const r = cell.getBoundingClientRect();
    if (r.left < -0.5 || r.right > window.innerWidth + 0.5) return true;
    for (let n = cell; n; ) {
        n = n.parentElement || (n.getRootNode && n.getRootNode().host) || null;
        if (!n || n === document.documentElement) break;
        if (getComputedStyle(n).overflowX === "visible") continue;
        const b = n.getBoundingClientRect();
        if (r.left < b.left - 0.5 || r.right > b.right + 0.5) return true;
    }
    return false;
}).map(c => `${c.dataset.trueName}→${c.dataset.predName}`)"""

# Elements inside a widget whose text is cut (an ellipsis or a clipped overflow; not the 1 px box
# that hides a switch's checkbox from view)
_CUT_JS = """root => [root, ...root.querySelectorAll('*')].filter(e =>
    e.clientWidth > 2 && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible'
).map(e => e.textContent.trim())"""

# The pixel width a text input's shown text (value or placeholder) needs, against its inner width
_INPUT_FIT_JS = """input => {
    const s = getComputedStyle(input);
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    const text = input.value || input.placeholder;
    const inner = input.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    return [text, ctx.measureText(text).width, inner];
}"""

# Each chart's tick labels: their size on the screen (CSS size times the SVG's scale) and text
_TICKS_JS = """svgs => svgs.map(svg => {
    const scale = svg.getScreenCTM().a;
    const read = cls => [...svg.querySelectorAll('text.' + cls)].map(t => t.textContent);
    const sizes = [...svg.querySelectorAll('text.ed-tick, text.ed-axis, text.ed-tip')].map(
        t => parseFloat(getComputedStyle(t).fontSize) * scale);
    return {title: svg.getAttribute('aria-label'), x: read('ed-xtick'), y: read('ed-ytick'),
            smallest: Math.min(...sizes)};
})"""


def _at(dash, size, path):
    dash.page.set_viewport_size(size)
    dash.open(path)


def _hidden_cells(dash, key: str) -> list[str]:
    cells = dash.page.locator(f".st-key-{key} .cm-cell")
    expect(cells.first).to_be_visible()
    return cells.evaluate_all(_HIDDEN_CELLS_JS)


def _cut(dash, selector: str) -> list[str]:
    box = dash.page.locator(selector)
    expect(box.first).to_be_visible()
    return [t for e in box.all() for t in e.evaluate(_CUT_JS)]


@SIZES
def test_every_confusion_cell_is_inside_its_visible_box(dash, size):
    _at(dash, size, "/confusion")
    expect(dash.page.locator(".st-key-confusion_matrix .cm-cell")).to_have_count(100)
    assert _hidden_cells(dash, "confusion_matrix") == []


@SIZES
def test_every_cell_of_the_compared_matrices_is_inside_its_visible_box(compare_dash, size):
    _at(compare_dash, size, "/compare")
    for key in ("cmp_cm_a", "cmp_cm_b", "cmp_diff"):
        expect(compare_dash.page.locator(f".st-key-{key} .cm-cell")).to_have_count(100)
        assert _hidden_cells(compare_dash, key) == [], key
        # the two side-by-side matrices still show their counts
        cell = compare_dash.page.locator(f".st-key-{key} .cm-cell").first
        assert cell.evaluate("c => getComputedStyle(c).color") != "rgba(0, 0, 0, 0)", key


@SIZES
def test_labels_are_whole(dash, size):
    _at(dash, size, "/confusion")
    assert _cut(dash, ".st-key-cm_hide_diag") == []
    assert _cut(dash, ".st-key-cm_order") == []

    _at(dash, size, "/threshold?class=8&t=0.35")
    exact = dash.page.locator(".st-key-threshold_exact input")
    text, needed, inner = exact.evaluate(_INPUT_FIT_JS)
    assert text == "0.350000" and needed <= inner, (text, needed, inner)
    assert _cut(dash, ".st-key-threshold_exact [data-testid='stWidgetLabel']") == []

    _at(dash, size, "/decision?class=8&t=0.2")
    expect(dash.page.locator(".st-key-dec_take_best button")).to_be_enabled()
    assert _cut(dash, ".st-key-dec_take_best") == []

    _at(dash, size, "/review")
    expect(dash.page.locator(".st-key-review_tags button")).to_have_count(5)
    assert _cut(dash, ".st-key-review_tags button") == []
    # the sample's scores chart: its title whole inside the chart (Plotly does not wrap a title)
    title = dash.page.locator(".js-plotly-plot .gtitle").first
    expect(title).to_be_visible()
    text, plot = title.bounding_box(), dash.page.locator(".js-plotly-plot .main-svg").first.bounding_box()
    assert text["x"] + text["width"] <= plot["x"] + plot["width"] + 0.5, (text, plot)


@SIZES
def test_deployment_inputs_are_in_the_first_screen_on_one_line_each(dash, size):
    _at(dash, size, "/decision?class=8&t=0.35")
    inputs = dash.page.locator(".st-key-dec_inputs [data-testid='stNumberInput']")
    expect(inputs).to_have_count(5)
    for box in inputs.all():
        label = box.locator("[data-testid='stWidgetLabel'] p").first
        line = float(label.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
        assert label.bounding_box()["height"] <= 1.5 * line, label.text_content()  # one line
        field = box.locator("input").bounding_box()
        assert field["y"] + field["height"] <= size["height"], label.text_content()  # no scrolling


@SIZES
def test_threshold_slider_numbers_and_a_curve_in_view_together(dash, size):
    _at(dash, size, "/threshold?class=8&t=0.35")
    slider = dash.threshold_slider.bounding_box()
    numbers = dash.page.locator(".st-key-threshold_metrics .ed-row").last.bounding_box()
    roc = dash.page.locator(".st-key-threshold_metrics .ed-roc svg.ed-chart").bounding_box()
    assert slider["y"] >= 0 and numbers["y"] + numbers["height"] <= size["height"]
    assert roc["y"] + roc["height"] <= size["height"], roc


def _round_ticks(labels: list[str]) -> bool:
    """Evenly spaced values, a step of 1, 2, 2.5 or 5 times a power of ten, each a multiple of it."""
    values = [float(t.replace(",", "")) for t in labels]
    if len(values) < 2:
        return False
    steps = np.diff(values)
    step = steps[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    return (np.allclose(steps, step, rtol=1e-6) and any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
            and all(abs(v / step - round(v / step)) < 1e-6 for v in values))


@pytest.mark.parametrize("path", ["/threshold?class=8&t=0.35", "/decision?class=8&t=0.35", "/calibration"])
def test_chart_text_is_readable_and_ticks_are_round(dash, path):
    _at(dash, LAPTOP, path)
    svgs = dash.page.locator("svg.ed-chart")
    expect(svgs.first).to_be_visible()
    dash.page.wait_for_timeout(300)  # a chart redrawn at its width after layout
    charts = svgs.evaluate_all(_TICKS_JS)
    assert len(charts) >= 2
    for c in charts:
        assert c["smallest"] >= 11.5, c
        if not c["title"].startswith("DET"):  # the DET chart's probit axes have their own marks
            assert _round_ticks(c["x"]) and _round_ticks(c["y"]), c


def test_cost_axis_reads_round_values(dash):
    _at(dash, LAPTOP, "/decision?class=8&t=0.35")
    cost = dash.page.locator(".st-key-dec_cost_chart svg.ed-chart")
    expect(cost).to_be_visible()
    labels = cost.locator("text.ed-ytick").all_text_contents()
    assert _round_ticks(labels), labels
    assert all(re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", t) for t in labels), labels


@SIZES
def test_no_deploy_button_nor_developer_menu(dash, size):
    _at(dash, size, "/")
    expect(dash.page.locator("[data-testid='stAppDeployButton']")).to_have_count(0)
    expect(dash.page.get_by_role("button", name="Deploy")).to_have_count(0)
    menu = dash.page.locator("[data-testid='stMainMenu']")
    if menu.count():
        menu.click()
        expect(dash.page.get_by_text("Clear cache")).to_have_count(0)
        expect(dash.page.get_by_text("Rerun")).to_have_count(0)


# pictographs (🏷 📝 🔎 📊 …), the emoji variation selector (✏️ ⚠️) and the pencil
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\uFE0F\u270F]")


def test_no_emoji_in_the_page_text(compare_dash, compare_server, digits_ev):
    # a tag and a note on the most confident mistake: its caption says so in words
    d = digits_ev.dataset
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    first = wrong[np.argsort(-digits_ev.confidence[wrong], kind="stable")][0]
    store = AnnotationStore(str(compare_server.log_path.with_suffix(".annotations.db")))
    store.record(d.fingerprint(), str(d.ids[first]), "e2e", "tag", "label error")
    store.record(d.fingerprint(), str(d.ids[first]), "e2e", "note", "looks like a 7")
    _at(compare_dash, LAPTOP, "/errors?gallery=mistakes")
    caption = compare_dash.page.locator(".st-key-error_gallery [data-testid='stImageCaption']").first
    expect(caption).to_contain_text("tags: label error")
    expect(caption).to_contain_text(" · note")
    for path in ("/errors?gallery=mistakes", "/", "/confusion", "/review", "/threshold", "/decision"):
        if path != "/errors?gallery=mistakes":
            compare_dash.open(path)
        text = compare_dash.page.evaluate("document.body.innerText")
        assert not _EMOJI.findall(text), (path, _EMOJI.findall(text))
