"""Images of a file that stays in its engine: ``--images-root`` works as in memory (nothing read
outside it), a page's images that cannot be shown are named with the reason and the fix, and the
engine's one line on unchecked paths is said once per page."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaldash.dataset import load_predictions
from evaldash.engines import evaluate_file, open_engine
from evaldash.engines.row_images import rows_image_check
from evaldash.ui import md

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"
WEAKER = SAMPLE.parent / "predictions_weaker.csv"
CONCEPTS = SAMPLE.parent / "concepts.csv"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The digits sample as a project keeps it: outputs/*.csv with ``../images/`` paths."""
    proj = tmp_path_factory.mktemp("engine_images") / "proj"
    shutil.copytree(SAMPLE.parent / "images", proj / "images")
    (proj / "outputs").mkdir()
    for name, source in (("predictions.csv", SAMPLE), ("weaker.csv", WEAKER), ("concepts.csv", CONCEPTS)):
        frame = pd.read_csv(source, dtype=str)
        frame["image"] = "../" + frame["image"]
        frame.to_csv(proj / "outputs" / name, index=False)
    return proj


@pytest.fixture(scope="module")
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def test_a_page_of_rows_is_checked_as_the_memory_path_checks_the_file(duck, project, tmp_path):
    frame = pd.read_csv(project / "outputs" / "predictions.csv", dtype=str).head(12)
    frame.loc[3, "image"] = "../images/none.png"  # no such file
    frame.loc[5, "image"] = str(tmp_path / "outside.png")  # outside any root given
    frame.loc[7, "image"] = None
    path = project / "outputs" / "page.csv"
    frame.to_csv(path, index=False)
    for root in (None, str(project / "images"), str(project)):
        memory = load_predictions(path, images_root=root).image_check
        check = rows_image_check(evaluate_file(duck, str(path), images_root=root).dataset, range(12))
        counts = ("with_path", "refused", "missing", "unreadable", "root", "base", "suggested_root", "example")
        assert [getattr(check, c) for c in counts] == [getattr(memory, c) for c in counts], root
        assert check.problem() == memory.problem().replace("samples:", "samples on this page:")
    one = rows_image_check(evaluate_file(duck, str(path), images_root=str(project)).dataset, [5])
    assert one.problem() == f"No image for this sample: its path leads outside the images root {project}."


def test_images_root_is_taken_on_the_engines_command_line(project, capsys, monkeypatch):
    from evaldash.cli import main
    from evaldash.engines.options import close_engines, evaluate_on

    images = str(project / "images")
    assert main(["report", str(project / "outputs" / "predictions.csv"), "--engine", "duckdb",
                 "--images-root", images]) == 0
    capsys.readouterr()
    started = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: started.append(cmd))  # serve: the app's command line
    assert main(["serve", str(project / "outputs" / "predictions.csv"), "--engine", "duckdb",
                 "--images-root", images]) == 0
    app_args = started[0][started[0].index("--") + 1:]
    assert app_args[app_args.index("--images-root") + 1] == images
    try:
        for name in ("predictions.csv", "concepts.csv"):  # single-label and multi-label files
            args = argparse.Namespace(images_root=images, engine="duckdb")
            d = evaluate_on("duckdb", args, str(project / "outputs" / name)).dataset
            assert d.images_root == images
            assert rows_image_check(d, range(24)).not_shown == 0
    finally:
        close_engines()


@pytest.fixture
def start(monkeypatch, tmp_path):
    """The app on the DuckDB engine with ``args`` after ``--``, on ``page``."""
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()

    def run(page: str, *args: str) -> AppTest:
        monkeypatch.setattr(sys, "argv", ["app.py", *args, "--engine", "duckdb"])
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.run()
        at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    yield run
    st.cache_resource.clear()


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.main.warning if "No image for" in w.value]


def unchecked_lines(at: AppTest) -> list[str]:
    return [c.value for c in at.main.caption if "not checked ahead" in c.value]


def test_a_gallery_page_says_why_its_images_do_not_show_and_how_to_fix_it(start, project):
    at = start("pages/errors.py", str(project / "outputs" / "predictions.csv"))
    outputs, images = project / "outputs", project / "images"
    assert notices(at) == [md(
        f"No image for 24 of 24 samples on this page: their paths lead outside the images root {outputs}. "
        f"To show them, set the images root to {images}: --images-root DIR at start (the sidebar's Images root "
        f"takes only folders in the data roots).")]
    assert len(unchecked_lines(at)) == 1
    at.run()
    assert len(unchecked_lines(at)) == 1  # said again on the page's next run
    at.switch_page("pages/review.py").run()  # one sample at a time
    assert notices(at)[0].startswith(md(f"No image for this sample: its path leads outside the images root {outputs}."))


def test_images_root_on_the_engine_shows_the_images(start, project, monkeypatch):
    import evaldash.ui.galleries as galleries

    read = []
    thumbnail = galleries.thumbnail
    monkeypatch.setattr(galleries, "thumbnail", lambda path, *a, **kw: read.append((path, kw["root"])) or
                        thumbnail(path, *a, **kw))
    images = project / "images"
    at = start("pages/errors.py", str(project / "outputs" / "predictions.csv"), "--images-root", str(images))
    assert notices(at) == []
    assert len(read) == 24 and all(p.startswith(f"{images}/") and root == str(images) for p, root in read)


def test_the_open_panels_images_root_shows_them_on_the_engine(start, project):
    at = start("pages/errors.py", str(project / "outputs" / "predictions.csv"), "--data-root", str(project))
    assert notices(at)
    at.button(key="open_file").click().run()
    at.text_input(key="images_root_input").input(str(project / "images"))
    at.button(key="open_path").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.sidebar.error] == []
    assert at.session_state["source"].images_root == str(project / "images")
    assert notices(at) == []


def test_the_unchecked_paths_line_is_said_once_above_a_pages_galleries(start, project):
    from test_image_notice import _moved_cell

    outputs = project / "outputs"
    at = start("pages/compare.py", str(outputs / "predictions.csv"), str(outputs / "weaker.csv"),
               "--images-root", str(project / "images"))
    at.session_state["cmp_cell"] = _moved_cell(SAMPLE, WEAKER)  # the cell-difference gallery too
    at.run()
    assert not at.exception, at.exception
    assert [b for b in at.main.button if b.key.startswith("cmp_moved_")], "no cell-difference gallery"
    assert len(unchecked_lines(at)) == 1


def test_the_multilabel_review_queue_says_why_its_image_does_not_show(start, project):
    at = start("pages/review.py", str(project / "outputs" / "concepts.csv"))
    outputs = project / "outputs"
    assert notices(at)[0].startswith(md(f"No image for this sample: its path leads outside the images root {outputs}."))
    assert len(unchecked_lines(at)) == 1


def test_a_new_images_root_on_the_engine_reuses_the_open_file(start, project, monkeypatch):
    """The sidebar's images root changes only how image paths resolve: the file is not validated
    nor its first view computed again, and each session keeps its own root."""
    import evaldash.engines.multilabel_evaluation as opening
    import evaldash.ui.galleries as galleries
    from evaldash.engines.evaluation import EngineEvaluation
    from evaldash.ui.engine_sources import _opened

    opened, precomputed, read = [], [], []
    thumbnail = galleries.thumbnail
    monkeypatch.setattr(galleries, "thumbnail", lambda p, *a, **kw: read.append((p, kw["root"])) or thumbnail(p, *a, **kw))
    evaluate_path, precompute = opening.evaluate_path, EngineEvaluation.precompute
    monkeypatch.setattr(opening, "evaluate_path", lambda *a, **kw: opened.append(a[1]) or evaluate_path(*a, **kw))
    monkeypatch.setattr(EngineEvaluation, "precompute",
                        lambda self, *a, **kw: precomputed.append(1) or precompute(self, *a, **kw))
    path, images = str(project / "outputs" / "predictions.csv"), str(project / "images")
    other = start("pages/errors.py", path, "--data-root", str(project))  # a session keeping the file's folder
    at = start("pages/errors.py", path, "--data-root", str(project))
    assert notices(at) and notices(other)
    assert (len(opened), len(precomputed)) == (1, 1)  # once for both sessions
    at.button(key="open_file").click().run()
    at.text_input(key="images_root_input").input(images)
    read.clear()
    at.button(key="open_path").click().run()
    assert not at.exception, at.exception
    assert at.session_state["source"].images_root == images
    assert notices(at) == []  # the images show...
    assert len(read) == 24 and all(p.startswith(f"{images}/") and root == images for p, root in read)
    assert f"Images root: {md(images)}" in [c.value for c in at.sidebar.caption]
    assert (len(opened), len(precomputed), len(_opened()[0])) == (1, 1, 1)  # ...from the file opened before
    other.run()
    assert notices(other), "the other session's root changed too"
    at.run()
    assert notices(at) == [] and (len(opened), len(precomputed)) == (1, 1)


@pytest.mark.parametrize("name", ["predictions.csv", "concepts.csv"])  # single-label and multi-label files
def test_an_images_root_view_shares_the_open_evaluation(duck, project, name):
    from evaldash.engines.multilabel_evaluation import evaluate_path
    from evaldash.engines.rooted import with_images_root

    path, images = str(project / "outputs" / name), str(project / "images")
    base = evaluate_path(duck, path)
    assert with_images_root(base, None) is base and with_images_root(base, str(project / "outputs")) is base
    view = with_images_root(base, images)
    assert view is with_images_root(base, images)  # one view per root, for every session
    assert (view.dataset.images_root, base.dataset.images_root) == (images, str(project / "outputs"))
    assert view._memo is base._memo and view.dataset.row_cache is base.dataset.row_cache
    counts = view.per_class  # computed on the view: the base has it too, and the other way round
    assert with_images_root(base, images) is view and base.__dict__["per_class"] is counts
    assert view.dataset.image_paths[3].startswith(f"{images}/") and base.dataset.image_paths[3] is None
    assert rows_image_check(view.dataset, range(24)).not_shown == 0
