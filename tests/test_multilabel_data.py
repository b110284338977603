"""Multi-label input: every form of the truth, scores and predictions, and every refusal."""

import json

import numpy as np
import pandas as pd
import pytest

from evaldash.errors import InputError
from evaldash.multilabel_data import detect_task, load_multilabel, multilabel_from_frame

TRUTH = np.array([[1, 1, 0], [0, 0, 0], [0, 1, 1], [1, 1, 1]], dtype=bool)
CLASSES = ("bird", "cat", "dog")
SCORES = np.array([[0.9, 0.6, 0.1], [0.2, 0.4, 0.7], [0.5, 0.8, 0.3], [0.7, 0.2, 0.9]])


def _sets(matrix=TRUTH):
    return [[c for c, on in zip(CLASSES, row) if on] for row in matrix]


def _frame(**truth):
    frame = pd.DataFrame({"id": ["s1", "s2", "s3", "s4"], **truth})
    for c, name in enumerate(CLASSES):
        frame[f"score_{name}"] = SCORES[:, c]
    return frame


def _check(d):
    assert d.classes == CLASSES
    np.testing.assert_array_equal(d.y_true, TRUTH)
    np.testing.assert_array_equal(d.scores, SCORES)
    assert d.task == "multilabel"


@pytest.mark.parametrize("fmt", ["csv-pipe", "csv-json", "parquet", "jsonl", "csv-indicators", "parquet-indicators"])
def test_every_file_form_gives_the_same_dataset(tmp_path, fmt):
    if fmt == "csv-pipe":
        frame = _frame(labels=["|".join(s) for s in _sets()])
    elif fmt == "csv-json":
        frame = _frame(tags=[json.dumps(s) for s in _sets()])
    elif fmt in ("parquet", "jsonl"):
        frame = _frame(concepts=_sets())
    else:
        frame = _frame(**{f"label_{c}": TRUTH[:, i].astype(int) for i, c in enumerate(CLASSES)})
        if fmt == "parquet-indicators":
            frame = _frame(**{f"label_{c}": TRUTH[:, i] for i, c in enumerate(CLASSES)})
    suffix = {"parquet": ".parquet", "parquet-indicators": ".parquet", "jsonl": ".jsonl"}.get(fmt, ".csv")
    path = tmp_path / f"p{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    d = load_multilabel(path)
    _check(d)
    assert d.y_pred_given is None
    assert list(d.ids) == ["s1", "s2", "s3", "s4"]
    assert list(d.metadata.columns) == []


def test_true_false_indicators_and_a_custom_separator(tmp_path):
    d = multilabel_from_frame(_frame(**{f"label_{c}": np.where(TRUTH[:, i], "true", "False")
                                        for i, c in enumerate(CLASSES)}))
    _check(d)
    path = tmp_path / "p.csv"
    _frame(true_labels=[";".join(s) for s in _sets()]).to_csv(path, index=False)
    _check(load_multilabel(path, label_sep=";"))


def test_predictions_given_as_a_set_or_as_indicators():
    pred = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 0]], dtype=bool)
    d = multilabel_from_frame(_frame(labels=_sets(), predicted_labels=["|".join(s) for s in _sets(pred)]))
    np.testing.assert_array_equal(d.y_pred_given, pred)
    d = multilabel_from_frame(_frame(labels=_sets(), **{f"pred_{c}": pred[:, i].astype(int)
                                                        for i, c in enumerate(CLASSES)}))
    np.testing.assert_array_equal(d.y_pred_given, pred)


def test_predictions_only_take_the_classes_from_labels_and_predictions():
    frame = pd.DataFrame({"labels": ["a|b", "", "c"], "predicted_labels": ["a", "d", ""]})
    d = multilabel_from_frame(frame)
    assert d.classes == ("a", "b", "c", "d") and d.scores is None
    assert d.y_true.sum() == 3 and d.y_pred_given[1, 3]


def test_whole_numbers_spaces_and_duplicates_in_a_label_set():
    frame = pd.DataFrame({"labels": [[1, 2], [], [2, 2]], "score_1": [0.1, 0.2, 0.3], "score_2": [0.4, 0.5, 0.6]})
    d = multilabel_from_frame(frame)
    np.testing.assert_array_equal(d.y_true, [[1, 1], [0, 0], [0, 1]])
    d = multilabel_from_frame(pd.DataFrame({"labels": [" a | b ", "b"], "score_a": [0.1, 0.2], "score_b": [3, -1]}))
    np.testing.assert_array_equal(d.y_true, [[1, 1], [0, 1]])
    assert not d.is_probability and "outside [0, 1]" in d.probability_reason


def test_detection_from_the_truth_columns():
    assert detect_task(["labels", "score_a"]) == "multilabel"
    assert detect_task(["label_a", "label_b", "score_a"]) == "multilabel"
    assert detect_task(["label", "score_a"]) == "single"
    assert detect_task(["label", "label_corrected", "score_a"]) == "single"
    assert detect_task(["label", "score_a"], task="multilabel") == "multilabel"
    assert detect_task(["labels", "score_a"], task="binary") == "single"
    with pytest.raises(InputError, match=r"both a single-label column 'label' and a label-set column 'labels'"):
        detect_task(["label", "labels"], "f.csv")
    with pytest.raises(InputError, match=r"--task 'multi': expected one of multilabel, multiclass, binary"):
        detect_task(["labels"], task="multi")


def test_a_forced_multilabel_task_reads_a_label_column_as_sets():
    d = multilabel_from_frame(pd.DataFrame({"label": ["a|b", "b"], "score_a": [0.1, 0.2], "score_b": [0.3, 0.4]}))
    np.testing.assert_array_equal(d.y_true, [[1, 1], [0, 1]])


def test_a_list_cell_that_is_not_a_list(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"labels": ["a"], "score_a": 0.1}\n{"labels": "a", "score_a": 0.2}\n{"labels": 3, "score_a": 0.3}\n')
    with pytest.raises(InputError, match=r"p\.jsonl: column 'labels' has values that are not lists at rows 2, 3 "
                                         r"\(first: str 'a'\); expected a list of class names per row"):
        load_multilabel(path)


def test_a_bad_json_array_and_a_bad_item():
    with pytest.raises(InputError, match=r"f\.csv: column 'labels' has cells starting with '\[' that are not a JSON "
                                         r"array at row 2 \(first: '\[\"a\"'\)"):
        multilabel_from_frame(pd.DataFrame({"labels": ["a", '["a"', ""], "score_a": [0.1, 0.2, 0.3]}), source="f.csv")
    with pytest.raises(InputError, match=r"column 'labels' has label sets with an empty or non-text class name at "
                                         r"rows 1, 2"):
        multilabel_from_frame(pd.DataFrame({"labels": ['["a", {"x": 1}]', "a||b"], "score_a": [0.1, 0.2]}))


def test_an_indicator_value_of_2():
    frame = _frame(label_bird=[1, 0, 2, 1], label_cat=[1, 0, 1, 1], label_dog=[0, 0, 1, 1])
    with pytest.raises(InputError, match=r"f\.csv: column 'label_bird' has values other than 0 or 1 at row 3 "
                                         r"\(first: '2'\); expected 0 or 1 \(or true/false\) in every row"):
        multilabel_from_frame(frame, source="f.csv")
    frame = _frame(label_bird=["yes", "no", "no", "no"], label_cat=[1, 0, 1, 1], label_dog=[0, 0, 1, 1])
    with pytest.raises(InputError, match=r"column 'label_bird' has values other than 0 or 1 at rows 1, 2, 3, 4"):
        multilabel_from_frame(frame)


def test_a_label_with_no_score_column():
    frame = _frame(labels=["bird|cow", "", "cow", "cat"])
    with pytest.raises(InputError, match=r"f\.csv: column 'labels' \(true labels\) names class \['cow'\] at rows 1, "
                                         r"3 without a score column; expected a score column for every class "
                                         r"\(score_cow missing\)"):
        multilabel_from_frame(frame, source="f.csv")
    frame = _frame(labels=_sets(), predicted_labels=["", "", "", "emu"])
    with pytest.raises(InputError, match=r"column 'predicted_labels' \(predicted labels\) names class \['emu'\] at "
                                         r"row 4 without a score column"):
        multilabel_from_frame(frame)


def test_a_truth_column_in_both_forms_at_once():
    frame = _frame(labels=_sets(), label_bird=[1, 0, 0, 1])
    with pytest.raises(InputError, match=r"f\.csv: the true labels are given twice, as the label-set column 'labels' "
                                         r"and as indicator columns \('label_bird'\); expected one form"):
        multilabel_from_frame(frame, source="f.csv")
    frame = _frame(labels=_sets(), predicted_labels=_sets(), pred_bird=[1, 0, 0, 1])
    with pytest.raises(InputError, match=r"the predictions are given twice, as 'predicted_labels' and as indicator "
                                         r"columns \('pred_bird'\)"):
        multilabel_from_frame(frame)


def test_no_truth_no_scores_no_rows_and_bad_scores():
    with pytest.raises(InputError, match=r"no true labels for a multi-label file; expected a label-set column"):
        multilabel_from_frame(pd.DataFrame({"score_a": [0.1]}))
    with pytest.raises(InputError, match=r"no scores and no predictions; expected score columns named score_<class>"):
        multilabel_from_frame(pd.DataFrame({"labels": ["a"]}))
    with pytest.raises(InputError, match=r"the file has a header but no data rows"):
        multilabel_from_frame(pd.DataFrame({"labels": [], "score_a": []}))
    with pytest.raises(InputError, match=r"column 'score_cat' has missing values at row 2"):
        multilabel_from_frame(_frame(labels=_sets()).assign(score_cat=[0.1, None, 0.3, 0.4]))
    with pytest.raises(InputError, match=r"--label-sep: expected a non-empty separator"):
        multilabel_from_frame(_frame(labels=_sets()), label_sep="")


def test_every_legal_corner_loads():
    # no labels at all in a row, a class that never occurs, never predicted, every label on a row
    frame = pd.DataFrame({"labels": ["", "a|b|c", "a"], "predicted_labels": ["", "a|b|c", ""],
                          "score_a": [0.1, 0.2, 0.3], "score_b": [0.1, 0.2, 0.3], "score_c": [0.0, 0.0, 0.0],
                          "score_d": [0.5, 0.5, 0.5]})
    d = multilabel_from_frame(frame)
    assert d.classes == ("a", "b", "c", "d")
    assert d.y_true[:, 3].sum() == 0 and d.y_true[1].all() == False and d.y_true[1, :3].all()  # noqa: E712
    assert d.is_probability


def test_a_bad_score_in_a_file_is_named(tmp_path):
    path = tmp_path / "p.csv"
    _frame(labels=["|".join(s) for s in _sets()]).assign(score_dog=["0.1", "x", "0.3", "0.4"]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"p\.csv: column 'score_dog' has non-numeric values at row 2 \(first: 'x'\)"):
        load_multilabel(path)
    frame = _frame(labels=_sets())
    multilabel_from_frame(frame)
    assert list(frame.columns) == ["id", "labels", "score_bird", "score_cat", "score_dog"]  # a caller's frame is kept


def test_a_parquet_list_with_a_bad_item_is_named(tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"labels": [["a"], ["a", " "], None], "predicted_labels": [["a"], [], ["a"]],
                  "score_a": [0.1, 0.2, 0.3]}).to_parquet(path)
    with pytest.raises(InputError, match=r"p\.parquet: column 'labels' has label sets with an empty or non-text "
                                         r"class name at row 2"):
        load_multilabel(path)
    pd.DataFrame({"labels": [["a"], [], None], "predicted_labels": [["a"], [], ["a"]],
                  "score_a": [0.1, 0.2, 0.3]}).to_parquet(path)
    d = load_multilabel(path)
    np.testing.assert_array_equal(d.y_true[:, 0], [True, False, False])
    np.testing.assert_array_equal(d.y_pred_given[:, 0], [True, False, True])


def test_corrected_label_sets_add_and_remove_concepts():
    from evaldash.multilabel_data import with_corrected_label_sets

    d = multilabel_from_frame(_frame(labels=_sets()))
    fixed, summary = with_corrected_label_sets(d, {"s2": ["dog"], "s4": ["bird", "cow"], "nobody": ["cat"]})
    assert summary == {"corrected": 2, "added": 1, "removed": 2, "unknown": 1}
    np.testing.assert_array_equal(fixed.y_true[1], [False, False, True])
    np.testing.assert_array_equal(fixed.y_true[3], [True, False, False])
    np.testing.assert_array_equal(d.y_true, TRUTH)  # the original is unchanged
    assert with_corrected_label_sets(d, {}) == (d, {"corrected": 0, "added": 0, "removed": 0, "unknown": 0})


def test_parquet_scores_read_apart_are_checked(tmp_path):
    path = tmp_path / "p.parquet"
    frame = _frame(concepts=_sets())
    frame = frame[["score_dog", "concepts", "score_bird", "id", "score_cat"]]  # any column order
    frame.to_parquet(path)
    d = load_multilabel(path)
    _check(d)
    assert d.scores.flags.f_contiguous
    frame.assign(score_cat=[0.1, None, 0.3, np.inf]).to_parquet(path)
    with pytest.raises(InputError, match=r"p\.parquet: column 'score_cat' has missing or infinite values at rows 2, "
                                         r"4; expected a finite score in every row"):
        load_multilabel(path)
    frame.assign(score_cat=["0.1", "0.2", "x", "0.4"]).to_parquet(path)  # text scores: the general path names them
    with pytest.raises(InputError, match=r"column 'score_cat' has non-numeric values at row 3"):
        load_multilabel(path)
    path.write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"p\.parquet: not a valid Parquet file"):
        load_multilabel(path)
