"""Injection: every user-controlled text (class names, ids, metadata, tags, notes, corrected labels,
annotators, approvers, rationales, run names) shows as typed, never as Markdown or HTML, in the app
and in the decision record's Markdown; CSV exports cannot carry a spreadsheet formula out.

A CommonMark reader (markdown-it-py, what Streamlit's remark parser and GitHub follow) decides what
a Markdown text would show: its plain text, and whether it would make an image, a link or raw
HTML. The hostile inputs come from ``tests/hostile_inputs.py``.
"""

from __future__ import annotations

import csv
import html
import io
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

import evaldash
from evaldash import annotations as an
from evaldash import decision as dc
from evaldash import figures
from evaldash.annotations import AnnotationStore
from evaldash.metrics import threshold_sweep
from evaldash.ui import WORD_JOINER, md
from hostile_inputs import (RUN_NAME, hostile_annotator, hostile_classes, hostile_ids, hostile_metadata,
                            hostile_note, hostile_tag, write_hostile_predictions)

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PORT = 9  # the discard port: nothing here may ever ask it for anything
TIMEOUT = 60
READER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
ACTIVE = {"image", "link_open", "html_inline", "html_block"}


def rendered(text: str) -> tuple[str, set[str]]:
    """What a Markdown reader shows of ``text``: its plain text (line breaks as newlines), and the
    kinds of token that would make it more than text (an image, a link, raw HTML)."""
    plain, active = [], set()

    def visit(tokens):
        for t in tokens:
            if t.type in ACTIVE:
                active.add(t.type)
            if t.type in ("text", "code_inline", "code_block", "fence", "html_inline", "html_block"):
                plain.append(t.content)
            elif t.type in ("softbreak", "hardbreak"):
                plain.append("\n")
            elif t.type in ("paragraph_close", "heading_close", "list_item_close", "th_close", "td_close"):
                plain.append("\n")
            if t.children:
                visit(t.children)

    visit(READER.parse(text))
    return "".join(plain).replace(WORD_JOINER, ""), active  # the joiner is invisible


def hostile_texts(port: int = PORT) -> list[str]:
    column, values, numeric = hostile_metadata(port)
    return [*hostile_classes(port), *hostile_ids(port, 4), column, *values, numeric, hostile_tag(port),
            hostile_note(port), hostile_annotator(port), RUN_NAME]


# --- escaping ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", hostile_texts() + ["**bold** _it_ `code` ~~x~~ $x^2$ &lt; &#60; a | b",
                                                    "# heading", "- item", "1. item", "> quote", "===",
                                                    ":material/home: :material_home: WWW.example.org",
                                                    "<https://example.org>", "\\![t](x.png)"])
def test_md_shows_hostile_text_as_typed(text):
    plain, active = rendered(md(text))
    assert not active and plain.strip() == text
    # GitHub-flavoured readers (Streamlit's) link web addresses found in the text, and Streamlit
    # draws :material/name: as an icon: none is left whole
    assert not re.search(r"(?i)https?://|www\.|:material[/_]", md(text))


# printable text on one line, with every ASCII punctuation character and some others
LINE = hs.text(alphabet=hs.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"),
                                      exclude_characters=WORD_JOINER),
               min_size=1, max_size=40).filter(lambda s: s == s.strip() and s.isprintable())


@settings(max_examples=300, deadline=None)
@given(LINE)
def test_md_shows_any_line_as_typed(text):
    plain, active = rendered(md(text))
    assert not active and plain.strip() == text


@settings(max_examples=300, deadline=None)
@given(LINE)
def test_decision_escape_shows_any_line_as_typed(text):
    plain, active = rendered(dc._md(text))
    assert not active and plain.strip() == text


@pytest.mark.parametrize("text", ["runs/model.csv", "a`b", "``x``", "`start", "end `", " both ", "<img src=x>",
                                  "![t](http://127.0.0.1:9/x.png)"])
def test_decision_code_span_shows_text_as_typed(text):
    plain, active = rendered(f"file: {dc._code(text)}")
    assert not active and plain.rstrip("\n") == f"file: {text}"


def _record(**overrides) -> dc.DecisionRecord:
    rng = np.random.default_rng(3)
    score, positive = rng.random(200), rng.random(200) < 0.3
    figures = dc.deployment_figures(threshold_sweep(score, positive), 0.5, dc.DeploymentInputs(0.1), resamples=50)
    kwargs = {"fingerprint": "abcdef0123456789", "model_file": "runs/model-7.csv", "class_name": "fraud",
              "rationale": "", "approver": "Dana"}
    return dc.decision_record(figures, **{**kwargs, **overrides})


def test_decision_markdown_shows_every_user_field_as_typed():
    cls, link, html_image, _ = hostile_classes(PORT)
    rationale = (f"Why:\n- {link}\n\n    {html_image}\n# not a heading\n{hostile_note(PORT)}\n===\n"
                 "1. not a list <script>alert(1)</script>")
    record = _record(class_name=cls, approver=hostile_annotator(PORT) + " | " + html_image, rationale=rationale,
                     model_file="runs/`![f](http://127.0.0.1:9/f.png)`<b>.csv", fingerprint="<i>fp</i>`")
    text = record.to_markdown()
    plain, active = rendered(text)
    assert not active, active
    for shown in (f"Operating point: class {cls} at threshold 0.5", f"Approver: {record.approver}",
                  "Model file: runs/`![f](http://127.0.0.1:9/f.png)`<b>.csv", "Dataset fingerprint: <i>fp</i>`",
                  f"Flagged when: score of {cls} ≥ 0.5"):
        assert shown in plain, (shown, plain)
    # the rationale keeps its lines, each as typed (leading blanks dropped)
    lines = [line.strip() for line in rationale.splitlines() if line.strip()]
    body = plain.split("Rationale\n", 1)[1].split("Inputs\n", 1)[0]
    assert [line for line in body.splitlines() if line] == lines
    # headings exist only where the record makes them, and the rationale makes no list
    assert [t.tag for t in READER.parse(text) if t.type == "heading_open"] == ["h1", "h2", "h2", "h2"]
    assert not any(t.type in ("bullet_list_open", "ordered_list_open") for t in READER.parse(text.split("## Rationale")[1]))


def test_decision_markdown_of_plain_fields_reads_as_before():
    text = _record(rationale="Recall first.\nSecond line.").to_markdown()
    assert text.startswith("# Operating point: class fraud at threshold 0.5\n")
    assert "- **Model file:** `runs/model-7.csv`" in text and "`abcdef0123456789`" in text
    assert rendered(text)[0].split("Rationale\n", 1)[1].startswith("Recall first.\nSecond line.\n")


def test_scores_bar_gives_plotly_class_names_as_text():
    """Plotly draws a subset of HTML in tick labels and hover texts (<a href>, <b>, entities)."""
    classes = hostile_classes(PORT)
    fig = figures.scores_bar(classes, np.full(len(classes), 0.25), 0, 1)
    ticks = list(fig.data[0].x)
    assert [html.unescape(x) for x in ticks] == classes
    assert not any(c in x for x in ticks for c in "<>")


# --- CSV exports ----------------------------------------------------------------------------

FORMULA_START = tuple(an.FORMULA_PREFIXES)


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def _formulas(rows: list[list[str]]) -> list[str]:
    """The cells (header included) a spreadsheet would run as formulas."""
    return [c for row in rows for c in row if c.startswith(FORMULA_START) and not an._NUMBER.fullmatch(c)]


@pytest.fixture
def hostile_file(tmp_path) -> Path:
    return write_hostile_predictions(tmp_path, PORT, n=24)


def _annotate(dataset, store: AnnotationStore) -> None:
    fp = dataset.fingerprint()
    for r, sid in enumerate(map(str, dataset.ids[:4])):
        store.record(fp, sid, hostile_annotator(PORT), "tag", hostile_tag(PORT))
        store.record(fp, sid, "=cmd|' /C calc'!A0", "note", f"=HYPERLINK(\"http://127.0.0.1:{PORT}/n\") {r}")
        store.record(fp, sid, "@annotator", "label", hostile_classes(PORT)[3])  # the formula class


def test_predictions_export_neutralises_header_and_cells(hostile_file, tmp_path):
    dataset = evaldash.load_predictions(hostile_file)
    store = AnnotationStore(tmp_path / "a.db")
    _annotate(dataset, store)
    data = an.predictions_export_bytes(str(hostile_file), dataset, store.state(dataset.fingerprint()))
    rows = _cells(data)
    header = rows[0]
    _, _, numeric = hostile_metadata(PORT)
    assert "'" + numeric in header and numeric not in header  # a metadata column named like a formula
    assert "score_" + hostile_classes(PORT)[3] in header  # "score_=..." does not start a formula
    assert not _formulas(rows), _formulas(rows)[:5]
    # the ids that are formulas, and the corrected labels (the formula class), are kept, quoted
    ids = [row[0] for row in rows[1:]]
    assert ids == ["'" + s if s.startswith("=") else s for s in map(str, dataset.ids)]
    assert rows[1][header.index("label_corrected")] == "'" + hostile_classes(PORT)[3]


def test_annotations_export_neutralises_and_reads_back(hostile_file, tmp_path):
    dataset = evaldash.load_predictions(hostile_file)
    store = AnnotationStore(tmp_path / "a.db")
    _annotate(dataset, store)
    state = store.state(dataset.fingerprint())
    data = an.export_bytes(state, "csv", dataset.fingerprint())
    assert not _formulas(_cells(data))
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    back = an.read_import(path)
    assert sorted(back["annotator"]) == ["@annotator"] * 4
    assert list(back["note"]) == [state.loc[s, "note"] for s in back["sample_id"]]
    assert set(back["sample_id"]) == set(map(str, dataset.ids[:4]))


def test_neutralise_formulas_covers_names_categories_and_full_width_signs():
    frame = pd.DataFrame({"=SUM(A1)": ["x"], "-2": [1], "cat": pd.Categorical(["@x"]), "wide": ["＝1+1"],
                          "line": ["\n=1"], "num": ["+1e-3"], "minus_inf": ["-inf"]})
    out = an.neutralise_formulas(frame)
    assert list(out.columns) == ["'=SUM(A1)", "-2", "cat", "wide", "line", "num", "minus_inf"]
    assert out.iloc[0].tolist() == ["x", 1, "'@x", "'＝1+1", "'\n=1", "+1e-3", "'-inf"]


def test_dataframe_csv_download_is_off_for_every_way_of_starting(tmp_path, monkeypatch):
    """st.dataframe's own "Download as CSV" writes cells as they are: Streamlit reads the
    config.toml next to app.py (``streamlit run``, ``evaldash serve`` from any folder), which
    turns data export off."""
    from streamlit import config

    monkeypatch.chdir(tmp_path)  # not the repository: only the file next to app.py can say so
    monkeypatch.setattr(config, "_main_script_path", str(APP))
    try:
        config.get_config_options(force_reparse=True)
        assert config.get_option("client.disableDataExport") is True
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)


# --- the app ------------------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("clean_app")  # tests/conftest.py: no start file, a fresh database


# element types whose texts Streamlit shows as they are (no Markdown); every other element's
# label, help, body, caption, text and option contents are Markdown
PLAIN_TYPES = {"text", "code", "arrow_data_frame", "dataframe", "plotly_chart", "bidi_component", "json",
               "exception"}
MARKDOWN_FIELDS = {"body", "label", "help", "caption", "text", "content", "title"}


def markdown_texts(at: AppTest) -> list[tuple[str, str]]:
    """Every text of the page that Streamlit renders as Markdown: (element type, text)."""
    out = []

    def from_proto(kind, proto):
        for field, value in proto.ListFields():
            if field.type == field.TYPE_MESSAGE:
                for v in ([value] if hasattr(value, "ListFields") else value):
                    from_proto(kind, v)
            elif field.type == field.TYPE_STRING:
                texts = [value] if isinstance(value, str) else list(value)
                if field.name in MARKDOWN_FIELDS or (field.name == "options" and kind == "radio"):
                    out.extend((kind, t) for t in texts if t)

    def walk(node):
        kind = getattr(node, "type", None)
        proto = getattr(node, "proto", None)
        if proto is not None and kind not in PLAIN_TYPES and hasattr(proto, "ListFields"):
            from_proto(kind, proto)
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else []):
            walk(child)

    walk(at._tree)
    return out


def assert_all_plain(at: AppTest) -> list[str]:
    """No Markdown text of the page makes an image, a link or HTML; returns what they show."""
    from evaldash.ui.galleries import _caption_css

    shown = []
    for kind, text in markdown_texts(at):
        if kind == "html" and text == _caption_css():  # the galleries' own style sheet, no user text
            continue
        plain, active = rendered(text)
        assert not active, (kind, text)
        shown.append(plain)
    assert not at.exception, at.exception
    return shown


def _open(paths: list[Path], page: str | None = None, monkeypatch=None, run_names=None, **query) -> AppTest:
    monkeypatch.setattr(sys, "argv", ["app.py", *map(str, paths)])
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if run_names:
        at.session_state["run_names"] = run_names
    for k, v in query.items():
        at.query_params[k] = v
    if page is not None:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _mistakes(path: Path) -> list[int]:
    ev = evaldash.evaluate(evaldash.load_predictions(path))
    d = ev.dataset
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    return wrong[np.argsort(-ev.confidence[wrong], kind="stable")].tolist()


def _annotate_mistake(path: Path) -> tuple[str, str]:
    """Tag and note the most confident mistake of ``path`` in the app's database (as a hostile
    annotator); returns its id and class."""
    d = evaldash.load_predictions(path)
    row = _mistakes(path)[0]
    store = AnnotationStore(None)
    sid = str(d.ids[row])
    store.record(d.fingerprint(), sid, hostile_annotator(PORT), "tag", hostile_tag(PORT))
    store.record(d.fingerprint(), sid, hostile_annotator(PORT), "note", hostile_note(PORT))
    store.record(d.fingerprint(), sid, hostile_annotator(PORT), "label", d.classes[0])
    return sid, d.classes[d.y_true[row]]


def test_errors_page_shows_captions_filters_and_tags_as_typed(tmp_path, monkeypatch):
    path = write_hostile_predictions(tmp_path, PORT)
    sid, true = _annotate_mistake(path)
    at = _open([path], "pages/errors.py", monkeypatch)
    shown = "\n".join(assert_all_plain(at))
    column, _, numeric = hostile_metadata(PORT)
    assert column in shown and numeric in shown  # the filters' labels
    # the first caption: the most confident mistake, with its tag (the note shows as "note")
    captions = [t for kind, t in markdown_texts(at) if kind == "image"]
    first = rendered(captions[0])[0].strip()
    assert first.startswith(f"{sid} · true {true} → ") and f"tags: {hostile_tag(PORT)}" in first, first
    assert len(captions) == 24


def test_confusion_cell_review_and_decision_show_names_as_typed(tmp_path, monkeypatch):
    path = write_hostile_predictions(tmp_path, PORT)
    classes = sorted(hostile_classes(PORT))
    at = _open([path], monkeypatch=monkeypatch, true=classes[0], pred=classes[1])
    at.switch_page("pages/confusion.py").run()
    shown = assert_all_plain(at)
    assert f"True {classes[0]} → predicted {classes[1]}" in "\n".join(shown)
    for page in ("pages/review.py", "pages/decision.py", "pages/threshold.py", "pages/calibration.py",
                 "pages/slices.py", "pages/overview.py"):
        at.switch_page(page).run()
        shown = "\n".join(assert_all_plain(at))
        if page == "pages/review.py":
            row = _mistakes(path)[0]
            d = evaldash.load_predictions(path)
            assert f"{d.ids[row]}: true {d.classes[d.y_true[row]]} → predicted {d.classes[d.y_pred[row]]}" in shown
        if page == "pages/decision.py":
            assert f"{classes[0]} in deployment" in shown  # the class chosen first


def test_review_page_shows_findings_as_typed(tmp_path, monkeypatch):
    path = write_hostile_predictions(tmp_path, PORT)
    sid, _ = _annotate_mistake(path)  # the first sample of the review set "Confident mistakes"
    at = _open([path], "pages/review.py", monkeypatch)
    shown = "\n".join(assert_all_plain(at))
    assert f"Other tags: {hostile_tag(PORT)}" in shown
    assert at.text_area(key=f"review_note_{sid}").value == hostile_note(PORT)


def test_runs_and_compare_show_run_names_as_typed(tmp_path, monkeypatch):
    a = write_hostile_predictions(tmp_path, PORT)
    b = write_hostile_predictions(tmp_path, PORT, seed=1, name="b.csv")
    from evaldash.ui import Source

    keys = [Source(str(p.resolve())).key for p in (a, b)]  # as renamed on /runs
    names = {keys[0]: hostile_classes(PORT)[0], keys[1]: RUN_NAME}
    # each page as the first run: AppTest formats the sidebar's run picker without the session
    at = _open([a, b], "pages/runs.py", monkeypatch, run_names=names)
    shown = "\n".join(assert_all_plain(at))
    assert f"Compare {hostile_classes(PORT)[0]} with {RUN_NAME} →" in shown
    at = _open([a, b], "pages/compare.py", monkeypatch, run_names=names)
    shown = "\n".join(assert_all_plain(at))
    assert f"A: {hostile_classes(PORT)[0]}" in shown and f"B: {RUN_NAME}" in shown
    captions = [rendered(t)[0] for kind, t in markdown_texts(at) if kind == "image"]
    assert captions and all(" · A " in c and " · B " in c for c in captions)
