"""evaldash.evaluate: every accepted input gives the report of the same data read from a file,
and bad input is an InputError naming the argument, the rows and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from PIL import Image

import evaldash
from classification_cases import BINARY_CSV, DIGITS_CSV, make_case
from evaldash import InputError
from evaldash.report import report_json

CASES = ["binary", "k3-ties", "k12", "single-class", "missing-in-pred", "one-sample"]


def _file_report(frame: pd.DataFrame, tmp_path: Path, suffix: str = ".csv", **kwargs) -> dict:
    path = tmp_path / f"predictions{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    return _normal(json.loads(report_json(evaldash.evaluate(evaldash.load_predictions(path, **kwargs)))))


def _normal(report: dict) -> str:
    """The report without where the data came from, as JSON text (NaN compares equal as text)."""
    source = report.pop("source")
    report["warnings"] = [w.replace(source, "<source>") for w in report["warnings"]]
    return json.dumps(report, sort_keys=True)


def _report(results) -> str:
    return _normal(results.report())


@pytest.mark.parametrize("name", CASES)
def test_arrays_give_the_report_of_the_same_file(name, tmp_path):
    case = make_case(name)
    want = _file_report(case.frame(), tmp_path)
    got = evaldash.evaluate(case.y_true, case.scores, y_pred=case.y_pred, classes=np.arange(case.k))
    assert _report(got) == want
    by_keyword = evaldash.evaluate(y_true=list(case.y_true), scores=case.scores.tolist(), y_pred=pd.Series(case.y_pred),
                                   classes=list(range(case.k)))
    assert _report(by_keyword) == want


def test_arrays_without_y_pred_or_classes_are_the_file_without_a_prediction_column(tmp_path):
    case = make_case("k5")
    frame = case.frame().drop(columns="prediction")
    assert _report(evaldash.evaluate(case.y_true, case.scores)) == _file_report(frame, tmp_path)


def test_predictions_only(tmp_path):
    case = make_case("k5")
    frame = case.frame()[["label", "prediction"]]
    assert _report(evaldash.evaluate(y_true=case.y_true, y_pred=case.y_pred)) == _file_report(frame, tmp_path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("name", CASES)
def test_tables_give_the_report_of_the_same_file(name, suffix, tmp_path):
    frame = make_case(name).frame()
    want = _file_report(frame, tmp_path, suffix)
    assert _report(evaldash.evaluate(frame)) == want
    assert _report(evaldash.evaluate(pa.Table.from_pandas(frame))) == want
    assert _report(evaldash.evaluate(pa.RecordBatch.from_pandas(frame))) == want


@pytest.mark.parametrize("name", CASES)
def test_polars_frame_gives_the_report_of_the_same_file(name, tmp_path):
    import polars as pl  # in the test extra (not a dependency of evaldash)
    frame = make_case(name).frame()
    assert _report(evaldash.evaluate(pl.from_pandas(frame))) == _file_report(frame, tmp_path, ".parquet")


def test_report_is_what_report_json_prints(capsys):
    from evaldash.cli import main

    for path in (DIGITS_CSV, BINARY_CSV):
        assert main(["report", str(path), "--json"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert json.dumps(evaldash.evaluate(str(path)).report()) == json.dumps(printed)


def test_a_path_is_read_as_the_cli_reads_it():
    assert _report(evaldash.evaluate(str(DIGITS_CSV))) == _normal(json.loads(report_json(
        evaldash.evaluate(evaldash.load_predictions(DIGITS_CSV)))))


def test_the_digits_sample_as_arrays_with_ids_images_and_metadata():
    file = pd.read_csv(DIGITS_CSV, dtype={"id": str})
    scores = file[[f"score_{c}" for c in range(10)]].to_numpy()
    images = [DIGITS_CSV.parent / p for p in file["image"]]
    got = evaldash.evaluate(file["label"].to_numpy(), scores, y_pred=file["prediction"], ids=file["id"],
                            images=images, metadata=file[["ink", "stroke"]])
    want = evaldash.evaluate(evaldash.load_predictions(DIGITS_CSV))
    assert _report(got) == _normal(json.loads(report_json(want)))
    d = got.dataset
    assert list(d.ids) == list(want.dataset.ids)
    assert list(d.image_paths) == list(want.dataset.image_paths)
    pd.testing.assert_frame_equal(d.metadata, want.dataset.metadata)


def test_binary_scores_of_shape_n_are_the_file_with_one_score_column(tmp_path):
    file = pd.read_csv(BINARY_CSV)
    got = evaldash.evaluate(file["label"], file["score"].to_numpy(), classes=["other", "three"], ids=file["id"])
    want = evaldash.evaluate(evaldash.load_predictions(BINARY_CSV))
    assert _report(got) == _normal(json.loads(report_json(want)))
    assert got.report()["positive"] == "three"
    # integer labels and predict_proba(X)[:, 1]: the second class is the positive one
    y = (file["label"] == "three").astype(int).to_numpy()
    frame = pd.DataFrame({"label": y, "score": file["score"]})
    assert _report(evaldash.evaluate(y, file["score"].to_numpy(), classes=[0, 1])) == _file_report(frame, tmp_path)


def test_class_names_from_classes_keep_the_order_of_the_score_columns(tmp_path):
    rng = np.random.default_rng(0)
    scores = rng.dirichlet(np.ones(3), size=60)
    names = np.array(["zebra", "ant", "moth"])  # model.classes_ order is the columns' order, not sorted
    y = names[rng.integers(0, 3, 60)]
    frame = pd.DataFrame({"label": y, **{f"score_{c}": scores[:, i] for i, c in enumerate(names)}})
    assert _report(evaldash.evaluate(y, scores, classes=names)) == _file_report(frame, tmp_path)


def test_pixel_arrays_and_pil_images_become_png_files():
    rng = np.random.default_rng(1)
    y = np.array([0, 1, 1, 0])
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    gray = rng.integers(0, 256, (4, 6, 5), dtype=np.uint8)
    for images, want in ((gray, gray), (gray[..., None], gray), (list(gray), gray),
                         ([Image.fromarray(g) for g in gray], gray)):
        got = evaldash.evaluate(y, scores, images=images)
        paths = got.dataset.image_paths
        assert all(p is not None for p in paths)
        for path, pixels in zip(paths, want):
            assert np.array_equal(np.asarray(Image.open(path)), pixels)
    colour = rng.integers(0, 256, (4, 3, 2, 3), dtype=np.uint8)
    got = evaldash.evaluate(y, scores, images=colour)
    assert np.array_equal(np.asarray(Image.open(got.dataset.image_paths[2])), colour[2])
    assert got.cell_samples(0, 1)["image"].notna().all()


def test_views_are_labelled_data():
    case = make_case("k3-ties")
    r = evaldash.evaluate(case.y_true, case.scores, y_pred=case.y_pred, classes=[0, 1, 2])
    cm = r.confusion_matrix()
    assert list(cm.index) == ["0", "1", "2"] and cm.index.name == "true" and cm.columns.name == "predicted"
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    assert np.array_equal(cm.to_numpy(), confusion_matrix(case.y_true, case.y_pred, labels=[0, 1, 2]))
    assert np.allclose(r.confusion_matrix("true").sum(axis=1), 1.0)
    p, rec, f1, support = precision_recall_fscore_support(case.y_true, case.y_pred, labels=[0, 1, 2], zero_division=0)
    table = r.per_class()
    assert np.allclose(table["precision"], p) and np.allclose(table["recall"], rec) and np.allclose(table["f1"], f1)
    assert table["support"].tolist() == support.tolist()
    sweep = r.sweep("1")
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(case.y_true == 1, case.scores[:, 1], drop_intermediate=False)
    assert np.allclose(sweep["fpr"], fpr) and np.allclose(sweep["recall"], tpr)
    assert np.allclose(sweep["threshold"][1:], thresholds[1:])
    assert r.sweep(1).equals(sweep)
    cell = r.cell_samples("2", "0")
    rows = np.flatnonzero((case.y_true == 2) & (case.y_pred == 0))
    assert sorted(cell["id"].astype(int) - 1) == sorted(rows) == sorted(cell.index)
    assert cell["confidence"].is_monotonic_decreasing
    assert set(r.figures()) == {"confusion_matrix", "roc", "precision_recall", "reliability"}


def test_a_dataset_still_gives_its_evaluation():
    d = evaldash.load_predictions(DIGITS_CSV)
    assert isinstance(evaldash.evaluate(d), evaldash.Evaluation)


def test_html_summary_escapes_hostile_class_names():
    hostile = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "a&b \"q\""]
    rng = np.random.default_rng(2)
    y = np.array(hostile)[rng.integers(0, 3, 30)]
    r = evaldash.evaluate(y, rng.dirichlet(np.ones(3), 30), classes=hostile, source="<b>bold</b>")
    page = r._repr_html_()
    assert "<script>" not in page and "<img" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a&amp;b &quot;q&quot;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    for figure in r.figures().values():
        assert "<script>" not in figure.to_json()


# --- errors: InputError naming the argument, rows and what was expected ---------------------------

Y = np.array([0, 1, 2, 1, 0, 2])
P = np.full((6, 3), 1 / 3)


@pytest.mark.parametrize("kwargs, match", [
    ({"scores": P[:5]}, r"scores has 5 rows but y_true has 6 labels"),
    ({"scores": P[:, :2]}, r"scores has 2 columns but y_true holds 3 distinct labels .*pass classes="),
    ({"scores": P, "classes": ["a", "b"]}, r"classes has 2 names but scores has 3 columns"),
    ({"scores": P, "classes": [0, 1, 1]}, r"classes names \['1'\] more than once"),
    ({"scores": P, "classes": [0, 1, 3]}, r"y_true has labels \['2'\] at indexes 2, 5 \(0-based\) that are not classes"),
    ({"scores": np.where(np.arange(18).reshape(6, 3) == 10, np.nan, P)}, r"scores has NaN at index 3 \(0-based\)"),
    ({"scores": np.where(np.eye(6, 3) == 1, np.inf, P)}, r"scores has NaN or infinite values at indexes 0, 1, 2"),
    ({"scores": P[:, :, None]}, r"scores has shape \(6, 3, 1\); expected \(n, k\)"),
    ({"scores": P[:, :1]}, r"scores has shape \(6, 1\); expected \(n, k\) with k >= 2"),
    ({"scores": [["x", "y", "z"]] * 6}, r"scores holds values that are not numbers"),
    ({"scores": [[0.1, 0.2]] * 5 + [[0.1]]}, r"scores cannot be read as an array"),
    ({"scores": P, "y_pred": [0, 1]}, r"y_pred has shape \(2,\) but y_true has shape \(6,\)"),
    ({"scores": P, "classes": [0, 1, 2], "y_pred": [0, 1, 2, 3, 0, 0]}, r"y_pred has labels \['3'\] at index 3"),
    ({}, r"no scores and no y_pred"),
    ({"scores": P, "ids": [1, 2, 3, 4, 5, 5]}, r"ids has duplicate ids \['5'\] at rows 5, 6.*row 1 is index 0"),
    ({"scores": P, "ids": [1, 2]}, r"ids has shape \(2,\) but y_true has shape \(6,\)"),
    ({"scores": P, "images": [np.zeros((4, 4), np.uint8)] * 5 + [np.zeros((4, 5), np.uint8)]},
     r"images have mixed sizes: index 0 is 4×4, index 5 is 4×5"),
    ({"scores": P, "images": np.zeros((6, 4, 4))}, r"images has dtype float64; expected uint8"),
    ({"scores": P, "images": np.zeros((6, 4, 4, 2), np.uint8)}, r"images has shape \(6, 4, 4, 2\)"),
    ({"scores": P, "images": np.zeros((5, 4, 4), np.uint8)}, r"images has 5 images but y_true has 6"),
    ({"scores": P, "images": ["a.png", 3, None, "b", "c", "d"]}, r"images mixes \['int', 'path'\]"),
    ({"scores": P, "metadata": {"score_x": range(6)}}, r"metadata columns \['score_x'\] have names evaldash reads"),
    ({"scores": P, "metadata": pd.DataFrame({"m": range(5)})}, r"metadata has 5 rows but y_true has 6"),
])
def test_bad_arrays_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        evaldash.evaluate(Y, **kwargs)


@pytest.mark.parametrize("y_true, match", [
    (np.zeros((2, 2, 2)), r"y_true has shape \(2, 2, 2\); expected \(n,\) \(one label per sample\) or an indicator "
                          r"matrix \(n, k\)"),
    ([0, None, 1], r"y_true has missing values at index 1 \(0-based\)"),
    ([], r"y_true is empty"),
    (3, r"y_true is a single value"),
])
def test_bad_labels_raise_input_error(y_true, match):
    with pytest.raises(InputError, match=match):
        evaldash.evaluate(y_true, np.full((len(y_true) if hasattr(y_true, "__len__") else 1, 2), 0.5))


def test_messages_of_the_file_validation_name_the_arguments():
    with pytest.raises(InputError, match=r"evaluate\(\): scores holds one score per row, which needs exactly two "
                                         r"classes; found 3 in y_true: \['0', '1', '2'\]"):
        evaldash.evaluate([0, 1, 2, 1], np.array([0.1, 0.2, 0.3, 0.4]))
    with pytest.raises(InputError, match=r"ids has missing values at row 2; expected a unique id per row "
                                         r"\(rows count from 1: row 1 is index 0\)"):
        evaldash.evaluate([0, 1, 0, 1], np.array([0.1, 0.2, 0.3, 0.4]), ids=[1, None, 3, 4])
    with pytest.raises(InputError, match=r"y_true has empty values at row 1; expected a class name"):
        evaldash.evaluate([" ", "b", "a", "b"], y_pred=["a", "b", "a", "b"])


def test_bad_tables_raise_the_file_message():
    frame = pd.DataFrame({"label": ["a", "b"], "score_a": [0.5, np.nan], "score_b": [0.5, 0.5]})
    with pytest.raises(InputError, match=r"<DataFrame>: column 'score_a' has missing values at row 2; expected a score"):
        evaldash.evaluate(frame)
    with pytest.raises(InputError, match=r"<Table>: column 'score_a' has missing values at row 2"):
        evaldash.evaluate(pa.Table.from_pandas(frame))
    with pytest.raises(InputError, match=r"a table was given with scores"):
        evaldash.evaluate(frame, np.zeros((2, 2)))
    with pytest.raises(InputError, match=r"no label column"):
        evaldash.evaluate(frame.drop(columns="label"))
    with pytest.raises(InputError, match=r"expected a pandas DataFrame, a pyarrow Table, a Polars DataFrame"):
        evaldash.evaluate({"label": [1]})
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        evaldash.evaluate("nope.csv")


def test_views_refuse_unknown_classes():
    r = evaldash.evaluate(Y, P)
    with pytest.raises(InputError, match=r"no class named 'x'"):
        r.sweep("x")
    with pytest.raises(InputError, match=r"class index 7 out of range; expected 0 to 2"):
        r.cell_samples(7, 0)
    with pytest.raises(InputError, match=r"normalize='all'"):
        r.confusion_matrix("all")
    with pytest.raises(InputError, match=r"threshold metrics need per-class scores"):
        evaldash.evaluate(Y, y_pred=Y).sweep(0)


# --- compare -------------------------------------------------------------------------------------

WEAKER_CSV = DIGITS_CSV.parent / "predictions_weaker.csv"


def test_compare_is_the_clis_compare(capsys):
    from evaldash.cli import main

    assert main(["compare", str(DIGITS_CSV), str(WEAKER_CSV), "--json", "--resamples", "50", "--seed", "3"]) == 0
    want = json.loads(capsys.readouterr().out)
    got = evaldash.compare(DIGITS_CSV, WEAKER_CSV, resamples=50, seed=3)
    assert json.dumps(got.to_dict(), sort_keys=True) == json.dumps(want, sort_keys=True)
    # the same data in memory: the same comparison (only the sources differ)
    in_memory = evaldash.compare(pd.read_csv(DIGITS_CSV, dtype={"id": str}), evaldash.evaluate(WEAKER_CSV),
                                 resamples=50, seed=3)
    assert in_memory.result == got.result
    summary = got.summary()
    assert list(summary.index) == ["accuracy", "macro_f1", "macro_roc_auc", "ece"]
    assert summary.loc["macro_f1", "delta"] == pytest.approx(want["delta"]["macro_f1"])
    assert summary.loc["accuracy", "low"] == pytest.approx(want["intervals"]["accuracy"][0])
    assert got.per_class().loc["3", "delta_f1"] == pytest.approx(want["delta"]["f1[3]"])
    assert got.verdict == want["verdict"] and "B is worse on macro F1" in got._repr_html_()


def test_compare_refuses_few_resamples_and_bad_input():
    with pytest.raises(InputError, match=r"--resamples 5: expected at least 10 resamples"):
        evaldash.compare(DIGITS_CSV, WEAKER_CSV, resamples=5)
    bad = pd.DataFrame({"label": ["a", "b"], "score_a": [0.5, np.nan], "score_b": [0.5, 0.5]})
    with pytest.raises(InputError, match=r"<DataFrame>: column 'score_a' has missing values at row 2"):
        evaldash.compare(DIGITS_CSV, bad)
