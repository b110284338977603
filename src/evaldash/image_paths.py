"""Where a predictions file's images are: each path resolved inside the images root, and what
became of the ones that cannot be shown, with the way to fix it (:class:`ImageCheck`).

A relative path is read from the file's folder, then from the images root; an absolute path must
lie inside the images root. For an upload (``by_name``), a path that names no file there is looked
up among the files of the upload's zip: by its file name, when only one file in the zip has that
name (or when only one of them also has the path's last folders).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaldash.errors import InputError

OK, REFUSED, MISSING, UNREADABLE, EMPTY = range(5)
EXAMPLE_CHARS = 80


@dataclass(frozen=True)
class ImageCheck:
    """What became of a file's image paths, counted in rows (samples).

    ``suggested_root``: a folder that holds every image found and every path that leads outside
    the images root (worked out from the paths as written, without looking at the disk), or None.
    ``example``: the first path that names no file, as written in the file (shortened).
    """

    with_path: int
    refused: int = 0
    missing: int = 0
    unreadable: int = 0
    by_name: int = 0
    root: str = ""
    base: str = ""
    suggested_root: str | None = None
    example: str = ""
    in_upload: bool = False
    where: str = ""  # what the counts cover, after "samples" ("": the whole file; " on this page")

    @property
    def not_shown(self) -> int:
        return self.refused + self.missing + self.unreadable

    def problem(self) -> str:
        """One sentence on the images that cannot be shown ("" when every image with a path is found)."""
        if not self.not_shown:
            return ""
        example = f" (for example {self.example})" if self.example else ""
        upload = " in the upload" if self.in_upload else ""
        if self.where and self.with_path == 1:  # one sample shown (a review, a Details view)
            path = f" ({self.example})" if self.example else ""
            body = (f"its path leads outside the images root {self.root}" if self.refused
                    else f"no file{upload} at its path{path}" if self.missing else "its file is not readable")
            return f"No image for this sample: {body}."
        kinds = [(self.refused, f"lead outside the images root {self.root}",
                  f"their paths lead outside the images root {self.root}"),
                 (self.missing, f"not found{upload}{example}", f"no file{upload} at their paths{example}"),
                 (self.unreadable, "not readable", "their files are not readable")]
        present = [(n, some, every) for n, some, every in kinds if n]
        body = present[0][2] if len(present) == 1 else ", ".join(f"{n:,} {some}" for n, some, _ in present)
        return f"No image for {self.not_shown:,} of {self.with_path:,} samples{self.where}: {body}."

    def fix(self, ways: str = "--images-root DIR") -> str:
        """How to show them; ``ways`` says where the images root is set (a command-line option, a field)."""
        if not self.not_shown:
            return ""
        if self.in_upload:
            return ("To show them, add them to the zip at the paths the file gives, or under file names no "
                    "other file in the zip has.")
        if self.refused:
            return f"To show them, set the images root to {self.suggested_root or 'a folder that holds them'}: {ways}."
        if self.missing:
            return (f"Relative paths are read from the file's folder {self.base}, then from the images root: to "
                    f"show them, set the images root to the folder they start from: {ways}.")
        return "To show them, make the files readable by the server."

    def matched(self) -> str:
        """What was found by file name in an upload's zip ("" when nothing was)."""
        if not self.by_name:
            return ""
        rest = f"; {self.not_shown:,} not found" if self.not_shown else ""
        return f"Matched {self.by_name:,} of {self.with_path:,} images by file name in the zip{rest}."


def resolve_images(series: pd.Series, root: Path, base: Path, source: str, column: str,
                   by_name: bool = False) -> tuple[np.ndarray, list[str], ImageCheck]:
    """Absolute image paths inside ``root``, shape (n_samples,), dtype object (None where not
    found, refused or unreadable); the warnings; and the counts with the fix (:class:`ImageCheck`).

    ``base``: the folder relative paths are read from first (the file's folder). ``by_name``: look
    paths that name no file up by file name among the files under ``root`` (an upload's zip).
    """
    root_real = os.path.realpath(root)
    base = Path(base)
    also_root = os.path.realpath(base) != root_real  # relative paths: the images root after the file's folder
    _check_scalars(series, source, column)
    codes, uniques = pd.factorize(series)  # NaN gets code -1
    nul = np.array(["\x00" in str(u) for u in uniques], dtype=bool)
    if nul.any():
        raise InputError(
            f"{source}: column {column!r} has image paths with a NUL byte at "
            f"{_rows(np.isin(codes, np.flatnonzero(nul)))}; expected a file path (no path holds a NUL byte)"
        )
    resolved = np.empty(len(uniques) + 1, dtype=object)  # last slot: no path given
    status = np.full(len(uniques) + 1, EMPTY, dtype=np.int8)
    named = np.zeros(len(uniques) + 1, dtype=bool)  # found by file name
    outside_dirs: set[str] = set()  # folders of the paths that lead outside the root, as written
    found_dirs: set[str] = set()
    zip_files = None
    for i, raw in enumerate(uniques):
        text = str(raw).strip()
        if not text:
            continue
        candidate = text if os.path.isabs(text) else os.path.join(base, text)
        status[i], resolved[i] = _check(candidate, root_real)
        if status[i] != OK and also_root and not os.path.isabs(text):
            again = _check(os.path.join(root_real, text), root_real)
            if again[0] == OK:
                status[i], resolved[i] = again
        if status[i] != OK and by_name:
            if zip_files is None:
                zip_files = _files_by_name(root_real)
            match = _match_by_name(text, zip_files)
            if match is not None:
                again = _check(os.path.join(root_real, *match), root_real)
                if again[0] == OK:
                    status[i], resolved[i] = again
                    named[i] = True
        if status[i] == OK:
            found_dirs.add(os.path.dirname(resolved[i]))
        elif status[i] == REFUSED:
            lexical = os.path.normpath(candidate)
            if os.path.commonpath([lexical, root_real]) != root_real:  # not a link inside pointing out
                outside_dirs.add(os.path.dirname(lexical))
    row_status = status[codes]
    paths = resolved[codes]
    counts = np.bincount(row_status, minlength=5)
    warnings = []
    labels = {
        REFUSED: f"refused: the path resolves outside the allowed images root {root_real}",
        MISSING: "missing: no such file",
        UNREADABLE: "unreadable: permission denied",
    }
    for code, text in labels.items():
        mask = row_status == code
        if mask.any():
            warnings.append(
                f"{source}: column {column!r}: {int(mask.sum())} image path"
                f"{'s' if mask.sum() > 1 else ''} {text} ({_rows(mask)})"
            )
    missing = np.flatnonzero(row_status == MISSING)
    example = str(series.iloc[int(missing[0])]).strip() if len(missing) else ""
    if len(example) > EXAMPLE_CHARS:
        example = example[:EXAMPLE_CHARS - 1] + "…"
    check = ImageCheck(
        with_path=int(len(codes) - counts[EMPTY]), refused=int(counts[REFUSED]), missing=int(counts[MISSING]),
        unreadable=int(counts[UNREADABLE]), by_name=int(named[codes].sum()), root=root_real,
        base=os.path.realpath(base), suggested_root=_common_folder(outside_dirs | found_dirs) if outside_dirs else None,
        example=example, in_upload=by_name,
    )
    if check.by_name:
        warnings.append(f"{source}: column {column!r}: {check.matched()}")
    if check.not_shown:
        warnings.append(f"{source}: column {column!r}: {check.problem()} {check.fix()}")
    return paths, warnings, check


def _check(candidate: str, root_real: str) -> tuple[int, str | None]:
    real = os.path.realpath(candidate)
    if os.path.commonpath([real, root_real]) != root_real:
        return REFUSED, None
    if not os.path.isfile(real):
        return MISSING, None
    if not os.access(real, os.R_OK):
        return UNREADABLE, None
    return OK, real


def _common_folder(folders: set[str]) -> str | None:
    """The deepest folder holding every one of ``folders``; None when that is the file system's root."""
    common = os.path.commonpath(sorted(folders))
    return None if os.path.dirname(common) == common else common


def _parts(text: str) -> list[str]:
    """A path's names, either separator (the file may come from Windows), without a drive or dots."""
    names = [p for p in re.split(r"[\\/]+", text) if p not in ("", ".", "..")]
    if names and re.fullmatch(r"[A-Za-z]:", names[0]):
        names = names[1:]
    return names


def _files_by_name(root_real: str) -> dict[str, list[tuple[str, ...]]]:
    """Every file under ``root_real`` (links not followed), by file name: their paths as name tuples."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for folder, _, files in os.walk(root_real):
        rel = os.path.relpath(folder, root_real)
        prefix = () if rel == "." else tuple(Path(rel).parts)
        for name in files:
            index.setdefault(name, []).append((*prefix, name))
    return index


def _match_by_name(text: str, index: dict[str, list[tuple[str, ...]]]) -> tuple[str, ...] | None:
    """The one file of ``index`` that ``text`` names by its file name, else None.

    Several files with that name: the one sharing the most trailing folders with ``text``, if no
    other shares as many and it shares at least one."""
    names = _parts(text)
    if not names:
        return None
    candidates = index.get(names[-1], [])
    if len(candidates) == 1:
        return candidates[0]
    shared = [_trailing_match(names, c) for c in candidates]
    best = max(shared, default=0)
    if best >= 2 and shared.count(best) == 1:
        return candidates[shared.index(best)]
    return None


def _trailing_match(a: list[str], b: tuple[str, ...]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _check_scalars(series: pd.Series, source: str, column: str) -> None:
    from evaldash.dataset import _check_scalars as check

    check(series, source, column, "one image path per row")


def _rows(mask: np.ndarray) -> str:
    from evaldash.dataset import _rows as rows

    return rows(mask)
