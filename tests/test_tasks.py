"""The task of a file is decided once, from its truth columns, for every file format."""

import pandas as pd
import pytest

from evaldash.errors import InputError
from evaldash.multilabel_data import MultilabelDataset
from evaldash.tasks import evaluate_dataset, file_columns, load_dataset


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_each_format_is_detected_from_its_columns(tmp_path, suffix):
    multi = pd.DataFrame({"tags": [["a", "b"], [], ["b"]], "score_a": [0.9, 0.1, 0.4], "score_b": [0.8, 0.3, 0.7]})
    single = pd.DataFrame({"label": ["a", "b", "a"], "score_a": [0.9, 0.1, 0.4], "score_b": [0.1, 0.9, 0.6]})
    for name, frame in (("m", multi), ("s", single)):
        path = tmp_path / f"{name}{suffix}"
        if suffix == ".csv":
            frame = frame.assign(tags=frame["tags"].map("|".join)) if "tags" in frame else frame
            frame.to_csv(path, index=False)
        elif suffix == ".parquet":
            frame.to_parquet(path)
        else:
            frame.to_json(path, orient="records", lines=True)
        assert file_columns(path)[0] == frame.columns[0]
    m = load_dataset(tmp_path / f"m{suffix}")
    assert isinstance(m, MultilabelDataset) and m.task == "multilabel"
    assert evaluate_dataset(m).report()["task"] == "multilabel"
    s = load_dataset(tmp_path / f"s{suffix}")
    assert s.task == "binary" and evaluate_dataset(s).report()["task"] == "binary"


def test_forced_binary_needs_two_classes(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame({"label": ["a", "b", "c"], "score_a": [0.9, 0.1, 0.1], "score_b": [0.05, 0.8, 0.1],
                  "score_c": [0.05, 0.1, 0.8]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"p\.csv: --task binary needs exactly two classes; found 3"):
        load_dataset(path, task="binary")
    assert load_dataset(path, task="multiclass").task == "multiclass"


def test_a_missing_file_is_named_by_the_loader(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        load_dataset(tmp_path / "nope.csv")
