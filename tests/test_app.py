"""AppTest checks of the dashboard: every page on every kind of file, widgets, live threshold,
suggestions, deep links, the cell gallery, quality gates and the data panel.

Expected numbers come from the Streamlit-free core (``evaldash.evaluate``) or from
scikit-learn / pandas on the file itself, never from the app.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score
from streamlit.testing.v1 import AppTest

import evaldash
from evaldash.gates import Gate, check_gates
from evaldash.roots import REFUSED
from evaldash.slices import slice_labels

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"
BINARY = ROOT / "sample_data" / "digits" / "binary_three.csv"
PAGES = ["pages/overview.py", "pages/confusion.py", "pages/threshold.py", "pages/errors.py", "pages/review.py",
         "pages/runs.py", "pages/compare.py", "pages/slices.py", "pages/decision.py", "pages/calibration.py"]
TIMEOUT = 60

# class names that must survive widgets, deep links and markdown as typed
ODD_CLASSES = ["naïve, grape", "a&b=c", "<b>bold</b>"]


# --- files and fixtures --------------------------------------------------------

def write_predictions_only(folder: Path) -> Path:
    """The digits sample with labels and predictions but no scores (and no images)."""
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    out = frame[["id", "label", "prediction", "ink", "stroke"]]
    path = folder / "predictions_only.csv"
    out.to_csv(path, index=False)
    return path


def write_logits(folder: Path, seed: int = 7) -> Path:
    """Three classes with odd names and real-valued scores (logits), no prediction column."""
    rng = np.random.default_rng(seed)
    n, k = 300, len(ODD_CLASSES)
    y = rng.integers(0, k, size=n)
    logits = rng.normal(0.0, 1.5, size=(n, k))
    logits[np.arange(n), y] += 1.5
    frame = pd.DataFrame({"id": [f"s{i:04d}" for i in range(n)],
                          "label": [ODD_CLASSES[c] for c in y]})
    for c, name in enumerate(ODD_CLASSES):
        frame[f"score_{name}"] = logits[:, c]
    frame["group"] = np.where(rng.random(n) < 0.5, "left", "right")
    path = folder / "logits.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def clean_app(monkeypatch, tmp_path):
    """Each test starts on a fresh cache, with no start file from pytest's own argv or env."""
    # start_source() reads sys.argv[1:] as `streamlit run app.py -- PATH`; under pytest that
    # would be pytest's own arguments. The test's folder and the samples are the data roots.
    monkeypatch.setattr(sys, "argv", ["app.py", "--data-root", str(tmp_path),
                                      "--data-root", str(ROOT / "sample_data")])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def open_file(monkeypatch):
    """Start the app on ``path`` (``None``: the bundled default) and run the overview."""
    def _open(path: Path | None = None) -> AppTest:
        if path is not None:
            monkeypatch.setenv("EVALDASH_PREDICTIONS", str(path))
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception, at.exception
        return at
    return _open


def write_many_classes(folder: Path, k: int, n: int) -> Path:
    """Predictions only, ``k`` classes named "class 00".., ``n`` rows, 70% right (seeded)."""
    rng = np.random.default_rng(5)
    names = [f"class {c:02d}" for c in range(k)]
    y = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    path = folder / "many.csv"
    pd.DataFrame({"label": np.array(names)[y], "prediction": np.array(names)[pred]}).to_csv(path, index=False)
    return path


def data_path(kind: str, folder: Path) -> Path:
    return {
        "sample": lambda: SAMPLE,
        "binary": lambda: BINARY,
        "predictions_only": lambda: write_predictions_only(folder),
        "logits": lambda: write_logits(folder),
    }[kind]()


def core(path: Path) -> evaldash.Evaluation:
    return evaldash.evaluate(evaldash.load_predictions(path))


@pytest.fixture(autouse=True)
def _private_annotation_db(tmp_path, monkeypatch):
    """Findings made by these tests go to a database of their own, never to the user's."""
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def fmt3(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


def block(at: AppTest, key: str):
    return at.get_by_key(key)


def live_payload(at: AppTest, key: str) -> dict:
    """The data the page sent to the live-threshold component ``key``, Arrow tables as pandas frames."""
    [el] = [e for e in at.get("bidi_component") if e.proto.id.endswith(f"-{key}")]
    if not el.proto.HasField("mixed"):
        return json.loads(el.proto.json)
    data = json.loads(el.proto.mixed.json)
    for name, value in data.items():
        if isinstance(value, dict) and "__streamlit_arrow_ref__" in value:
            blob = el.proto.mixed.arrow_blobs[value["__streamlit_arrow_ref__"]].data
            data[name] = pa.ipc.open_stream(blob).read_all().to_pandas()
    return data


def shown_threshold_metrics(at: AppTest) -> dict[str, str]:
    """What the browser shows before the thumb moves: the sent counts at the sent position,
    divided as ``live_threshold.js`` divides them (the e2e tests check the browser's own text)."""
    p = live_payload(at, "threshold_metrics")
    i, P, N = p["index"], p["n_pos"], p["n_neg"]
    tp, fp = int(p["grid"]["tp"][i]), int(p["grid"]["fp"][i])
    fn, tn = P - tp, N - fp
    div = lambda a, b: a / b if b else math.nan  # noqa: E731
    out = {"Precision": fmt3(div(tp, tp + fp)), "Recall": fmt3(div(tp, P)), "F1": fmt3(div(2 * tp, 2 * tp + fp + fn)),
           "FPR": fmt3(div(fp, N)), "Specificity": fmt3(div(tn, N))}
    out.update({"TP": f"{tp:,}", "FP": f"{fp:,}", "FN": f"{fn:,}", "TN": f"{tn:,}"})
    return out


def slider_value(at: AppTest) -> float:
    """The slider's threshold: the sent value, which is also the sent grid's position ``index``."""
    p = live_payload(at, "threshold")
    assert p["grid"]["t"][p["index"]] == p["t"]
    assert live_payload(at, "threshold_metrics")["t"] == p["t"]
    return p["t"]


def set_threshold(at: AppTest, t: float) -> AppTest:
    """What releasing the slider at ``t`` does on the server (the component's commit callback)."""
    at.session_state["threshold_t"] = t
    return at.run()


def expected_threshold_metrics(ev: evaldash.Evaluation, cls: int, t: float) -> dict[str, str]:
    m = ev.sweep(cls).at(t)
    out = {label: fmt3(m[name]) for label, name in
           (("Precision", "precision"), ("Recall", "recall"), ("F1", "f1"),
            ("FPR", "fpr"), ("Specificity", "specificity"))}
    out.update({name.upper(): f"{m[name]:,}" for name in ("tp", "fp", "fn", "tn")})
    return out


def sidebar_summary(at: AppTest) -> str:
    return at.sidebar.caption[0].value


def expected_summary(path: Path) -> str:
    """The sidebar's size line, computed from the file with pandas."""
    frame = pd.read_csv(path, dtype=str)
    n = len(frame)
    if any(c.startswith("score_") for c in frame.columns):
        k = sum(c.startswith("score_") for c in frame.columns)
    else:
        k = len(set(frame["label"]) | set(frame.get("prediction", pd.Series(dtype=str))))
    return f"{n:,} samples · {k} classes"


def images_count(caption: str) -> int:
    match = re.match(r"^(\d[\d,]*) images?\b", caption)
    assert match, f"caption {caption!r} does not start with '<count> images'"
    return int(match.group(1).replace(",", ""))


# --- every page on every kind of file --------------------------------------------

KINDS = ["sample", "binary", "predictions_only", "logits"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_page_runs_on_every_kind_of_file(kind, page, open_file, tmp_path):
    path = data_path(kind, tmp_path)
    at = goto(open_file(None if kind == "sample" else path), page)
    # the file really was opened (a failed start would silently fall back to the sample)
    assert not at.sidebar.error, [e.value for e in at.sidebar.error]
    assert sidebar_summary(at).startswith(expected_summary(path))
    assert at.title and at.title[0].value


def test_sidebar_names_the_positive_class_of_binary_data(open_file):
    at = open_file(BINARY)
    ev = core(BINARY)
    assert sidebar_summary(at).endswith(f"positive class: {ev.dataset.classes[ev.dataset.positive]}")


def test_threshold_page_explains_missing_scores(open_file, tmp_path):
    at = goto(open_file(write_predictions_only(tmp_path)), "pages/threshold.py")
    assert any("no per-class scores" in w.value for w in at.warning)
    assert not at.slider
    with pytest.raises(KeyError):
        at.get_by_key("threshold_metrics")


def test_modes_and_galleries_without_scores_hide_score_views(open_file, tmp_path):
    at = goto(open_file(write_predictions_only(tmp_path)), "pages/confusion.py")
    assert "Mean score" not in at.segmented_control(key="cm_mode").options
    goto(at, "pages/errors.py")
    assert "Nearest the threshold" not in at.segmented_control(key="err_gallery").options


# --- widgets exist ------------------------------------------------------------------

def test_overview_headline_matches_sklearn(open_file):
    at = open_file()
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    classes = sorted(set(frame["label"]), key=float)
    y, p = frame["label"], frame["prediction"]
    scores = frame[[f"score_{c}" for c in classes]].to_numpy()
    cards = {m.label: m.value for m in at.metric}
    assert cards["Samples"] == f"{len(frame):,}"
    assert cards["Classes"] == str(len(classes))
    assert cards["Accuracy"] == fmt3(accuracy_score(y, p))
    assert cards["Macro F1"] == fmt3(f1_score(y, p, average="macro", labels=classes))
    assert cards["Macro ROC AUC"] == fmt3(roc_auc_score(y, scores, multi_class="ovr", labels=classes))


def test_overview_has_class_table_and_gate_editor(open_file):
    at = open_file()
    table = at.get_by_key("class_table")
    assert list(table.value["class"]) == list(core(SAMPLE).dataset.classes)
    editor = at.get_by_key("gates_editor")
    assert editor.editing_mode == "dynamic"
    assert list(editor.value.columns) == ["metric", "kind", "limit"]


def test_sidebar_data_panel_widgets_exist(open_file):
    at = open_file()
    assert [b.key for b in at.sidebar.button if b.key == "open_file"] == ["open_file"]
    with pytest.raises(KeyError):  # the ways to open a file are drawn when asked for
        at.get_by_key("path_input")
    open_panel(at)
    for key in ("sample_pick", "open_sample", "path_input", "positive_input", "open_path",
                "upload", "upload_images", "open_upload"):
        assert at.get_by_key(key) is not None, key


@pytest.mark.parametrize("kind", ["sample", "binary", "logits"])
def test_threshold_page_widgets_exist(kind, open_file, tmp_path):
    path = data_path(kind, tmp_path)
    at = goto(open_file(path), "pages/threshold.py")
    for key in ("class_select", "threshold", "threshold_exact", "target_precision", "target_recall",
                "cost_fp", "cost_fn", "suggest_f1", "suggest_youden", "suggest_precision",
                "suggest_recall", "suggest_cost", "threshold_metrics"):
        assert at.get_by_key(key) is not None, key
    ev = core(path)
    assert at.selectbox(key="class_select").options == list(ev.dataset.classes)
    assert set(shown_threshold_metrics(at)) == {"Precision", "Recall", "F1", "FPR", "Specificity",
                                                 "TP", "FP", "FN", "TN"}
    assert not [s for s in at.slider if s.key == "confidence_threshold"]  # on /calibration
    goto(at, "pages/calibration.py")
    has_selective = kind != "binary"
    assert bool([s for s in at.slider if s.key == "confidence_threshold"]) == has_selective


def test_binary_threshold_page_starts_on_the_positive_class(open_file):
    at = goto(open_file(BINARY), "pages/threshold.py")
    ev = core(BINARY)
    assert at.selectbox(key="class_select").value == ev.dataset.positive
    t = slider_value(at)
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, ev.dataset.positive, t)


def test_confusion_mode_switch_runs_every_mode(open_file):
    at = goto(open_file(), "pages/confusion.py")
    control = at.segmented_control(key="cm_mode")
    assert control.value == "counts"
    assert control.options == ["Counts", "Normalised by true class (recall)",
                               "Normalised by predicted class (precision)", "Mean score"]
    for mode in ("true", "pred", "score", "counts"):
        at.segmented_control(key="cm_mode").set_value(mode).run()
        assert not at.exception, (mode, at.exception)
        assert at.segmented_control(key="cm_mode").value == mode
    grid = live_payload(at, "confusion_matrix")
    assert grid["counts"] == core(SAMPLE).confusion.tolist() and grid["labels"] == list(core(SAMPLE).dataset.classes)
    assert grid["show_text"] and grid["selected"] is None
    # no cell chosen yet: an invitation, no gallery
    with pytest.raises(KeyError):
        at.get_by_key("cell_gallery")


def test_errors_page_gallery_counts_match_the_file(open_file):
    at = goto(open_file(), "pages/errors.py")
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    wrong = frame["label"] != frame["prediction"]
    for key in ("err_gallery", "err_true", "err_pred", "err_meta_0", "err_meta_1"):
        assert at.get_by_key(key) is not None, key

    assert at.segmented_control(key="err_gallery").value == "mistakes"
    assert images_count(block(at, "error_gallery").caption[0].value) == wrong.sum()

    at.multiselect(key="err_true").set_value([3]).run()
    assert not at.exception
    assert images_count(block(at, "error_gallery").caption[0].value) == (wrong & (frame["label"] == "3")).sum()
    at.multiselect(key="err_pred").set_value([8, 5]).run()
    assert not at.exception
    chosen = wrong & (frame["label"] == "3") & frame["prediction"].isin(["5", "8"])
    assert images_count(block(at, "error_gallery").caption[0].value) == chosen.sum()


@pytest.mark.parametrize("gallery", ["unsure", "threshold"])
def test_errors_deep_link_opens_gallery_with_filter(gallery, open_file):
    at = open_file()
    at.query_params["true"] = "3"
    at.query_params["gallery"] = gallery
    goto(at, "pages/errors.py")
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    right = frame["label"] == frame["prediction"]
    assert at.segmented_control(key="err_gallery").value == gallery
    assert at.multiselect(key="err_true").value == [3]
    # "unsure": correct ones; "threshold": every sample of the filter, ranked by distance
    want = (right & (frame["label"] == "3")).sum() if gallery == "unsure" else (frame["label"] == "3").sum()
    assert images_count(block(at, "error_gallery").caption[0].value) == want


def test_errors_threshold_gallery_keeps_class_and_threshold_of_threshold_page(open_file):
    """BUG: "Nearest the threshold" forgets the class and threshold after one interaction.

    The errors page reads the threshold page's widget keys ``class_select`` and
    ``threshold``; Streamlit drops a widget's state after a run that does not draw it,
    so the next rerun of the errors page falls back to class 0 at 0.5.
    """
    at = goto(open_file(), "pages/threshold.py")
    at.selectbox(key="class_select").set_value(8).run()
    set_threshold(at, 0.3)
    at.query_params.clear()
    at.query_params["gallery"] = "threshold"
    goto(at, "pages/errors.py")
    frame = pd.read_csv(SAMPLE, dtype={"label": str})
    nearest = frame.loc[np.argsort(np.abs(frame["score_8"].to_numpy() - 0.3), kind="stable"), "id"]
    for step in range(2):
        assert at.segmented_control(key="err_gallery").value == "threshold"
        assert "class 8 is nearest the threshold 0.300" in at.caption[0].value, step
        ids = [img.captions[0].split(" · ")[0] for img in block(at, "error_gallery").image]
        assert ids == list(nearest[:24]), step
        at.multiselect(key="err_pred").set_value([]).run()  # any interaction on the page
        assert not at.exception


def test_errors_gallery_switch_takes_effect_on_first_click(open_file):
    """BUG: the first gallery click after opening the page (or after a filter change) is undone.

    The page re-applies the URL's ``gallery`` whenever the URL differs from the last one it
    read, but the URL it compares with is the one the page itself just wrote.
    """
    at = goto(open_file(), "pages/errors.py")
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    right = frame["label"] == frame["prediction"]
    at.segmented_control(key="err_gallery").set_value("unsure").run()
    assert not at.exception
    assert at.segmented_control(key="err_gallery").value == "unsure"
    assert images_count(block(at, "error_gallery").caption[0].value) == right.sum()


def test_errors_mistakes_are_most_confident_first(open_file):
    at = goto(open_file(), "pages/errors.py")
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    conf = np.array([frame.at[i, f"score_{p}"] for i, p in enumerate(frame["prediction"])])
    wrong = np.flatnonzero((frame["label"] != frame["prediction"]).to_numpy())
    order = wrong[np.argsort(-conf[wrong], kind="stable")]
    shown = [img.captions[0].split(" · ")[0] for img in block(at, "error_gallery").image]
    assert shown == list(frame["id"].iloc[order[:len(shown)]])
    assert len(shown) == min(24, wrong.size)


# --- the live threshold ---------------------------------------------------------------

def shown_exact_threshold(at: AppTest) -> str:
    """The browser's "Exact threshold: " text: JavaScript's String(t), which is Python's repr."""
    return repr(live_payload(at, "threshold_metrics")["t"])


def test_slider_change_updates_metrics_to_core_values_binary(open_file):
    at = goto(open_file(BINARY), "pages/threshold.py")
    ev = core(BINARY)
    c = ev.dataset.positive
    before = shown_threshold_metrics(at)
    assert before == expected_threshold_metrics(ev, c, 0.5)
    assert expected_threshold_metrics(ev, c, 0.3) != expected_threshold_metrics(ev, c, 0.5)

    set_threshold(at, 0.3)
    assert not at.exception
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, c, 0.3)
    assert shown_exact_threshold(at) == "0.3"
    assert at.number_input(key="threshold_exact").value is None  # the box is for typing only
    assert at.query_params["t"] == "0.3"
    assert at.query_params["class"] == ev.dataset.classes[c]


def test_slider_change_updates_metrics_for_chosen_class_multiclass(open_file):
    at = goto(open_file(), "pages/threshold.py")
    ev = core(SAMPLE)
    at.selectbox(key="class_select").set_value(8).run()
    assert not at.exception
    set_threshold(at, 0.3)
    assert not at.exception
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, 8, 0.3)
    # the same counts from the file itself: a sample counts as 8 when score_8 >= 0.3
    frame = pd.read_csv(SAMPLE, dtype={"label": str})
    cm = confusion_matrix(frame["label"] == "8", frame["score_8"] >= 0.3, labels=[False, True])
    (tn, fp), (fn, tp) = cm
    shown = shown_threshold_metrics(at)
    assert (shown["TP"], shown["FP"], shown["FN"], shown["TN"]) == tuple(f"{v:,}" for v in (tp, fp, fn, tn))


def test_exact_threshold_input_moves_slider_and_metrics(open_file):
    at = goto(open_file(BINARY), "pages/threshold.py")
    ev = core(BINARY)
    at.number_input(key="threshold_exact").set_value(0.123).run()
    assert not at.exception
    assert slider_value(at) == pytest.approx(0.123)
    assert shown_exact_threshold(at) == "0.123"
    assert at.number_input(key="threshold_exact").value is None  # emptied, ready for the next value
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, ev.dataset.positive, 0.123)


def test_slider_on_logits_uses_score_range(open_file, tmp_path):
    path = write_logits(tmp_path)
    at = goto(open_file(path), "pages/threshold.py")
    ev = core(path)
    grid = live_payload(at, "threshold")["grid"]["t"]
    col = ev.dataset.scores[:, 0]
    assert grid.iloc[0] <= col.min() and grid.iloc[-1] >= col.max()
    assert slider_value(at) == 0.0  # logits start at 0
    t = float(np.round(np.quantile(col, 0.8), 2))
    set_threshold(at, t)
    assert not at.exception
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, 0, t)


SUGGESTIONS = [("suggest_f1", "max_f1"), ("suggest_youden", "max_youden"),
               ("suggest_precision", "target_precision"), ("suggest_recall", "target_recall"),
               ("suggest_cost", "min_cost")]


@pytest.mark.parametrize("button,name", SUGGESTIONS)
def test_suggestion_button_sets_slider_to_core_suggestion(button, name, open_file):
    at = goto(open_file(BINARY), "pages/threshold.py")
    ev = core(BINARY)
    c = ev.dataset.positive
    expected = ev.suggestions(c, 0.9, 0.9, 1.0, 1.0)[name]  # the page's default targets and costs
    assert math.isfinite(expected)
    at.button(key=button).click().run()
    assert not at.exception
    assert slider_value(at) == pytest.approx(expected)
    assert shown_exact_threshold(at) == repr(expected)
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, c, expected)


def test_suggestions_follow_edited_targets_and_costs(open_file):
    at = goto(open_file(), "pages/threshold.py")
    ev = core(SAMPLE)
    at.selectbox(key="class_select").set_value(8).run()
    at.number_input(key="target_precision").set_value(0.8).run()
    at.number_input(key="target_recall").set_value(0.95).run()
    at.number_input(key="cost_fp").set_value(1.0).run()
    at.number_input(key="cost_fn").set_value(5.0).run()
    assert not at.exception
    expected = ev.suggestions(8, 0.8, 0.95, 1.0, 5.0)
    for button, name in SUGGESTIONS:
        at.button(key=button).click().run()
        assert not at.exception
        assert slider_value(at) == pytest.approx(expected[name]), name
        assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, 8, expected[name])


def test_unreachable_target_precision_leaves_slider_and_explains(open_file, tmp_path):
    # every score tied: precision is the prevalence at every threshold, 0.9 is never reached
    frame = pd.DataFrame({"label": ["a", "b", "b", "b"], "score_a": 0.5, "score_b": 0.5})
    path = tmp_path / "flat.csv"
    frame.to_csv(path, index=False)
    at = goto(open_file(path), "pages/threshold.py")
    assert math.isnan(core(path).suggestions(1)["target_precision"])
    before = slider_value(at)
    at.button(key="suggest_precision").click().run()
    assert not at.exception
    assert slider_value(at) == before
    assert any("No threshold reaches" in i.value for i in at.info)


@pytest.mark.parametrize("button,name", [("suggest_f1", "max_f1"), ("suggest_recall", "target_recall")])
def test_suggestion_on_logits_is_core_value_within_slider_range(button, name, open_file, tmp_path):
    path = write_logits(tmp_path)
    at = goto(open_file(path), "pages/threshold.py")
    ev = core(path)
    expected = ev.suggestions(0)[name]
    grid = live_payload(at, "threshold")["grid"]["t"]
    assert grid.iloc[0] <= expected <= grid.iloc[-1]
    at.button(key=button).click().run()
    assert not at.exception
    assert slider_value(at) == pytest.approx(expected)
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, 0, expected)


# --- deep links -----------------------------------------------------------------------

def test_threshold_deep_link_sets_class_and_threshold(open_file):
    at = open_file()
    at.query_params["class"] = "8"
    at.query_params["t"] = "0.35"
    goto(at, "pages/threshold.py")
    ev = core(SAMPLE)
    assert ev.dataset.classes[at.selectbox(key="class_select").value] == "8"
    assert slider_value(at) == pytest.approx(0.35)
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, ev.dataset.classes.index("8"), 0.35)


def test_threshold_deep_link_with_odd_class_name(open_file, tmp_path):
    path = write_logits(tmp_path)
    at = open_file(path)
    at.query_params["class"] = "naïve, grape"
    at.query_params["t"] = "-0.5"
    goto(at, "pages/threshold.py")
    ev = core(path)
    c = ev.dataset.classes.index("naïve, grape")
    assert at.selectbox(key="class_select").value == c
    assert slider_value(at) == pytest.approx(-0.5)
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, c, -0.5)


@pytest.mark.parametrize("cls,t", [("42", "0.35"), ("8", "abc"), ("8", "nan")])
def test_threshold_deep_link_with_bad_values_falls_back(cls, t, open_file):
    at = open_file()
    at.query_params["class"] = cls
    at.query_params["t"] = t
    goto(at, "pages/threshold.py")
    ev = core(SAMPLE)
    c = ev.dataset.classes.index(cls) if cls in ev.dataset.classes else 0
    want_t = 0.35 if t == "0.35" else 0.5
    assert at.selectbox(key="class_select").value == c
    assert slider_value(at) == pytest.approx(want_t)
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, c, want_t)


def cell_rows_from_file(path: Path, true: str, pred: str) -> pd.DataFrame:
    """The rows of cell (true, pred), most confident (score of the predicted class) first."""
    frame = pd.read_csv(path, dtype={"label": str, "prediction": str, "id": str})
    frame["confidence"] = [frame.at[i, f"score_{p}"] for i, p in enumerate(frame["prediction"])]
    cell = frame[(frame["label"] == true) & (frame["prediction"] == pred)]
    return cell.sort_values("confidence", ascending=False, kind="stable")


def test_confusion_deep_link_shows_cell_count_and_images(open_file):
    at = open_file()
    at.query_params["true"] = "1"
    at.query_params["pred"] = "8"
    goto(at, "pages/confusion.py")
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    labels = [str(c) for c in range(10)]
    n = confusion_matrix(frame["label"], frame["prediction"], labels=labels)[1, 8]
    assert n == core(SAMPLE).confusion[1, 8]
    assert n > 0
    gallery = block(at, "cell_gallery")
    assert images_count(gallery.caption[0].value) == n
    images = gallery.image
    assert len(images) == min(n, 24)
    ids = [img.captions[0].split(" · ")[0] for img in images]
    assert ids == list(cell_rows_from_file(SAMPLE, "1", "8")["id"][:len(images)])
    assert at.query_params["true"] == "1" and at.query_params["pred"] == "8"


def test_a_cell_of_one_sample_says_one_image(open_file):
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    labels = [str(c) for c in range(10)]
    m = confusion_matrix(frame["label"], frame["prediction"], labels=labels)
    true, pred = (int(v[0]) for v in np.nonzero(m == 1))  # the first cell of exactly one sample
    at = open_file()
    at.query_params["true"], at.query_params["pred"] = labels[true], labels[pred]
    goto(at, "pages/confusion.py")
    caption = block(at, "cell_gallery").caption[0].value
    assert caption.startswith("1 image") and not caption.startswith("1 images"), caption


def test_confusion_deep_link_diagonal_cell_is_paged(open_file):
    at = open_file()
    at.query_params["true"] = "3"
    at.query_params["pred"] = "3"
    goto(at, "pages/confusion.py")
    expected = cell_rows_from_file(SAMPLE, "3", "3")
    assert len(expected) > 24
    gallery = block(at, "cell_gallery")
    assert images_count(gallery.caption[0].value) == len(expected)
    assert len(gallery.image) == 24
    at.number_input(key="cell_gallery_page").set_value(2).run()
    assert not at.exception
    ids = [img.captions[0].split(" · ")[0] for img in block(at, "cell_gallery").image]
    assert ids == list(expected["id"][24:48])


def test_confusion_deep_link_with_unknown_class_selects_nothing(open_file):
    at = open_file()
    at.query_params["true"] = "1"
    at.query_params["pred"] = "nope"
    goto(at, "pages/confusion.py")
    with pytest.raises(KeyError):
        at.get_by_key("cell_gallery")
    assert any("Click any cell" in i.value for i in at.info)


def test_confusion_deep_link_with_odd_class_names(open_file, tmp_path):
    path = write_logits(tmp_path)
    at = open_file(path)
    true, pred = ODD_CLASSES[0], ODD_CLASSES[2]
    at.query_params["true"] = true
    at.query_params["pred"] = pred
    goto(at, "pages/confusion.py")
    frame = pd.read_csv(path)
    scores = frame[[f"score_{c}" for c in ODD_CLASSES]].to_numpy()
    predicted = np.array(ODD_CLASSES, dtype=object)[np.argmax(scores, axis=1)]
    n = int(((frame["label"] == true) & (predicted == pred)).sum())
    assert n > 0
    assert images_count(block(at, "cell_gallery").caption[0].value) == n
    assert at.query_params["true"] == true and at.query_params["pred"] == pred
    # the heading is Markdown with the tag escaped, so it shows as text, never as HTML
    heading = block(at, "cell_gallery").subheader[0].value
    assert "naïve, grape" in heading and "<b>" not in heading


def test_threshold_deep_link_restores_view_when_opened_again(open_file):
    """BUG: a threshold deep link opened a second time in a session is ignored.

    Leaving the page drops the widget state of ``class_select`` and ``threshold``; the
    page only applies a link that differs from the last one it saw, so the same link
    opened again shows class 0 at 0.5 (and the URL is rewritten to that).
    """
    at = open_file()
    ev = core(SAMPLE)
    for _ in range(2):
        at.query_params.clear()
        at.query_params["class"] = "8"
        at.query_params["t"] = "0.35"
        goto(at, "pages/threshold.py")
        assert at.selectbox(key="class_select").value == ev.dataset.classes.index("8")
        assert slider_value(at) == pytest.approx(0.35)
        assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, 8, 0.35)
        at.query_params.clear()
        goto(at, "pages/overview.py")


def test_confusion_deep_link_selects_new_cell_after_earlier_selection(open_file):
    """BUG: once a cell was chosen in a session, a deep link to another cell is ignored.

    The page reads ``true``/``pred`` only while no cell is stored in session state, so
    the overview's links (e.g. "Most confused with ...") open the previously chosen cell.
    """
    at = open_file()
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    cm = confusion_matrix(frame["label"], frame["prediction"], labels=[str(c) for c in range(10)])
    for true, pred in (("1", "8"), ("3", "3")):
        at.query_params.clear()
        at.query_params["true"] = true
        at.query_params["pred"] = pred
        goto(at, "pages/confusion.py")
        assert images_count(block(at, "cell_gallery").caption[0].value) == cm[int(true), int(pred)]
        assert at.query_params["true"] == true and at.query_params["pred"] == pred
        at.query_params.clear()
        goto(at, "pages/overview.py")


def test_overview_row_links_carry_the_class(open_file, tmp_path):
    path = write_logits(tmp_path)
    at = open_file(path)
    ev = core(path)
    frame = pd.read_csv(path)
    scores = frame[[f"score_{c}" for c in ODD_CLASSES]].to_numpy()
    predicted = np.array(ODD_CLASSES, dtype=object)[np.argmax(scores, axis=1)]
    classes = list(ev.dataset.classes)
    row = classes.index("naïve, grape")
    at.session_state["class_table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    links = {pl.proto.label: (pl.proto.page, parse_qs(pl.proto.query_string)) for pl in at.get("page_link")}
    name = classes[row]
    assert links["Its correct predictions"] == ("confusion", {"true": [name], "pred": [name]})
    assert links["Its mistakes"] == ("errors", {"true": [name], "gallery": ["mistakes"]})
    assert links["Its curves and threshold"][0] == "threshold"
    assert links["Its curves and threshold"][1]["class"] == [name]
    cm = confusion_matrix(frame["label"], predicted, labels=classes)
    off = cm[row].copy()
    off[row] = -1
    j = int(np.argmax(off))
    label = f"Most confused with {shown_as_markdown(classes[j])} ({cm[row, j]})"  # the link's label is Markdown
    assert links[label][0] == "confusion"
    assert links[label][1]["true"] == [name] and links[label][1]["pred"] == [classes[j]]


# --- quality gates on the overview -------------------------------------------------------

def shown_gates(at: AppTest) -> pd.DataFrame:
    tables = [d.value for d in at.dataframe if list(d.value.columns) == ["gate", "value", "limit", "result"]]
    assert len(tables) == 1
    return tables[0]


def assert_gates_consistent(at: AppTest, ev: evaldash.Evaluation, gates: list[Gate]) -> None:
    results = check_gates(ev, gates)
    table = shown_gates(at)
    assert list(table["gate"]) == [g.metric for g in gates]
    assert [r.startswith("pass") for r in table["result"]] == [r.passed for r in results]
    assert [float(v) for v in table["value"]] == pytest.approx([r.value for r in results], abs=5e-5)
    passed = sum(r.passed for r in results)
    summary = f"{passed} of {len(results)} gates pass"
    if passed == len(results):
        assert [s.value for s in at.success] == [summary]
    else:
        assert summary in [e.value for e in at.main.error]


def test_no_gates_until_the_user_sets_some(open_file):
    at = open_file()
    assert len(at.get_by_key("gates_editor").value) == 0
    assert not [d for d in at.dataframe if list(d.value.columns) == ["gate", "value", "limit", "result"]]
    assert not [m for m in [*at.success, *at.main.error] if "gates pass" in m.value]


def test_edited_gates_match_check_gates_and_sklearn(open_file):
    at = open_file()
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    acc = accuracy_score(frame["label"], frame["prediction"])
    recall3 = ((frame["label"] == "3") & (frame["prediction"] == "3")).sum() / (frame["label"] == "3").sum()
    # limits on both sides of the true values, so both outcomes occur
    at.session_state["gates_editor"] = {
        "edited_rows": {},
        "added_rows": [{"metric": "accuracy", "kind": "min", "limit": acc - 0.01},
                       {"metric": "error_rate", "kind": "max", "limit": 1 - acc - 0.01},
                       {"metric": "recall[3]", "kind": "min", "limit": recall3 + 0.01},
                       {"metric": "recall[3]", "kind": "max", "limit": recall3 + 0.01}],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    gates = [Gate("accuracy", "min", acc - 0.01), Gate("error_rate", "max", 1 - acc - 0.01),
             Gate("recall[3]", "min", recall3 + 0.01), Gate("recall[3]", "max", recall3 + 0.01)]
    assert_gates_consistent(at, core(SAMPLE), gates)
    assert [r.startswith("pass") for r in shown_gates(at)["result"]] == [True, False, False, True]


def test_unknown_gate_metric_warns_and_keeps_other_gates(open_file):
    at = open_file()
    at.session_state["gates_editor"] = {
        "edited_rows": {},
        "added_rows": [{"metric": "accuracy", "kind": "min", "limit": 0.5},
                       {"metric": "bogus_metric", "kind": "min", "limit": 0.5},
                       {"metric": "macro_f1", "kind": "min", "limit": 0.5}],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    assert any(shown_as_markdown("bogus_metric") in w.value and "unknown metric" in w.value for w in at.warning)
    assert list(shown_gates(at)["gate"]) == ["accuracy", "macro_f1"]


# --- the data panel --------------------------------------------------------------------

def loader_message(path: Path) -> str:
    with pytest.raises(evaldash.InputError) as info:
        evaldash.load_predictions(path)
    return shown_as_markdown(str(info.value))


def shown_as_markdown(text: str) -> str:
    """The loader's message as the sidebar passes it to st.error: escaped, so it shows as typed."""
    from evaldash.ui import md

    return md(text)


def open_panel(at: AppTest) -> AppTest:
    """Press the sidebar's "Open another file…" (unless it is open): the ways to open a file are drawn."""
    if any(b.key == "open_path" for b in at.sidebar.button):
        return at
    at.button(key="open_file").click().run()
    assert not at.exception, at.exception
    return at


def open_path(at: AppTest, path: Path | str, positive: str | None = None) -> AppTest:
    open_panel(at)
    at.text_input(key="path_input").input(str(path))
    if positive is not None:
        at.text_input(key="positive_input").input(positive)
    at.button(key="open_path").click().run()
    assert not at.exception, at.exception
    return at


def no_label_file(folder: Path) -> Path:
    path = folder / "no_label.csv"
    pd.DataFrame({"truth": ["a", "b"], "score_a": [0.4, 0.7], "score_b": [0.6, 0.3]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("bad", ["missing", "no_label", "binary_as_csv"])
def test_bad_server_path_shows_loader_error_and_keeps_data(bad, open_file, tmp_path):
    at = open_file(BINARY)
    summary = sidebar_summary(at)
    samples = {m.label: m.value for m in at.metric}["Samples"]
    bad_path = {
        "missing": lambda: tmp_path / "does_not_exist.csv",
        "no_label": lambda: no_label_file(tmp_path),
        "binary_as_csv": lambda: _write_bytes(tmp_path / "garbage.csv", bytes(range(256)) * 8),
    }[bad]()
    open_path(at, bad_path)
    errors = [e.value for e in at.sidebar.error]
    if bad == "missing":  # the same words as for a path outside the data roots
        assert errors == [shown_as_markdown(f"{bad_path}: {REFUSED}")]
    else:
        assert errors == [loader_message(bad_path.resolve())]
    assert sidebar_summary(at) == summary
    assert {m.label: m.value for m in at.metric}["Samples"] == samples
    # still the same data on another page
    goto(at, "pages/threshold.py")
    assert sidebar_summary(at) == summary
    assert at.selectbox(key="class_select").options == list(core(BINARY).dataset.classes)


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_good_server_path_replaces_data_and_clears_error(open_file, tmp_path):
    at = open_file()
    open_path(at, tmp_path / "missing.csv")
    assert at.sidebar.error
    good = write_logits(tmp_path)
    open_path(at, good)
    assert not at.sidebar.error
    assert sidebar_summary(at).startswith(expected_summary(good))
    assert {m.label: m.value for m in at.metric}["Samples"] == f"{len(pd.read_csv(good)):,}"


def test_bad_start_file_shows_its_error_and_no_sample(open_file, tmp_path):
    bad = no_label_file(tmp_path)
    at = open_file(bad)
    assert [e.value for e in at.main.error][0].startswith(loader_message(bad.resolve()))
    assert not at.sidebar.caption and not at.metric  # no data: never the sample in its place


def test_open_bundled_binary_sample_from_the_panel(open_file):
    at = open_panel(open_file())
    at.selectbox(key="sample_pick").set_value("Digits: three vs rest (binary)")
    at.button(key="open_sample").click().run()
    assert not at.exception
    assert sidebar_summary(at).startswith(expected_summary(BINARY))
    goto(at, "pages/threshold.py")
    ev = core(BINARY)
    assert at.selectbox(key="class_select").value == ev.dataset.positive


def test_the_weaker_sample_opens_from_the_panel_for_a_comparison(open_file):
    at = open_panel(open_file())
    at.selectbox(key="sample_pick").set_value("Digits: a weaker model (to compare)")
    at.button(key="open_sample").click().run()
    assert not at.exception
    weaker = ROOT / "sample_data" / "digits" / "predictions_weaker.csv"
    assert sidebar_summary(at).startswith(expected_summary(weaker))
    goto(at, "pages/runs.py")
    assert len(at.dataframe[0].value) == 2  # the start sample and the weaker one: ready to compare


def test_opening_other_data_resets_threshold_page(open_file):
    at = goto(open_file(), "pages/threshold.py")
    at.selectbox(key="class_select").set_value(8).run()
    set_threshold(at, 0.3)
    assert not at.exception
    open_path(at, BINARY)
    ev = core(BINARY)
    assert not at.sidebar.error
    assert at.selectbox(key="class_select").value == ev.dataset.positive
    t = slider_value(at)
    assert shown_threshold_metrics(at) == expected_threshold_metrics(ev, ev.dataset.positive, t)


def test_open_panel_closes_once_a_file_opens_and_stays_open_beside_the_reason_if_not(open_file, tmp_path):
    at = open_path(open_file(), BINARY)
    assert sidebar_summary(at).startswith(expected_summary(BINARY))
    with pytest.raises(KeyError):  # closed: the file is open
        at.get_by_key("path_input")
    at = open_path(at, tmp_path / "missing.csv")
    assert at.text_input(key="path_input").value == str(tmp_path / "missing.csv")  # still open, as typed
    assert [e.value for e in at.sidebar.error] == [shown_as_markdown(f"{tmp_path / 'missing.csv'}: {REFUSED}")]
    assert sidebar_summary(at).startswith(expected_summary(BINARY))  # what was loaded stays
    at.button(key="open_file").click().run()  # and it can be closed by hand
    with pytest.raises(KeyError):
        at.get_by_key("path_input")


def test_open_path_with_positive_class(open_file):
    at = open_path(open_file(), BINARY, positive="other")
    assert not at.sidebar.error
    assert sidebar_summary(at).endswith("positive class: other")


def test_open_path_with_unknown_positive_class_keeps_data(open_file):
    at = open_file()
    summary = sidebar_summary(at)
    open_path(at, BINARY, positive="seven")
    with pytest.raises(evaldash.InputError) as info:
        evaldash.load_predictions(BINARY, positive="seven")
    assert [e.value for e in at.sidebar.error] == [shown_as_markdown(str(info.value))]
    assert sidebar_summary(at) == summary


def test_confusion_grid_with_many_classes_shows_the_most_confused_twenty(open_file, tmp_path):
    path = write_many_classes(tmp_path, 60, 6000)
    at = goto(open_file(path), "pages/confusion.py")
    ev = core(path)
    cm = ev.confusion
    errors = cm.sum(axis=0) + cm.sum(axis=1) - 2 * np.diag(cm)
    want = sorted(np.argsort(-errors, kind="stable")[:20].tolist())
    grid = live_payload(at, "confusion_matrix")
    assert grid["labels"] == [ev.dataset.classes[i] for i in want]
    assert grid["counts"] == cm[np.ix_(want, want)].tolist()
    assert not grid["show_text"] or len(want) <= 25
    # a deep-linked cell outside the twenty is added to the shown classes and outlined
    least = int(np.argmin(errors))
    at.query_params["true"] = ev.dataset.classes[least]
    at.query_params["pred"] = ev.dataset.classes[least]
    goto(at, "pages/overview.py")
    goto(at, "pages/confusion.py")
    grid = live_payload(at, "confusion_matrix")
    pos = grid["labels"].index(ev.dataset.classes[least])
    assert grid["selected"] == [pos, pos]
    assert block(at, "cell_gallery").subheader[0].value == f"True {ev.dataset.classes[least]} → predicted {ev.dataset.classes[least]}"


def test_corrected_labels_switch_recomputes_the_overview(open_file):
    from evaldash.annotations import AnnotationStore

    at = goto(open_file(), "pages/overview.py")
    ev = core(SAMPLE)
    d = ev.dataset
    wrong = np.flatnonzero(d.y_true != d.y_pred)[:5]
    store = AnnotationStore(None)  # the database the app uses (EVALDASH_DB of this test)
    for r in wrong:
        store.record(d.fingerprint(), str(d.ids[r]), "ann", "label", d.classes[d.y_pred[r]])
    at.toggle(key="use_corrected").set_value(True).run()
    assert not at.exception
    y = d.y_true.copy()
    y[wrong] = d.y_pred[wrong]
    cards = {m.label: m.value for m in at.metric}
    assert cards["Accuracy"] == f"{accuracy_score(y, d.y_pred):.3f}"
    assert cards["Accuracy"] != f"{ev.accuracy:.3f}"
    assert "5 of the model's former mistakes were label errors" in at.info[0].value
    at.toggle(key="use_corrected").set_value(False).run()
    assert {m.label: m.value for m in at.metric}["Accuracy"] == f"{ev.accuracy:.3f}"


def test_errors_gallery_of_suspected_label_errors_and_tag_filter(open_file):
    from cleanlab.filter import find_label_issues

    from evaldash.annotations import AnnotationStore

    at = goto(open_file(), "pages/errors.py")
    ev = core(SAMPLE)
    d = ev.dataset
    at.segmented_control(key="err_gallery").set_value("label_issues").run()
    assert not at.exception
    want = find_label_issues(labels=d.y_true, pred_probs=d.scores, return_indices_ranked_by="self_confidence")
    assert images_count(block(at, "error_gallery").caption[0].value) == len(want)
    shown = [img.captions[0].split(" · ")[0] for img in block(at, "error_gallery").image]
    assert shown == [str(d.ids[r]) for r in want[:24]]

    store = AnnotationStore(None)
    for r in want[:3]:
        store.record(d.fingerprint(), str(d.ids[r]), "ann", "tag", "label error")
    store.record(d.fingerprint(), str(d.ids[want[5]]), "ann", "tag", "ambiguous")
    at.run()
    at.multiselect(key="err_tags").set_value(["label error"]).run()
    shown = [img.captions[0].split(" · ")[0] for img in block(at, "error_gallery").image]
    assert shown == [str(d.ids[r]) for r in want[:3]]
    # the caption is Markdown (":" escaped, so a tag never becomes an icon); it shows "tags: label error"
    assert all("tags\\: label error" in img.captions[0] for img in block(at, "error_gallery").image)


def test_review_queue_marks_reviewed_tags_and_resumes(open_file):
    from evaldash.annotations import AnnotationStore

    at = open_file()
    at.text_input(key="annotator").set_value("ann").run()  # typed on the overview, kept on the next page
    goto(at, "pages/review.py")
    ev = core(SAMPLE)
    d = ev.dataset
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    order = wrong[np.argsort(-ev.confidence[wrong], kind="stable")]
    total = len(order)
    assert f"0 / {total} reviewed" in block(at, "review_progress").get("progress")[0].proto.text
    assert at.subheader[0].value.startswith(f"{d.ids[order[0]]}:")
    at.button(key="review_tag_1").click().run()  # label error
    at.button(key="review_next").click().run()
    at.button(key="review_next").click().run()
    assert not at.exception
    assert at.subheader[0].value.startswith(f"{d.ids[order[2]]}:")
    store = AnnotationStore(None)
    assert store.reviewed(d.fingerprint(), "mistakes") == {str(d.ids[order[0]]), str(d.ids[order[1]])}
    assert store.state(d.fingerprint()).loc[str(d.ids[order[0]]), "tags"] == ("label error",)
    # another session starts at the first sample nobody has reviewed, and sees the shared progress
    other = open_file()
    goto(other, "pages/review.py")
    assert f"2 / {total} reviewed" in block(other, "review_progress").get("progress")[0].proto.text
    assert other.subheader[0].value.startswith(f"{d.ids[order[2]]}:")


def test_cell_gallery_filters_by_tag(open_file):
    from evaldash.annotations import AnnotationStore

    ev = core(SAMPLE)
    d = ev.dataset
    seven = d.classes.index("7")
    cell = ev.cell_samples(seven, seven)
    store = AnnotationStore(None)
    for r in cell[[3, 40, 70]]:
        store.record(d.fingerprint(), str(d.ids[r]), "ann", "tag", "bad image")
    at = open_file()
    at.query_params["true"] = "7"
    at.query_params["pred"] = "7"
    goto(at, "pages/confusion.py")
    assert images_count(block(at, "cell_gallery").caption[0].value) == len(cell)
    at.multiselect(key="cell_tags").set_value(["bad image"]).run()
    assert not at.exception
    assert images_count(block(at, "cell_gallery").caption[0].value) == 3
    shown = [img.captions[0].split(" · ")[0] for img in block(at, "cell_gallery").image]
    assert shown == [str(d.ids[r]) for r in cell[[3, 40, 70]]]


def test_unusable_annotation_database_leaves_the_dashboard_read_only(open_file, tmp_path, monkeypatch):
    bad = tmp_path / "not-a-db.db"
    bad.write_text("this is not a database")
    monkeypatch.setenv("EVALDASH_DB", str(bad))
    at = open_file()
    for page in PAGES:
        goto(at, page)
        errors = [e.value.replace("\\", "") for e in at.sidebar.error]  # shown with Markdown escapes
        assert any("read-only" in e and "not-a-db.db" in e for e in errors), (page, errors)
    assert {m.label: m.value for m in goto(at, "pages/overview.py").metric}["Accuracy"] == f"{core(SAMPLE).accuracy:.3f}"


WEAKER = ROOT / "sample_data" / "digits" / "predictions_weaker.csv"


def _two_runs(open_file) -> AppTest:
    return open_path(open_file(), WEAKER)


def test_runs_table_and_switching_the_active_file(open_file):
    at = _two_runs(open_file)
    assert at.selectbox(key="active_run").value == ui_key(WEAKER)  # the file just opened is active
    assert {m.label: m.value for m in at.metric}["Accuracy"] == f"{core(WEAKER).accuracy:.3f}"
    at.selectbox(key="active_run").set_value(ui_key(SAMPLE)).run()
    assert {m.label: m.value for m in at.metric}["Accuracy"] == f"{core(SAMPLE).accuracy:.3f}"
    goto(at, "pages/runs.py")
    frame = at.dataframe[0].value
    assert list(frame["name"]) == ["Digits: 10 classes", "predictions_weaker.csv"]  # the bundled sample keeps its label
    assert list(frame["accuracy"].round(6)) == [round(core(SAMPLE).accuracy, 6), round(core(WEAKER).accuracy, 6)]


def test_compare_page_shows_the_cores_deltas_and_verdict(open_file):
    from evaldash.compare import compare

    at = _two_runs(open_file)
    goto(at, "pages/compare.py")
    want = compare(core(SAMPLE), core(WEAKER))
    head = at.dataframe[0].value
    assert list(head["B − A"].round(12)) == [round(want["delta"][m], 12)
                                             for m in ("accuracy", "macro_f1", "macro_roc_auc", "ece")]
    assert at.warning[0].value.replace("\\", "").startswith("B is worse on macro F1 by 0.067")  # Markdown-escaped
    assert "B fixed (37)" in str(at.segmented_control(key="cmp_group").options)
    assert images_count(block(at, "cmp_changed").caption[0].value) == want["fixed"]
    assert at.query_params["a"] and at.query_params["b"]


def ui_key(path: Path) -> str:
    from evaldash.ui import Source

    return Source(str(path.resolve())).key


def test_a_slice_filters_every_page_and_can_be_cleared(open_file):
    at = open_file()
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    thin = frame[frame["stroke"] == "thin"]
    goto(at, "pages/slices.py")
    # the table lists the slices of the grouped column, as the core cuts them
    column = at.selectbox(key="slice_column").value
    want = set(slice_labels(core(SAMPLE).dataset, column))
    assert set(at.dataframe[0].value["slice"]) == want and len(want) > 1
    at.session_state["_slice"] = ("stroke", "thin")
    goto(at, "pages/overview.py")
    cards = {m.label: m.value for m in at.metric}
    assert cards["Samples"] == f"{len(thin):,}"
    assert cards["Accuracy"] == f"{accuracy_score(thin['label'], thin['prediction']):.3f}"
    assert any("stroke = thin" in i.value.replace("\\", "") for i in at.sidebar.info)
    goto(at, "pages/confusion.py")
    grid = live_payload(at, "confusion_matrix")
    assert np.sum(grid["counts"]) == len(thin)
    at.button(key="clear_slice").click().run()
    assert {m.label: m.value for m in goto(at, "pages/overview.py").metric}["Samples"] == f"{len(frame):,}"


def test_overview_shows_bootstrap_intervals_as_plus_minus(open_file):
    from evaldash import bootstrap

    at = open_file()
    d = core(SAMPLE).dataset
    ci = bootstrap.intervals(d.y_true, d.y_pred, list(d.classes))
    table = at.dataframe[0].value
    want = [(ci["per_class"][c]["f1"][1] - ci["per_class"][c]["f1"][0]) / 2 for c in d.classes]
    np.testing.assert_allclose(table["F1 ±"], want, atol=1e-12)
    for m in ("precision", "recall"):
        np.testing.assert_allclose(table[f"{m} ±"], [(ci["per_class"][c][m][1] - ci["per_class"][c][m][0]) / 2
                                                     for c in d.classes], atol=1e-12)
    caption = " ".join(c.value for c in at.caption)
    assert f"± {(ci['accuracy'][1] - ci['accuracy'][0]) / 2:.3f}" in caption



# --- issue 6: AUC intervals on the overview, AUC and ECE deltas on /compare, slice AUC intervals ---

def test_overview_shows_roc_auc_plus_minus_from_the_core(open_file):
    from evaldash import bootstrap

    at = open_file()
    d = core(SAMPLE).dataset
    ci = bootstrap.auc_intervals(d.scores, d.y_true, list(d.classes))
    table = at.dataframe[0].value
    cols = list(table.columns)
    assert cols.index("ROC AUC ±") == cols.index("ROC AUC") + 1
    np.testing.assert_allclose(table["ROC AUC ±"], [(ci[c][1] - ci[c][0]) / 2 for c in d.classes], atol=1e-12)
    assert {"precision ±", "recall ±", "F1 ±"} <= set(cols)  # the other ± columns stay


def test_overview_without_scores_has_no_roc_auc_plus_minus(open_file, tmp_path):
    at = open_file(write_predictions_only(tmp_path))
    cols = list(at.dataframe[0].value.columns)
    assert "ROC AUC ±" not in cols and "F1 ±" in cols
    assert not any("being computed" in c.value for c in at.caption)


def test_overview_of_a_larger_file_shows_auc_intervals_when_the_background_has_them(open_file, tmp_path):
    """Above the inline size the first view does not wait: it says the intervals are being
    computed; a later run shows the ± column with the core's numbers."""
    import time

    from evaldash import bootstrap

    rng = np.random.default_rng(3)
    n, k = 3000, 6  # 6 classes × 2,000 distinct scores: computed in the background
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "label": [f"c{c}" for c in y]})
    for c in range(k):
        frame[f"score_c{c}"] = np.exp(logits[:, c]) / np.exp(logits).sum(axis=1)
    path = tmp_path / "larger.csv"
    frame.to_csv(path, index=False)
    at = open_file(path)
    first = at.dataframe[0].value
    if "ROC AUC ±" not in first.columns:
        assert any("being computed in the background" in c.value for c in at.caption)
    deadline = time.monotonic() + 60
    while "ROC AUC ±" not in at.dataframe[0].value.columns and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    d = core(path).dataset
    ci = bootstrap.auc_intervals(d.scores, d.y_true, list(d.classes))
    np.testing.assert_allclose(at.dataframe[0].value["ROC AUC ±"], [(ci[c][1] - ci[c][0]) / 2 for c in d.classes],
                               atol=1e-12)
    assert not any("being computed" in c.value for c in at.caption)


def test_compare_headline_has_auc_and_ece_with_intervals_and_the_auc_verdict(open_file):
    from evaldash.compare import compare

    at = _two_runs(open_file)
    goto(at, "pages/compare.py")
    want = compare(core(SAMPLE), core(WEAKER))
    head = at.dataframe[0].value.set_index("metric")
    for m, label in (("macro_roc_auc", "macro ROC AUC"), ("ece", "ECE (lower is better)")):
        assert head.loc[label, "B − A"] == pytest.approx(want["delta"][m], abs=1e-12)
        low, high = want["intervals"][m]
        assert head.loc[label, "95% interval"] == f"[{low:+.3f}, {high:+.3f}]"
    assert head.loc["macro ROC AUC"].iloc[0] == pytest.approx(core(SAMPLE).ranking["roc_auc_macro"], abs=1e-12)
    texts = [w.value.replace("\\", "") for w in at.warning]
    assert texts[0].startswith("B is worse on macro F1") and texts[1].startswith("B is worse on macro ROC AUC by 0.016")


def test_compare_with_a_file_without_scores_says_why_auc_and_ece_have_no_delta(open_file, tmp_path):
    at = open_file()
    path = write_predictions_only(tmp_path)
    open_path(at, path)
    goto(at, "pages/compare.py")
    head = at.dataframe[0].value.set_index("metric")
    assert np.isnan(head.loc["macro ROC AUC", "B − A"]) and head.loc["ECE (lower is better)", "95% interval"] == "n/a"
    infos = [i.value.replace("\\", "") for i in at.info]
    assert any(i.startswith("No macro ROC AUC difference: B (") and i.endswith("has no scores.") for i in infos)
    assert any(i.startswith("No ECE difference: B (") for i in infos)


def test_slices_page_shows_the_macro_auc_interval_of_the_core(open_file):
    from evaldash.slices import slice_table

    at = open_file()
    goto(at, "pages/slices.py")
    shown = at.dataframe[0].value
    want = slice_table(core(SAMPLE).dataset, at.selectbox(key="slice_column").value)
    assert list(shown["macro_roc_auc_ci"]) == [f"[{lo:.3f}, {hi:.3f}]" for lo, hi in
                                               zip(want["macro_roc_auc_low"], want["macro_roc_auc_high"])]


# --- readability (issue 7): hidden diagonal, class order, cell intervals, DET, reliability bins ----

def test_confusion_hidden_diagonal_and_clustered_order_keep_the_selected_cell(open_file):
    from evaldash import matrix

    at = open_file()
    at.query_params["true"] = "1"
    at.query_params["pred"] = "8"
    goto(at, "pages/confusion.py")
    at.toggle(key="cm_hide_diag").set_value(True).run()
    at.segmented_control(key="cm_order").set_value("cluster").run()
    assert not at.exception, at.exception
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    labels = [str(c) for c in range(10)]
    cm = confusion_matrix(frame["label"], frame["prediction"], labels=labels)
    order = matrix.class_order(cm, "cluster").tolist()
    grid = live_payload(at, "confusion_matrix")
    assert grid["labels"] == [labels[i] for i in order]
    assert grid["counts"] == cm[np.ix_(order, order)].tolist()
    assert grid["hide_diagonal"] and all(grid["text"][i][i] == "" for i in range(10))
    # the selected cell is where its classes now stand, and its gallery is the same cell
    assert grid["selected"] == [grid["labels"].index("1"), grid["labels"].index("8")]
    assert block(at, "cell_gallery").subheader[0].value == "True 1 → predicted 8"
    assert images_count(block(at, "cell_gallery").caption[0].value) == cm[1, 8]
    # each cell's hover: its classes, its count and the interval of what is shown
    for r, i in enumerate(order):
        for c, j in enumerate(order):
            lines = grid["hover"][r][c].split("\n")
            assert lines[0] == f"true {labels[i]} → predicted {labels[j]}"
            assert lines[1].startswith(f"{cm[i, j]:,} samples")
            assert lines[2].startswith("95% interval of the count: ")
    # by error count, normalised by the true class: the interval is of the share
    at.segmented_control(key="cm_order").set_value("errors").run()
    at.segmented_control(key="cm_mode").set_value("true").run()
    grid = live_payload(at, "confusion_matrix")
    errors = cm.sum(axis=0) + cm.sum(axis=1) - 2 * np.diag(cm)
    assert grid["labels"] == [labels[i] for i in np.argsort(-errors, kind="stable")]
    iv = matrix.cell_intervals(cm, "true")
    a, b = grid["labels"].index("1"), grid["labels"].index("8")
    assert f"95% interval: {iv['low'][1, 8]:.1%} to {iv['high'][1, 8]:.1%}" in grid["hover"][a][b]
    assert grid["selected"] == [a, b]


def test_confusion_order_with_many_classes_orders_the_picked_classes(open_file, tmp_path):
    path = write_many_classes(tmp_path, 40, 1200)
    at = goto(open_file(path), "pages/confusion.py")
    at.segmented_control(key="cm_order").set_value("errors").run()
    assert not at.exception, at.exception
    cm = core(path).confusion
    errors = cm.sum(axis=0) + cm.sum(axis=1) - 2 * np.diag(cm)
    twenty = np.argsort(-errors, kind="stable")[:20]
    grid = live_payload(at, "confusion_matrix")
    assert grid["labels"] == [f"class {i:02d}" for i in twenty]  # the default twenty, most errors first
    assert grid["counts"] == cm[np.ix_(twenty, twenty)].tolist()
    # about 30 samples a class: the rows under 30 carry the small-sample marker
    small = [("⚠ few samples" in grid["hover"][r][0]) for r in range(20)]
    assert small == [bool(cm[i].sum() < 30) for i in twenty] and any(small) and not all(small)


def test_threshold_page_sends_the_det_curve_of_sklearn_and_each_slider_positions_point(open_file):
    from statistics import NormalDist

    from sklearn.metrics import det_curve

    at = goto(open_file(), "pages/threshold.py")
    p = live_payload(at, "threshold_metrics")
    frame = pd.read_csv(SAMPLE, dtype={"label": str})
    c = at.selectbox(key="class_select").value
    name = core(SAMPLE).dataset.classes[c]
    fpr, fnr, thr = det_curve(frame["label"] == name, frame[f"score_{name}"])
    det = p["det"]
    assert 0 < len(det) <= len(thr)
    where = {float(np.float32(t)): i for i, t in enumerate(thr)}
    idx = [where[float(t)] for t in det["threshold"]]  # every drawn point is at one of sklearn's thresholds
    np.testing.assert_allclose(det["fpr"], fpr[idx], rtol=1e-6)
    np.testing.assert_allclose(det["fnr"], fnr[idx], rtol=1e-6)
    lo, hi = p["det_axis"]["range"]
    inv = np.vectorize(lambda r: NormalDist().inv_cdf(r) if 0 < r < 1 else (-np.inf if r <= 0 else np.inf))
    np.testing.assert_allclose(det["x"], np.clip(inv(fpr[idx]), lo, hi), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(det["y"], np.clip(inv(fnr[idx]), lo, hi), rtol=1e-6, atol=1e-6)
    # each slider position's DET point, from its counts
    grid = p["grid"]
    rates_fp = grid["fp"].to_numpy() / p["n_neg"]
    rates_fn = 1 - grid["tp"].to_numpy() / p["n_pos"]
    np.testing.assert_allclose(grid["det_x"], np.clip(inv(rates_fp), lo, hi), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grid["det_y"], np.clip(inv(rates_fn), lo, hi), rtol=1e-6, atol=1e-6)


def reliability_rows_from_file(path: Path, lower: float, upper: float) -> pd.DataFrame:
    """The rows whose confidence (the predicted class's score) is in (lower, upper], most confident first."""
    frame = pd.read_csv(path, dtype={"label": str, "prediction": str, "id": str})
    frame["confidence"] = [frame.at[i, f"score_{p}"] for i, p in enumerate(frame["prediction"])]
    inside = (frame["confidence"] > lower) & (frame["confidence"] <= upper)
    return frame[inside].sort_values("confidence", ascending=False, kind="stable")


def test_reliability_bin_shows_its_images(open_file):
    at = goto(open_file(), "pages/calibration.py")
    spec = live_payload(at, "reliability_chart")
    bins = core(SAMPLE).calibration["bins"]
    assert spec["pick"] == np.flatnonzero(bins["count"] > 0).tolist() and spec["selected"] is None
    with pytest.raises(KeyError):
        at.get_by_key("reliability_gallery")
    # what a click on the last bar does on the server (AppTest cannot click a component)
    b = spec["pick"][-1]
    at.session_state["reliability_bin"] = b
    at.run()
    assert not at.exception, at.exception
    want = reliability_rows_from_file(SAMPLE, bins["lower"][b], bins["upper"][b])
    gallery = block(at, "reliability_gallery")
    assert gallery.markdown[0].value == f"**Confidence ({bins['lower'][b]:.2f}, {bins['upper'][b]:.2f}]**"
    caption = gallery.caption[0].value
    assert images_count(caption) == len(want) == bins["count"][b]
    correct = (want["label"] == want["prediction"]).mean()
    assert f"mean confidence {want['confidence'].mean():.3f}" in caption and f"accuracy {correct:.3f}" in caption
    ids = [img.captions[0].split(" · ")[0] for img in gallery.image]
    assert ids == list(want["id"][:24])
    assert live_payload(at, "reliability_chart")["selected"] == b
    at.button(key="reliability_close").click().run()
    with pytest.raises(KeyError):
        at.get_by_key("reliability_gallery")


def test_a_file_the_loader_has_no_message_for_keeps_the_sidebar_and_the_data(open_file, tmp_path, monkeypatch):
    at = open_file(BINARY)
    summary = sidebar_summary(at)
    odd = tmp_path / "odd.csv"
    odd.write_text("label,score\n1,0.5\n")
    from evaldash import ui

    real = ui.sources.load_dataset  # the app reads every file through tasks.load_dataset

    def failing(path, **kwargs):  # stands for a reader error nobody foresaw
        if Path(path).name == "odd.csv":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, **kwargs)

    monkeypatch.setattr(ui.sources, "load_dataset", failing)
    at = open_path(at, odd)
    [error] = [e.value for e in at.sidebar.error]
    assert error.startswith(shown_as_markdown("odd.csv: could not be read as a predictions file"))
    assert "RecursionError" not in error and "Traceback" not in error
    assert sidebar_summary(at) == summary  # what was loaded stays
