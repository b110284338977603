"""``evaldash annotations export|import`` on a multi-label file: corrected label SETS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaldash.annotations import AnnotationStore
from evaldash.cli import main, run
from evaldash.errors import InputError
from evaldash.multilabel_corrections import label_set_value
from evaldash.tasks import load_dataset

CONCEPTS = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "concepts.csv"


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_then_export_csv_json_and_predictions_with_labels_corrected(capsys, tmp_path):
    d = load_dataset(CONCEPTS)
    ids = [str(i) for i in d.ids[:3]]
    db, src = tmp_path / "team.db", tmp_path / "made_elsewhere.csv"
    # a set given out of class order and with a repeat is stored as the dashboard stores it
    pd.DataFrame({"sample_id": ids, "tags": ["label error", "", "ambiguous"], "note": ["", "missing prime", ""],
                  "corrected_label": ['["prime", "even", "prime"]', "[]", ""], "annotator": ["ann", "bob", "ann"],
                  "updated_at": ["2026-11-20T10:00:00+00:00", "", ""]}).to_csv(src, index=False)
    code, out, err = _run(capsys, "annotations", "import", CONCEPTS, "--db", db, "--input", src, "--as", "lead")
    assert (code, err) == (0, "") and "imported annotations of 3 samples" in out
    state = AnnotationStore(db).state(d.fingerprint())
    assert state.loc[ids[0], "corrected_label"] == label_set_value(["even", "prime"], d.classes) == '["even", "prime"]'
    assert state.loc[ids[1], "corrected_label"] == "[]" and state.loc[ids[2], "corrected_label"] == ""

    out_csv, out_json = tmp_path / "a.csv", tmp_path / "a.json"
    assert _run(capsys, "annotations", "export", CONCEPTS, "--db", db, "--output", out_csv)[0] == 0
    table = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert list(table["sample_id"]) == ids and list(table["corrected_label"]) == ['["even", "prime"]', "[]", ""]
    assert list(table["original_annotator"]) == ["ann", "bob", "ann"]
    assert _run(capsys, "annotations", "export", CONCEPTS, "--db", db, "--output", out_json)[0] == 0
    data = json.loads(out_json.read_text())
    assert data["dataset"] == d.fingerprint()
    assert [a["corrected_label"] for a in data["annotations"]] == ['["even", "prime"]', "[]", ""]

    # the exported findings import again, into another database, unchanged
    db2 = tmp_path / "other.db"
    for path in (out_csv, out_json):
        assert _run(capsys, "annotations", "import", CONCEPTS, "--db", db2, "--input", path, "--as", "x")[0] == 0
    assert list(AnnotationStore(db2).state(d.fingerprint())["corrected_label"]) == list(state["corrected_label"])

    out_pred = tmp_path / "fixed.predictions.csv"
    code, out, err = _run(capsys, "annotations", "export", CONCEPTS, "--db", db, "--output", out_pred)
    assert code == 0, err
    assert f"wrote {d.n} predictions with labels_corrected (2 corrected)" in out
    frame = pd.read_csv(CONCEPTS, dtype=str, keep_default_na=False)
    fixed = pd.read_csv(out_pred, dtype=str, keep_default_na=False)
    assert list(fixed.columns) == list(frame.columns) + ["labels_corrected"]
    assert fixed.drop(columns="labels_corrected").equals(frame)  # the file itself, spelled as it was
    want = [label_set_value(names, d.classes) for names in d.label_sets()]
    want[0], want[1] = '["even", "prime"]', "[]"
    assert list(fixed["labels_corrected"]) == want
    # it reads back as a multi-label file with the corrected sets
    back = tmp_path / "back.csv"
    fixed.drop(columns=["labels", "image"]).rename(columns={"labels_corrected": "labels"}).to_csv(back, index=False)
    again = load_dataset(back)
    y = d.y_true.copy()
    y[0] = [c in ("even", "prime") for c in d.classes]
    y[1] = False
    assert again.classes == d.classes and np.array_equal(again.y_true, y)


@pytest.mark.parametrize("value, match", [
    ('["even", "vowel"]', r"c\.csv: column 'corrected_label' names 1 concept that is not a class of the predictions "
                          r"file: 'vowel' \(row 2: sample id 'd0001'\); expected sets of its classes: 'closed_loop',"
                          r".*Nothing was imported"),
    ("even", r"c\.csv: row 2, column 'corrected_label' is 'even' \(sample id 'd0001'\); expected a corrected label "
             r"set of the multi-label file as a JSON array of class names"),
    ('{"even": 1}', r"row 2, column 'corrected_label' is '\{\"even\": 1\}'.*expected a corrected label set"),
])
def test_import_refuses_sets_that_name_no_class_and_values_that_are_not_sets(capsys, tmp_path, value, match):
    db, src = tmp_path / "team.db", tmp_path / "c.csv"
    pd.DataFrame({"sample_id": ["d0000", "d0001"], "corrected_label": ['["prime"]', value],
                  "annotator": ["ann", "ann"]}).to_csv(src, index=False)
    with pytest.raises(InputError, match=match):
        run(["annotations", "import", str(CONCEPTS), "--db", str(db), "--input", str(src), "--as", "lead"])
    code, _, err = _run(capsys, "annotations", "import", CONCEPTS, "--db", db, "--input", src, "--as", "lead")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert AnnotationStore(db).state(load_dataset(CONCEPTS).fingerprint()).empty  # nothing imported


def test_several_unknown_concepts_are_each_named_with_their_rows(tmp_path):
    from evaldash.multilabel_corrections import checked_label_sets

    frame = pd.DataFrame({"sample_id": ["a", "b", "c"], "corrected_label": ['["x"]', '["x", "y", "even"]', ""]})
    with pytest.raises(InputError, match=r"f\.csv: column 'corrected_label' names 2 concepts that are not classes of "
                                         r"the predictions file: 'x' \(rows 1, 2: sample ids 'a', 'b'\); 'y' \(row 2"):
        checked_label_sets(frame, ["even", "prime"], "f.csv")


def test_the_sidebar_export_names_the_labels_corrected_column_of_a_multilabel_file(monkeypatch, tmp_path):
    import sys

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(sys, "argv", ["app.py", str(CONCEPTS)])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
        # the files as "Prepare the files" leaves them (AppTest does not run that sidebar click)
        at.session_state["_exports"] = {"fp": load_dataset(CONCEPTS).fingerprint(), "csv": b"", "json": b"",
                                        "predictions": b"", "samples": 0}
        at.run()
        assert not at.exception, at.exception
        [download] = [e for e in at.get("download_button") if e.proto.label.startswith("Predictions with")]
        assert download.proto.label == "Predictions with labels_corrected (CSV)"
    finally:
        st.cache_resource.clear()
