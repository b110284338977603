"""An upload: the predictions file and its zip of images, written into a folder of their own.

The zip is checked from its central directory before anything is written: the number of
entries, the total size once unzipped and each large member's compression ratio
(:class:`evaldash.limits.Limits`). The sizes a zip declares can lie, so the bytes actually
written are counted too, and writing stops at the limit. Members that would land outside the
folder (zip-slip), symbolic links and a member named like the predictions file are not written,
and are reported. Folders no live session uses are removed (:class:`UploadFolders`).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from evaldash.errors import InputError
from evaldash.limits import MIB, Limits

RATIO_FLOOR = MIB  # smaller members may compress as well as they like: the total size bounds them
CHUNK = MIB
SHOWN_SKIPPED = 5


@dataclass(frozen=True)
class Upload:
    """Where an upload was written, and the zip members left out (``name (reason)``)."""

    path: Path
    folder: Path
    skipped: tuple[str, ...] = ()

    def notice(self, zip_name: str) -> str:
        """One line on the members left out ("" when none were)."""
        if not self.skipped:
            return ""
        n = len(self.skipped)
        shown = "; ".join(self.skipped[:SHOWN_SKIPPED]) + ("; …" if n > SHOWN_SKIPPED else "")
        return f"{zip_name}: {n} member{'s' if n != 1 else ''} not extracted: {shown}"


def size_text(n: float) -> str:
    """``n`` bytes for a person: 1.5 GiB, 200 MiB, 12 KiB, 10 bytes."""
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", MIB), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def _member(name: str) -> str:
    return repr(name if len(name) <= 80 else name[:77] + "...")


def check_archive(archive: zipfile.ZipFile, zip_name: str, limits: Limits) -> None:
    """Refuse a zip whose central directory exceeds ``limits``, before anything is written.

    The compression ratio is checked for the whole zip and for each member, from 1 MiB up.

    Raises
    ------
    InputError
        Naming the zip, what it holds and the limit it exceeds.
    """
    members = archive.infolist()
    if len(members) > limits.upload_members:
        raise InputError(f"{zip_name}: refused: the zip holds {len(members):,} entries, more than the limit of "
                         f"{limits.upload_members:,} (--max-upload-files)")
    total = sum(m.file_size for m in members if not m.is_dir())
    if total > limits.upload_bytes:
        raise InputError(f"{zip_name}: refused: its files would take {size_text(total)} once unzipped, more than "
                         f"the limit of {size_text(limits.upload_bytes)} (--max-upload-mb)")
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size >= RATIO_FLOOR and ratio > limits.upload_ratio:
            raise InputError(
                f"{zip_name}: refused: member {_member(m.filename)} would expand {ratio:,.0f} "
                f"times ({size_text(m.compress_size)} to {size_text(m.file_size)}), more than the limit of "
                f"{limits.upload_ratio:g} times (--max-upload-ratio)")
    packed = sum(m.compress_size for m in members if not m.is_dir())
    if total >= RATIO_FLOOR and total > limits.upload_ratio * max(packed, 1):
        raise InputError(
            f"{zip_name}: refused: its files would expand {total / max(packed, 1):,.0f} times in all "
            f"({size_text(packed)} to {size_text(total)}), more than the limit of {limits.upload_ratio:g} times "
            f"(--max-upload-ratio)")


def extract_images(archive: zipfile.ZipFile, target: Path, zip_name: str, limits: Limits,
                   keep: Iterable[Path] = ()) -> list[str]:
    """Write the zip's files into ``target``; return the members left out, as ``name (reason)``.

    ``keep``: files in ``target`` no member may replace (the predictions file). Bytes are counted
    as they are written: a member larger than it declared, or a total above the limit, stops it.

    Raises
    ------
    InputError
        When the zip exceeds ``limits`` (:func:`check_archive`) or is damaged; files already
        written stay in ``target`` for the caller to remove.
    """
    check_archive(archive, zip_name, limits)
    root = os.path.realpath(target)
    kept = {os.path.realpath(p) for p in keep}
    skipped: list[str] = []
    written = 0
    for member in archive.infolist():
        if member.is_dir():
            continue
        name = member.filename
        if stat.S_ISLNK(member.external_attr >> 16):
            skipped.append(f"{_member(name)} (a symbolic link)")
            continue
        dest = os.path.realpath(os.path.join(root, name))
        if os.path.commonpath([dest, root]) != root or dest == root:
            skipped.append(f"{_member(name)} (outside the upload's folder)")
            continue
        if any(dest == k or os.path.commonpath([dest, k]) == k for k in kept):
            skipped.append(f"{_member(name)} (would replace the predictions file)")
            continue
        try:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with archive.open(member) as src, open(dest, "wb") as out:
                size = 0
                while chunk := src.read(CHUNK):
                    size += len(chunk)
                    written += len(chunk)
                    if size > member.file_size:
                        raise InputError(f"{zip_name}: refused: member {_member(name)} unzips to more than the "
                                         f"{size_text(member.file_size)} the zip declares")
                    if written > limits.upload_bytes:
                        raise InputError(f"{zip_name}: refused: its files take more than the limit of "
                                         f"{size_text(limits.upload_bytes)} once unzipped (--max-upload-mb)")
                    out.write(chunk)
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as exc:
            # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
            raise InputError(f"{zip_name}: cannot unzip member {_member(name)} ({exc})") from None
        except OSError as exc:  # e.g. a member whose folder is a file written before
            skipped.append(f"{_member(name)} (cannot be written: {exc.strerror or type(exc).__name__})")
    return skipped


def _file_name(name: str) -> str:
    name = Path(str(name).replace("\x00", "")).name
    return name if name not in ("", ".", "..") else "predictions"


def save_upload(upload_dir: Path, name: str, data: bytes, images: bytes | None, images_name: str | None,
                limits: Limits, folders: "UploadFolders", session: str) -> Upload:
    """Write an uploaded predictions file (and the bytes of its zip of images) into a folder of its own.

    The folder is named by the content's hash: the same upload twice shares one folder. It is
    written under a temporary name and renamed when complete, and registered as used by
    ``session`` in ``folders``.

    Raises
    ------
    InputError
        When the zip is not a zip, is damaged or exceeds ``limits``: nothing of it is kept.
    """
    name = _file_name(name)
    digest = hashlib.sha256(data)
    if images is not None:
        digest.update(b"\x1f" + images)
    upload_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=upload_dir))
    try:
        (work / name).write_bytes(data)
        skipped: list[str] = []
        if images is not None:
            zip_name = _file_name(images_name or "images.zip")
            try:
                with zipfile.ZipFile(io.BytesIO(images)) as archive:
                    skipped = extract_images(archive, work, zip_name, limits, keep=[work / name])
            except zipfile.BadZipFile:
                raise InputError(f"{zip_name}: not a valid zip file of images") from None
        folder = upload_dir / digest.hexdigest()[:16]
        with folders.lock:
            if folder.is_dir():  # the same upload, already written
                shutil.rmtree(work, ignore_errors=True)
            else:
                os.rename(work, folder)
            folders.use(folder, session)
        return Upload(folder / name, folder, tuple(skipped))
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def server_folder(upload_dir: Path, pid: int | None = None) -> Path:
    """This server process's own folder of uploads, in ``upload_dir`` (which servers may share)."""
    return Path(upload_dir) / f"server-{os.getpid() if pid is None else pid}"


def remove_stopped_servers(upload_dir: Path) -> list[Path]:
    """Remove the upload folders of server processes that no longer run; return them.

    A server stopped by a signal does not run its exit handlers, so its successor cleans up.
    """
    removed = []
    for folder in Path(upload_dir).glob("server-*"):
        try:
            pid = int(folder.name[len("server-"):])
        except ValueError:
            continue
        if pid != os.getpid() and not _running(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return False
    return True


class UploadFolders:
    """Which sessions use which upload folders; :meth:`sweep` removes those no live session uses."""

    def __init__(self):
        self.lock = threading.RLock()
        self._users: dict[Path, set[str]] = {}

    def use(self, folder: Path, session: str) -> None:
        with self.lock:
            self._users.setdefault(Path(folder), set()).add(session)

    def release(self, folder: Path, session: str) -> None:
        """``session`` no longer uses ``folder`` (its file did not open)."""
        with self.lock:
            self._users.get(Path(folder), set()).discard(session)

    def folders(self) -> list[Path]:
        with self.lock:
            return list(self._users)

    def sweep(self, live_sessions: Iterable[str]) -> list[Path]:
        """Remove the folders that no session in ``live_sessions`` uses; return them."""
        live = set(live_sessions)
        removed = []
        with self.lock:
            for folder, users in list(self._users.items()):
                users &= live
                if not users:
                    shutil.rmtree(folder, ignore_errors=True)
                    del self._users[folder]
                    removed.append(folder)
        return removed
