"""The dashboard on an engine (``--engine duckdb|auto``): ``serve`` passing the engine and checking the
start files on it, the app opening a file (a folder of Parquet files) there, the sidebar's line, the
pages' one line with the sample button where a view needs every row, and the sample opened in memory.

Expected numbers come from the memory path (``evaldash.evaluate`` on the same rows)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine_cases import binary_ties, multiclass_ties, write

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 120


@pytest.fixture
def execv(monkeypatch):
    """Stands in for ``os.execv`` in ``evaldash serve``: records the command instead of becoming it."""
    calls = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: calls.append(cmd))
    return calls


@pytest.fixture
def folder(tmp_path) -> Path:
    """A partitioned Parquet folder (three files) of four classes, one never in the labels."""
    return write(multiclass_ties(n=1500, seed=3), tmp_path / "parts", parts=3)


@pytest.fixture
def joined(folder) -> Path:
    """The folder's rows in one Parquet file, for the memory path."""
    frame = pd.concat([pd.read_parquet(f) for f in sorted(folder.glob("*.parquet"))], ignore_index=True)
    path = folder.parent / "joined.parquet"
    frame.to_parquet(path, index=False)
    return path


# --- serve ----------------------------------------------------------------------------------------

def test_serve_passes_the_engine_and_its_options_to_the_app(execv, folder, capsys):
    from evaldash.cli import main

    assert main(["serve", str(folder), "--engine", "duckdb", "--memory-limit", "1GB"]) == 0
    app_args = execv[0][execv[0].index("--") + 1:]
    assert app_args[0] == str(folder.resolve())
    assert app_args[app_args.index("--engine") + 1] == "duckdb"
    assert app_args[app_args.index("--memory-limit") + 1] == "1GB"
    assert "--spark-master" not in app_args
    assert "in memory for now" not in capsys.readouterr().err


def test_serve_in_memory_passes_no_engine(execv, joined):
    from evaldash.cli import main

    assert main(["serve", str(joined)]) == 0
    assert "--engine" not in execv[0]


def test_serve_checks_the_start_file_on_its_engine_and_exits_2_before_a_server_starts(execv, tmp_path, capsys):
    from evaldash.cli import main

    parts = tmp_path / "bad"
    parts.mkdir()
    frame = multiclass_ties(n=300, seed=4)
    frame.loc[7, "score_1"] = np.nan
    frame.iloc[:150].to_parquet(parts / "part-0.parquet", index=False)
    frame.iloc[150:].to_parquet(parts / "part-1.parquet", index=False)
    assert main(["serve", str(parts), "--engine", "duckdb"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "column 'score_1' has missing values at row 8" in err
    assert execv == []


def test_serve_refuses_a_folder_without_parquet_files_on_its_engine(execv, tmp_path, capsys):
    from evaldash.cli import main

    (tmp_path / "empty").mkdir()
    assert main(["serve", str(tmp_path / "empty"), "--engine", "auto"]) == 2
    assert "holds no Parquet files" in capsys.readouterr().err
    assert execv == []


# --- the app's sources ----------------------------------------------------------------------------

def test_the_keys_of_files_in_memory_stay_as_they_were_and_an_engine_is_part_of_the_key():
    from evaldash.ui.sources import Source

    before = "a28ad15940"  # Source("/data/p.csv", "yes").key before engines existed
    assert Source("/data/p.csv", "yes").key == before
    assert Source("/data/p.csv", "yes", threshold=0.3).key == "b10d457157"
    assert Source("/data/p.csv", "yes", engine="duckdb").key != before
    assert Source("/data/p.csv", "yes", engine="duckdb").key != Source("/data/p.csv", "yes", engine="spark").key


def test_the_app_reads_the_engine_and_its_options_after_the_double_dash(monkeypatch, folder):
    from evaldash.ui.sources import start_source

    monkeypatch.setattr(sys, "argv", ["app.py", str(folder), "--engine", "duckdb", "--memory-limit", "1GB"])
    source = start_source()
    assert (source.path, source.engine, source.memory_limit, source.spark_master) == (
        str(folder.resolve()), "duckdb", "1GB", None)
