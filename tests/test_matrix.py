"""Confusion-matrix views: class orders checked against direct computations and on matrices with
a known block structure; per-cell intervals against a direct same-seed loop."""

import numpy as np
import pytest

from evaldash import bootstrap, matrix
from evaldash.errors import InputError
from classification_cases import make_case


def _confusion(case) -> np.ndarray:
    cm = np.zeros((case.k, case.k), dtype=np.int64)
    np.add.at(cm, (case.y_true, case.y_pred), 1)
    return cm


def _blocks(k_block: int = 3, seed: int = 0) -> tuple[np.ndarray, list[set[int]]]:
    """Two groups of classes confused only within their group, interleaved in file order (even
    and odd indices), with distinct counts so that no tie decides the order."""
    rng = np.random.default_rng(seed)
    k = 2 * k_block
    groups = [set(range(0, k, 2)), set(range(1, k, 2))]
    cm = np.diag(rng.integers(200, 300, k))
    for g in groups:
        for i in g:
            for j in g:
                if i != j:
                    cm[i, j] = rng.integers(5, 40)
    return cm, groups


# --- orders ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["k5", "k12", "missing-in-true", "missing-in-pred", "digits-sample"])
def test_error_order_is_most_errors_first_by_a_direct_count(name):
    cm = _confusion(make_case(name))
    k = len(cm)
    errors = [sum(cm[i, j] + cm[j, i] for j in range(k) if j != i) for i in range(k)]
    # most errors first, ties in file order
    want = sorted(range(k), key=lambda i: (-errors[i], i))
    assert matrix.class_order(cm, "errors").tolist() == want
    assert matrix.error_counts(cm).tolist() == errors


def test_file_order_and_unknown_order():
    cm = np.eye(4, dtype=np.int64)
    assert matrix.class_order(cm, "file").tolist() == [0, 1, 2, 3]
    with pytest.raises(InputError, match="unknown class order 'size'; expected one of file, errors, cluster"):
        matrix.class_order(cm, "size")


def _contiguous(order: list[int], group: set[int]) -> bool:
    where = sorted(order.index(i) for i in group)
    return where == list(range(where[0], where[0] + len(group)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cluster_order_puts_each_group_of_confused_classes_together(seed):
    cm, groups = _blocks(3, seed)
    order = matrix.class_order(cm, "cluster").tolist()
    assert sorted(order) == list(range(len(cm)))
    assert all(_contiguous(order, g) for g in groups)
    # the file order interleaves them: it is not already grouped
    assert not _contiguous(list(range(len(cm))), groups[0])


def test_cluster_order_follows_a_relabelling_of_the_classes():
    """Renaming the classes moves them in the order, not the order itself (no ties here)."""
    cm, _ = _blocks(4, seed=3)
    perm = np.random.default_rng(1).permutation(len(cm))
    relabelled = cm[np.ix_(perm, perm)]  # class i of the new matrix is class perm[i] of the old
    order = matrix.class_order(cm, "cluster")
    new_order = matrix.class_order(relabelled, "cluster")
    assert perm[new_order].tolist() == order.tolist()


def test_cluster_order_chains_a_confusion_path_in_sequence():
    """Classes confused only with their neighbours along a path come out as that path."""
    path = [4, 0, 3, 5, 1, 2]
    cm = np.diag(np.full(6, 100))
    for a, b, n in zip(path, path[1:], [30, 25, 20, 15, 10]):
        cm[a, b] = cm[b, a] = n
    order = matrix.class_order(cm, "cluster").tolist()
    assert order in (path, path[::-1])


def test_cluster_order_puts_unconfused_classes_after_by_error_count():
    cm = np.diag(np.full(5, 50))
    cm[3, 1] = 9  # 1 and 3 are confused; 0, 2, 4 are never wrong
    cm[4, 0] = 0
    order = matrix.class_order(cm, "cluster").tolist()
    assert set(order[:2]) == {1, 3} and order[2:] == [0, 2, 4]
    assert matrix.class_order(cm, "cluster").tolist() == order  # deterministic
    assert matrix.class_order(np.diag([5, 5, 5]), "cluster").tolist() == [0, 1, 2]


def test_similarity_is_symmetric_rates_and_handles_empty_classes():
    cm = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])
    sim = matrix.confusion_similarity(cm)
    assert sim[0, 1] == sim[1, 0] == pytest.approx(2 / 10 + 1 / 4)
    assert np.all(np.diag(sim) == 0) and np.all(sim[2] == 0)


# --- per-cell intervals -----------------------------------------------------------------

def _loop_intervals(counts: np.ndarray, s: int, mode: str, resamples: int, seed: int, merged: bool):
    """One multinomial draw per resample, counted into a matrix and divided as a person would."""
    rng = np.random.default_rng(seed)
    n = counts.sum()
    values = []
    for _ in range(resamples):
        draw = rng.multinomial(n, counts / n)
        cells = draw[:s * s].reshape(s, s).astype(np.float64)
        rows, cols = cells.sum(axis=1), cells.sum(axis=0)
        if merged:
            rows, cols = rows + draw[s * s:s * s + s], cols + draw[s * s + s:s * s + 2 * s]
        if mode == "counts":
            values.append(cells)
            continue
        out = np.full((s, s), np.nan)
        for i in range(s):
            for j in range(s):
                total = rows[i] if mode == "true" else cols[j]
                if total > 0:
                    out[i, j] = cells[i, j] / total
        values.append(out)
    return np.nanquantile(np.array(values), [0.025, 0.975], axis=0)


@pytest.mark.filterwarnings("ignore:All-NaN slice")  # the loop's shares of a never-predicted class
@pytest.mark.parametrize("name", ["k5", "missing-in-pred", "digits-sample"])
@pytest.mark.parametrize("mode", ["counts", "true", "pred"])
def test_cell_intervals_equal_a_direct_same_seed_loop(name, mode):
    cm = _confusion(make_case(name))
    got = matrix.cell_intervals(cm, mode, resamples=300, seed=4)
    low, high = _loop_intervals(cm.ravel(), len(cm), mode, 300, 4, merged=False)
    np.testing.assert_allclose(got["low"], low, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got["high"], high, rtol=1e-12, atol=0)


def test_cell_intervals_of_a_subset_equal_a_loop_over_the_merged_cells():
    cm = _confusion(make_case("k12"))
    shown = [2, 5, 7, 11]
    c = cm[np.ix_(shown, shown)]
    row_rest = cm[shown].sum(axis=1) - c.sum(axis=1)
    col_rest = cm[:, shown].sum(axis=0) - c.sum(axis=0)
    counts = np.concatenate([c.ravel(), row_rest, col_rest, [cm.sum() - c.sum() - row_rest.sum() - col_rest.sum()]])
    for mode in ("true", "pred", "counts"):
        got = matrix.cell_intervals(cm, mode, shown, resamples=200, seed=1)
        low, high = _loop_intervals(counts, len(shown), mode, 200, 1, merged=True)
        np.testing.assert_allclose(got["low"], low, rtol=1e-12)
        np.testing.assert_allclose(got["high"], high, rtol=1e-12)


def test_cell_intervals_of_a_subset_have_the_distribution_of_the_whole_matrix():
    """Merging the other cells keeps the shown cells' joint distribution: the subset's intervals
    agree with those of the whole matrix (different draws, so within the resampling noise)."""
    cm = _confusion(make_case("digits-sample"))
    shown = [1, 8, 9]
    for mode in ("true", "pred"):
        whole = matrix.cell_intervals(cm, mode, resamples=4000, seed=0)
        part = matrix.cell_intervals(cm, mode, shown, resamples=4000, seed=1)
        for name in ("low", "high"):
            np.testing.assert_allclose(part[name], whole[name][np.ix_(shown, shown)], atol=0.02)


def test_cell_intervals_do_not_depend_on_the_display_order():
    cm = _confusion(make_case("k12"))
    a = matrix.cell_intervals(cm, "true", [7, 2, 11, 5])
    b = matrix.cell_intervals(cm, "true", [2, 5, 7, 11])
    where = [2, 0, 3, 1]  # 7, 2, 11, 5 among 2, 5, 7, 11
    for name in ("low", "high", "support"):
        np.testing.assert_array_equal(a[name], b[name][np.ix_(where, where)])


def test_diagonal_intervals_are_the_recall_and_precision_intervals_of_the_overview():
    case = make_case("digits-sample")
    cm = _confusion(case)
    classes = [str(c) for c in range(case.k)]
    overview = bootstrap.intervals(case.y_true, case.y_pred, classes)["per_class"]
    for mode, metric in (("true", "recall"), ("pred", "precision")):
        got = matrix.cell_intervals(cm, mode)
        want = np.array([overview[c][metric] for c in classes])
        np.testing.assert_allclose(np.diag(got["low"]), want[:, 0], rtol=1e-12)
        np.testing.assert_allclose(np.diag(got["high"]), want[:, 1], rtol=1e-12)


def test_small_sample_marker_and_support():
    cm = np.array([[100, 5, 0], [3, 20, 1], [0, 40, 2]])
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    for mode in ("counts", "score", "true"):
        got = matrix.cell_intervals(cm, mode, resamples=50)
        np.testing.assert_array_equal(got["support"], np.repeat(rows[:, None], 3, axis=1))
        np.testing.assert_array_equal(got["small"], got["support"] < 30)
    got = matrix.cell_intervals(cm, "pred", resamples=50)
    np.testing.assert_array_equal(got["support"], np.repeat(cols[None, :], 3, axis=0))
    assert got["small"][:, 2].all() and not got["small"][:, 0].any()


def test_cell_intervals_contain_the_estimate_and_leave_undefined_shares_nan():
    cm = np.array([[50, 10, 0], [5, 60, 0], [0, 0, 0]])  # class 2: no samples, never predicted
    got = matrix.cell_intervals(cm, "true", resamples=500)
    share = cm[:2, :2] / cm[:2].sum(axis=1, keepdims=True)
    assert np.all(got["low"][:2, :2] <= share) and np.all(share <= got["high"][:2, :2])
    assert np.isnan(got["low"][2]).all() and np.isnan(got["high"][:, 2][2])
    counts = matrix.cell_intervals(cm, "counts", resamples=500)
    assert np.all(counts["low"] <= cm) and np.all(cm <= counts["high"]) and counts["high"][2, 2] == 0
    with pytest.raises(InputError, match="unknown confusion mode 'rate'"):
        matrix.cell_intervals(cm, "rate")


def test_cell_intervals_at_a_million_samples_are_quick():
    import time

    rng = np.random.default_rng(0)
    cm = rng.integers(0, 2000, (10, 10)) + np.diag(np.full(10, 80_000))
    start = time.perf_counter()
    got = matrix.cell_intervals(cm, "true")
    assert time.perf_counter() - start < 1.0
    assert np.all(got["low"] <= got["high"])
