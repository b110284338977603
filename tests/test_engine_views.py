"""The dashboard's views on an engine (DuckDB) equal the memory path's: lazy cell galleries with
their rows read a page at a time, per-row accessors, the exact reduced sweep behind the threshold
slider, the mean-score matrix, selective prediction, a sample written for the memory path, and
progress while precomputing."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from engine_cases import binary_ties, memory_report, multiclass_ties, write
from evaldash.dataset import load_predictions
from evaldash.engines import evaluate_file, open_engine, reduced
from evaldash.engines.rows import BLOCK
from evaldash.errors import InputError
from evaldash.metadata import row_text


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def pair(engine, path, **kw):
    _, m = memory_report(path, **dict(kw))
    return m, evaluate_file(engine, str(path), **kw)


def continuous_binary(n: int = 5000, seed: int = 5) -> pd.DataFrame:
    """Every score distinct (the case of a reduced sweep); some ties added at both ends."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.2
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    s[:40] = 1.0
    s[40:60] = 0.0
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "label": np.where(y, "yes", "no"), "score": s,
                         "region": rng.choice(["a", "b"], n), "weight": rng.random(n)})


# --- galleries: cell_samples lazy pages and the row accessors --------------------------------

@pytest.mark.parametrize("where", ["m.parquet", "m.csv", "parts"])
def test_cell_pages_equal_the_memory_order_and_read_one_query_each(duck, tmp_path, where):
    path = write(multiclass_ties(n=4000, seed=3), tmp_path / where, parts=3 if where == "parts" else 1)
    m, e = pair(duck, path)
    d, md = e.dataset, m.dataset
    k = d.n_classes
    for t in range(k):
        for p in range(k):
            want = m.cell_samples(t, p)
            rows = e.cell_samples(t, p)
            assert len(rows) == len(want)
            blocks = set()
            for a, b in [(0, 24), (24, 48), (len(want) - 5, len(want) + 24), (len(want), len(want) + 24),
                         (BLOCK + 48, BLOCK + 72), (BLOCK - 12, BLOCK + 12)]:
                before = d.row_cache.queries
                page = rows[a:b]
                assert isinstance(page, np.ndarray) and page.dtype == np.int64
                assert page.tolist() == want[a:b].tolist()
                # the page's captions read the rows fetched with it: no other query
                for r in page:
                    assert d.ids[r] == md.ids[r]
                    assert d.y_true[r] == md.y_true[r] and d.y_pred[r] == md.y_pred[r]
                    assert np.array_equal(d.scores[r], md.scores[r])
                    assert e.confidence[r] == m.confidence[r]
                    assert row_text(d.metadata, int(r)) == row_text(md.metadata, int(r))
                # a page within one block of BLOCK rows reads the whole block the first time; a
                # page across two blocks reads itself
                lo, hi, _ = slice(a, b).indices(len(want))
                block = lo - lo % BLOCK if hi <= lo - lo % BLOCK + BLOCK else (lo, hi)
                assert d.row_cache.queries - before == (1 if hi > lo and block not in blocks else 0)
                blocks.add(block)
            assert np.asarray(rows).tolist() == want.tolist()
            if len(want):
                assert rows[-1] == want[-1] and rows[0] == want[0]
    assert e.cell_samples(0, 1, limit=7, offset=3).tolist() == m.cell_samples(0, 1)[3:10].tolist()


def test_a_page_seen_again_reads_nothing_and_prefetch_reads_many_rows_at_once(duck, tmp_path):
    path = write(multiclass_ties(n=1500, seed=6), tmp_path / "m.parquet")
    m, e = pair(duck, path)
    d = e.dataset
    rows = e.cell_samples(1, 1)
    rows[0:24]
    before = d.row_cache.queries
    assert rows[0:24].tolist() == m.cell_samples(1, 1)[:24].tolist()
    assert d.row_cache.queries == before
    wanted = [5, 17, 400, 1499, 3]
    e.prefetch(wanted)
    assert d.row_cache.queries == before + 1
    assert [d.ids[r] for r in wanted] == [m.dataset.ids[r] for r in wanted]
    assert d.ids[wanted].tolist() == [m.dataset.ids[r] for r in wanted]
    assert np.array_equal(d.scores[wanted], m.dataset.scores[wanted])
    assert np.array_equal(d.y_true[-1:], m.dataset.y_true[-1:])
    assert d.row_cache.queries == before + 1


def test_the_row_cache_is_bounded(duck, tmp_path):
    from evaldash.engines.rows import RowCache

    path = write(multiclass_ties(n=800, seed=7), tmp_path / "m.parquet")
    m, e = pair(duck, path)
    d = e.dataset
    d.__dict__["_row_cache"] = RowCache(d, capacity=50)
    for start in range(0, 800, 100):
        assert d.ids[start:start + 100].tolist() == [m.dataset.ids[r] for r in range(start, start + 100)]
    assert len(d.row_cache._rows) == 50


def test_whole_array_use_names_the_engine(duck, tmp_path, monkeypatch):
    from evaldash.engines import rows as rows_module

    monkeypatch.setattr(rows_module, "FETCH_MAX", 100)
    path = write(multiclass_ties(n=300, seed=8), tmp_path / "m.parquet")
    e = evaluate_file(duck, str(path))
    d = e.dataset
    assert len(d.ids) == d.n == 300 and d.scores.shape == (300, 4)
    for use in (lambda: np.asarray(d.ids), lambda: d.y_true == 1, lambda: list(d.y_pred), lambda: np.asarray(d.scores),
                lambda: d.scores[:, 0], lambda: e.confidence[e.confidence[0:3] > 0], lambda: d.metadata["site"],
                lambda: np.asarray(e.confidence), lambda: d.ids[0:101], lambda: d.frame()):
        with pytest.raises(InputError, match="stays in the duckdb engine"):
            use()
    with pytest.raises(IndexError):
        d.ids[300]
    assert d.image_paths is None and d.image_check is None and d.images_root is None
    assert list(d.metadata.columns) == ["site"]


def test_cells_too_big_to_hold_are_refused_whole_but_paged(duck, tmp_path, monkeypatch):
    from evaldash.engines import rows as rows_module

    path = write(binary_ties(n=2000, seed=9), tmp_path / "b.parquet")
    m, e = pair(duck, path)
    monkeypatch.setattr(rows_module, "FETCH_MAX", 100)
    rows = e.cell_samples(0, 0)
    assert len(rows) > 100
    with pytest.raises(InputError, match="stays in the duckdb engine"):
        np.asarray(rows)
    assert rows[100:124].tolist() == m.cell_samples(0, 0)[100:124].tolist()


def test_image_paths_resolve_as_the_memory_path_and_are_not_checked_ahead(duck, tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    from PIL import Image

    for i in range(3):
        Image.new("RGB", (4, 4)).save(images / f"{i}.png")
    frame = multiclass_ties(n=12, seed=10)
    frame["image"] = [f"imgs/{i % 5}.png" for i in range(12)]  # 3.png and 4.png do not exist
    frame.loc[11, "image"] = "../outside.png"
    path = write(frame, tmp_path / "m.parquet")
    m, e = pair(duck, path)
    d, md = e.dataset, m.dataset
    assert d.images_root == md.images_root
    assert [d.image_paths[r] for r in range(12)] == list(md.image_paths)
    assert "not checked ahead on the duckdb engine" in d.image_check.matched()
    assert d.image_check.not_shown == 0 and d.image_check.by_name
    assert list(d.metadata.columns) == list(md.metadata.columns)


def test_the_fingerprint_is_cheap_stable_and_follows_the_file_and_options(duck, tmp_path):
    path = write(binary_ties(n=200, seed=11), tmp_path / "b.parquet")
    a = evaluate_file(duck, str(path)).dataset.fingerprint()
    assert evaluate_file(duck.sibling(), str(path)).dataset.fingerprint() == a
    assert evaluate_file(duck, str(path), threshold=0.3).dataset.fingerprint() != a
    assert evaluate_file(duck, str(path), positive="ok").dataset.fingerprint() != a
    os.utime(path, ns=(1, 1))
    assert evaluate_file(duck, str(path)).dataset.fingerprint() != a


# --- threshold: the exact reduced sweep ----------------------------------------------------------

def assert_live_equal(m, e, cls, t):
    a, b = e.live_threshold(cls, t), m.live_threshold(cls, t)
    assert a["grid"].tolist() == b["grid"].tolist()
    assert a["tp"].tolist() == b["tp"].tolist() and a["fp"].tolist() == b["fp"].tolist()
    assert (a["index"], a["inserted"], a["n_pos"], a["n_neg"]) == (b["index"], b["inserted"], b["n_pos"], b["n_neg"])
    assert set(a["curves"]) == set(b["curves"])


@pytest.mark.parametrize("case", ["binary", "binary_scores", "multiclass"])
def test_few_distinct_scores_give_the_memory_sweep_itself(duck, tmp_path, case):
    frame = {"binary": binary_ties(n=3000, seed=12), "binary_scores": binary_ties(n=3000, seed=13, unit=False),
             "multiclass": multiclass_ties(n=3000, seed=14)}[case]
    m, e = pair(duck, write(frame, tmp_path / "f.parquet"))
    for c in range(m.dataset.n_classes):
        assert e.slider_range(c) == m.slider_range(c)
        s, ms = e.sweep(c), m.sweep(c)
        assert s.thresholds.tolist() == ms.thresholds.tolist()
        assert s.tp.tolist() == ms.tp.tolist() and s.fp.tolist() == ms.fp.tolist()
        assert (s.n_pos, s.n_neg) == (ms.n_pos, ms.n_neg)
        np.testing.assert_equal(e.suggestions(c, 0.8, 0.7, 1.0, 3.0), m.suggestions(c, 0.8, 0.7, 1.0, 3.0))
        lo, hi, _ = m.slider_range(c)
        for t in (lo, hi, (lo + hi) / 2, float(ms.thresholds[3]), lo + (hi - lo) * 0.123457):
            assert_live_equal(m, e, c, t)
        curves, want = e.class_curves(c), m.class_curves(c)
        for key in want:
            np.testing.assert_array_equal(curves[key], want[key])
    if case == "multiclass":
        for key, (x, y) in m.average_curves.items():
            np.testing.assert_array_equal(e.average_curves[key][0], x)
            np.testing.assert_array_equal(e.average_curves[key][1], y)


@pytest.mark.parametrize("parts, ranges", [(1, 65_536), (1, 37), (3, 1000)])
def test_a_reduced_sweep_is_exact_at_every_threshold(duck, tmp_path, parts, ranges, monkeypatch):
    monkeypatch.setattr(reduced, "SPREAD", 50)
    monkeypatch.setattr(reduced, "EVERY_STEP", 0)
    monkeypatch.setattr(reduced, "HISTOGRAM", ranges)  # few ranges: slider positions fall inside them
    path = write(continuous_binary(), tmp_path / ("parts" if parts > 1 else "c.parquet"), parts=parts)
    m, e = pair(duck, path)
    md = m.dataset
    for c in (0, 1):
        s, ms = e.sweep(c), m.sweep(c)
        assert len(s.thresholds) < len(ms.thresholds) / 2  # reduced indeed
        # the cut points' counts are the full sweep's there
        want_tp, want_fp = ms.counts_at(s.thresholds)
        assert s.tp.tolist() == want_tp.tolist() and s.fp.tolist() == want_fp.tolist()
        assert s.thresholds[-1] == ms.thresholds[-1]  # the lowest score
        # the areas are the full sweep's, as scikit-learn's
        assert s.roc_auc() == pytest.approx(ms.roc_auc(), abs=1e-12)
        assert s.average_precision() == pytest.approx(ms.average_precision(), abs=1e-12)
        assert s.roc_auc() == pytest.approx(roc_auc_score(md.y_true == c, md.scores[:, c]), abs=1e-12)
        # any threshold, on or off the cut points, in any shape: exact
        rng = np.random.default_rng(c)
        ts = np.concatenate([rng.random(40), ms.thresholds[1:][rng.integers(0, 4000, 20)], [-1.0, 0.0, 1.0, 2.0]])
        got = s.counts_at(ts.reshape(4, -1))
        want = ms.counts_at(ts.reshape(4, -1))
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
        t = float(ts[0])
        assert s.counts_at(t) == tuple(ms.counts_at(t))
        np.testing.assert_equal(s.at(t), ms.at(t))
        np.testing.assert_equal(s.at(t, zero_division=0.0), ms.at(t, zero_division=0.0))
        for t in (0.5, 0.123456789, float(ms.thresholds[77]), 1.0, 0.0):
            assert_live_equal(m, e, c, t)
        # each suggestion is a cut point, its counts exact
        for name, v in e.suggestions(c).items():
            if np.isfinite(v):
                assert tuple(s.counts_at(v)) == tuple(ms.counts_at(v)), name
        curves = e.class_curves(c)
        assert 0 < len(curves["roc_fpr"]) <= len(s.thresholds)


def test_threshold_report_is_exact_off_the_cut_points(duck, tmp_path, monkeypatch):
    monkeypatch.setattr(reduced, "SPREAD", 20)
    monkeypatch.setattr(reduced, "EVERY_STEP", 0)
    monkeypatch.setattr(reduced, "HISTOGRAM", 50)
    path = write(continuous_binary(seed=15), tmp_path / "c.parquet")
    mem, m = memory_report(path, threshold=0.4321)
    e = evaluate_file(duck, str(path), threshold=0.4321)
    assert e.report()["threshold"] == mem["threshold"]
    np.testing.assert_equal(e.threshold_report(0.61803), m.threshold_report(0.61803))


# --- matrix, selective, sample, progress, refusals -------------------------------------------------

def test_every_matrix_mode_and_block_equals_memory(duck, tmp_path):
    m, e = pair(duck, write(multiclass_ties(n=2500, seed=16, k=5), tmp_path / "m.parquet"))
    assert e.matrix_modes == m.matrix_modes
    for mode in m.matrix_modes:
        a, b = e.matrix(mode), m.matrix(mode)
        np.testing.assert_allclose(a.values, b.values, rtol=1e-12, atol=1e-12)
        assert np.array_equal(a.counts, b.counts) and a.rows == b.rows
        for shown in ([0, 1, 2, 3, 4], [4, 0, 3], [3], [2, 1]):
            va, ca = e.confusion_block(mode, shown)
            vb, cb = m.confusion_block(mode, shown)
            np.testing.assert_allclose(va, vb, rtol=1e-12, atol=1e-12)
            assert np.array_equal(ca, cb)
    assert np.isnan(e.matrix("score").values[3]).all()  # class 3 has no samples: a row of NaN


def test_selective_prediction_is_exact(duck, tmp_path, monkeypatch):
    monkeypatch.setattr(reduced, "SPREAD", 30)
    monkeypatch.setattr(reduced, "HISTOGRAM", 23)
    m, e = pair(duck, write(multiclass_ties(n=3000, seed=17), tmp_path / "m.parquet"))
    s, ms = e.selective, m.selective
    for t in (0.0, 0.3, 0.5, 0.77777, 1.0, float(ms.thresholds[5]), float(ms.thresholds[-1]), 2.0):
        np.testing.assert_equal(s.at(t), ms.at(t))
    got = e.selective_reduced
    assert len(got["coverage"]) == len(got["accuracy"]) > 1
    lo, hi = e.confidence_range()
    assert (lo, hi) == (float(np.min(m.confidence)), float(np.max(m.confidence)))


def test_a_sample_of_rows_opens_in_memory(duck, tmp_path):
    frame = continuous_binary(n=1000, seed=18)
    path = write(frame, tmp_path / "parts", parts=4)
    e = evaluate_file(duck, str(path))
    a = e.sample_to_parquet(100, tmp_path / "a.parquet", seed=3)
    b = pd.read_parquet(e.sample_to_parquet(100, tmp_path / "b.parquet", seed=3))
    got = pd.read_parquet(a)
    pd.testing.assert_frame_equal(got, b)
    assert list(got.columns) == list(frame.columns) and len(got) == 100
    at = frame.reset_index().merge(got, on="id")["index"].to_numpy()
    assert len(at) == 100 and (np.diff(at) > 0).all()  # rows of the file, in file order
    pd.testing.assert_frame_equal(got.reset_index(drop=True), frame.iloc[at].reset_index(drop=True),
                                  check_dtype=False)
    assert len(pd.read_parquet(e.sample_to_parquet(5000, tmp_path / "all.parquet"))) == 1000
    assert load_predictions(tmp_path / "all.parquet").n == 1000
    with pytest.raises(InputError, match="at least one row"):
        e.sample_to_parquet(0, tmp_path / "none.parquet")


def test_precompute_reports_each_engine_step(duck, tmp_path):
    e = evaluate_file(duck, str(write(multiclass_ties(n=500, seed=19), tmp_path / "m.parquet")))
    steps = []
    assert e.precompute(progress=steps.append) is e  # background=True: the cell table after it (test_engine_cells)
    assert steps[:2] == ["confusion counts", "calibration"]
    assert "class '2': exact sweep (ROC AUC, average precision)" in steps
    assert steps[-2] == "class '3': counts at the slider's positions and the curves' points"
    assert steps[-1] == "cell galleries: every row sorted by cell and confidence, once"  # DuckDB only
    assert ("curves", 3) in e._memo and ("sweep", 0) in e._memo


def test_what_needs_every_row_says_so_in_one_line(duck, tmp_path):
    e = evaluate_file(duck, str(write(multiclass_ties(n=200, seed=20), tmp_path / "m.parquet")))
    assert e.engine.name == "duckdb"
    for call in (e.auc_intervals, lambda: e.auc_intervals(wait=False)):
        with pytest.raises(InputError, match=r"ROC AUC intervals are not computed in the dashboard on the duckdb "
                                             r"engine .* --ci gives them") as info:
            call()
        assert "\n" not in str(info.value)
    with pytest.raises(InputError, match=r"need every row in memory, which the duckdb engine does not") as info:
        e.gallery_samples("label_issues")
    assert "\n" not in str(info.value)
    assert set(e.intervals()["per_class"]) == set(e.dataset.classes)  # from the confusion counts
    ci = e.bootstrap_intervals(50, 0)  # report --ci: the AUC groups counted in the engine
    assert all(len(v["roc_auc"]) == 2 for v in ci["per_class"].values())


# --- the errors page's and the calibration page's galleries ------------------------------------

@pytest.mark.parametrize("kind", ["mistakes", "unsure", "threshold"])
def test_error_galleries_equal_memory_within_filters(duck, tmp_path, kind):
    from evaldash.error_analysis import filter_mask, gallery_rows, metadata_filters

    frame = multiclass_ties(n=3000, seed=24)
    frame["weight"] = np.random.default_rng(24).random(3000)
    m, e = pair(duck, write(frame, tmp_path / "m.parquet"))
    assert e.metadata_filters() == metadata_filters(m.dataset)
    for true, pred, meta in [((), (), {}), ((0, 2), (), {}), ((), (1,), {"site": ["north", "east"]}),
                             ((1,), (), {"weight": (0.2, 0.7)}), ((), (), {"site": ["nowhere"]})]:
        mask = filter_mask(m.dataset, true, pred, meta)
        want, total = gallery_rows(m, kind, mask, 3000, 2, 0.3)
        rows = e.gallery_samples(kind, true, pred, meta, cls=2, threshold=0.3)
        assert len(rows) == total
        assert rows[0:24].tolist() == want[:24].tolist() and rows[48:72].tolist() == want[48:72].tolist()
        assert np.asarray(rows).tolist() == want.tolist()
    assert len(e.gallery_samples("threshold", cls=None, threshold=0.3)) == 0
    with pytest.raises(InputError, match="need every row in memory"):
        e.gallery_samples("label_issues")
    with pytest.raises(InputError, match="filters by a range only"):
        e.gallery_samples("mistakes", metadata={"weight": [0.5]})


def test_reliability_bin_galleries_equal_memory(duck, tmp_path):
    from evaldash.figures import reliability_bin_rows

    m, e = pair(duck, write(multiclass_ties(n=3000, seed=25), tmp_path / "m.parquet"))
    bins = m.calibration["bins"]
    for b in range(len(bins["count"])):
        lower, upper = float(bins["lower"][b]), float(bins["upper"][b])
        want = reliability_bin_rows(m.confidence, lower, upper)
        rows = e.bin_samples(lower, upper)
        assert len(rows) == len(want) == bins["count"][b]
        assert rows[0:24].tolist() == want[:24].tolist() and np.asarray(rows).tolist() == want.tolist()


def test_sessions_sharing_an_evaluation_query_it_from_several_threads(duck, tmp_path):
    import threading

    m, e = pair(duck, write(binary_ties(n=20000, seed=26), tmp_path / "b.parquet"))
    errors, seen = [], {}

    def session(i):
        try:
            for j in range(12):
                t, p = i % 2, (i // 2) % 2
                seen[(i, j)] = (e.cell_samples(t, p)[j * 24:(j + 1) * 24].tolist(),
                                m.cell_samples(t, p)[j * 24:(j + 1) * 24].tolist())
                v = 0.1234 + j * 0.001 + i * 0.0001
                assert tuple(e.sweep(1).counts_at(v)) == tuple(m.sweep(1).counts_at(v))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(repr(exc))
    threads = [threading.Thread(target=session, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(a == b for a, b in seen.values()) and len(seen) == 48


def test_quantile_bin_names_on_the_engine_are_the_memory_ones(duck, tmp_path):
    from test_slices import noisy_edges_frame

    from evaldash.engines.slices import slice_table as engine_slice_table
    from evaldash.slices import slice_table

    m, e = pair(duck, write(noisy_edges_frame(), tmp_path / "noisy.parquet"), positive="b")
    shown = sorted(engine_slice_table(e, "ink", resamples=20)["slice"])
    assert shown == sorted(slice_table(m.dataset, "ink", resamples=20)["slice"])
    assert shown[0] == "(0.343, 0.418]"
