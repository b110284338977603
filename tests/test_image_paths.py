"""Images where users keep them: a file in ``outputs/`` whose paths lead to ``../images`` says how
to show them (the images root, with a folder that holds them), relative paths are also read from
the images root, and an upload's images are matched by file name when the paths do not match."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from evaldash.dataset import dataset_from_frame, load_predictions
from evaldash.image_paths import ImageCheck

N = 6


@pytest.fixture
def project(tmp_path) -> Path:
    """A project as people keep it: ``images/`` beside ``outputs/`` (where the predictions go)."""
    (tmp_path / "images").mkdir()
    (tmp_path / "outputs").mkdir()
    for i in range(N):
        (tmp_path / "images" / f"x{i}.png").write_bytes(b"png")
    return tmp_path


def write_predictions(path: Path, images: list[str]) -> Path:
    frame = pd.DataFrame({"label": ["a", "b"] * (len(images) // 2), "prediction": ["a"] * len(images),
                          "image": images})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_paths_leading_out_of_the_file_folder_say_how_to_show_them(project, how):
    images = [f"../images/x{i}.png" if how == "relative" else str(project / "images" / f"x{i}.png")
              for i in range(N)]
    path = write_predictions(project / "outputs" / "p.csv", images)
    d = load_predictions(path)

    assert d.image_paths.tolist() == [None] * N
    outputs, folder = os.path.realpath(project / "outputs"), os.path.realpath(project / "images")
    assert d.image_check == ImageCheck(with_path=N, refused=N, root=outputs, base=outputs, suggested_root=folder)
    assert d.image_check.problem() == (f"No image for {N} of {N} samples: their paths lead outside the images root "
                                       f"{outputs}.")
    assert d.warnings[-1] == (f"{path}: column 'image': {d.image_check.problem()} To show them, set the images "
                              f"root to {folder}: --images-root DIR.")


def test_the_suggested_folder_also_holds_the_images_already_found(project):
    (project / "outputs" / "here.png").write_bytes(b"png")
    d = load_predictions(write_predictions(project / "outputs" / "p.csv", ["here.png", "../images/x0.png"]))
    assert d.image_check.refused == 1
    assert d.image_check.suggested_root == os.path.realpath(project)
    assert d.image_paths[0] == os.path.realpath(project / "outputs" / "here.png")


def test_the_suggested_root_is_followed_and_shows_every_image(project):
    path = write_predictions(project / "outputs" / "p.csv", [f"../images/x{i}.png" for i in range(N)])
    suggested = load_predictions(path).image_check.suggested_root
    d = load_predictions(path, images_root=suggested)
    assert d.image_paths.tolist() == [os.path.join(suggested, f"x{i}.png") for i in range(N)]
    assert d.image_check.not_shown == 0 and d.image_check.problem() == ""
    assert not any("image" in w for w in d.warnings)


def test_relative_paths_are_also_read_from_the_images_root(project):
    # the paths start from the project folder, the file lies in outputs/
    path = write_predictions(project / "outputs" / "p.csv", [f"images/x{i}.png" for i in range(N)])
    before = load_predictions(path)
    assert before.image_check.missing == N
    assert "Relative paths are read from the file's folder" in before.image_check.fix()

    d = load_predictions(path, images_root=project)
    assert d.image_paths.tolist() == [os.path.realpath(project / "images" / f"x{i}.png") for i in range(N)]
    assert d.image_check.not_shown == 0


def test_no_folder_is_suggested_for_a_link_inside_pointing_out_or_paths_all_over(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "s.png").write_bytes(b"png")
    os.symlink(tmp_path / "secret" / "s.png", tmp_path / "data" / "link.png")
    d = load_predictions(write_predictions(tmp_path / "data" / "p.csv", ["link.png", "link.png"]))
    assert d.image_check.refused == 2 and d.image_check.suggested_root is None
    assert str(tmp_path / "secret") not in " ".join(d.warnings)  # the link's target is not told
    d = load_predictions(write_predictions(tmp_path / "data" / "q.csv", ["/etc/a.png", "/usr/b.png"]))
    assert d.image_check.suggested_root is None  # not "/"


def test_missing_and_unshown_counts_are_rows_and_empty_paths_are_not_counted(project):
    images = ["../images/x0.png", "gone.png", "gone.png", "", "../images/x1.png", "x"]
    d = load_predictions(write_predictions(project / "outputs" / "p.csv", images))
    c = d.image_check
    assert (c.with_path, c.refused, c.missing, c.not_shown) == (5, 2, 3, 5)
    assert c.problem().startswith("No image for 5 of 5 samples: 2 lead outside the images root")
    assert ", 3 not found (for example gone.png)." in c.problem()


def test_a_file_without_an_image_column_has_no_image_check():
    frame = pd.DataFrame({"label": ["a", "b"], "prediction": ["a", "a"]})
    assert dataset_from_frame(frame).image_check is None


# --- an upload: images matched by file name in its zip -------------------------------------------

@pytest.fixture
def upload(tmp_path) -> Path:
    """An upload's folder: the predictions file and its zip's files, written at the zip's top."""
    folder = tmp_path / "upload"
    folder.mkdir()
    for i in range(N):
        (folder / f"x{i}.png").write_bytes(b"png")
    return folder


def test_an_upload_with_images_at_the_zip_top_is_matched_by_file_name(upload):
    path = write_predictions(upload / "p.csv", [f"images/x{i}.png" for i in range(N)])
    assert load_predictions(path).image_check.missing == N  # not by name: not found

    d = load_predictions(path, images_by_name=True)
    assert d.image_paths.tolist() == [os.path.realpath(upload / f"x{i}.png") for i in range(N)]
    assert d.image_check.by_name == N and d.image_check.not_shown == 0
    assert d.image_check.matched() == f"Matched {N} of {N} images by file name in the zip."
    assert d.warnings == (f"{path}: column 'image': Matched {N} of {N} images by file name in the zip.",)


def test_absolute_and_windows_paths_are_matched_by_their_file_name(upload):
    images = ["/home/ana/proj/images/x0.png", r"C:\Users\ana\images\x1.png", "x2.png", "sub/x3.png",
              "images/x4.png", "images/x5.png"]
    d = load_predictions(write_predictions(upload / "p.csv", images), images_by_name=True)
    assert d.image_paths.tolist() == [os.path.realpath(upload / f"x{i}.png") for i in range(N)]
    assert d.image_check.by_name == 5  # x2.png is where the file says


def test_a_name_found_twice_in_the_zip_is_matched_only_by_its_folders(upload):
    for split in ("train", "val"):
        (upload / "data" / split / "cat").mkdir(parents=True)
        (upload / "data" / split / "cat" / "1.png").write_bytes(b"png")
    images = ["/elsewhere/val/cat/1.png", "cat/1.png", "x0.png", "gone.png"]
    d = load_predictions(write_predictions(upload / "p.csv", images), images_by_name=True)
    assert d.image_paths.tolist() == [os.path.realpath(upload / "data" / "val" / "cat" / "1.png"), None,
                                      os.path.realpath(upload / "x0.png"), None]
    c = d.image_check
    assert (c.by_name, c.missing) == (1, 2)
    assert c.matched() == "Matched 1 of 4 images by file name in the zip; 2 not found."
    assert c.problem() == "No image for 2 of 4 samples: no file in the upload at their paths (for example cat/1.png)."
    assert c.fix().startswith("To show them, add them to the zip at the paths the file gives")


def test_a_match_by_name_never_leaves_the_upload(upload, tmp_path):
    (tmp_path / "outside.png").write_bytes(b"png")
    os.symlink(tmp_path / "outside.png", upload / "y.png")  # a zip never writes links; still refused
    d = load_predictions(write_predictions(upload / "p.csv", ["images/y.png", "images/y.png"]), images_by_name=True)
    assert d.image_paths.tolist() == [None, None]
    assert d.image_check.by_name == 0
