"""Uploads: a zip of images is refused before anything is written when it exceeds the limits, the
bytes written are counted, members that would escape, links and a member named like the
predictions file are left out and reported, and folders no session uses are removed."""

from __future__ import annotations

import io
import os
import stat
import struct
import time
import zipfile
from pathlib import Path

import pytest

from evaldash import uploads
from evaldash.errors import InputError
from evaldash.limits import MIB, Limits, current
from evaldash.uploads import UploadFolders, check_archive, extract_images, save_upload

PREDICTIONS = b"id,label,prediction,image\na,x,x,imgs/a.png\n"


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def zip_bomb(megabytes: int = 200, name: str = "zeros.bin") -> bytes:
    """One member of ``megabytes`` MiB of zeros, written in chunks: about 1/1000 of that zipped."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w") as member:
            chunk = bytes(MIB)
            for _ in range(megabytes):
                member.write(chunk)
    return buf.getvalue()


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def save(tmp_path, images: bytes | None, limits: Limits = Limits(), name: str = "preds.csv",
         folders: UploadFolders | None = None, session: str = "s1", data: bytes = PREDICTIONS):
    return save_upload(tmp_path / "uploads", name, data, images, "images.zip", limits,
                       folders or UploadFolders(), session)


# --- refused before writing, from the central directory ----------------------------------------

def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path):
    bomb = zip_bomb(200)
    assert len(bomb) < 1 * MIB
    start = time.monotonic()
    with pytest.raises(InputError, match=r"^images\.zip: refused: member 'zeros\.bin' would expand [\d,]+ times "
                                         r"\(.* to 200 MiB\), more than the limit of 200 times \(--max-upload-ratio\)"):
        save(tmp_path, bomb)
    assert time.monotonic() - start < 2
    assert list((tmp_path / "uploads").iterdir()) == []  # not even the predictions file stays


def test_a_zip_above_the_total_size_is_refused_before_writing(tmp_path):
    images = zip_bytes({f"imgs/{i}.bin": os.urandom(MIB) for i in range(3)}, zipfile.ZIP_STORED)
    with pytest.raises(InputError, match=r"^images\.zip: refused: its files would take 3 MiB once unzipped, more "
                                         r"than the limit of 2 MiB \(--max-upload-mb\)"):
        save(tmp_path, images, Limits(upload_bytes=2 * MIB))
    assert list((tmp_path / "uploads").iterdir()) == []
    assert save(tmp_path, images, Limits(upload_bytes=3 * MIB)).path.is_file()


def test_a_zip_with_too_many_entries_is_refused_before_writing(tmp_path):
    images = zip_bytes({f"imgs/{i}.png": b"" for i in range(11)})
    with pytest.raises(InputError, match=r"^images\.zip: refused: the zip holds 11 entries, more than the limit of "
                                         r"10 \(--max-upload-files\)"):
        save(tmp_path, images, Limits(upload_members=10))
    assert list((tmp_path / "uploads").iterdir()) == []


def test_many_small_members_that_compress_too_well_are_refused_in_all(tmp_path):
    images = zip_bytes({f"imgs/{i}.bmp": bytes(512 * 1024) for i in range(8)})  # 4 MiB of zeros in 8 members
    with pytest.raises(InputError, match=r"^images\.zip: refused: its files would expand [\d,]+ times in all "
                                         r"\(.* to 4 MiB\), more than the limit of 200 times \(--max-upload-ratio\)"):
        save(tmp_path, images)
    assert list((tmp_path / "uploads").iterdir()) == []


def test_small_members_may_compress_well(tmp_path):
    # a 500 KB blank scan compresses 1000 times: below 1 MiB only the total size counts
    upload = save(tmp_path, zip_bytes({"imgs/blank.bmp": bytes(500_000)}))
    assert (upload.folder / "imgs" / "blank.bmp").stat().st_size == 500_000


# --- enforced while writing: declared sizes can lie ------------------------------------------------

def _lie_about_sizes(data: bytes, declared: int) -> bytes:
    """Set every size field a zip declares for its members (local and central headers) to ``declared``."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        while at != -1:
            raw[at + offset: at + offset + 4] = struct.pack("<I", declared)
            at = raw.find(signature, at + 4)
    return bytes(raw)


def test_a_member_larger_than_it_declares_is_not_written_beyond_what_it_declares(tmp_path):
    liar = _lie_about_sizes(zip_bomb(20), 1000)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.infolist()[0].file_size == 1000
        check_archive(archive, "images.zip", Limits())  # the central directory looks harmless
        target = tmp_path / "out"
        target.mkdir()
        with pytest.raises(InputError, match=r"^images\.zip: cannot unzip member 'zeros\.bin'"):
            extract_images(archive, target, "images.zip", Limits())
    assert sum(p.stat().st_size for p in files_under(target)) <= 1000
    with pytest.raises(InputError, match=r"^images\.zip: cannot unzip"):
        save(tmp_path, liar)
    assert list((tmp_path / "uploads").iterdir()) == []


def test_writing_stops_at_the_total_limit_even_when_the_directory_passed(tmp_path, monkeypatch):
    # as if the central directory had passed the check (sizes that lie to the check)
    monkeypatch.setattr(uploads, "check_archive", lambda *args: None)
    images = zip_bytes({"a.bin": bytes(2 * MIB), "b.bin": bytes(2 * MIB)})
    target = tmp_path / "out"
    target.mkdir()
    with zipfile.ZipFile(io.BytesIO(images)) as archive:
        with pytest.raises(InputError, match=r"^images\.zip: refused: its files take more than the limit of 3 MiB "
                                             r"once unzipped \(--max-upload-mb\)"):
            extract_images(archive, target, "images.zip", Limits(upload_bytes=3 * MIB))
    assert sum(p.stat().st_size for p in files_under(target)) <= 3 * MIB


# --- members left out, and reported ---------------------------------------------------------------

def test_members_outside_the_folder_and_links_are_left_out_and_reported(tmp_path):
    link = zipfile.ZipInfo("imgs/link.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("imgs/a.png", b"fine")
        archive.writestr("../escape.png", b"no")
        archive.writestr("imgs/../../escape2.png", b"no")
        archive.writestr("/tmp/absolute.png", b"no")
        archive.writestr(link, "/etc/passwd")
    upload = save(tmp_path, buf.getvalue())
    assert files_under(upload.folder) == sorted([upload.folder / "preds.csv", upload.folder / "imgs" / "a.png"])
    assert [p.name for p in files_under(tmp_path)] == ["a.png", "preds.csv"]  # nothing escaped
    assert not Path("/tmp/absolute.png").exists()
    assert upload.skipped == ("'../escape.png' (outside the upload's folder)",
                              "'imgs/../../escape2.png' (outside the upload's folder)",
                              "'/tmp/absolute.png' (outside the upload's folder)",
                              "'imgs/link.png' (a symbolic link)")
    assert upload.notice("images.zip") == "images.zip: 4 members not extracted: " + "; ".join(upload.skipped)


@pytest.mark.parametrize("member", ["preds.csv", "./preds.csv", "imgs/../preds.csv", "preds.csv/x.png"])
def test_a_member_named_like_the_predictions_file_does_not_replace_it(tmp_path, member):
    upload = save(tmp_path, zip_bytes({member: b"id,label,prediction\nforged,a,b\n", "imgs/a.png": b"x"}))
    assert upload.path.read_bytes() == PREDICTIONS
    assert upload.skipped == (f"{member!r} (would replace the predictions file)",)


def test_many_members_left_out_are_summed_up(tmp_path):
    upload = save(tmp_path, zip_bytes({f"../{i}.png": b"x" for i in range(7)}))
    notice = upload.notice("images.zip")
    assert notice.startswith("images.zip: 7 members not extracted: '../0.png' (outside the upload's folder); ")
    assert notice.endswith("'../4.png' (outside the upload's folder); …")


def test_not_a_zip_is_refused_and_nothing_stays(tmp_path):
    with pytest.raises(InputError, match=r"^images\.zip: not a valid zip file of images$"):
        save(tmp_path, b"this is not a zip")
    assert list((tmp_path / "uploads").iterdir()) == []


@pytest.mark.parametrize("name, kept", [("../../x.csv", "x.csv"), ("..", "predictions"), ("a/b.csv", "b.csv")])
def test_the_upload_name_cannot_leave_its_folder(tmp_path, name, kept):
    upload = save(tmp_path, None, name=name)
    assert upload.path == upload.folder / kept and upload.folder.parent == tmp_path / "uploads"


# --- folders, shared and removed ---------------------------------------------------------------

def test_the_same_upload_shares_one_folder(tmp_path):
    folders = UploadFolders()
    images = zip_bytes({"imgs/a.png": b"x"})
    first = save(tmp_path, images, folders=folders, session="s1")
    second = save(tmp_path, images, folders=folders, session="s2")
    assert first.folder == second.folder
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [first.folder.name]
    assert folders.sweep({"s2"}) == [] and first.folder.is_dir()  # s2 still uses it
    assert folders.sweep(set()) == [first.folder] and not first.folder.exists()


def test_folders_no_live_session_uses_are_removed(tmp_path):
    folders = UploadFolders()
    a = save(tmp_path, None, folders=folders, session="s1", data=b"a\n")
    b = save(tmp_path, None, folders=folders, session="s2", data=b"b\n")
    c = save(tmp_path, None, folders=folders, session="s3", data=b"c\n")
    folders.release(c.folder, "s3")  # its file did not open: s3 does not use it
    assert folders.sweep({"s2", "s3"}) == [a.folder, c.folder]
    assert not a.folder.exists() and b.folder.is_dir() and not c.folder.exists()
    assert folders.folders() == [b.folder]


def test_folders_of_servers_that_no_longer_run_are_removed(tmp_path):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stopped = uploads.server_folder(tmp_path, int(gone.stdout))
    mine = uploads.server_folder(tmp_path)
    running = uploads.server_folder(tmp_path, os.getppid())  # the process that started this one
    for folder in (stopped, mine, running, tmp_path / "server-notapid", tmp_path / "other"):
        (folder / "abc").mkdir(parents=True)
    assert uploads.remove_stopped_servers(tmp_path) == [stopped]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [mine.name, running.name, "server-notapid", "other"])


# --- the limits ------------------------------------------------------------------------------

def test_limits_come_from_the_environment():
    assert current({}) == Limits(2048 * MIB, 200.0, 50_000, 40_000_000)
    assert current({"EVALDASH_MAX_UPLOAD_MB": "1.5", "EVALDASH_MAX_UPLOAD_RATIO": "50",
                    "EVALDASH_MAX_UPLOAD_FILES": "10", "EVALDASH_MAX_IMAGE_MEGAPIXELS": "2"}) \
        == Limits(int(1.5 * MIB), 50.0, 10, 2_000_000)
    for bad in ("0", "-1", "lots", "inf", "nan"):
        with pytest.raises(InputError, match=rf"^EVALDASH_MAX_UPLOAD_MB={bad}: expected a positive number$"):
            current({"EVALDASH_MAX_UPLOAD_MB": bad})


# --- the sidebar: upload folders of sessions that ended are removed --------------------------------

def test_the_app_removes_upload_folders_no_live_session_uses(tmp_path, monkeypatch):
    import sys

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from evaldash import ui

    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    monkeypatch.setattr(ui.open_panel, "UPLOAD_DIR", tmp_path / "uploads")
    live: set[str] = set()
    monkeypatch.setattr(ui.open_panel, "_live_sessions", lambda: set(live))  # the server's sessions, as the test says
    session = ["s1"]  # every AppTest has the same session id: each upload below is a session of its own
    monkeypatch.setattr(ui.open_panel, "_session_id", lambda: session[0])
    st.cache_resource.clear()

    def upload(content: bytes, session_id: str) -> Path:
        session[0] = session_id
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
        at.run()
        at.button(key="open_file").click().run()
        at.get_by_key("upload").set_value(("preds.csv", content, "text/csv"))
        at.button(key="open_upload").click().run()
        assert not at.exception and not at.sidebar.error, at.sidebar.error
        assert {m.label: m.value for m in at.metric}["Samples"] == str(content.count(b"\n") - 1)
        return Path(at.session_state["source"].path).parent

    try:
        first = upload(b"label,prediction\na,a\nb,a\n", "s1")
        live.add("s1")  # the first session is still connected
        second = upload(b"label,prediction\na,a\nb,b\na,b\n", "s2")
        assert first.is_dir() and second.is_dir()
        live.clear()  # both sessions ended
        third = upload(b"label,prediction\na,a\n", "s3")
        assert not first.exists() and not second.exists() and third.is_dir()
        assert third.parent.parent == tmp_path / "uploads" and [p.name for p in third.parent.iterdir()] == [third.name]
    finally:
        st.cache_resource.clear()


# --- images where the zip has them ----------------------------------------------------------------

def test_images_at_the_top_of_the_zip_are_found_by_file_name(tmp_path):
    from evaldash.dataset import load_predictions

    data = b"id,label,prediction,image\n" + b"".join(f"s{i},x,x,images/p{i}.png\n".encode() for i in range(4))
    upload = save(tmp_path, zip_bytes({f"p{i}.png": b"png" for i in range(4)}), data=data)
    assert load_predictions(upload.path).image_check.missing == 4  # the file's paths name no file
    d = load_predictions(upload.path, images_by_name=True)
    assert d.image_paths.tolist() == [os.path.realpath(upload.folder / f"p{i}.png") for i in range(4)]
    assert d.image_check.matched() == "Matched 4 of 4 images by file name in the zip."
