"""evaldash.evaluate, show and compare on multi-label data: every accepted input gives the report
``evaldash report --json`` gives on the same data written as a file; bad arrays are an InputError
naming the argument."""

from __future__ import annotations

import html
import json
import urllib.request

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import evaldash
from evaldash import InputError
from evaldash.api import _plan
from evaldash.cli import main
from evaldash.results import MultilabelResults
from evaldash.tasks import load_dataset

CLASSES = ["bride", "bouquet", "outdoor", "cake"]
N = 60


def _data(seed=0, n=N):
    """y (n, 4) bool, scores (n, 4) with three decimals, ids."""
    rng = np.random.default_rng(seed)
    y = rng.random((n, len(CLASSES))) < 0.35
    y[:, 3] = False  # cake is never labelled: its AUC is undefined (null in the report)
    s = np.round(np.clip(0.5 * y + rng.random(y.shape) * 0.6, 0, 1), 3)
    return y, s, np.array([f"img{i}" for i in range(n)], dtype=object)


def _list_frame(y, s, ids) -> pd.DataFrame:
    frame = pd.DataFrame({"id": ids, "labels": [[c for c, on in zip(CLASSES, row) if on] for row in y]})
    for i, c in enumerate(CLASSES):
        frame[f"score_{c}"] = s[:, i]
    return frame


def _indicator_frame(y, s, ids) -> pd.DataFrame:
    frame = pd.DataFrame({"id": ids})
    for i, c in enumerate(CLASSES):
        frame[f"label_{c}"] = y[:, i].astype(int)
    for i, c in enumerate(CLASSES):
        frame[f"score_{c}"] = s[:, i]
    return frame


def _cli_report(path, capsys, *extra) -> dict:
    """What ``evaldash report PATH --json`` prints, parsed."""
    capsys.readouterr()
    assert main(["report", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def _file(frame: pd.DataFrame, tmp_path, suffix=".parquet"):
    path = tmp_path / f"predictions{suffix}"
    if suffix == ".csv":
        frame = frame.assign(labels=["|".join(v) for v in frame["labels"]]) if "labels" in frame else frame
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("form", ["lists", "indicators"])
@pytest.mark.parametrize("kind", ["pandas", "arrow", "polars"])
def test_tables_give_the_report_of_the_same_file(form, kind, tmp_path, capsys):
    y, s, ids = _data()
    frame = (_list_frame if form == "lists" else _indicator_frame)(y, s, ids)
    want = _cli_report(_file(frame, tmp_path), capsys)
    if kind == "pandas":
        table = frame
    elif kind == "arrow":
        table = pa.Table.from_pandas(frame, preserve_index=False)
    else:
        pl = pytest.importorskip("polars")
        table = pl.from_pandas(frame)
    got = evaldash.evaluate(table)
    assert isinstance(got, MultilabelResults)
    assert got.report() == want


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_path_gives_the_report_of_the_cli(suffix, tmp_path, capsys):
    y, s, ids = _data(seed=1)
    path = _file(_list_frame(y, s, ids), tmp_path, suffix)
    assert evaldash.evaluate(path).report() == _cli_report(path, capsys)
    assert evaldash.evaluate(str(path), threshold=0.3).report() == _cli_report(path, capsys, "--threshold", "0.3")


def test_indicator_arrays_give_the_report_of_the_same_file(tmp_path, capsys):
    y, s, ids = _data(seed=2)
    want = _cli_report(_file(_indicator_frame(y, s, ids), tmp_path), capsys)
    assert evaldash.evaluate(y, s, classes=CLASSES, ids=ids).report() == want
    # 0/1 integers, lists, keyword form: the same
    assert evaldash.evaluate(y_true=y.astype(int).tolist(), scores=s.tolist(), classes=CLASSES,
                             ids=list(ids)).report() == want


def test_indicator_arrays_with_y_pred_and_threshold(tmp_path, capsys):
    y, s, ids = _data(seed=3)
    pred = s >= 0.4
    frame = _indicator_frame(y, s, ids)
    for i, c in enumerate(CLASSES):
        frame[f"pred_{c}"] = pred[:, i].astype(int)
    want = _cli_report(_file(frame, tmp_path), capsys)
    got = evaldash.evaluate(y, s, y_pred=pred.astype(np.int8), classes=CLASSES, ids=ids)
    assert got.report() == want
    order = [CLASSES.index(c) for c in want["classes"]]  # the report's class order (sorted)
    assert want["concept_matrix"] == (y[:, order].T.astype(int) @ pred[:, order].astype(int)).tolist()
    path = _file(_indicator_frame(y, s, ids), tmp_path)
    assert evaldash.evaluate(y, s, classes=CLASSES, ids=ids, threshold=0.7).report() == _cli_report(
        path, capsys, "--threshold", "0.7")


def test_default_class_names_and_ids_metadata_and_images(tmp_path, capsys):
    y, s, _ = _data(seed=4, n=8)
    frame = pd.DataFrame({f"label_{i}": y[:, i].astype(int) for i in range(4)})
    for i in range(4):
        frame[f"score_{i}"] = s[:, i]
    frame["site"] = list("abababab")
    want = _cli_report(_file(frame, tmp_path), capsys)
    pixels = np.zeros((8, 4, 5, 3), dtype=np.uint8)
    got = evaldash.evaluate(y, s, metadata={"site": list("abababab")}, images=pixels)
    assert got.report() == want
    assert got.classes == ["0", "1", "2", "3"]
    assert got.dataset.image_paths is not None and got.dataset.metadata["site"].tolist() == list("abababab")


def test_views(tmp_path):
    y, s, ids = _data(seed=5)
    r = evaldash.evaluate(y, s, classes=CLASSES, ids=ids)
    names = r.classes
    cm = r.confusion_matrix()
    assert list(cm.index) == [*names, "(no label)"] and list(cm.columns) == [*names, "(no prediction)"]
    order = [CLASSES.index(c) for c in names]
    pred = (s >= 0.5)[:, order]
    assert cm.iloc[:-1, :-1].to_numpy().tolist() == (y[:, order].T.astype(int) @ pred.astype(int)).tolist()
    recall = r.confusion_matrix(normalize="true")
    np.testing.assert_allclose(np.diag(recall.to_numpy())[:-1][:2], r.per_class()["recall"].to_numpy()[:2])
    with pytest.raises(InputError, match=r"normalize='pred'.*expected None or 'true'"):
        r.confusion_matrix(normalize="pred")
    table = r.per_class()
    assert list(table.index) == names and table.loc["bride", "support"] == int(y[:, 0].sum())
    sweep = r.sweep("bride")
    assert sweep["threshold"].iloc[0] == np.inf and sweep["tp"].iloc[-1] == int(y[:, 0].sum())
    cell = r.cell_samples("bride", "bride")
    assert len(cell) == cm.loc["bride", "bride"]
    assert all("bride" in t and "bride" in p for t, p in zip(cell["true"], cell["predicted"]))
    assert list(cell["id"]) == list(ids[cell.index])
    nothing = r.cell_samples("(no label)", "(no prediction)")
    assert len(nothing) == cm.loc["(no label)", "(no prediction)"]
    assert set(r.figures()) == {"confusion_matrix", "roc", "precision_recall"}


def test_repr_html_escapes_class_names():
    y, s, _ = _data(seed=6, n=20)
    page = evaldash.evaluate(y, s, classes=["<b>x</b>", "a&b", "c", "d"])._repr_html_()
    assert "<b>x</b>" not in page and html.escape("<b>x</b>") in page and "a&amp;b" in page
    assert "subset accuracy" in page


@pytest.mark.parametrize("kwargs, message", [
    ({"scores": np.zeros((N, 3))}, r"scores has shape \(60, 3\) but y_true has shape \(60, 4\)"),
    ({"scores": np.zeros((N + 1, 4))}, r"scores has 61 rows but y_true has 60 labels"),
    ({"scores": "nan"}, r"scores has NaN at index 7 \(0-based\)"),
    ({"y_true": "two"}, r"y_true has values other than 0 and 1 at index 3 \(0-based; first: 2 in column 1\); "
                        r"expected an indicator matrix of 0/1 or bool"),
    ({"y_pred": np.full((N, 4), 0.5)}, r"y_pred has values other than 0 and 1 at indexes 0, 1, 2, 3, 4 and 55 more"),
    ({"y_pred": np.zeros((N, 3), dtype=bool)}, r"y_pred has shape \(60, 3\) but y_true has shape \(60, 4\)"),
    ({"classes": ["a", "b"]}, r"classes has 2 names but y_true has 4 columns"),
    ({"classes": ["a", "b", "a", "c"]}, r"classes names \['a'\] more than once"),
    ({"ids": ["x"] * N}, r"evaluate\(\): ids has duplicate ids \['x'\] at rows 1, 2"),
    ({"positive": "a"}, r"positive='a' given with multi-label y_true; a multi-label model has no positive class"),
    ({"metadata": {"label_x": [0] * N}}, r"metadata columns \['label_x'\] have names evaldash reads as multi-label"),
    ({"scores": None}, r"no scores and no y_pred; expected scores of shape \(60, 4\)"),
])
def test_bad_arrays_name_the_argument(kwargs, message):
    y, s, _ = _data()
    args = {"y_true": y, "scores": s, **kwargs}
    if isinstance(args["scores"], str):
        args["scores"] = s.copy()
        args["scores"][7, 2] = np.nan
    if isinstance(args["y_true"], str):
        args["y_true"] = y.astype(int)
        args["y_true"][3, 1] = 2
    with pytest.raises(InputError, match=message):
        evaldash.evaluate(**args)


def test_a_bad_table_is_refused_as_the_file_is(tmp_path):
    y, s, ids = _data()
    frame = _list_frame(y, s, ids)
    frame.loc[4, "score_cake"] = np.nan
    with pytest.raises(InputError, match=r"<DataFrame>: column 'score_cake'"):
        evaldash.evaluate(frame)
    with pytest.raises(InputError, match=r"positive='cake': a multi-label table has no positive class"):
        evaldash.evaluate(_list_frame(y, s, ids), positive="cake")


def test_show_writes_label_lists_and_indicators_that_round_trip(tmp_path):
    """The Parquet file show() writes for the server loads as the same multi-label dataset."""
    y, s, ids = _data(seed=7)
    for data, scores, kwargs in [(_list_frame(y, s, ids), None, {}),
                                 (_indicator_frame(y, s, ids), None, {}),
                                 (y, s, {"classes": CLASSES, "ids": ids})]:
        run, write = _plan(data, None, scores, kwargs, tmp_path)
        write()
        loaded = load_dataset(run.path)
        want = evaldash.evaluate(data, scores, **kwargs)
        assert loaded.task == "multilabel" and loaded.fingerprint() == run._fingerprint == want.dataset.fingerprint()
        assert evaldash.evaluate(run.path).report() == want.report()
    # a results object (and the dataset alone) is written too
    results = evaldash.evaluate(y, s, classes=CLASSES, ids=ids)
    for data in (results, results.dataset, results.evaluation):
        run, write = _plan(data, "r", None, {}, tmp_path)
        write()
        assert load_dataset(run.path).fingerprint() == results.dataset.fingerprint() == run.fingerprint


def test_show_opens_the_server_on_multilabel_data(tmp_path):
    y, s, ids = _data(seed=8)
    handle = evaldash.show(y, s, classes=CLASSES, ids=ids, db=str(tmp_path / "findings.db"))
    try:
        with urllib.request.urlopen(handle.url, timeout=10) as answer:
            assert answer.status == 200
        assert handle.findings().empty
    finally:
        handle.stop()


def test_compare_two_multilabel_inputs_is_the_cli_compare(tmp_path, capsys):
    y, s, ids = _data(seed=9)
    better = np.round(np.clip(s + 0.2 * (y - 0.5), 0, 1), 3)
    a_path = _file(_list_frame(y, s, ids), tmp_path)
    b_path = tmp_path / "b.parquet"
    _list_frame(y, better, ids).to_parquet(b_path, index=False)
    capsys.readouterr()
    assert main(["compare", str(a_path), str(b_path), "--json", "--resamples", "200"]) == 0
    want = json.loads(capsys.readouterr().out)
    # A as a table, B as arrays: the same data as the files
    got = evaldash.compare(_list_frame(y, s, ids), evaldash.evaluate(y, better, classes=CLASSES, ids=ids),
                           resamples=200)
    assert got.to_dict() == want
    assert got.result["paired"] and list(got.summary().index) == [
        "subset_accuracy", "hamming_loss", "samples_f1", "macro_f1", "micro_f1", "macro_roc_auc"]
    assert list(got.per_class().index) == sorted(CLASSES)
    assert "samples F1" in got.verdict
    with pytest.raises(InputError, match=r"A is multi-label and B is single-label; expected two runs of the same task"):
        evaldash.compare(a_path, evaldash.evaluate(np.array([0, 1, 1]), np.array([0.2, 0.7, 0.4])))

