"""Where the data comes from: the command line, the open runs, each file loaded once."""

from __future__ import annotations

import argparse
import copy
import functools
import gc
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from evaldash.app_config import add_auth_args
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation
from evaldash.multilabel_data import DEFAULT_SEPARATOR
from evaldash.tasks import evaluate_dataset, load_dataset
from evaldash.roots import DataRoots, default_roots
from evaldash.run_names import distinct_names

ROOT = Path(__file__).resolve().parents[3]

SAMPLES = {
    "Digits: 10 classes": ROOT / "sample_data" / "digits" / "predictions.csv",
    "Digits: three vs rest (binary)": ROOT / "sample_data" / "digits" / "binary_three.csv",
    "Digits: a weaker model (to compare)": ROOT / "sample_data" / "digits" / "predictions_weaker.csv",
    "Digits: concepts (multi-label)": ROOT / "sample_data" / "digits" / "concepts.csv",
}


@dataclass(frozen=True)
class Source:
    """Where a dataset comes from and how to read it."""

    path: str
    positive: str | None = None
    images_root: str | None = None
    label: str = ""
    images_by_name: bool = False  # an upload: images not at their path are matched by file name in its zip
    classes: str | None = None  # --classes: names of class indices 0..k-1 (list scores, index labels)
    task: str | None = None  # forced task (--task), else detected from the truth columns
    label_sep: str = DEFAULT_SEPARATOR  # a CSV label-set cell's separator (--label-sep)
    threshold: float | None = None  # multi-label: every class's threshold (--threshold)
    thresholds: str | None = None  # multi-label: a thresholds file, one per class (--thresholds)
    engine: str = "memory"  # where the numbers are computed (--engine: memory, duckdb, spark, auto)
    memory_limit: str | None = None  # duckdb's --memory-limit
    spark_master: str | None = None  # spark's --spark-master
    findings_of: str | None = None  # a sample of a file on an engine: its annotations are that file's

    @property
    def key(self) -> str:
        raw = f"{self.path}\x1f{self.positive}\x1f{self.images_root}" + (f"\x1f{self.classes}" if self.classes else "")
        reading = (self.task, self.label_sep, self.threshold, self.thresholds)
        if reading != (None, DEFAULT_SEPARATOR, None, None):  # keys of files read as before stay as they were
            raw += f"\x1f{reading}"
        if self.engine != "memory":
            raw += f"\x1f{(self.engine, self.memory_limit, self.spark_master)}"
        return hashlib.sha1(raw.encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        return self.label or Path(self.path).name


def app_args() -> argparse.Namespace:
    """The app's own command line, after ``--``: PATH, ``--positive``, ``--images-root``, ``--db``,
    ``--task``, ``--label-sep``, ``--threshold``, ``--thresholds``, ``--engine``, ``--memory-limit``,
    ``--spark-master``."""
    # streamlit sets sys.argv to [app.py, args after --]; under a test runner it is the runner's
    argv = tuple(sys.argv[1:]) if Path(sys.argv[0]).name == "app.py" else ()
    return copy.deepcopy(_parse_app_args(argv))  # a copy: callers may change it


@functools.lru_cache(maxsize=8)
def _parse_app_args(argv: tuple[str, ...]) -> argparse.Namespace:
    """Parsed once per command line (an ArgumentParser costs milliseconds on every page run)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--predictions", action="append", default=[])
    parser.add_argument("--positive")
    parser.add_argument("--images-root")
    parser.add_argument("--classes")
    parser.add_argument("--db")
    parser.add_argument("--data-root", action="append", default=[])
    parser.add_argument("--no-server-paths", action="store_true")
    parser.add_argument("--gates")
    parser.add_argument("--task", choices=("multilabel", "multiclass", "binary"))
    parser.add_argument("--label-sep", default=DEFAULT_SEPARATOR)
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--thresholds")
    parser.add_argument("--engine", choices=("memory", "duckdb", "spark", "auto"), default="memory")
    parser.add_argument("--memory-limit")
    parser.add_argument("--spark-master")
    add_auth_args(parser)
    args, _ = parser.parse_known_args(list(argv))
    args.paths = [*args.paths, *args.predictions]
    return args


def start_sources() -> list[Source]:
    """The files named after ``--`` (several allowed, also as ``--predictions``), else
    ``EVALDASH_PREDICTIONS``, else the bundled sample."""
    args = app_args()
    paths = args.paths or ([os.environ["EVALDASH_PREDICTIONS"]] if os.environ.get("EVALDASH_PREDICTIONS") else [])
    if paths:
        return [Source(str(Path(p).resolve()), args.positive, args.images_root, classes=args.classes, task=args.task,
                       label_sep=args.label_sep, threshold=args.threshold,
                       thresholds=str(Path(args.thresholds).resolve()) if args.thresholds else None,
                       engine=args.engine, memory_limit=args.memory_limit, spark_master=args.spark_master)
                for p in paths]
    first = next(iter(SAMPLES))
    return [Source(str(SAMPLES[first]), label=first)]


def data_roots() -> DataRoots | None:
    """The folders whose files the sidebar's "Path on the server" may open (``--data-root``, else
    the folders of the start files and the bundled samples); None with ``--no-server-paths``."""
    args = app_args()
    if args.no_server_paths:
        return None
    if args.data_root:
        return DataRoots.of(args.data_root)
    return default_roots([s.path for s in start_sources()], ROOT / "sample_data")


def start_source() -> Source:
    """The file the dashboard opens first (the first of :func:`start_sources`)."""
    return start_sources()[0]


def runs() -> list[Source]:
    """The files open in this session (models, versions, holdout sets), in the order opened."""
    if "runs" not in st.session_state:
        st.session_state["runs"] = list(dict.fromkeys(start_sources()))
    return st.session_state["runs"]


def run_name(source: Source) -> str:
    """A run's name: as renamed on /runs, else its label or the shortest tail of its path that
    tells it apart from the other open runs (:func:`evaldash.run_names.distinct_names`)."""
    renamed = st.session_state.get("run_names", {}).get(source.key)
    if renamed:
        return renamed
    open_runs = runs() if source in runs() else [*runs(), source]
    names = distinct_names([r.path for r in open_runs], [r.label for r in open_runs])
    return names[open_runs.index(source)]


@st.cache_resource(max_entries=8, show_spinner=False)
def _evaluation(path: str, mtime_ns: int, size: int, positive: str | None,
                images_root: str | None, images_by_name: bool = False, classes: str | None = None,
                task: str | None = None, label_sep: str = DEFAULT_SEPARATOR, threshold: float | None = None,
                thresholds: str | None = None) -> Evaluation:
    # the results object of the file's task: single-label Evaluation or MultilabelEvaluation
    dataset = load_dataset(path, task=task, label_sep=label_sep, positive=positive, images_root=images_root,
                           images_by_name=images_by_name, classes=classes)
    evaluation = evaluate_dataset(dataset, threshold=threshold, thresholds=_thresholds(dataset, thresholds))
    evaluation = evaluation.precompute(background=True)
    # Move every object alive now (modules, the loaded file's objects) out of the garbage
    # collector's view: they live as long as the server, and a full collection that walks them
    # holds the server (and its answers to the browser) for tens of milliseconds each time.
    gc.freeze()
    return evaluation


def _thresholds(dataset, path: str | None):
    """The per-class thresholds of the file ``path`` (the file /decision writes), or None."""
    if path is None:
        return None
    from evaldash.decision import load_thresholds
    from evaldash.multilabel_data import MultilabelDataset

    if not isinstance(dataset, MultilabelDataset):
        raise InputError(f"--thresholds {path}: one threshold per class applies to multi-label files; "
                         f"{dataset.source} is single-label")
    return load_thresholds(path, dataset.classes).thresholds


def load(source: Source) -> Evaluation:
    """The evaluation of ``source``, computed once per file version (keyed by path, mtime, size)."""
    if source.engine != "memory":  # the file stays in its engine (evaldash.ui.engine_sources)
        from evaldash.ui.engine_sources import load_on_engine

        on_engine = load_on_engine(source)
        if on_engine is not None:
            return on_engine
    try:
        stat = os.stat(source.path)
    except OSError:
        raise InputError(f"{source.path}: file not found") from None
    evaluation = _evaluation(source.path, stat.st_mtime_ns, stat.st_size, source.positive, source.images_root,
                             source.images_by_name, source.classes, source.task, source.label_sep, source.threshold,
                             source.thresholds)
    if source.findings_of is not None:
        evaluation.memo("fingerprint", lambda e: source.findings_of)
    return evaluation


@st.cache_resource(show_spinner=False)
def _known_sources() -> dict[str, Source]:
    """Sources opened in any session, so a deep link with ``ds=`` reopens the same data."""
    return {}


def add_run(source: Source) -> None:
    """Offer ``source`` as a run of this session (and, by its key, to ``?ds=`` links in any session)
    without opening it."""
    _known_sources().setdefault(source.key, source)
    if source not in runs():
        runs().append(source)


def _activate(source: Source) -> Evaluation:
    evaluation = load(source)  # raises before anything is replaced
    _known_sources()[source.key] = source
    st.session_state["source"] = source
    if source not in runs():
        runs().append(source)
    return evaluation
