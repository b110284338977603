"""The loader: every supported format, column aliases, class naming, and every bad input.

Every error path checks that the :class:`InputError` message starts with the file name
and names the column and rows at fault.
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaldash import InputError, dataset_from_frame, load_predictions

NAMED = pd.DataFrame({
    "id": ["a1", "a2", "a3", "a4", "a5"],
    "label": ["cat", "dog", "bird", "cat", "dog"],
    "prediction": ["cat", "cat", "bird", "dog", "dog"],
    "score_bird": [0.1, 0.2, 0.7, 0.2, 0.0],
    "score_cat": [0.6, 0.5, 0.2, 0.3, 0.25],
    "score_dog": [0.3, 0.3, 0.1, 0.5, 0.75],
    "ink": [0.5, 0.25, 0.125, 1.0, 0.0],
    "stroke": ["thin", "thick", "thin", "medium", "thick"],
})
NUMBERED = pd.DataFrame({
    "id": [11, 12, 13, 14],
    "label": [0, 10, 2, 10],
    "score_0": [0.8, 0.1, 0.2, 0.3],
    "score_10": [0.1, 0.8, 0.3, 0.4],
    "score_2": [0.1, 0.1, 0.5, 0.3],
})

WRITERS = {
    "csv": lambda df, p: df.to_csv(p, index=False),
    "csv.gz": lambda df, p: df.to_csv(p, index=False),  # compression from the suffix
    "parquet": lambda df, p: df.to_parquet(p, index=False),
    "pq": lambda df, p: df.to_parquet(p, index=False),
    "jsonl": lambda df, p: df.to_json(p, orient="records", lines=True),
    "jsonl.gz": lambda df, p: df.to_json(p, orient="records", lines=True),
    "ndjson": lambda df, p: df.to_json(p, orient="records", lines=True),
}


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def csv_file(tmp_path: Path, text: str, name: str = "preds.csv") -> Path:
    return write(tmp_path / name, text)


def message(path: Path, pattern: str) -> str:
    """A ``match=`` pattern: the message starts with the file name, then ``pattern``."""
    return rf"(?s)^{re.escape(str(path))}: .*{pattern}"


# --- formats --------------------------------------------------------------------------

@pytest.mark.parametrize("ext", list(WRITERS))
def test_every_format_loads_the_same_named_data(tmp_path, ext):
    path = tmp_path / f"preds.{ext}"
    WRITERS[ext](NAMED, path)
    d = load_predictions(path)

    assert d.source == str(path) and d.name == f"preds.{ext}"
    assert d.classes == ("bird", "cat", "dog")  # not numbers: string order
    np.testing.assert_array_equal(d.y_true, [1, 2, 0, 1, 2])
    np.testing.assert_array_equal(d.y_pred, [1, 1, 0, 2, 2])
    np.testing.assert_allclose(d.scores, NAMED[["score_bird", "score_cat", "score_dog"]].to_numpy())
    assert d.ids.tolist() == NAMED["id"].tolist()
    assert d.prediction_given and d.is_probability and d.probability_reason == ""
    assert d.positive is None and d.warnings == ()
    assert d.metadata.columns.tolist() == ["ink", "stroke"]
    assert d.metadata["ink"].tolist() == NAMED["ink"].tolist()
    assert d.metadata["stroke"].tolist() == NAMED["stroke"].tolist()


@pytest.mark.parametrize("ext", list(WRITERS))
def test_every_format_loads_the_same_numbered_data(tmp_path, ext):
    """Integer labels (text in CSV, numbers in Parquet/JSON) all match ``score_<n>``."""
    path = tmp_path / f"preds.{ext}"
    WRITERS[ext](NUMBERED, path)
    d = load_predictions(path)
    assert d.classes == ("0", "2", "10")  # numeric order, 2 < 10
    np.testing.assert_array_equal(d.y_true, [0, 2, 1, 2])
    np.testing.assert_array_equal(d.y_pred, [0, 2, 1, 2])  # argmax of the scores
    np.testing.assert_allclose(d.scores[:, 2], NUMBERED["score_10"])
    assert d.ids.tolist() == ["11", "12", "13", "14"]
    assert not d.prediction_given and d.metadata.shape == (4, 0)


def test_loaded_dataset_is_read_only(tmp_path):
    path = tmp_path / "preds.csv"
    NAMED.to_csv(path, index=False)
    d = load_predictions(path)
    for arr in (d.y_true, d.y_pred, d.scores):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = arr[1]
    # ids stay Arrow strings (cheap at millions of rows); the frozen Dataset cannot swap them
    assert str(d.ids.dtype).startswith("str")
    with pytest.raises(AttributeError):
        d.ids = d.ids


def test_bundled_samples_load(digits_csv, binary_csv):
    digits = load_predictions(digits_csv)
    assert digits.classes == tuple(str(i) for i in range(10))
    assert digits.n == 899 and digits.is_probability and digits.warnings == ()
    assert digits.image_paths is not None and all(p is not None for p in digits.image_paths)
    binary = load_predictions(binary_csv)
    assert binary.classes == ("other", "three") and binary.positive == 1
    assert int((binary.y_true == 1).sum()) == 92


# --- column aliases -----------------------------------------------------------------

@pytest.mark.parametrize("label_name", ["label", "y_true", "target", "ground_truth", "true_label",
                                        "Label", " TARGET "])
@pytest.mark.parametrize("prefix", ["score_", "prob_", "proba_", "Prob_"])
def test_label_and_score_aliases(tmp_path, label_name, prefix):
    frame = pd.DataFrame({label_name: ["x", "y", "y"], f"{prefix}x": [0.9, 0.4, 0.2],
                          f"{prefix}y": [0.1, 0.6, 0.8]})
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    d = load_predictions(path)
    assert d.classes == ("x", "y")
    np.testing.assert_array_equal(d.y_true, [0, 1, 1])
    np.testing.assert_array_equal(d.y_pred, [0, 1, 1])
    assert d.metadata.shape[1] == 0  # every column was recognised


@pytest.mark.parametrize("pred_name", ["prediction", "y_pred", "pred", "predicted_label"])
@pytest.mark.parametrize("image_name", ["image", "image_path", "filepath", "path"])
def test_prediction_and_image_aliases(tmp_path, pred_name, image_name):
    (tmp_path / "img").mkdir()
    write(tmp_path / "img" / "one.png", b"png")
    frame = pd.DataFrame({"y_true": ["x", "y"], pred_name: ["y", "y"],
                          image_name: ["img/one.png", "img/one.png"]})
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    d = load_predictions(path)
    np.testing.assert_array_equal(d.y_pred, [1, 1])
    assert d.prediction_given and not d.has_scores
    assert d.image_paths.tolist() == [os.path.realpath(tmp_path / "img" / "one.png")] * 2


def test_per_class_scores_win_over_a_single_score_column(tmp_path):
    path = csv_file(tmp_path, "label,score,score_a,score_b\na,0.3,0.7,0.3\nb,0.9,0.2,0.8\n")
    d = load_predictions(path)
    np.testing.assert_allclose(d.scores, [[0.7, 0.3], [0.2, 0.8]])
    assert d.metadata.columns.tolist() == ["score"]


# --- class names ---------------------------------------------------------------------

def test_numeric_labels_match_score_columns_as_text(tmp_path):
    path = csv_file(tmp_path, "label,score_3,score_12\n3,0.9,0.1\n12,0.2,0.8\n3,0.4,0.6\n")
    d = load_predictions(path)
    assert d.classes == ("3", "12")
    np.testing.assert_array_equal(d.y_true, [0, 1, 0])
    assert d.class_index("12") == 1 and d.class_index(3) == 0


def test_integral_float_labels_in_json_match_score_columns(tmp_path):
    path = write(tmp_path / "preds.jsonl",
                 '{"label": 3.0, "score_3": 0.9, "score_4": 0.1}\n'
                 '{"label": 4.0, "score_3": 0.2, "score_4": 0.8}\n')
    d = load_predictions(path)
    assert d.classes == ("3", "4")
    np.testing.assert_array_equal(d.y_true, [0, 1])


def test_labels_keep_their_spelling_in_csv(tmp_path):
    path = csv_file(tmp_path, "id,label,score_007,score_7\n001,007,0.9,0.1\n002,7,0.4,0.6\n")
    d = load_predictions(path)
    assert d.classes == ("007", "7")  # two different classes, not both the number 7
    np.testing.assert_array_equal(d.y_true, [0, 1])
    assert d.ids.tolist() == ["001", "002"]


@pytest.mark.parametrize("names, expected", [
    (["2", "10", "1"], ("1", "2", "10")),  # all numbers: numeric order
    (["2.5", "-1", "10"], ("-1", "2.5", "10")),
    (["2", "10", "cat"], ("10", "2", "cat")),  # one non-number: string order
    (["b", "B", "a"], ("B", "a", "b")),
])
def test_class_order(tmp_path, names, expected):
    header = "label," + ",".join(f"score_{n}" for n in names)
    rows = [f"{n}," + ",".join("1" if m == n else "0" for m in names) for n in names]
    d = load_predictions(csv_file(tmp_path, "\n".join([header, *rows]) + "\n"))
    assert d.classes == expected
    # each row's label is its own argmax, whatever the order
    np.testing.assert_array_equal(d.y_true, d.y_pred)
    assert [d.classes[i] for i in d.y_true] == names


def test_class_names_with_comma_and_markup_round_trip_through_csv(tmp_path):
    frame = pd.DataFrame({"label": ["naïve, grape", "<b>bold</b>", "naïve, grape"],
                          "score_naïve, grape": [0.7, 0.1, 0.4],
                          "score_<b>bold</b>": [0.3, 0.9, 0.6]})
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)  # quotes the header and the values holding a comma
    assert '"score_naïve, grape"' in path.read_text(encoding="utf-8")
    d = load_predictions(path)
    assert d.classes == ("<b>bold</b>", "naïve, grape")  # stored as given, never escaped
    np.testing.assert_array_equal(d.y_true, [1, 0, 1])
    np.testing.assert_array_equal(d.y_pred, [1, 0, 0])
    assert d.frame()["true"].tolist() == ["naïve, grape", "<b>bold</b>", "naïve, grape"]


@pytest.mark.parametrize("name", ["None", "NA", "null", "N/A", "nan", "NULL", "#N/A"])
@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_class_names_that_pandas_would_read_as_missing(tmp_path, name, ext):
    """'None', 'NA', ... are class names in text columns, in every format; only an empty
    field is missing there. Numeric columns keep pandas' usual missing-value markers."""
    frame = pd.DataFrame({"id": [name, "x"], "label": [name, "other"], "prediction": ["other", name],
                          f"score_{name}": [0.6, 0.3], "score_other": [0.4, 0.7]})
    path = tmp_path / f"preds.{ext}"
    WRITERS[ext](frame, path)
    d = load_predictions(path)
    assert set(d.classes) == {name, "other"}
    assert [d.classes[i] for i in d.y_true] == [name, "other"]
    assert [d.classes[i] for i in d.y_pred] == ["other", name]
    assert d.ids.tolist() == [name, "x"]


def test_na_in_a_score_column_is_still_missing(tmp_path):
    path = csv_file(tmp_path, "label,score_a,score_b,ink\na,NA,0.4,n/a\nb,0.3,0.7,NaN\n")
    with pytest.raises(InputError, match=message(path, "column 'score_a' has missing values at row 1")):
        load_predictions(path)


def test_na_in_a_numeric_metadata_column_is_missing(tmp_path):
    d = load_predictions(csv_file(tmp_path, "label,score_a,score_b,ink\na,0.6,0.4,NA\nb,0.3,0.7,0.5\n"))
    assert d.metadata["ink"].dtype == np.float64
    assert np.isnan(d.metadata["ink"][0]) and d.metadata["ink"][1] == 0.5


def test_utf8_bom_is_ignored(tmp_path):
    path = write(tmp_path / "preds.csv", "\ufefflabel,score_a,score_b\na,0.6,0.4\n".encode("utf-8"))
    assert load_predictions(path).classes == ("a", "b")


@pytest.mark.parametrize("row, expected", [
    ("0.4,0.4,0.2", "a"),  # tie between a and b: the first class
    ("0.2,0.4,0.4", "b"),
    ("0.3,0.3,0.3", "a"),
])
def test_argmax_ties_go_to_the_first_class(tmp_path, row, expected):
    d = load_predictions(csv_file(tmp_path, f"label,score_a,score_b,score_c\nc,{row}\n"))
    assert d.classes[d.y_pred[0]] == expected


# --- binary files with one score column ---------------------------------------------

BINARY = "label,score\nother,0.2\nthree,0.7\nother,0.6\nthree,0.1\n"


def test_single_score_column_defaults_to_the_second_class_as_positive(tmp_path):
    d = load_predictions(csv_file(tmp_path, BINARY))
    assert d.classes == ("other", "three") and d.positive == 1 and d.is_binary
    np.testing.assert_allclose(d.scores[:, 1], [0.2, 0.7, 0.6, 0.1])
    np.testing.assert_allclose(d.scores[:, 0], [0.8, 0.3, 0.4, 0.9])
    np.testing.assert_array_equal(d.y_pred, [0, 1, 1, 0])
    assert d.is_probability


def test_single_score_column_with_an_explicit_positive(tmp_path):
    d = load_predictions(csv_file(tmp_path, BINARY), positive="other")
    assert d.classes == ("other", "three") and d.positive == 0
    np.testing.assert_allclose(d.scores[:, 0], [0.2, 0.7, 0.6, 0.1])
    np.testing.assert_allclose(d.scores[:, 1], [0.8, 0.3, 0.4, 0.9])
    np.testing.assert_array_equal(d.y_pred, [1, 0, 0, 1])


def test_single_score_column_with_one_class_and_a_named_positive(tmp_path):
    d = load_predictions(csv_file(tmp_path, "label,score\nother,0.2\nother,0.9\n"),
                         positive="three")
    assert d.classes == ("other", "three") and d.positive == 1
    np.testing.assert_array_equal(d.y_true, [0, 0])
    np.testing.assert_array_equal(d.y_pred, [0, 1])


def test_single_score_column_of_logits(tmp_path):
    d = load_predictions(csv_file(tmp_path, "label,score\nno,-2.5\nyes,1.5\nno,0.5\n"))
    np.testing.assert_allclose(d.scores, [[2.5, -2.5], [-1.5, 1.5], [-0.5, 0.5]])
    np.testing.assert_array_equal(d.y_pred, [0, 1, 1])
    assert not d.is_probability
    assert "negative values at rows 1, 2, 3" in d.probability_reason


def test_positive_of_a_multiclass_file(tmp_path):
    path = tmp_path / "preds.csv"
    NAMED.to_csv(path, index=False)
    assert load_predictions(path, positive="dog").positive == 2


# --- predictions only, probabilities, logits -------------------------------------------

def test_predictions_only_file(tmp_path):
    d = load_predictions(csv_file(tmp_path, "label,prediction\na,b\nb,b\nc,a\n"))
    assert d.classes == ("a", "b", "c")  # labels and predictions together
    assert not d.has_scores and d.scores is None
    assert not d.is_probability and d.probability_reason == "the file has no scores"
    np.testing.assert_array_equal(d.y_pred, [1, 1, 0])
    assert np.isnan(d.confidence()).all()


def test_prediction_of_a_class_only_predicted(tmp_path):
    d = load_predictions(csv_file(tmp_path, "label,prediction\na,z\n"))
    assert d.classes == ("a", "z")
    np.testing.assert_array_equal(d.y_true, [0])
    np.testing.assert_array_equal(d.y_pred, [1])


@pytest.mark.parametrize("rows, is_probability, reason", [
    (["0.2,0.8", "1,0", "0.5,0.5"], True, ""),
    (["0.2,0.8", "0.5,0.5004"], True, ""),  # within the 1e-3 tolerance
    (["0.2,0.8", "0.5,0.7"], False, r"do not sum to 1 within 0\.001 \(row 2; row 2 sums to 1\.2\)"),
    (["0.2,0.8", "0.5,-0.5", "-1,2"], False, "negative values at rows 2, 3"),
    (["2.5,-1", "0.3,4.0"], False, "negative values at row 1"),  # logits
])
def test_probability_check(tmp_path, rows, is_probability, reason):
    text = "label,score_a,score_b\n" + "".join(f"a,{r}\n" for r in rows)
    d = load_predictions(csv_file(tmp_path, text))
    assert d.is_probability is is_probability
    if reason:
        assert re.search(reason, d.probability_reason), d.probability_reason
        assert d.probability_reason.startswith("scores are not probabilities")
    else:
        assert d.probability_reason == ""


def test_logits_are_accepted(tmp_path):
    d = load_predictions(csv_file(
        tmp_path, "label,score_a,score_b,score_c\na,3.2,-1.0,0.5\nc,-0.1,-2.0,7.5\n"))
    np.testing.assert_array_equal(d.y_pred, [0, 2])
    np.testing.assert_allclose(d.confidence(), [3.2, 7.5])
    assert not d.is_probability


# --- bad input: one case per way a file can be wrong ---------------------------------

PARQUET_MAGIC = b"PAR1"
BAD_FILES = {
    # id: (file name, content, pattern after "<path>: ")
    "empty file": ("preds.csv", "", "the file is empty"),
    "only blank lines": ("preds.csv", "\n\n  \n", "the file is empty"),
    "header only": ("preds.csv", "id,label,score_a,score_b\n", "header but no data rows"),
    "no label column": (
        "preds.csv", "id,truth,score_a\n1,a,0.3\n",
        re.escape("no label column; expected one of ['label', 'y_true', 'target', "
                  "'ground_truth', 'true_label'], found columns ['id', 'truth', 'score_a']")),
    "non-numeric score": (
        "preds.csv", "label,score_a,score_b\na,0.1,0.9\nb,0.2,0.8\nb,0.2,abc\n",
        re.escape("column 'score_b' has non-numeric values at row 3 (first: 'abc')")),
    "missing score": (
        "preds.csv", "label,score_a,score_b\na,0.1,0.9\nb,,0.8\nb,0.2,0.8\nb,,0.8\n",
        re.escape("column 'score_a' has missing values at rows 2, 4; expected a score")),
    "infinite score": (
        "preds.csv", "label,score_a,score_b\na,0.1,inf\n",
        re.escape("column 'score_b' has infinite values at row 1")),
    "missing label": (
        "preds.csv", "label,score_a,score_b\na,0.1,0.9\n,0.2,0.8\n",
        re.escape("column 'label' has missing values at row 2; expected a class name")),
    "blank label": (
        "preds.csv", "label,score_a,score_b\na,0.1,0.9\n  ,0.2,0.8\n",
        re.escape("column 'label' has empty values at row 2")),
    "label without a score column": (
        "preds.csv", "label,score_a,score_b\na,0.1,0.9\nb,0.2,0.8\nc,0.5,0.5\n",
        re.escape("column 'label' has value ['c'] at row 3 that has no score column; "
                  "expected a score column (score_c missing)")),
    "prediction without a score column": (
        "preds.csv", "label,prediction,prob_a,prob_b\na,a,0.1,0.9\nb,zz,0.2,0.8\n",
        re.escape("column 'prediction' has value ['zz'] at row 2 that has no score column")
        + ".*" + re.escape("prob_zz missing")),
    "duplicate ids": (
        "preds.csv", "id,label,score_a,score_b\nx,a,0.1,0.9\ny,b,0.2,0.8\nx,a,0.5,0.5\n",
        re.escape("column 'id' has duplicate ids ['x'] at rows 1, 3; expected each id once")),
    "missing id": (
        "preds.csv", "id,label,score_a,score_b\nx,a,0.1,0.9\n,b,0.2,0.8\n",
        re.escape("column 'id' has missing values at row 2")),
    "no scores and no predictions": (
        "preds.csv", "label,notes\na,hello\n",
        re.escape("no scores and no prediction column; expected score columns named score_<class>")),
    "single score with three classes": (
        "preds.csv", "label,score\na,0.1\nb,0.2\nc,0.3\n",
        re.escape("column 'score' holds one score per row, which needs exactly two classes; "
                  "found 3 in 'label'")),
    "single score with one class": (
        "preds.csv", "label,score\na,0.1\na,0.2\n",
        re.escape("found 1 in 'label': ['a'] (name the other class with --positive)")),
    "ragged rows": (
        "preds.csv", "label,score_a,score_b\na,0.5,0.5\nb,0.5,0.5,9,9\n",
        re.escape("rows with a different number of fields than the header's 3: more fields at row 2 "
                  "(row 1 is the first data row); expected 3 comma-separated fields in every row")),
    "short rows": (
        "preds.csv", "label,score_a,score_b\na,0.5\nb,0.5,0.5\n",
        re.escape("rows with a different number of fields than the header's 3: fewer fields at row 1 ")),
    "duplicate score column": (
        "preds.csv", "label,score_a,score_b,score_a\na,0.5,0.5,0.5\n",
        re.escape("duplicate column name in the header: 'score_a' at columns 2, 4; expected each column once")),
    "duplicate columns in gzip": (
        "preds.csv.gz", gzip.compress(b"label,x,score_a,x,score_a,score_b\na,1,0.5,2,0.5,0.5\n"),
        re.escape("duplicate column names in the header: 'score_a' at columns 3, 5; 'x' at columns 2, 4")),
    "lone score prefix": (
        "preds.csv", "label,prob_,score_a\na,0.5,0.5\n",
        re.escape("column 'prob_' has no class name after 'prob_'; expected prob_<class>")),
    "truncated JSON Lines": (
        "preds.jsonl",
        '{"label": "a", "score_a": 0.1, "score_b": 0.9}\n'
        '{"label": "b", "score_a": 0.2, "score_b": 0.8}\n{"label": "a", "sco',
        r"line 3 is not valid JSON .*is the file truncated\?"),
    "JSON Lines holding an array": (
        "preds.jsonl", '{"label": "a", "score_a": 1}\n[1, 2]\n',
        "line 2 holds a JSON list, expected an object"),
    "empty JSON Lines": ("preds.jsonl", "\n", "the file is empty; expected one JSON object per line"),
    "corrupt Parquet": ("preds.parquet", PARQUET_MAGIC + b"\x00garbage" + PARQUET_MAGIC,
                        "not a valid Parquet file"),
    "binary file as CSV": ("preds.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
                           "this is a binary file, expected CSV text"),
    "gzip that is not gzip": ("preds.csv.gz", "label,score_a\na,1\n", "cannot read the file"),
    "not UTF-8": ("preds.csv", "label,score_a,score_b\ncaf\xe9,0.1,0.9\n".encode("latin-1"),
                  r"not UTF-8 text \(byte 25\)"),
    "semicolon delimiter": (
        "preds.csv", "label;score_a;score_b\na;0.1;0.9\n",
        re.escape("the header has a single column 'label;score_a;score_b'; the file seems to be "
                  "semicolon-separated, expected comma-separated values")),
    "tab delimiter": ("preds.csv", "label\tscore_a\na\t1\n", "seems to be tab-separated"),
    "unsupported extension": ("preds.xlsx", "label,score_a\na,1\n",
                              r"unsupported file type; expected one of \.csv, \.csv\.gz, \.parquet"),
    "no extension": ("preds", "label,score_a\na,1\n", "unsupported file type"),
}


@pytest.mark.parametrize("name, content, pattern", BAD_FILES.values(), ids=list(BAD_FILES))
def test_bad_input_is_an_input_error_naming_the_file(tmp_path, name, content, pattern):
    path = write(tmp_path / name, content)
    with pytest.raises(InputError, match=message(path, pattern)):
        load_predictions(path)


def test_truncated_parquet(tmp_path):
    path = tmp_path / "preds.parquet"
    NAMED.to_parquet(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=message(path, "not a valid Parquet file")):
        load_predictions(path)


def test_truncated_gzip_csv(tmp_path):
    path = tmp_path / "preds.csv.gz"
    NAMED.to_csv(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 12])
    with pytest.raises(InputError, match=message(path, "cannot read the file")):
        load_predictions(path)


def test_non_numeric_score_in_parquet_names_the_row(tmp_path):
    path = tmp_path / "preds.parquet"
    pd.DataFrame({"label": ["a", "b"], "score_a": ["0.3", "high"],
                  "score_b": [0.7, 0.2]}).to_parquet(path)
    with pytest.raises(InputError, match=message(
            path, re.escape("column 'score_a' has non-numeric values at row 2 (first: 'high')"))):
        load_predictions(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(InputError, match=message(path, "file not found")):
        load_predictions(path)


@pytest.mark.parametrize("name, pattern", [
    ("folder.csv", r"cannot read the file \(\[Errno 21\] Is a directory"),  # found by the text check
    ("folder.parquet", "is a folder, expected a predictions file"),
    ("folder.jsonl", "is a folder, expected a predictions file"),
])
def test_folder_instead_of_file(tmp_path, name, pattern):
    path = tmp_path / name
    path.mkdir()
    with pytest.raises(InputError, match=message(path, pattern)):
        load_predictions(path)


def test_positive_that_is_not_a_class(tmp_path):
    path = tmp_path / "preds.csv"
    NAMED.to_csv(path, index=False)
    with pytest.raises(InputError, match=message(
            path, re.escape("--positive 'fish' is not a class; classes are ['bird', 'cat', 'dog']"))):
        load_predictions(path, positive="fish")


def test_class_index_of_an_unknown_class(tmp_path):
    path = tmp_path / "preds.csv"
    NAMED.to_csv(path, index=False)
    with pytest.raises(InputError, match=message(path, "no class named 'fish'")):
        load_predictions(path).class_index("fish")


def test_duplicate_column_names_in_a_frame():
    frame = pd.DataFrame([["a", 0.1, 0.9]], columns=["label", "score_a", "score_a"])
    with pytest.raises(InputError, match=re.escape("<t>: duplicate column names ['score_a']")):
        dataset_from_frame(frame, source="<t>")


def test_empty_frame():
    with pytest.raises(InputError, match="<t>: the file is empty"):
        dataset_from_frame(pd.DataFrame(), source="<t>")


def test_many_bad_rows_are_counted_not_all_listed(tmp_path):
    rows = "".join(f"a,{'' if i % 2 else 0.5},0.5\n" for i in range(20))
    path = csv_file(tmp_path, "label,score_a,score_b\n" + rows)
    with pytest.raises(InputError, match=message(
            path, re.escape("missing values at rows 2, 4, 6, 8, 10 and 5 more"))):
        load_predictions(path)


# --- image paths ---------------------------------------------------------------------

@pytest.fixture
def image_tree(tmp_path):
    """data/preds.csv with images under data/images, and a file outside data/."""
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    write(data / "images" / "a.png", b"png a")
    write(data / "images" / "b.png", b"png b")
    write(tmp_path / "outside" / "secret.png", b"secret")
    os.symlink(tmp_path / "outside" / "secret.png", data / "images" / "escape.png")
    os.symlink("a.png", data / "images" / "alias.png")  # stays inside: allowed
    return tmp_path


IMAGE_ROWS = [
    ("images/a.png", "images/a.png"),
    ("images/nothing.png", None),  # missing
    ("../../etc/passwd", None),  # refused: climbs out of the root
    ("images/escape.png", None),  # refused: a symlink to a file outside the root
    ("/etc/passwd", None),  # refused: absolute path outside the root
    ("", None),  # no image: no warning
    ("images/alias.png", "images/a.png"),
    ("images/../images/b.png", "images/b.png"),
]


def write_image_csv(tree: Path) -> Path:
    frame = pd.DataFrame({
        "label": ["a", "b"] * 4,
        "score_a": np.linspace(0.1, 0.8, 8), "score_b": 1 - np.linspace(0.1, 0.8, 8),
        "image": [raw for raw, _ in IMAGE_ROWS],
    })
    path = tree / "data" / "preds.csv"
    frame.to_csv(path, index=False)
    return path


def test_image_paths_resolve_inside_the_file_folder(image_tree, monkeypatch):
    path = write_image_csv(image_tree)
    monkeypatch.chdir(image_tree / "outside")  # relative paths follow the file, not the cwd
    d = load_predictions(path)

    data = os.path.realpath(image_tree / "data")
    expected = [None if want is None else os.path.join(data, want) for _, want in IMAGE_ROWS]
    assert d.image_paths.tolist() == expected
    assert d.images_root == data
    assert d.warnings == (
        f"{path}: column 'image': 3 image paths refused: the path resolves outside the allowed "
        f"images root {data} (rows 3, 4, 5)",
        f"{path}: column 'image': 1 image path missing: no such file (row 2)",
        f"{path}: column 'image': No image for 4 of 7 samples: 3 lead outside the images root {data}, 1 not "
        f"found (for example images/nothing.png). To show them, set the images root to a folder that holds "
        f"them: --images-root DIR.",
    )
    # the rest still loads
    assert d.n == len(IMAGE_ROWS)
    np.testing.assert_array_equal(d.y_true, [0, 1] * 4)
    # in the frame a refused or missing image is pandas' missing value (NaN under pandas 3)
    shown = d.frame()["image"]
    assert shown.isna().tolist() == [p is None for p in expected]
    assert shown.dropna().tolist() == [p for p in expected if p is not None]


def test_a_wider_images_root_allows_more(image_tree):
    path = write_image_csv(image_tree)
    d = load_predictions(path, images_root=image_tree)
    assert d.image_paths[3] == os.path.realpath(image_tree / "outside" / "secret.png")
    assert d.image_paths[2] is None and d.image_paths[4] is None  # still outside
    assert d.warnings[0].endswith("(rows 3, 5)")


def test_an_unusable_image_is_reported(image_tree):
    if os.geteuid() == 0:
        # root reads any file, so use another unusable path: a folder is not an image file
        (image_tree / "data" / "images" / "dir.png").mkdir()
        raw, expect = "images/dir.png", "image path missing: no such file (row 1)"
    else:
        os.chmod(image_tree / "data" / "images" / "b.png", 0)
        raw, expect = "images/b.png", "image path unreadable: permission denied (row 1)"
    path = csv_file(image_tree / "data", f"label,score_a,score_b,image\na,0.5,0.5,{raw}\n")
    d = load_predictions(path)
    assert d.image_paths.tolist() == [None]
    assert len(d.warnings) == 2 and d.warnings[0].endswith(expect)
    assert "No image for 1 of 1 samples" in d.warnings[1]


@pytest.mark.parametrize("values", [
    ["a", "b", "c"], ["ab", "ab"], ["a\x00", "a"], ["x" * 10] * 2, [f"s{i:08d}" for i in range(1000)],
    [f"s{i}" for i in range(1000)] + ["s5"], [], ["y" * 64, "y" * 63 + "z", "y" * 64], ["é1", "é2", "é1"],
    ["z" * 70, "z" * 70],
])
@pytest.mark.parametrize("clash", [False, True])
def test_id_distinctness_check_agrees_with_pandas(values, clash, monkeypatch):
    """The fast fixed-width id check equals pandas' ``is_unique``, also when every hash clashes."""
    from evaldash import dataset as dataset_module

    if clash:
        monkeypatch.setattr(dataset_module, "_HASH_MULTIPLIERS", (0,) * 8)
    ids = pd.Series(values, dtype="string[pyarrow]")
    assert dataset_module._all_distinct(ids.array) == ids.is_unique
