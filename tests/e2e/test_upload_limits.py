"""Bounded uploads in the browser: a zip bomb is refused with a message naming the limit and the
data already loaded stays; zip members left out are reported in the sidebar."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import Dashboard, StreamlitServer, three, write_three_class_csv

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024


def write_zip_bomb(path: Path, megabytes: int = 200) -> Path:
    """One member of ``megabytes`` MiB of zeros, about 1/1000 of that once zipped."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("imgs/zeros.png", "w") as member:
            chunk = bytes(MIB)
            for _ in range(megabytes):
                member.write(chunk)
    return path


def uploads_in(upload_dir: Path) -> set[Path]:
    """Every file the servers keep uploads in."""
    return {p for p in upload_dir.rglob("*") if p.is_file()}


def test_an_upload_zip_bomb_is_refused_with_a_message_and_the_previous_data_stays(dash, digits_ev, tmp_path,
                                                                                  upload_dir):
    csv = write_three_class_csv(tmp_path / "three_classes.csv")
    bomb = write_zip_bomb(tmp_path / "bomb.zip")
    assert bomb.stat().st_size < MIB
    d = digits_ev.dataset
    before = uploads_in(upload_dir)

    dash.open("/")
    expect(dash.metric("Samples")).to_have_text(f"{d.n:,}")
    dash.upload(csv, bomb)

    error = dash.sidebar.locator('[data-testid="stAlert"]')
    expect(error).to_have_count(1)
    expect(error).to_contain_text(re.compile(
        r"bomb\.zip: refused: member 'imgs/zeros\.png' would expand [\d,]+ times \(.* to 200 MiB\), "
        r"more than the limit of 200 times \(--max-upload-ratio\)"))
    # the sample's numbers stay
    expect(dash.metric("Samples")).to_have_text(f"{d.n:,}")
    expect(dash.metric("Accuracy")).to_have_text(three(digits_ev.accuracy))
    expect(dash.sidebar).to_contain_text(f"{d.n:,} samples · {d.n_classes} classes")
    expect(dash.exceptions).to_have_count(0)
    assert uploads_in(upload_dir) <= before  # nothing of it was written


def test_zip_members_left_out_are_reported_in_the_sidebar(dash, tmp_path):
    csv = write_three_class_csv(tmp_path / "three_classes.csv")
    ev = evaldash.evaluate(evaldash.load_predictions(csv))
    images = tmp_path / "images.zip"
    with zipfile.ZipFile(images, "w") as archive:
        archive.writestr("imgs/fine.png", b"x")
        archive.writestr("../../escape.png", b"x")
        archive.writestr("three_classes.csv", "id,label,prediction\nforged,a,b\n")

    dash.open("/")
    dash.upload(csv, images)

    # the upload opened as uploaded (not the forged member), and the sidebar says what was left out
    expect(dash.metric("Samples")).to_have_text(f"{ev.dataset.n:,}")
    expect(dash.metric("Accuracy")).to_have_text(three(ev.accuracy))
    notice = dash.sidebar.locator('[data-testid="stAlert"]')
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("images.zip: 2 members not extracted: '../../escape.png' (outside the upload's "
                                   "folder); 'three_classes.csv' (would replace the predictions file)")
    expect(dash.exceptions).to_have_count(0)


def test_an_upload_that_does_not_open_leaves_no_folder(dash, digits_ev, tmp_path, upload_dir, app_server):
    bad = tmp_path / "no_labels.csv"
    bad.write_bytes(b"id,prediction,score_0,score_1\na,0,0.9,0.1\nb,1,0.2,0.8\n")
    # where the server writes it
    folder = upload_dir / f"server-{app_server.proc.pid}" / hashlib.sha256(bad.read_bytes()).hexdigest()[:16]

    dash.open("/")
    dash.upload(bad)

    expect(dash.sidebar.locator('[data-testid="stAlert"]')).to_contain_text("no_labels.csv: ")
    expect(dash.metric("Samples")).to_have_text(f"{digits_ev.dataset.n:,}")
    # no session uses it: removed at once (by the server's own list of live sessions)
    assert not folder.exists()
    assert folder.parent.is_dir() and not [p for p in upload_dir.rglob(".partial-*")]


def test_upload_folders_of_a_stopped_server_are_removed(page, tmp_path_factory, tmp_path):
    """Stopped by a signal, a server runs no exit handler: the next server's first upload cleans up."""
    upload_dir = tmp_path_factory.mktemp("own_uploads")
    csv = write_three_class_csv(tmp_path / "three_classes.csv")
    digest = hashlib.sha256(csv.read_bytes()).hexdigest()[:16]
    logs = tmp_path_factory.mktemp("server")
    pids = []
    for run in ("first", "second"):
        server = StreamlitServer([], logs / f"{run}.log", upload_dir)
        try:
            server.wait_ready()
            dash = Dashboard(page, server.url)
            dash.open("/")
            dash.upload(csv)
            expect(dash.metric("Classes")).to_have_text("3")
            pids.append(server.proc.pid)
            assert sorted(p.relative_to(upload_dir).as_posix() for p in upload_dir.glob("*/*")) == [
                f"server-{server.proc.pid}/{digest}"]  # the first server's folder is gone
        finally:
            server.stop()
    assert pids[0] != pids[1]
