"""The dashboard on the multi-label (concept) sample, driven as a person would: the concept matrix
and its cells' images, one concept's false negatives, one concept's threshold, a corrected label set.
Every expected number comes from the core (``evaldash.tasks``)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from dashboard import PAGE_SIZE, ROOT, STEP, Dashboard, StreamlitServer, expect_metrics_at, expect_threshold
from evaldash.annotations import AnnotationStore
from evaldash.tasks import evaluate_dataset, load_dataset

pytestmark = pytest.mark.e2e

CONCEPTS = ROOT / "sample_data" / "digits" / "concepts.csv"


@pytest.fixture(scope="module")
def concepts_server(tmp_path_factory, upload_dir):
    """The app started as ``evaldash serve sample_data/digits/concepts.csv``."""
    log = tmp_path_factory.mktemp("server") / "concepts.log"
    server = StreamlitServer([str(CONCEPTS.relative_to(ROOT))], log, upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def concepts_ev():
    return evaluate_dataset(load_dataset(CONCEPTS))


@pytest.fixture
def cdash(page, concepts_server) -> Dashboard:
    return Dashboard(page, concepts_server.url)


def gallery_ids(dash, key: str = "cell_gallery") -> list[str]:
    captions = dash.page.locator(f".st-key-{key} [data-testid='stImageCaption']").all_inner_texts()
    return [c.split(" · ")[0].strip() for c in captions]


def expect_images(dash, count: int, key: str = "cell_gallery") -> None:
    caption = dash.page.locator(f".st-key-{key} [data-testid='stCaptionContainer']").filter(
        has_text=re.compile(r"^\s*\d+ images?\b"))
    expect(caption).to_have_text(re.compile(rf"^\s*{count} images?\b"))
    expect(dash.page.locator(f".st-key-{key} [data-testid='stImage'] img")).to_have_count(min(count, PAGE_SIZE))


def test_open_the_concept_sample_and_click_a_matrix_cell(cdash, concepts_ev):
    ev, d = concepts_ev, concepts_ev.dataset
    cdash.open("/")
    head = ev.headline()
    expect(cdash.metric("Subset accuracy")).to_have_text(f"{head['subset_accuracy']:.3f}")
    expect(cdash.metric("Samples F1")).to_have_text(f"{head['samples_f1']:.3f}")
    cdash.open("/confusion")
    i, j = d.classes.index("even"), d.classes.index("prime")
    cell = cdash.page.get_by_role("button", name=re.compile(r"^true even, predicted prime: "))
    expect(cell).to_have_count(1)
    expect(cdash.page.get_by_role("button", name=re.compile(r"^true \(no label\), predicted \(no prediction\): ")))\
        .to_have_count(1)
    cdash.click_cell(i, j)
    cdash.wait_idle()
    rows = ev.cell_samples(i, j)
    expect(cdash.page.locator(".st-key-cell_gallery h3")).to_have_text("True even → predicted prime")
    expect_images(cdash, len(rows))
    assert gallery_ids(cdash) == [str(x) for x in d.ids[rows[:PAGE_SIZE]]]
    sets = ev.label_sets(rows[:1])
    first = cdash.page.locator(".st-key-cell_gallery [data-testid='stImageCaption']").first.inner_text()
    assert first.endswith(f"true {{{sets['true'][0]}}} → {{{sets['predicted'][0]}}}"), first
    assert (cdash.query.get("true"), cdash.query.get("pred")) == ("even", "prime")
    expect(cdash.exceptions).to_have_count(0)


def test_one_concepts_false_negatives_are_one_click_away(cdash, concepts_ev):
    ev, d = concepts_ev, concepts_ev.dataset
    c = d.classes.index("closed_loop")
    cdash.open("/confusion")
    fn = int(ev.per_class["fn"][c])
    cdash.page.get_by_role("button", name=f"FN of closed_loop ({fn})", exact=True).click()
    cdash.wait_idle()
    rows = ev.concept_errors(c, "fn")
    assert len(rows) == fn
    expect(cdash.page.locator(".st-key-cell_gallery h3")).to_have_text("False negatives of closed_loop")
    expect_images(cdash, fn)
    assert gallery_ids(cdash) == [str(x) for x in d.ids[rows[:PAGE_SIZE]]]
    assert (cdash.query.get("concept"), cdash.query.get("errors")) == ("closed_loop", "fn")


def test_one_concepts_threshold_moves_with_the_arrow_keys_and_the_sample_metrics_follow(cdash, concepts_ev):
    ev, d = concepts_ev, concepts_ev.dataset
    c = d.classes.index("prime")
    cdash.open("/threshold?class=prime")
    sweep = ev.sweep(c)
    expect_metrics_at(cdash, sweep, expect_threshold(cdash, "prime", 0.5))
    cdash.press_on_slider("ArrowLeft", 4)
    t = expect_threshold(cdash, "prime", 0.5 - 4 * STEP)
    expect_metrics_at(cdash, sweep, t)
    thresholds = np.array(ev.thresholds, dtype=float)
    thresholds[c] = t
    after = ev.with_thresholds(thresholds).headline()
    box = cdash.page.locator(".st-key-concept_sample_metrics")
    expect(cdash.metric("Subset accuracy", box)).to_have_text(f"{after['subset_accuracy']:.3f}")
    expect(cdash.metric("Samples F1", box)).to_have_text(f"{after['samples_f1']:.3f}")
    expect(cdash.metric("Hamming loss", box)).to_have_text(f"{after['hamming_loss']:.3f}")
    expect(cdash.exceptions).to_have_count(0)


def test_a_missing_concept_saved_as_a_corrected_label_set_changes_the_metrics(cdash, concepts_ev, concepts_server):
    from sklearn.metrics import accuracy_score, f1_score

    ev, d = concepts_ev, concepts_ev.dataset
    c = d.classes.index("prime")
    # predicted prime, not labelled prime, and otherwise right: with prime added the sample is an exact match
    rows = ev.concept_errors(c, "fp")[:PAGE_SIZE]
    wrong = d.y_true[rows] != ev.y_pred[rows]
    row = int(rows[np.flatnonzero(wrong[:, c] & (wrong.sum(axis=1) == 1))[0]])
    cdash.open("/confusion?concept=prime&errors=fp")
    name = cdash.sidebar.locator(".st-key-annotator input")
    name.fill("Ana (e2e)")
    name.press("Enter")
    cdash.wait_idle()
    cdash.page.locator(f".st-key-cell_gallery_detail_{row} button").click()
    dialog = cdash.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    concepts = dialog.locator(f".st-key-findings_label_{row}")
    chosen = concepts.locator("button[aria-pressed='true']")
    expect(chosen).to_have_count(int(d.y_true[row].sum()))  # the sample's own labels, to start from
    concepts.get_by_role("button", name="prime", exact=True).click()
    expect(chosen.filter(has_text=re.compile(r"^prime$"))).to_have_count(1)
    dialog.locator(f".st-key-findings_save_{row} button").click()
    expect(dialog.get_by_text("Saved")).to_be_visible()
    cdash.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    cdash.wait_idle()

    store = AnnotationStore(str(concepts_server.log_path.with_suffix(".annotations.db")))
    stored = store.state(d.fingerprint()).loc[str(d.ids[row]), "corrected_label"]
    assert set(__import__("json").loads(stored)) == {*[n for n, on in zip(d.classes, d.y_true[row]) if on], "prime"}
    y = d.y_true.copy()
    y[row, c] = True
    cdash.open("/")
    before = cdash.metric("Subset accuracy").inner_text()
    cdash.sidebar.locator(".st-key-use_corrected label").click()
    cdash.wait_idle()
    expect(cdash.metric("Subset accuracy")).to_have_text(f"{accuracy_score(y, ev.y_pred):.3f}")
    expect(cdash.metric("Samples F1")).to_have_text(f"{f1_score(y, ev.y_pred, average='samples', zero_division=0):.3f}")
    assert cdash.metric("Subset accuracy").inner_text() != before
    expect(cdash.exceptions).to_have_count(0)


# the words of each gallery caption whose letters the browser laid out on more than one line
_SPLIT_WORDS_JS = """(selector) => {
    const split = [];
    for (const caption of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(caption, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const word of node.data.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word[0].length);
                const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (lines.size > 1) split.push(word[0]);
            }
        }
    }
    return split;
}"""


def test_label_set_captions_wrap_between_words_on_a_laptop(cdash):
    cdash.page.set_viewport_size({"width": 1024, "height": 768})  # six columns of about 80 pixels
    cdash.open("/errors")
    captions = cdash.page.locator(".st-key-error_gallery [data-testid='stImageCaption']")
    expect(captions).to_have_count(PAGE_SIZE)
    assert "greater_than_5" in " ".join(captions.all_inner_texts())  # the text itself is whole
    assert cdash.page.evaluate(_SPLIT_WORDS_JS, ".st-key-error_gallery [data-testid='stImageCaption']") == []
