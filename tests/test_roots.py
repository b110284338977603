"""Data roots: the sidebar's "Path on the server" opens files inside the data roots only, with one
message for every path it will not open, and none of an outside file's content in it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaldash.errors import InputError
from evaldash.roots import REFUSED, DataRoots, default_roots

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLES = ROOT / "sample_data"
BINARY = SAMPLES / "digits" / "binary_three.csv"
SECRET_COLUMNS = ["user", "password", "api_key", "email", "card_number"]


def write_customers(folder: Path) -> Path:
    """A planted file with sensitive-looking columns (not a predictions file)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "customers.csv"
    path.write_text(",".join(SECRET_COLUMNS) + "\nana,hunter2,sk-123,ana@example.com,4111111111111111\n")
    return path


@pytest.fixture
def tree(tmp_path) -> dict[str, Path]:
    """A data root with a predictions file, and an outside folder with a planted file."""
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    preds = data / "sub" / "preds.csv"
    preds.write_text("label,prediction\na,a\nb,a\n")
    outside = write_customers(tmp_path / "private")
    return {"data": data, "preds": preds, "outside": outside, "tmp": tmp_path}


def refusal(roots: DataRoots, typed: str) -> str:
    with pytest.raises(InputError) as info:
        roots.resolve(typed)
    return str(info.value)


def test_a_file_inside_a_root_resolves_to_its_real_path(tree):
    roots = DataRoots.of([tree["data"]])
    assert roots.resolve(str(tree["preds"])) == str(tree["preds"])
    assert roots.resolve(str(tree["data"] / "sub" / ".." / "sub" / "preds.csv")) == str(tree["preds"])


def test_every_path_it_will_not_open_gets_one_message(tree):
    roots = DataRoots.of([tree["data"]])
    link_out = tree["data"] / "looks_inside.csv"
    os.symlink(tree["outside"], link_out)
    folder_link = tree["data"] / "private_folder"
    os.symlink(tree["outside"].parent, folder_link)
    (tree["tmp"] / "data2").mkdir()
    (tree["tmp"] / "data2" / "preds.csv").write_text("label,prediction\na,a\n")
    cases = {
        "outside, exists": str(tree["outside"]),
        "outside, missing": str(tree["outside"].with_name("nothing.csv")),
        "outside through ..": str(tree["data"] / ".." / "private" / "customers.csv"),
        "a link inside to a file outside": str(link_out),
        "a link inside to a folder outside": str(folder_link / "customers.csv"),
        "a sibling whose name starts like the root": str(tree["tmp"] / "data2" / "preds.csv"),
        "inside, missing": str(tree["data"] / "missing.csv"),
        "inside, missing, under a missing folder": str(tree["data"] / "no" / "where.csv"),
        "inside, a folder": str(tree["data"] / "sub"),
        "the root itself": str(tree["data"]),
        "a NUL byte": str(tree["preds"]) + "\x00",
        "empty": "",
    }
    for what, typed in cases.items():
        message = refusal(roots, typed)
        assert message == f"{typed}: {REFUSED}", what  # the same words, after what was typed
        for column in SECRET_COLUMNS:
            assert column not in message, what


def test_a_special_file_inside_a_root_is_refused(tree):
    fifo = tree["data"] / "pipe.csv"
    os.mkfifo(fifo)
    assert refusal(DataRoots.of([tree["data"]]), str(fifo)) == f"{fifo}: {REFUSED}"


def test_a_root_given_through_a_link_is_its_real_folder(tree):
    link = tree["tmp"] / "data_link"
    os.symlink(tree["data"], link)
    roots = DataRoots.of([link])
    assert roots.folders == (str(tree["data"]),)
    assert roots.resolve(str(link / "sub" / "preds.csv")) == str(tree["preds"])


def test_relative_paths_and_home_are_expanded(tree, monkeypatch):
    monkeypatch.chdir(tree["data"])
    monkeypatch.setenv("HOME", str(tree["data"]))
    roots = DataRoots.of(["."])
    assert roots.resolve("sub/preds.csv") == str(tree["preds"])
    assert roots.resolve("~/sub/preds.csv") == str(tree["preds"])


def test_default_roots_are_the_start_files_folders_and_the_samples(tree):
    roots = default_roots([tree["preds"], tree["preds"]], SAMPLES)
    assert roots.folders == (str(tree["data"] / "sub"), str(SAMPLES.resolve()))
    assert roots.resolve(str(BINARY)) == str(BINARY.resolve())
    with pytest.raises(InputError):
        roots.resolve(str(tree["data"] / "other.csv"))  # the start file's folder, not its parent


# --- the sidebar ------------------------------------------------------------------------------

@pytest.fixture
def app(monkeypatch, tmp_path):
    """The app started with ``args`` after ``--`` (as `streamlit run app.py -- ARGS` gives them)."""
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()

    def start(*args: str) -> AppTest:
        monkeypatch.setattr(sys, "argv", ["app.py", *args])
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        at.button(key="open_file").click().run()
        assert not at.exception, at.exception
        return at

    yield start
    st.cache_resource.clear()


def open_path(at: AppTest, typed: str) -> list[str]:
    at.text_input(key="path_input").input(typed)
    at.button(key="open_path").click().run()
    assert not at.exception, at.exception
    return [e.value for e in at.sidebar.error]


def samples_shown(at: AppTest) -> str:
    return {m.label: m.value for m in at.metric}["Samples"]


def test_a_path_outside_the_roots_gets_one_message_whether_or_not_it_exists(app, tree):
    from evaldash.ui import md

    at = app(str(BINARY))  # roots: the sample's folder and the bundled samples
    samples = samples_shown(at)
    shown = {}
    for typed in (str(tree["outside"]), str(tree["outside"].with_name("missing.csv"))):
        errors = open_path(at, typed)
        assert len(errors) == 1
        shown[typed] = errors[0].replace(md(typed), "PATH", 1)
        for column in SECRET_COLUMNS:
            assert column not in errors[0]
        assert samples_shown(at) == samples  # what was loaded stays
    first, second = shown.values()
    assert first == second == "PATH" + md(f": {REFUSED}")


def test_a_data_root_given_opens_its_files_and_only_those(app, tree):
    at = app(str(BINARY), "--data-root", str(tree["data"]))
    assert open_path(at, str(BINARY))[0].startswith("/")  # the samples are not a root now
    assert open_path(at, str(tree["preds"])) == []
    assert samples_shown(at) == "2"
    at.button(key="open_file").click().run()
    assert len(open_path(at, str(tree["outside"]))) == 1
    assert samples_shown(at) == "2"


def test_a_non_conforming_file_inside_a_root_still_says_what_is_wrong(app, tree):
    inside = write_customers(tree["data"])
    at = app(str(BINARY), "--data-root", str(tree["data"]))
    errors = open_path(at, str(inside))
    assert len(errors) == 1 and "label" in errors[0] and "cannot open this path" not in errors[0]


def test_no_server_paths_hides_the_field(app, tree):
    at = app(str(BINARY), "--no-server-paths")
    for key in ("path_input", "positive_input", "open_path"):
        with pytest.raises(KeyError):
            at.get_by_key(key)
    for key in ("sample_pick", "open_sample", "upload", "upload_images", "open_upload"):
        assert at.get_by_key(key) is not None, key


def test_no_server_paths_refuses_the_callback(app, tree, monkeypatch):
    from evaldash.roots import TURNED_OFF
    from evaldash.ui import md

    at = app(str(BINARY))
    samples = samples_shown(at)
    at.text_input(key="path_input").input(str(SAMPLES / "digits" / "predictions.csv"))
    # the server runs with --no-server-paths; a crafted message still presses "Open path"
    monkeypatch.setattr(sys, "argv", ["app.py", str(BINARY), "--no-server-paths"])
    at.button(key="open_path").click().run()
    assert not at.exception
    assert [e.value for e in at.sidebar.error] == [md(TURNED_OFF)]
    assert samples_shown(at) == samples


# --- evaldash serve ------------------------------------------------------------------------------

def test_serve_passes_the_roots_and_limits_to_the_app(tree, monkeypatch, capsys):
    from evaldash import cli

    started = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: started.append(cmd))
    env: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", env)
    monkeypatch.chdir(tree["tmp"])
    assert cli.main(["serve", str(tree["preds"]), "--data-root", "data", "--data-root", str(SAMPLES),
                     "--no-server-paths", "--max-upload-mb", "5", "--max-image-megapixels", "12"]) == 0
    app_args = started[0][started[0].index("--") + 1:]
    assert app_args == [str(tree["preds"]), "--data-root", str(tree["data"]), "--data-root", str(SAMPLES),
                        "--no-server-paths"]
    assert env["EVALDASH_MAX_UPLOAD_MB"] == "5" and env["EVALDASH_MAX_IMAGE_MEGAPIXELS"] == "12"


@pytest.mark.parametrize("args, message", [
    (["--data-root", "nowhere"], "error: --data-root nowhere: no such folder"),
    (["--max-upload-mb", "0"], "error: --max-upload-mb=0: expected a positive number"),
    (["--max-upload-ratio", "many"], "error: --max-upload-ratio=many: expected a positive number"),
])
def test_serve_refuses_bad_roots_and_limits(tree, monkeypatch, capsys, args, message):
    from evaldash import cli

    monkeypatch.setattr(os, "execv", lambda exe, cmd: pytest.fail("started"))
    monkeypatch.chdir(tree["tmp"])
    assert cli.main(["serve", str(tree["preds"]), *args]) == 2
    assert capsys.readouterr().err.strip() == message


# --- folders and globs, opened on an engine ----------------------------------------------------

def test_a_folder_or_glob_inside_a_root_resolves_and_one_leading_outside_is_refused(tree):
    parts = tree["data"] / "parts"
    parts.mkdir()
    for i in range(2):
        (parts / f"part-{i}.parquet").write_bytes(b"PAR1")
    roots = DataRoots.of([tree["data"]])
    assert roots.resolve_set(str(parts)) == str(parts.resolve())
    assert roots.resolve_set(f"{parts}/part-*.parquet") == f"{parts.resolve()}/part-*.parquet"
    assert roots.resolve_set(str(tree["preds"])) == str(tree["preds"])  # a file: as resolve
    refused = [str(tree["outside"].parent),  # a folder outside
               f"{tree['data']}/../private/*.csv",  # a glob whose folder is outside
               f"{tree['data']}/*/preds.csv",  # wildcards before the last part
               f"{tree['outside'].parent}/*"]
    (parts / "link.parquet").symlink_to(tree["outside"])  # a link inside the folder leading outside
    refused += [str(parts), f"{parts}/*.parquet"]
    for typed in refused:
        with pytest.raises(InputError) as info:
            roots.resolve_set(typed)
        assert str(info.value) == f"{typed}: {REFUSED}"


def test_a_folder_or_glob_given_at_start_is_a_root_its_parent_is_not(tree):
    parts = tree["data"] / "parts"
    parts.mkdir()
    roots = default_roots([parts], SAMPLES)
    assert roots.folders[0] == str(parts.resolve())
    assert default_roots([f"{parts}/part-*.parquet"], SAMPLES).folders[0] == str(parts.resolve())
    with pytest.raises(InputError):
        roots.resolve(str(tree["preds"]))  # beside the folder, not in it
