"""Palette search: the index finds exactly what the brute-force scan finds."""

from __future__ import annotations

import numpy as np
import pytest

from streamspec.analysis.palettes import Palette, emd, parse_palette
from streamspec.analysis.search import (
    INDEX_VERSION,
    PaletteIndex,
    _emd_rows,
    _nearest_bound,
    brute_force,
)
from streamspec.core.errors import InputError

ot = pytest.importorskip("ot", reason="POT (the test extra) is the EMD reference")


def library(seed: int, n: int = 6000, k: int = 8, scenes: int = 40):
    """Palettes drawn around a few scene palettes, some with empty (zero-share) slots."""
    rng = np.random.default_rng(seed)
    chroma = rng.normal(0, 0.08, (2, scenes, k))
    centres = np.stack([rng.uniform(0.1, 0.9, (scenes, k)), *chroma], -1)
    scene = rng.integers(0, scenes, n)
    lab = (centres[scene] + rng.normal(0, 0.015, (n, k, 3))).astype(np.float32)
    shares = rng.dirichlet(np.ones(k), n).astype(np.float32)
    shares[rng.random((n, k)) < 0.1] = 0
    shares[:, 0] += 1e-3
    return lab, (shares / shares.sum(1, keepdims=True)).astype(np.float32)


def test_emd_rows_kernel_matches_pot_row_by_row():
    lab, shares = library(1, n=60)
    q = Palette(lab[5].astype(np.float64) + 0.01, shares[7] / shares[7].sum())
    out = np.empty(60)
    _emd_rows(q.lab, q.shares, 0.0, lab, shares, np.arange(60, dtype=np.int64), out)
    for i in range(60):
        keep = shares[i] > 0
        b = shares[i][keep].astype(np.float64)
        C = np.sqrt(((q.lab[:, None] - lab[i][keep][None].astype(np.float64)) ** 2).sum(-1))
        assert out[i] == pytest.approx(ot.emd2(q.shares, b / b.sum(), C), abs=1e-9)


@pytest.mark.parametrize("full", [True, False])
def test_nearest_bound_kernel_matches_numpy_and_bounds_the_emd(full):
    lab, shares = library(2, n=300)
    q = Palette(lab[3].astype(np.float64)[:5], np.full(5, 0.2 if full else 0.1))
    out = np.empty(300)
    _nearest_bound(q.lab, q.shares, full, lab, shares, np.arange(300, dtype=np.int64), out)
    d = np.sqrt(((q.lab[None, :, None] - lab[:, None].astype(np.float64)) ** 2).sum(-1))
    d = np.where(shares[:, None, :] > 1e-9, d, np.inf)  # (n, q, k)
    fwd = (q.shares * d.min(2)).sum(1)
    w = shares / shares.sum(1, keepdims=True)
    back = (w * np.where(shares > 1e-9, d.min(1), 0)).sum(1)
    np.testing.assert_allclose(out, np.maximum(fwd, back) if full else fwd, rtol=1e-5)
    exact = np.empty(300)
    rows = np.arange(300, dtype=np.int64)
    _emd_rows(q.lab, q.shares, 0.0 if full else 0.5, lab, shares, rows, exact)
    assert (out <= exact + 1e-6).all()


@pytest.mark.parametrize("seed", range(3))
def test_index_search_equals_brute_force(seed, tmp_path):
    lab, shares = library(seed)
    index, rebuilt = PaletteIndex.open(tmp_path / "p.npz", lab, shares)
    assert rebuilt
    rng = np.random.default_rng(seed + 10)
    queries = [
        Palette(lab[int(rng.integers(len(lab)))].astype(np.float64) + rng.normal(0, 0.02, (8, 3)),
                rng.dirichlet(np.ones(8))),
        parse_palette("teal 25%, orange 25%"),
        parse_palette("#1b3a4b 40%, #e0a060 20%, grey"),
        parse_palette("black 30%"),
    ]  # fmt: skip
    for q in queries:
        for hits in (1, 10, 100):
            rows, dist = index.search(q, lab, shares, hits)
            brows, bdist = brute_force(q, lab, shares, hits)
            np.testing.assert_array_equal(rows, brows)
            np.testing.assert_allclose(dist, bdist)
    # the distances are the palettes' EMD
    q = queries[0]
    rows, dist = index.search(q, lab, shares, 3)
    for r, d in zip(rows, dist, strict=True):
        assert d == pytest.approx(emd(q, Palette(lab[r], shares[r] / shares[r].sum())), abs=1e-6)


def test_blank_palettes_rank_last():
    lab, shares = library(6, n=3000)
    shares[:100] = 0  # strips with no colours (empty slots of a partial spectrum)
    index = PaletteIndex.build(lab, shares)
    for q in (parse_palette("black 30%"), Palette(lab[500].astype(np.float64), shares[500])):
        rows, dist = index.search(q, lab, shares, 3000)
        assert set(rows[-100:].tolist()) == set(range(100)) and np.isinf(dist[-100:]).all()
        assert np.isfinite(dist[:-100]).all()
        np.testing.assert_array_equal(rows, brute_force(q, lab, shares, 3000)[0])


def test_index_file_is_rebuilt_when_the_library_changes(tmp_path):
    lab, shares = library(4, n=500)
    path = tmp_path / "p.npz"
    _, rebuilt = PaletteIndex.open(path, lab, shares)
    assert rebuilt
    _, rebuilt = PaletteIndex.open(path, lab, shares)
    assert not rebuilt
    lab2 = lab.copy()
    lab2[17, 2, 0] += 0.1
    index, rebuilt = PaletteIndex.open(path, lab2, shares)
    assert rebuilt and PaletteIndex.load(path).fingerprint == index.fingerprint
    _, rebuilt = PaletteIndex.open(path, lab2, shares, fingerprint="corpus-abc")
    assert rebuilt and PaletteIndex.load(path).fingerprint == "corpus-abc"
    # another version, or not an index at all: rebuilt by open, one line from load
    other = {"version": np.int64(INDEX_VERSION + 1), "fingerprint": np.str_("x")}
    np.savez(path, means=np.zeros((500, 3)), **other)
    with pytest.raises(InputError, match="version"):
        PaletteIndex.load(path)
    assert PaletteIndex.open(path, lab2, shares)[1]
    path.write_bytes(b"not an index")
    with pytest.raises(InputError, match="not a palette index"):
        PaletteIndex.load(path)
    assert PaletteIndex.open(path, lab2, shares)[1]


def test_bad_search_arguments_are_one_line():
    lab, shares = library(5, n=50)
    index = PaletteIndex.build(lab, shares)
    q = parse_palette("teal")
    for hits in (0, 10_001, 2.5, True):
        with pytest.raises(InputError, match="hits"):
            index.search(q, lab, shares, hits)
    with pytest.raises(InputError, match="another library"):
        index.search(q, lab[:40], shares[:40])
    with pytest.raises(InputError, match=r"\(N, k, 3\)"):
        brute_force(q, lab[:, :, :2], shares)
