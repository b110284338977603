"""Real files that crashed or were misread (issue 13): each gives a clear InputError or loads
as documented, and every page that filters or slices works on awkward metadata.

The files come from :mod:`hostile_files`. Page tests drive the app with Streamlit's AppTest.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from sklearn.metrics import f1_score
from streamlit.testing.v1 import AppTest

import evaldash
from evaldash import InputError, load_predictions
from evaldash.error_analysis import filter_mask, metadata_filters
from evaldash.metadata import MISSING, value_text
from evaldash.slices import slice_labels, slice_rows, slice_table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_files as hf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 60
FORMATS = ["csv", "csv.gz", "parquet", "jsonl"]
METADATA = ["site", "batch", "captured", "flagged", "brightness", "count", "empty"]


# --- loading: a clear InputError, or a documented reading --------------------------

def test_empty_metadata_cell_loads_and_filters(tmp_path):
    d = load_predictions(hf.write_empty_metadata_cell(tmp_path))
    [(column, how, options)] = metadata_filters(d)
    assert (column, how, options) == ("source", "values", [MISSING, "x", "y"])
    assert filter_mask(d, metadata={"source": [MISSING]}).tolist() == [False, True, False, False]
    assert filter_mask(d, metadata={"source": ["x"]}).tolist() == [True, False, False, True]


@pytest.mark.parametrize("gz", [False, True])
def test_a_repeated_csv_column_is_refused_not_renamed(gz, tmp_path):
    path = hf.write_duplicate_scores(tmp_path, gz=gz)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: duplicate column name in the header: "
                                         r"'score_a' at columns 2, 4; expected each column once$"):
        load_predictions(path)


def test_list_labels_in_parquet_are_refused(tmp_path):
    path = hf.write_list_labels_parquet(tmp_path)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: column 'label' holds lists at rows 1, 2, 3; "
                                         r"expected one class name per row \(a single-label file\)$"):
        load_predictions(path)


def test_object_labels_in_json_lines_are_refused(tmp_path):
    path = hf.write_object_labels_jsonl(tmp_path)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: column 'label' holds objects at row 2; "
                                         r"expected one class name per row"):
        load_predictions(path)


def test_lists_in_score_and_image_columns_are_refused(tmp_path):
    frame = pd.DataFrame({"label": ["a", "b"], "score": [[0.2], 0.7]})
    with pytest.raises(InputError, match=r"^t: column 'score' holds lists at row 1; expected a number$"):
        evaldash.dataset_from_frame(frame, source="t")
    frame = pd.DataFrame({"label": ["a", "b"], "prediction": ["a", "a"], "image": ["x.png", {"p": 1}]})
    with pytest.raises(InputError, match=r"^t: column 'image' holds objects at row 2; expected one image path"):
        evaldash.dataset_from_frame(frame, source="t", images_root=tmp_path)


def test_deeply_nested_json_is_refused(tmp_path):
    path = hf.write_deep_jsonl(tmp_path)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: line 2 nests JSON arrays or objects too "
                                         r"deeply to read; expected one flat JSON object per line"):
        load_predictions(path)


def test_nul_byte_in_an_image_path_is_refused(tmp_path):
    path = hf.write_nul_image_path(tmp_path)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: column 'image' has image paths with a NUL "
                                         r"byte at row 3; expected a file path"):
        load_predictions(path)


def test_class_names_in_nfc_and_nfd_are_one_class_named_in_nfc(tmp_path):
    path = hf.write_nfc_nfd(tmp_path)
    d = load_predictions(path)
    assert d.classes == (hf.CAFE_NFC, "tea")
    assert d.y_true.tolist() == [0, 0, 1, 0] and d.y_pred.tolist() == [0, 0, 1, 1]
    [warning] = d.warnings
    assert warning.startswith(f"{path}: class names not in Unicode NFC were normalised to NFC")
    assert "'label'" in warning and "'prediction'" in warning
    # macro F1 over one café class, as on the file written all in NFC
    nfc = [unicodedata.normalize("NFC", v) for v in pd.read_csv(path)["label"]]
    pred = [unicodedata.normalize("NFC", v) for v in pd.read_csv(path)["prediction"]]
    assert evaldash.evaluate(d).headline()["macro_f1"] == pytest.approx(f1_score(nfc, pred, average="macro"))


def test_score_columns_that_differ_only_by_normalisation_are_refused():
    frame = pd.DataFrame({"label": [hf.CAFE_NFC], f"score_{hf.CAFE_NFC}": [0.5], f"score_{hf.CAFE_NFD}": [0.5]})
    nfc, nfd = f"score_{hf.CAFE_NFC}", f"score_{hf.CAFE_NFD}"
    with pytest.raises(InputError, match=re.escape(
            f"t: columns {nfc!r} and {nfd!r} (written 'score_caf\\xe9' and 'score_cafe\\u0301') are scores of "
            f"the same class {hf.CAFE_NFC!r} (the names differ only in Unicode normalisation")):
        evaldash.dataset_from_frame(frame, source="t")


@pytest.mark.parametrize("gz", [False, True])
def test_ragged_rows_are_refused_by_row(gz, tmp_path):
    path = hf.write_ragged(tmp_path, gz=gz)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: rows with a different number of fields than "
                                         r"the header's 3: fewer fields at row 4; more fields at row 2 \(row 1 is "
                                         r"the first data row\); expected 3 comma-separated fields in every row"):
        load_predictions(path)


def test_many_short_rows_are_counted(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("label,prediction,site\n" + "a,a\n" * 8 + "b,b,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"fewer fields at rows 1, 2, 3, 4, 5 and 3 more \(row 1"):
        load_predictions(path)


def test_a_quoted_comma_or_newline_is_not_a_ragged_row(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('label,prediction,note\na,a,"one, two"\nb,b,"line\nbreak"\n', encoding="utf-8")
    d = load_predictions(path)
    assert d.metadata["note"].tolist() == ["one, two", "line\nbreak"] and not d.warnings


def test_every_row_one_field_longer_no_longer_shifts_labels_into_the_index(tmp_path):
    # pandas took the first column as the index: labels were read from the prediction column
    path = tmp_path / "shifted.csv"
    path.write_text("label,prediction\na,b,x\nb,a,y\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"more fields at rows 1, 2"):
        load_predictions(path)


@pytest.mark.parametrize("header_too", [False, True])
def test_a_trailing_comma_on_every_line_is_ignored_with_a_warning(header_too, tmp_path):
    path = hf.write_trailing_comma(tmp_path, header_too=header_too)
    d = load_predictions(path)
    assert d.classes == ("a", "b") and d.y_true.tolist() == [0, 1, 0, 1] and d.y_pred.tolist() == [0, 1, 1, 0]
    assert d.scores[:, 1].tolist() == [0.9, 0.2, 0.4, 0.7]
    assert list(d.metadata.columns) == []
    [warning] = d.warnings
    assert warning.startswith(f"{path}: every {'line' if header_too else 'data row'} ends with a comma")


def test_a_lone_score_prefix_is_refused(tmp_path):
    path = hf.write_lone_score_prefix(tmp_path)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: column 'score_' has no class name after "
                                         r"'score_'; expected score_<class>"):
        load_predictions(path)


# --- filters and slices on awkward metadata -------------------------------------

@pytest.fixture(scope="module", params=FORMATS)
def awkward(request, tmp_path_factory):
    path = hf.write_awkward(tmp_path_factory.mktemp(request.param.replace(".", "_")), request.param)
    return load_predictions(path)


def test_awkward_metadata_offers_filters_that_match_the_rows(awkward):
    d = awkward
    truth = hf.awkward_frame()
    filters = {column: (how, payload) for column, how, payload in metadata_filters(d)}
    assert {"site", "batch", "captured", "flagged", "count"} <= set(filters)
    assert filters["site"] == ("values", [MISSING, "east", "north", "south"])
    assert filters["flagged"] == ("values", [MISSING, "False", "True"])
    for column, (how, payload) in filters.items():
        if how == "values":
            for option in payload:
                mask = filter_mask(d, metadata={column: [option]})
                assert mask.sum() >= 1, (column, option)
            # every row matches exactly one option
            assert sum(filter_mask(d, metadata={column: [o]}).sum() for o in payload) == d.n
    site = truth["site"].isna().to_numpy()
    assert filter_mask(d, metadata={"site": [MISSING]}).tolist() == site.tolist()
    if d.metadata["brightness"].dtype.kind == "f":  # JSON Lines: "inf" as text makes it a text column
        low, high = filters["brightness"][1]
        finite = truth["brightness"].to_numpy()
        finite = finite[np.isfinite(finite)]
        assert (low, high) == (finite.min(), finite.max())
        mask = filter_mask(d, metadata={"brightness": (low, high)})
        assert mask.tolist() == np.isfinite(truth["brightness"].to_numpy()).tolist()


@pytest.mark.parametrize("column", METADATA)
def test_awkward_metadata_slices_cover_every_row_once(awkward, column):
    d = awkward
    if column not in d.metadata.columns:  # JSON Lines: a key missing from every record is no column
        assert column == "empty" and d.source.endswith(".jsonl")
        return
    labels = slice_labels(d, column)
    table = slice_table(d, column, resamples=50)
    assert table["n"].sum() == d.n
    assert set(table["slice"]) == set(labels)
    for value in table["slice"]:
        rows = slice_rows(d, column, value)
        assert rows.size == int(table.loc[table["slice"] == value, "n"].iloc[0])
    missing = hf.awkward_frame()[column].isna().to_numpy()
    if missing.any():
        assert np.flatnonzero(labels == MISSING).tolist() == np.flatnonzero(missing).tolist()


def test_numeric_bins_leave_out_missing_and_infinite_values(awkward):
    d = awkward
    if d.metadata["brightness"].dtype.kind != "f":
        assert value_text(d.metadata["brightness"]).iloc[20] == "inf"
        return
    labels = slice_labels(d, "brightness")
    x = hf.awkward_frame()["brightness"].to_numpy()
    assert labels.iloc[20] == "inf" and (labels[np.isnan(x)] == MISSING).all()
    finite = np.isfinite(x)
    cut = pd.qcut(x[finite], 4, duplicates="drop", precision=3)
    # pandas' names, each edge read as a decimal (pandas names the first bin "(0.034999999999999996, 0.38]")
    assert labels[finite].tolist() == [n.replace("0.034999999999999996", "0.035") for n in cut.astype(str)]


@pytest.mark.parametrize("writer", [hf.write_exotic_parquet, hf.write_nested_metadata_jsonl])
def test_exotic_metadata_types_filter_and_slice(writer, tmp_path):
    d = load_predictions(writer(tmp_path))
    filters = metadata_filters(d)
    assert {c for c, _, _ in filters} == set(d.metadata.columns)
    for column, how, payload in filters:
        if how == "range":
            assert filter_mask(d, metadata={column: payload}).all()
        else:
            assert sum(filter_mask(d, metadata={column: [o]}).sum() for o in payload) == d.n
        table = slice_table(d, column, resamples=20)
        assert table["n"].sum() == d.n
    if "raw" in d.metadata.columns:  # bytes that are not UTF-8 are shown as Python writes them
        assert set(value_text(d.metadata["raw"])) == {"b'ab'", "b'\\x00\\xff'"}
        assert set(slice_labels(d, "infinite")) == {"inf", "-inf"}


# --- the pages on awkward metadata (AppTest) -------------------------------------

@pytest.fixture
def app(monkeypatch, tmp_path):
    """Start the app on a file; a fresh cache, no start file from pytest's argv."""
    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()

    def _start(path: Path) -> AppTest:
        monkeypatch.setenv("EVALDASH_PREDICTIONS", str(path))
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception, at.exception
        assert not at.sidebar.error, [e.value for e in at.sidebar.error]
        return at

    yield _start
    st.cache_resource.clear()


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def samples_shown(at: AppTest) -> int:
    caption = next(c.value for c in at.get_by_key("error_gallery").caption)
    return int(caption.split()[0].replace(",", ""))


PAGE_FILES = {"csv": lambda f: hf.write_awkward(f, "csv"), "parquet": lambda f: hf.write_awkward(f, "parquet"),
              "jsonl": lambda f: hf.write_awkward(f, "jsonl"), "exotic": hf.write_exotic_parquet,
              "nested": hf.write_nested_metadata_jsonl}


@pytest.mark.parametrize("kind", sorted(PAGE_FILES))
def test_errors_page_filters_awkward_metadata(kind, app, tmp_path):
    path = PAGE_FILES[kind](tmp_path)
    d = load_predictions(path)
    at = goto(app(path), "pages/errors.py")
    wrong = d.y_true != d.y_pred
    assert samples_shown(at) == wrong.sum()
    filters = metadata_filters(d)
    for n, (column, how, payload) in enumerate(filters):
        widget = at.get_by_key(f"err_meta_{n}")
        assert widget.label == column
        if how == "values":
            choice = [payload[0]]
            widget.set_value(choice).run()
            want = filter_mask(d, metadata={column: choice})
        else:
            low, high = payload
            choice = (low, (low + high) / 2)
            widget.set_value(choice).run()
            want = filter_mask(d, metadata={column: tuple(at.get_by_key(f"err_meta_{n}").value)})
        assert not at.exception, at.exception
        assert samples_shown(at) == (want & wrong).sum(), column
        at.get_by_key(f"err_meta_{n}").set_value([] if how == "values" else payload).run()


def test_errors_page_on_the_issues_file_with_one_empty_cell(app, tmp_path):
    at = goto(app(hf.write_empty_metadata_cell(tmp_path)), "pages/errors.py")
    widget = at.get_by_key("err_meta_0")
    assert widget.label == "source" and widget.options == [MISSING, "x", "y"]
    widget.set_value([MISSING]).run()
    assert not at.exception
    assert samples_shown(at) == 1  # row 2: true b, predicted a, source empty


@pytest.mark.parametrize("kind", sorted(PAGE_FILES))
def test_slices_page_groups_and_picks_every_awkward_column(kind, app, tmp_path):
    path = PAGE_FILES[kind](tmp_path)
    d = load_predictions(path)
    at = goto(app(path), "pages/slices.py")
    for column in d.metadata.columns:
        at.selectbox(key="slice_column").set_value(column).run()
        assert not at.exception, at.exception
        shown = at.dataframe[0].value
        assert set(shown["slice"]) == set(slice_labels(d, column)) and shown["n"].sum() == d.n
        # a slice of missing cells filters every page to those rows
        value = MISSING if MISSING in set(shown["slice"]) else str(shown["slice"].iloc[0])
        at.session_state["_slice"] = (column, value)
        goto(at, "pages/overview.py")
        cards = {m.label: m.value for m in at.metric}
        assert cards["Samples"] == f"{slice_rows(d, column, value).size:,}", (column, value)
        goto(at, "pages/errors.py")
        at.button(key="clear_slice").click().run()  # "Show all samples", as a user clears it (URL too)
        assert not at.exception, at.exception
        goto(at, "pages/slices.py")


def _detail_script(path: str) -> None:
    # AppTest shows no dialog opened from a page that st.navigation runs: open it directly
    import streamlit as st

    import evaldash
    from evaldash import ui

    ui.detail_dialog(evaldash.evaluate(evaldash.load_predictions(path)), st.session_state["row"])


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_detail_dialog_shows_missing_and_odd_metadata_as_the_filters_do(fmt, app, tmp_path):
    path = hf.write_awkward(tmp_path, fmt)
    d = load_predictions(path)
    at = AppTest.from_function(_detail_script, args=(str(path),), default_timeout=TIMEOUT)
    for row in (1, 5, 8, 20):  # site missing, flagged missing, count missing, brightness infinite
        at.session_state["row"] = row
        at.run()
        assert not at.exception, at.exception
        [facts] = [df.value for df in at.dataframe if list(df.value.columns) == ["field", "value"]]
        shown = dict(zip(facts["field"], facts["value"]))
        assert shown["id"] == str(d.ids[row])
        assert {c: shown[c] for c in d.metadata.columns} == {c: value_text(d.metadata[c]).iloc[row]
                                                              for c in d.metadata.columns}
        column = {1: "site", 5: "flagged", 8: "count", 20: "brightness"}[row]
        assert shown[column] == (MISSING if row != 20 else "inf")


# --- the sidebar keeps the data when a hostile file is opened ---------------------

HOSTILE = {
    "duplicate": hf.write_duplicate_scores,
    "list_labels": hf.write_list_labels_parquet,
    "object_labels": hf.write_object_labels_jsonl,
    "deep": hf.write_deep_jsonl,
    "nul_image": hf.write_nul_image_path,
    "ragged": hf.write_ragged,
    "lone_score": hf.write_lone_score_prefix,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_opening_a_hostile_file_shows_the_reason_and_keeps_the_data(kind, app, tmp_path):
    from evaldash.ui import md

    good = hf.write_empty_metadata_cell(tmp_path)
    at = app(good)
    summary = at.sidebar.caption[0].value
    bad = HOSTILE[kind](tmp_path)
    with pytest.raises(InputError) as raised:
        load_predictions(bad.resolve())
    if not any(b.key == "open_path" for b in at.sidebar.button):
        at.button(key="open_file").click().run()
    at.text_input(key="path_input").input(str(bad))
    at.button(key="open_path").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.sidebar.error] == [md(str(raised.value))]
    assert at.sidebar.caption[0].value == summary
    assert {m.label: m.value for m in at.metric}["Samples"] == "4"


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_report_on_a_hostile_file_exits_2_with_the_reason(kind, tmp_path, capsys):
    from evaldash.cli import main

    bad = HOSTILE[kind](tmp_path)
    with pytest.raises(InputError) as raised:
        load_predictions(bad)
    assert main(["report", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: {raised.value}\n"


def test_blank_and_space_only_lines_are_skipped_as_pandas_does(tmp_path):
    path = tmp_path / "blank_lines.csv"
    path.write_text("\n\nlabel,prediction\na,a\n   \n\nb,a\n", encoding="utf-8")
    d = load_predictions(path)
    assert d.n == 2 and d.y_true.tolist() == [0, 1] and d.y_pred.tolist() == [0, 0] and not d.warnings


def test_an_empty_last_cell_is_not_a_short_row(tmp_path):
    path = tmp_path / "empty_last.csv"
    path.write_text("label,prediction,note\na,a,\nb,b,x\na,b,\n", encoding="utf-8")
    d = load_predictions(path)
    assert value_text(d.metadata["note"]).tolist() == [MISSING, "x", MISSING] and not d.warnings


def test_review_page_shows_a_missing_metadata_cell_as_the_filters_do(app, tmp_path):
    path = hf.write_empty_metadata_cell(tmp_path)
    d = load_predictions(path)
    at = goto(app(path), "pages/review.py")
    [facts] = [df.value for df in at.dataframe if list(df.value.columns) == ["field", "value"]]
    shown = dict(zip(facts["field"], facts["value"]))
    rows = [r for r in range(d.n) if {c: value_text(d.metadata[c]).iloc[r] for c in d.metadata.columns} == shown]
    assert rows and "nan" not in shown.values()
