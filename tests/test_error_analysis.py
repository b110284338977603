"""Galleries pick exactly the rows a direct computation picks, in the documented order."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaldash import dataset_from_frame, evaluate
from evaldash.error_analysis import filter_mask, gallery_rows, metadata_filters, ranked
from evaldash.images import placeholder, thumbnail


@pytest.fixture
def ev():
    rng = np.random.default_rng(3)
    n, k = 500, 4
    p = rng.dirichlet(np.ones(k), size=n).round(2)
    p[:, -1] = 1 - p[:, :-1].sum(axis=1)
    frame = pd.DataFrame({"label": rng.integers(0, k, n), "site": rng.choice(["a", "b"], n),
                          "size": rng.random(n)})
    for c in range(k):
        frame[f"score_{c}"] = p[:, c]
    return evaluate(dataset_from_frame(frame))


def test_ranked_is_a_partial_sort_with_file_order_on_ties():
    key = np.array([3, 1, 2, 1, 5, 1, 0])
    mask = np.array([1, 1, 1, 1, 1, 1, 0], dtype=bool)
    rows, total = ranked(key, mask, 3)
    assert total == 6 and rows.tolist() == [1, 3, 5]


def test_confident_mistakes_and_unsure_correct_match_a_direct_sort(ev):
    d = ev.dataset
    conf = d.scores[np.arange(d.n), d.y_pred]
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    want = wrong[np.lexsort((wrong, -conf[wrong]))][:24]
    rows, total = gallery_rows(ev, "mistakes", np.ones(d.n, bool), 24)
    assert total == wrong.size and rows.tolist() == want.tolist()
    right = np.flatnonzero(d.y_true == d.y_pred)
    want = right[np.lexsort((right, conf[right]))][:10]
    rows, total = gallery_rows(ev, "unsure", np.ones(d.n, bool), 10)
    assert total == right.size and rows.tolist() == want.tolist()


def test_nearest_threshold_and_filters(ev):
    d = ev.dataset
    mask = filter_mask(d, true=[1, 2], pred=[], metadata={"site": ["a"], "size": (0.2, 0.8)})
    size = d.metadata["size"].to_numpy()
    direct = np.isin(d.y_true, [1, 2]) & (d.metadata["site"] == "a").to_numpy() & (size >= 0.2) & (size <= 0.8)
    assert mask.tolist() == direct.tolist()
    rows, total = gallery_rows(ev, "threshold", mask, 5, cls=2, threshold=0.4)
    dist = np.abs(d.scores[:, 2] - 0.4)
    cand = np.flatnonzero(direct)
    assert total == cand.size and rows.tolist() == cand[np.lexsort((cand, dist[cand]))][:5].tolist()


def test_thumbnails_fall_back_to_placeholders(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    assert thumbnail(None) == placeholder("no image")
    assert thumbnail(str(tmp_path / "missing.png")) == placeholder("missing")
    assert thumbnail(str(broken)) == placeholder("unreadable image")
    images = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "images"
    real = thumbnail(str(next(images.glob("*.png"))))
    assert real.startswith(b"\x89PNG") and real != placeholder("missing")


def test_metadata_filters_offer_ranges_and_values(ev):
    options = {column: (how, payload) for column, how, payload in
               metadata_filters(ev.dataset)}
    size = ev.dataset.metadata["size"]
    assert options["size"] == ("range", (float(size.min()), float(size.max())))
    assert options["site"] == ("values", ["a", "b"])


def test_suspected_label_errors_find_planted_flips_first():
    """Labels flipped on samples the model is sure about are ranked as the most suspicious."""
    import evaldash
    from evaldash.error_analysis import label_issue_rank

    rng = np.random.default_rng(11)
    n, k = 1200, 4
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 4.0
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    flipped = rng.choice(np.flatnonzero(proba[np.arange(n), y] > 0.9), size=30, replace=False)
    given = y.copy()
    given[flipped] = (y[flipped] + 1 + rng.integers(0, k - 1, 30)) % k
    frame = pd.DataFrame({"label": given, **{f"score_{c}": proba[:, c] for c in range(k)}})
    d = evaldash.dataset_from_frame(frame, source="<planted>")
    rank = label_issue_rank(d)
    top = np.argsort(rank)[:30]
    assert len(set(top) & set(flipped)) >= 27  # nearly all planted flips lead the ranking
    assert np.isfinite(rank[flipped]).all()
    # the ranking is cleanlab's own
    from cleanlab.filter import find_label_issues
    want = find_label_issues(labels=given, pred_probs=proba, return_indices_ranked_by="self_confidence")
    assert list(np.argsort(rank)[:len(want)]) == list(want)


def test_suspected_label_errors_need_probabilities():
    import evaldash
    from evaldash.error_analysis import label_issue_rank
    from evaldash.errors import InputError

    frame = pd.DataFrame({"label": [0, 1, 0, 1], "score_0": [2.0, -1.0, 3.0, 0.5], "score_1": [-2.0, 1.0, 0.1, 0.2]})
    with pytest.raises(InputError, match="suspected label errors need per-class probabilities"):
        label_issue_rank(evaldash.dataset_from_frame(frame, source="<logits>"))
