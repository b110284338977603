"""/review on an engine (DuckDB): a confusion cell's queue says, in the same one line as /confusion,
that the cell table is being built in the background (its samples read from the file meanwhile)."""

from __future__ import annotations

from test_engine_app import captions, folder, joined, on_duckdb, open_page  # noqa: F401 (fixtures)

from evaldash.engines import cells

LINE = ("Cell galleries: the table of every row sorted by cell and confidence, which reads a page at once, waits for "
        "another file's table to be built first; until then each page is read from the file")


def test_a_cells_review_queue_says_its_table_is_being_built_as_confusion_does(on_duckdb):
    from evaldash.ui.engine_sources import _opened

    with cells._one_sort:  # another file's table is being sorted: this file's build waits its turn
        at = open_page("pages/review.py")
        assert LINE not in captions(at)  # the mistakes: not read from the cell table
        at.segmented_control(key="review_set").set_value("cell").run()
        assert not at.exception, at.exception
        assert LINE in captions(at)
        job = next(iter(_opened()[0].values()))._memo[cells.JOB]
    assert job.wait(60) and job.error is None
    at.run()
    assert not at.exception, at.exception
    assert "Cell galleries" not in captions(at)  # built: the line is gone


def test_review_on_an_engine_shows_the_samples_metadata_and_saves_a_note(on_duckdb, joined):
    """The metadata table, the note, the corrected label and the save button, as in memory (the
    metadata was read as a list of rows, which the engine refuses: the page stopped above them)."""
    import pandas as pd

    at = open_page("pages/review.py")
    assert not at.error, [e.value for e in at.error]
    first = at.dataframe[0].value
    assert list(first["field"]) == ["site"]
    frame = pd.read_parquet(joined)
    sid = at.subheader[0].value.split(":")[0].replace("\\", "")  # "<id>: true X → predicted Y"
    assert first["value"].iloc[0] == frame.loc[frame["id"].astype(str) == sid, "site"].iloc[0]
    note = next(t for t in at.text_area if t.label == "Note")
    note.input("seen <b>twice</b>").run()
    at.button(key="review_save").click().run()
    assert not at.exception and not at.error, at.exception
    assert next(t for t in at.text_area if t.label == "Note").value == "seen <b>twice</b>"
