"""Default names of open runs: short, and different for different files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath


def distinct_names(paths: Sequence[str], labels: Sequence[str] | None = None) -> list[str]:
    """A name per run that tells it apart from the others.

    A run with a label (a bundled sample, an upload) is named by it; any other by the shortest
    tail of its path that no other run shares: ``runA/predictions.csv`` and
    ``runB/predictions.csv`` rather than ``predictions.csv`` twice. Names still equal after that
    (the same file opened twice, e.g. with another positive class, or two equal labels) get
    `` (2)``, `` (3)``, ... in the order given.
    """
    labels = list(labels) if labels is not None else [""] * len(paths)
    parts = [PurePath(p).parts for p in paths]
    depth = [1] * len(paths)

    def name(i: int) -> str:
        if labels[i]:
            return labels[i]
        return PurePath(*parts[i][-depth[i]:]).as_posix() if parts[i] else str(paths[i])

    while True:
        names = [name(i) for i in range(len(paths))]
        files = {}  # each name's different files: a longer tail only helps when there are several
        for i, n in enumerate(names):
            files.setdefault(n, set()).add(parts[i])
        grown = False
        for i, n in enumerate(names):
            if len(files[n]) > 1 and not labels[i] and depth[i] < len(parts[i]):
                depth[i] += 1
                grown = True
        if not grown:
            break
    out, used = [], Counter()
    for n in names:
        used[n] += 1
        out.append(n if used[n] == 1 else f"{n} ({used[n]})")
    return out
