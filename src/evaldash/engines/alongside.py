"""A second file in the same SQL session as the first, its views named apart, so that one query
can JOIN the two (``compare`` pairs samples by id in the engine).

:meth:`Engine.sibling` gives a second file views of its own in a session of its own (a DuckDB
cursor, a new Spark session), which no query can join. :func:`alongside` instead gives an engine
on the very session of ``engine`` whose every view name (``ev_rows``, ``ev_source``, the class maps
...) carries a suffix: its queries are rewritten as they are sent, so the shared SQL of
:mod:`evaldash.engines.sql` and :mod:`evaldash.engines.table` runs on it unchanged, and the first
engine's session sees the second file's rows as ``ev_rows_<tag>``.
"""

from __future__ import annotations

import functools
import re

from evaldash.engines.rewritten import rewritten

# the views and registered tables the engines define, and the multi-label class maps ev_map_<...>
# (column names such as ev_rn are left alone)
VIEW_NAMES = ("ev_source", "ev_rows", "ev_raw", "ev_files", "ev_label_map", "ev_pred_map", "ev_sample")
# a quoted string or identifier (left as it is: a file path or a column may hold these words), or a view name
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\b(" + "|".join(VIEW_NAMES) + r"|ev_map_\w+)\b")


def renamed(text: str, tag: str) -> str:
    """``text`` (SQL or a view name) with each bare view name ``v`` of :data:`VIEW_NAMES` as ``v_<tag>``."""
    return _TOKEN.sub(lambda m: f"{m.group(1)}_{tag}" if m.group(1) else m.group(0), text)


def rows_view(tag: str) -> str:
    """The name of the second file's ``ev_rows`` in the first engine's session."""
    return f"ev_rows_{tag}"


def alongside(engine, tag: str = "b"):
    """An engine on the same session as ``engine`` whose views are named ``<view>_<tag>``; queries
    run one at a time with ``engine``'s (one lock, as :class:`~evaldash.engines.base.Serialized`)."""
    return rewritten(engine, functools.partial(renamed, tag=tag), rename_views=True)
