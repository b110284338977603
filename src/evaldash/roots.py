"""Which files a browser user may open by typing a path on the server: those inside the data roots.

A path is resolved with every symbolic link followed, then must lie inside one of the roots
(``os.path.commonpath``) and be a readable regular file. Every way of failing that test gives
the same message, so the answer says nothing about what exists outside the roots (or inside).
"""

from __future__ import annotations

import glob
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from evaldash.engines.base import GLOB_CHARS
from evaldash.errors import InputError

REFUSED = ("cannot open this path: the server opens only readable predictions files inside its data "
           "folders (evaldash serve --data-root DIR)")
TURNED_OFF = "Opening files by their path on the server is turned off on this server (--no-server-paths)."


@dataclass(frozen=True)
class DataRoots:
    """The folders (real paths, symbolic links resolved) whose files a browser user may open."""

    folders: tuple[str, ...]

    @classmethod
    def of(cls, folders: Iterable[str | Path]) -> "DataRoots":
        """Roots from folder names (relative ones against the working folder), duplicates dropped."""
        real = (os.path.realpath(os.path.expanduser(str(f))) for f in folders)
        return cls(tuple(dict.fromkeys(real)))

    def contains(self, real_path: str) -> bool:
        """Whether the (already resolved) ``real_path`` is one of the roots or lies inside one."""
        return any(os.path.commonpath([real_path, root]) == root for root in self.folders)

    def resolve(self, typed: str) -> str:
        """The real path of the file ``typed`` names, if it is a readable regular file inside a root.

        Raises
        ------
        InputError
            One message for a path outside every root, a missing path, a folder, a special file
            and an unreadable file alike; it repeats what was typed and nothing else.
        """
        refused = _refusal(typed)
        real = _real(typed, refused)
        if not self.contains(real):
            raise refused
        try:
            info = os.stat(real)
        except (OSError, ValueError):
            raise refused from None
        if not stat.S_ISREG(info.st_mode) or not os.access(real, os.R_OK):
            raise refused
        return real

    def resolve_folder(self, typed: str) -> str:
        """The real path of the folder ``typed`` names, if it is a root or a folder inside one (an
        images root).

        Raises
        ------
        InputError
            The same message as :meth:`resolve`, for every folder it will not give.
        """
        refused = _refusal(typed)
        real = _real(typed, refused)
        if not self.contains(real) or not os.path.isdir(real):
            raise refused
        return real

    def resolve_set(self, typed: str) -> str:
        """What an engine opens for ``typed``, a folder of Parquet files or a glob (wildcards in its
        last part only), if it and every file it holds (symbolic links followed) lie inside a root:
        the real folder, or the glob in the real folder. A single file: :meth:`resolve`.

        Raises
        ------
        InputError
            The same message as :meth:`resolve`, for every path it will not give.
        """
        refused = _refusal(typed)
        text = os.path.expanduser(typed)
        if not has_wildcards(text):
            real = _real(typed, refused)
            if not os.path.isdir(real):
                return self.resolve(typed)
            folder, files = real, [str(p) for p in Path(real).rglob("*")]
        else:
            head, name = os.path.split(text)
            if has_wildcards(head) or not name:
                raise refused
            folder = os.path.realpath(head or ".")
            files = glob.glob(os.path.join(folder, name))
            real = os.path.join(folder, name)
        if not self.contains(folder) or not os.path.isdir(folder):
            raise refused
        if any(not self.contains(os.path.realpath(f)) for f in files):  # a link leading outside
            raise refused
        return real


def _refusal(typed: str) -> InputError:
    """The one message for every path refused; raised at once for an empty or NUL-holding one."""
    refused = InputError(f"{typed}: {REFUSED}")
    if not typed or "\x00" in typed:
        raise refused
    return refused


def _real(typed: str, refused: InputError) -> str:
    """``typed`` with ``~`` expanded and every symbolic link followed, or ``refused``."""
    try:
        return os.path.realpath(os.path.expanduser(typed))
    except (OSError, ValueError):
        raise refused from None


def has_wildcards(text: str) -> bool:
    """Whether ``text`` is a glob, as the engines read one (:data:`evaldash.engines.base.GLOB_CHARS`)."""
    return any(ch in text for ch in GLOB_CHARS)


def start_folder(path: str | Path) -> Path:
    """The folder a start path makes a root: a file's folder, a folder itself, a glob's folder."""
    text = str(path)
    if has_wildcards(text):
        head = text
        while has_wildcards(head):
            head = os.path.dirname(head)
        return Path(os.path.realpath(head or "."))
    real = Path(os.path.realpath(text))
    return real if real.is_dir() else real.parent


def default_roots(start_files: Iterable[str | Path], bundled: str | Path) -> DataRoots:
    """The roots when none are given: the folders of the files (folders, globs) given at start, and
    ``bundled``."""
    return DataRoots.of([*(start_folder(p) for p in start_files), bundled])
