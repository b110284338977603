"""The command line's ``--engine``, ``--memory-limit`` and ``--spark-master``, and evaluating a file
on the engine they choose."""

from __future__ import annotations

import atexit

from evaldash.engines import ENGINES, choose_engine, open_engine, spark_master_default
from evaldash.errors import InputError

_open: dict[tuple, object] = {}


def add_engine_args(p, serve: bool = False) -> None:
    p.add_argument("--engine", choices=ENGINES, default="memory",
                   help="where the numbers are computed: memory (numpy, the default), duckdb (out of core: Parquet "
                        "or CSV, a folder of Parquet files or a glob, read in place), spark (Spark SQL; Parquet), "
                        "auto (memory when the file fits comfortably in RAM, else duckdb)"
                   + ("; the dashboard computes there too" if serve else ""))
    p.add_argument("--memory-limit", metavar="SIZE",
                   help="duckdb: memory it may use before spilling to a temporary folder (default 2GB)")
    p.add_argument("--spark-master", metavar="URL",
                   help=f"spark: the master URL (default {spark_master_default()})")


def engine_name(args, paths) -> str:
    """The engine chosen for ``paths`` (``auto`` resolved)."""
    return choose_engine(getattr(args, "engine", "memory") or "memory", paths)


def evaluate_on(name: str, args, path: str, threshold: float | None = None, task: str | None = None):
    """The evaluation of ``path`` on engine ``name`` (one engine per kind for the whole command;
    each file gets views of its own on it), for the file's task (``task``, else ``--task``, else
    its columns' form)."""
    key = (name, getattr(args, "memory_limit", None), getattr(args, "spark_master", None))
    if key not in _open:
        _open[key] = open_engine(name, memory_limit=key[1], spark_master=key[2])
        atexit.register(_open[key].close)
        engine = _open[key]
    else:
        engine = _open[key].sibling()
    from evaldash.engines.multilabel_evaluation import evaluate_path

    evaluation = evaluate_path(engine, path, task=task or getattr(args, "task", None),
                               label_sep=getattr(args, "label_sep", "|"), positive=getattr(args, "positive", None),
                               threshold=threshold, thresholds_file=getattr(args, "thresholds", None),
                               images_root=getattr(args, "images_root", None))
    if getattr(args, "ci", False) and evaluation.task == "multilabel":
        raise InputError(f"--ci on a multi-label file is not available on the {name} engine yet; use --engine memory")
    return evaluation


def close_engines() -> None:
    """Close the engines this command opened (before ``serve`` becomes the server)."""
    while _open:
        _open.popitem()[1].close()
