"""The shapes users write: a list of scores per row (Parquet list, JSON Lines array, JSON array text in
CSV/TSV), tab-separated files and labels as class indices. Each shape's ``report --json`` is compared
with the same data written in the ``score_<class>`` form: identical."""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaldash import cli
from evaldash.dataset import load_predictions
from evaldash.errors import InputError
from evaldash.score_lists import sidecar_path

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["cat", "dog", "bird"]  # the model's class order (index 0 = cat): not alphabetical on purpose


def problem(n: int = 80, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Labels as indices, shape (n,), and softmax probabilities, shape (n, 3), rounded to 6 decimals."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(NAMES), n)
    logits = rng.normal(0, 1.2, (n, len(NAMES)))
    logits[np.arange(n), y] += 1.0
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, np.round(p, 6)


def score_form(folder: Path, y, p, names=NAMES, name: str = "reference.csv") -> Path:
    """The data in the score_<class> form with class names as labels."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(len(y))], "label": np.asarray(names, dtype=object)[y]})
    for j, c in enumerate(names):
        frame[f"score_{c}"] = p[:, j]
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def list_frame(y, p, column: str, labels: str) -> pd.DataFrame:
    """``labels``: "names" or "indices"."""
    label = np.asarray(NAMES, dtype=object)[y] if labels == "names" else y
    return pd.DataFrame({"id": [f"s{i}" for i in range(len(y))], "label": label, column: list(p.tolist())})


def write(frame: pd.DataFrame, path: Path, column: str) -> Path:
    """Write ``frame`` as users do: a Parquet list column, JSON arrays in JSON Lines, JSON array text in
    CSV/TSV (gzip for .gz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif ".jsonl" in name:
        text = "".join(json.dumps(r) + "\n" for r in frame.to_dict(orient="records"))
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    else:
        sep = "\t" if ".tsv" in name else ","
        out = frame.assign(**{column: frame[column].map(json.dumps)})
        text = out.to_csv(index=False, sep=sep)
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    return path


def report(capsys, *args: str) -> dict:
    assert cli.main(["report", *map(str, args), "--json"]) == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    out.pop("source")
    return out


SHAPES = [("preds.parquet", "probs"), ("preds.jsonl", "scores"), ("preds.jsonl.gz", "logits"),
          ("preds.csv", "proba"), ("preds.csv.gz", "probs"), ("preds.tsv", "probs"), ("preds.tsv.gz", "scores")]


@pytest.mark.parametrize("labels", ["names", "indices"])
@pytest.mark.parametrize("name, column", SHAPES)
def test_a_list_of_scores_with_classes_reports_as_the_score_columns(name, column, labels, tmp_path, capsys):
    y, p = problem()
    expected = report(capsys, score_form(tmp_path / "ref", y, p))
    path = write(list_frame(y, p, column, labels), tmp_path / "lists" / name, column)
    assert report(capsys, path, "--classes", ",".join(NAMES)) == expected


@pytest.mark.parametrize("name, column", SHAPES)
def test_class_names_from_the_sidecar(name, column, tmp_path, capsys):
    y, p = problem(seed=5)
    expected = report(capsys, score_form(tmp_path / "ref", y, p))
    path = write(list_frame(y, p, column, "indices"), tmp_path / "lists" / name, column)
    side = path.parent / "preds.classes.json"
    assert sidecar_path(path) == side
    side.write_text(json.dumps({"classes": NAMES, "model": "resnet18"}))
    assert report(capsys, path) == expected


def test_classes_given_win_over_the_sidecar(tmp_path, capsys):
    y, p = problem()
    expected = report(capsys, score_form(tmp_path / "ref", y, p))
    path = write(list_frame(y, p, "probs", "indices"), tmp_path / "lists" / "preds.parquet", "probs")
    sidecar_path(path).write_text(json.dumps({"classes": ["x", "y", "z"]}))
    assert report(capsys, path, "--classes", ",".join(NAMES)) == expected


@pytest.mark.parametrize("name, column", SHAPES)
def test_without_class_names_the_classes_are_0_to_k_minus_1_with_a_warning(name, column, tmp_path, capsys):
    y, p = problem(seed=9)
    expected = report(capsys, score_form(tmp_path / "ref", y, p, names=["0", "1", "2"]))
    path = write(list_frame(y, p, column, "indices"), tmp_path / "lists" / name, column)
    got = report(capsys, path)
    warnings = got.pop("warnings")
    assert expected.pop("warnings") == []
    assert got == expected
    assert len(warnings) == 1
    assert (f"column {column!r} holds 3 scores per row and no class names were given, so the classes are "
            f"named by position, 0 to 2; name them with --classes") in warnings[0]
    assert "preds.classes.json" in warnings[0]


def test_a_list_of_scores_keeps_given_predictions(tmp_path, capsys):
    y, p = problem()
    pred = (y + (np.arange(len(y)) % 4 == 0)) % 3  # every fourth prediction wrong, not the argmax
    ref = pd.read_csv(score_form(tmp_path / "ref", y, p))
    ref.insert(2, "prediction", np.asarray(NAMES, dtype=object)[pred])
    ref.to_csv(tmp_path / "ref" / "reference.csv", index=False)
    expected = report(capsys, tmp_path / "ref" / "reference.csv")
    frame = list_frame(y, p, "probs", "indices")
    frame.insert(2, "prediction", pred)
    path = write(frame, tmp_path / "lists" / "preds.parquet", "probs")
    assert report(capsys, path, "--classes", ",".join(NAMES)) == expected


def test_index_labels_against_named_score_columns_with_classes(tmp_path, capsys):
    y, p = problem()
    expected = report(capsys, score_form(tmp_path / "ref", y, p))
    frame = pd.read_csv(tmp_path / "ref" / "reference.csv")
    frame["label"] = y
    frame.to_csv(tmp_path / "indices.csv", index=False)
    assert report(capsys, tmp_path / "indices.csv", "--classes", ",".join(NAMES)) == expected


def test_a_binary_list_of_two_scores(tmp_path, capsys):
    y, p = problem()
    y2 = (y == 0).astype(int)
    p2 = np.column_stack([1 - p[:, 0], p[:, 0]])
    expected = report(capsys, score_form(tmp_path / "ref", y2, p2, names=["other", "cat"]))
    path = write(list_frame(y2, p2, "probs", "indices"), tmp_path / "lists" / "preds.parquet", "probs")
    assert report(capsys, path, "--classes", "other,cat") == expected


def test_a_tsv_with_score_columns_reads_like_csv(tmp_path, capsys):
    y, p = problem()
    ref = score_form(tmp_path / "ref", y, p)
    expected = report(capsys, ref)
    frame = pd.read_csv(ref)
    frame.to_csv(tmp_path / "preds.tsv", sep="\t", index=False)
    (tmp_path / "preds.tsv.gz").write_bytes(gzip.compress((tmp_path / "preds.tsv").read_bytes()))
    assert report(capsys, tmp_path / "preds.tsv") == expected
    assert report(capsys, tmp_path / "preds.tsv.gz") == expected


def test_a_list_of_three_scores_in_proba_is_not_one_score_per_row(tmp_path):
    # it was refused with "column 'proba' holds one score per row, which needs exactly two classes"
    y, p = problem()
    path = write(list_frame(y, p, "proba", "names"), tmp_path / "preds.parquet", "proba")
    d = load_predictions(path, classes=NAMES)
    assert d.classes == ("bird", "cat", "dog") and d.scores.shape == (len(y), 3)
    np.testing.assert_array_equal(d.scores[:, [1, 2, 0]], p)


def test_other_list_columns_are_left_out_with_a_warning(tmp_path):
    y, p = problem()
    frame = list_frame(y, p, "probs", "indices")
    frame["logits"] = list(np.log(p).tolist())
    path = write(frame, tmp_path / "preds.parquet", "probs")
    d = load_predictions(path, classes=NAMES)
    assert "logits" not in d.metadata.columns and d.is_probability
    assert any("the list column ['logits'] was not used" in w for w in d.warnings)


# --- errors -------------------------------------------------------------------------------------------

def lists_file(tmp_path: Path, cells: list, name: str = "bad.jsonl", labels=None) -> Path:
    labels = labels if labels is not None else [i % 3 for i in range(len(cells))]
    frame = pd.DataFrame({"label": labels, "probs": cells})
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict(orient="records")))
    else:
        frame.to_csv(path, index=False)
    return path


def test_rows_of_different_lengths_are_named(tmp_path):
    cells = [[0.2, 0.3, 0.5]] * 8
    cells[3] = [0.5, 0.5]
    cells[6] = [0.1, 0.1, 0.1, 0.7]
    path = lists_file(tmp_path, cells)
    with pytest.raises(InputError, match=r"column 'probs' holds lists of different lengths: 3 scores in most rows, "
                                         r"but 2 at row 4; 4 at row 7; expected the same number of scores"):
        load_predictions(path, classes=NAMES)


def test_rows_of_different_lengths_in_csv_text(tmp_path):
    path = lists_file(tmp_path, ["[0.2, 0.8]", "[0.1, 0.9]", "[0.3, 0.3, 0.4]", "[]"], name="bad.csv")
    with pytest.raises(InputError, match=r"lists of different lengths: 2 scores in most rows, but "
                                         r"(3 at row 3; 0 at row 4|0 at row 4; 3 at row 3)"):
        load_predictions(path)


def test_as_many_classes_as_scores(tmp_path):
    path = lists_file(tmp_path, [[0.2, 0.3, 0.5]] * 3)
    with pytest.raises(InputError, match=r"column 'probs' holds 3 scores per row but --classes names 2 classes "
                                         r"\['cat', 'dog'\]; expected one name per score"):
        load_predictions(path, classes="cat,dog")
    sidecar_path(path).write_text(json.dumps({"classes": ["a", "b", "c", "d"]}))
    with pytest.raises(InputError, match=r"holds 3 scores per row but .*bad\.classes\.json names 4 classes"):
        load_predictions(path)


@pytest.mark.parametrize("cells, message", [
    ([[0.2, 0.8], None, [0.1, 0.9]], r"column 'probs' has missing values at row 2; expected a list of scores"),
    ([[0.2, 0.8], [0.1, "high"]], r"column 'probs' has lists holding something other than numbers at row 2 "
                                  r"\(first: \"\[0.1, 'high'\]\"\)"),
    ([[0.2, 0.8], [{"label": "cat", "score": 0.9}, {"label": "dog", "score": 0.1}]],
     r"has lists holding something other than numbers at row 2"),
    ([[0.2, 0.8], [[0.1], [0.9]]], r"has lists holding something other than numbers at row 2"),
    ([[0.2, 0.8], 0.4], r"column 'probs' holds single values at row 2 and lists elsewhere"),
    ([[0.5], [0.5]], r"column 'probs' holds lists of 1 score; expected one score per class, at least two"),
])
def test_bad_lists_in_json_lines(cells, message, tmp_path):
    with pytest.raises(InputError, match=message):
        load_predictions(lists_file(tmp_path, cells))


@pytest.mark.parametrize("cells, message", [
    (["[0.2, 0.8]", "0.4"], r"column 'probs' has values that are not lists at row 2 \(first: '0.4'\); "
                            r"expected a JSON array of scores"),
    (["[0.2, 0.8]", "[0.1, null]"], r"has lists holding something other than numbers at row 2"),
    (["[0.2, 0.8]", "[0.1, inf]"], r"column 'probs' has missing or infinite scores at row 2"),
    (["[0.2, 0.8]", "[0.1, NaN]"], r"column 'probs' has missing or infinite scores at row 2"),
    (["[0.2, 0.8]", None], r"column 'probs' has missing values at row 2"),
])
def test_bad_lists_in_csv(cells, message, tmp_path):
    with pytest.raises(InputError, match=message):
        load_predictions(lists_file(tmp_path, cells, name="bad.csv", labels=[0, 1]))


def test_a_list_and_score_columns_together_are_refused(tmp_path):
    path = tmp_path / "both.jsonl"
    path.write_text(json.dumps({"label": 0, "probs": [0.2, 0.8], "score_a": 0.3}) + "\n")
    with pytest.raises(InputError, match=r"both a list of scores per row \(column 'probs'\) and score columns "
                                         r"\['score_a'\]; expected one of the two forms"):
        load_predictions(path)


def test_index_labels_against_named_score_columns_say_how_to_fix(tmp_path):
    y, p = problem()
    frame = pd.read_csv(score_form(tmp_path, y, p))
    frame["label"] = y
    frame.to_csv(tmp_path / "indices.csv", index=False)
    with pytest.raises(InputError, match=r"column 'label' has values \['0', '1', '2'\] .* score columns exist for "
                                         r"\['bird', 'cat', 'dog'\]\. The values look like class indices 0\.\.2: "
                                         r"name them with --classes NAME0,NAME1,\.\.\. \(the name of class 0 first, "
                                         r"e\.g\. --classes bird,cat,dog in the order the model numbers its "
                                         r"classes\), or write the class names in 'label'"):
        load_predictions(tmp_path / "indices.csv")


def test_named_labels_against_scores_named_by_position_say_how_to_fix(tmp_path):
    y, p = problem()
    path = write(list_frame(y, p, "probs", "names"), tmp_path / "preds.parquet", "probs")
    with pytest.raises(InputError, match=r"score columns exist for \['0', '1', '2'\]\. The scores are named by "
                                         r"position, 0 to 2: give their class names with --classes NAME0,NAME1,"
                                         r"\.\.\. \(the name of score 0 first\) or in a sidecar preds\.classes\.json"):
        load_predictions(path)


def test_a_class_index_beyond_the_classes_is_named(tmp_path):
    path = lists_file(tmp_path, [[0.2, 0.3, 0.5]] * 4, labels=[0, 1, 5, 2])
    with pytest.raises(InputError, match=r"column 'label' holds class index 5 at row 3, but --classes names 3 "
                                         r"classes \(indices 0 to 2\)"):
        load_predictions(path, classes=NAMES)


@pytest.mark.parametrize("given, message", [
    ("cat", r"--classes: 1 class name given; expected at least two"),
    ("cat,,dog", r"--classes: empty class name at position 1 \(0 is the first\)"),
    ("cat,dog,cat", r"--classes: class name \['cat'\] given twice"),
])
def test_bad_classes_option(given, message, tmp_path):
    with pytest.raises(InputError, match=message):
        load_predictions(lists_file(tmp_path, [[0.2, 0.3, 0.5]] * 3), classes=given)


@pytest.mark.parametrize("content, message", [
    ("{not json", r"bad\.classes\.json: cannot read the class names \(JSONDecodeError"),
    ('{"names": ["a", "b", "c"]}', r"bad\.classes\.json: no \"classes\" key"),
    ('{"classes": "a,b,c"}', r"expected a list of class names"),
    ('{"classes": ["a", "b", "a"]}', r"class name \['a'\] given twice"),
])
def test_bad_sidecar(content, message, tmp_path):
    path = lists_file(tmp_path, [[0.2, 0.3, 0.5]] * 3)
    sidecar_path(path).write_text(content)
    with pytest.raises(InputError, match=message):
        load_predictions(path)


def test_classes_not_used_is_said(tmp_path):
    y, p = problem()
    d = load_predictions(score_form(tmp_path, y, p), classes=NAMES)
    assert d.warnings == (f"{tmp_path / 'reference.csv'}: --classes was not used: the file has no list of "
                          f"scores and no labels written as class indices",)


# --- TSV: the CSV rules -------------------------------------------------------------------------------

def test_tsv_duplicate_header_names_are_refused(tmp_path):
    path = tmp_path / "dup.tsv"
    path.write_text("label\tscore_a\tscore_a\na\t0.2\t0.8\n")
    with pytest.raises(InputError, match=r"duplicate column name in the header: 'score_a' at columns 2, 3"):
        load_predictions(path)


def test_tsv_ragged_rows_are_refused(tmp_path):
    path = tmp_path / "ragged.tsv"
    path.write_text("label\tscore_a\tscore_b\na\t0.2\t0.8\nb\t0.6\nb\t0.6\t0.4\t1\n")
    with pytest.raises(InputError, match=r"rows with a different number of fields than the header's 3: fewer "
                                         r"fields at row 2; more fields at row 3 .* expected 3 tab-separated fields"):
        load_predictions(path)


def test_a_comma_separated_file_named_tsv_is_refused(tmp_path):
    path = tmp_path / "commas.tsv"
    path.write_text("label,score_a,score_b\na,0.2,0.8\n")
    with pytest.raises(InputError, match=r"the file seems to be comma-separated, expected tab-separated values"):
        load_predictions(path)


def test_a_tab_at_the_end_of_every_tsv_row_is_ignored_with_a_warning(tmp_path):
    path = tmp_path / "trailing.tsv"
    path.write_text("label\tscore_a\tscore_b\na\t0.2\t0.8\t\nb\t0.6\t0.4\t\n")
    d = load_predictions(path)
    assert d.n == 2 and any("every data row ends with a tab" in w for w in d.warnings)


def test_tsv_keeps_label_spelling(tmp_path):
    path = tmp_path / "spelled.tsv"
    path.write_text("label\tprediction\n007\t007\n07\t007\n")
    assert load_predictions(path).classes == ("007", "07")  # two classes: read as text, as written


# --- --classes on every command ------------------------------------------------------------------------

@pytest.fixture
def indexed(tmp_path) -> Path:
    y, p = problem()
    return write(list_frame(y, p, "probs", "indices"), tmp_path / "preds.parquet", "probs")


def test_check_takes_classes(indexed, capsys):
    assert cli.main(["check", str(indexed), "--classes", ",".join(NAMES), "--min", "recall[bird]=0"]) == 0
    assert "recall[bird]" in capsys.readouterr().out


def test_check_baseline_takes_classes(indexed, capsys):
    assert cli.main(["check", str(indexed), "--classes", ",".join(NAMES), "--baseline", str(indexed),
                     "--max-drop", "macro_f1=0"]) == 0
    assert "a drop of 0.0000" in capsys.readouterr().out


def test_compare_takes_classes(indexed, capsys):
    assert cli.main(["compare", str(indexed), str(indexed), "--classes", ",".join(NAMES), "--json",
                     "--resamples", "10"]) == 0
    assert json.loads(capsys.readouterr().out)["shared_classes"] == ["bird", "cat", "dog"]


def test_serve_checks_and_passes_classes(indexed, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: started.append(cmd))
    assert cli.main(["serve", str(indexed), "--classes", ",".join(NAMES)]) == 0
    app_args = started[0][started[0].index("--") + 1:]
    assert app_args[:3] == [str(indexed), "--classes", ",".join(NAMES)]
    assert cli.main(["serve", str(indexed), "--classes", "cat,dog"]) == 2
    assert "holds 3 scores per row but --classes names 2 classes" in capsys.readouterr().err


def test_the_app_takes_classes_after_the_double_dash(indexed, monkeypatch, tmp_path):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(sys, "argv", ["app.py", str(indexed), "--classes", ",".join(NAMES)])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not at.exception, at.exception
        assert not at.error
        assert at.sidebar.caption[0].value.startswith(f"{80} samples · 3 classes")
        shown = at.dataframe[0].value
        assert list(shown["class"]) == ["bird", "cat", "dog"]
    finally:
        st.cache_resource.clear()


# --- Parquet list columns (read in Arrow) ---------------------------------------------------------------

def parquet_lists(tmp_path: Path, probs, type_=None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"label": pa.array([i % 2 for i in range(len(probs))]),
                             "probs": pa.array(probs, type=type_)}), path)
    return path


def test_parquet_rows_of_different_lengths_are_named(tmp_path):
    path = parquet_lists(tmp_path, [[0.2, 0.8], [0.1, 0.9], [0.3, 0.3, 0.4], [0.5, 0.5]])
    with pytest.raises(InputError, match=r"column 'probs' holds lists of different lengths: 2 scores in most rows, "
                                         r"but 3 at row 3; expected the same number"):
        load_predictions(path)


@pytest.mark.parametrize("probs, type_, message", [
    ([[0.2, 0.8], None], None, r"column 'probs' has missing values at row 2"),
    ([[0.2, 0.8], [0.1, None]], None, r"column 'probs' has missing or infinite scores at row 2"),
    ([["0.2", "0.8"], ["a", "b"]], None, r"column 'probs' has lists holding something other than numbers at rows 1, 2"),
])
def test_bad_parquet_lists(probs, type_, message, tmp_path):
    with pytest.raises(InputError, match=message):
        load_predictions(parquet_lists(tmp_path, probs, type_))


def test_parquet_fixed_size_and_integer_lists(tmp_path):
    import pyarrow as pa

    fixed = load_predictions(parquet_lists(tmp_path, [[0.2, 0.8], [0.9, 0.1]], pa.list_(pa.float32(), 2)),
                             classes="no,yes")
    assert fixed.classes == ("no", "yes")
    np.testing.assert_allclose(fixed.scores, [[0.2, 0.8], [0.9, 0.1]], rtol=1e-6)
    counts = load_predictions(parquet_lists(tmp_path, [[1, 3], [4, 0]], pa.list_(pa.int64())), classes="no,yes")
    np.testing.assert_array_equal(counts.scores, [[1.0, 3.0], [4.0, 0.0]])
