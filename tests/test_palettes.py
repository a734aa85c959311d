"""Palette distance: exact EMD against SciPy's LP solver and POT; palettes from text."""

from __future__ import annotations

import numpy as np
import pytest

from streamspec.analysis.colour import oklab
from streamspec.analysis.palettes import (
    MAX_PALETTE,
    Palette,
    _palette_emd,
    _transport,
    emd,
    parse_palette,
    reduce_palette,
)
from streamspec.core.errors import InputError

ot = pytest.importorskip("ot", reason="POT (the test extra) is the EMD reference")
optimize = pytest.importorskip("scipy.optimize")


def lp_transport(a, b, C):
    """The transport LP solved by SciPy's HiGHS: min <C, F>, rows sum to a, columns to b."""
    n, m = C.shape
    A = np.zeros((n + m, n * m))
    for i in range(n):
        A[i, i * m : (i + 1) * m] = 1
    for j in range(m):
        A[n + j, j::m] = 1
    # one constraint is redundant (equal totals); left out, rounding cannot make it infeasible
    res = optimize.linprog(
        C.ravel(), A_eq=A[:-1], b_eq=np.r_[a, b][:-1], bounds=(0, None), method="highs"
    )
    assert res.status == 0
    return res.fun


def random_problem(rng, n, m):
    a = rng.random(n) ** 3
    b = rng.random(m) ** 3
    X = rng.normal(size=(n, 3)) * 0.1
    Y = rng.normal(size=(m, 3)) * 0.1
    return a / a.sum(), b / b.sum(), np.sqrt(((X[:, None] - Y[None]) ** 2).sum(-1))


@pytest.mark.parametrize("seed", range(6))
def test_transport_is_exact_against_linprog_and_pot(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        n, m = (int(x) for x in rng.integers(1, 24, 2))
        a, b, C = random_problem(rng, n, m)
        got = _transport(a, b, C)
        # HiGHS meets its constraints to ~1e-7 (its feasibility tolerance)
        assert got == pytest.approx(lp_transport(a, b, C), abs=1e-6)
        assert got == pytest.approx(ot.emd2(a, b, C), abs=1e-12)


def test_transport_at_the_largest_palettes_and_degenerate_ones():
    rng = np.random.default_rng(7)
    a, b, C = random_problem(rng, MAX_PALETTE, MAX_PALETTE)
    assert _transport(a, b, C) == pytest.approx(ot.emd2(a, b, C), abs=1e-12)
    # ties everywhere: equal masses, equal costs, and a point mass
    a = np.full(10, 0.1)
    assert _transport(a, a, np.ones((10, 10))) == pytest.approx(1.0)
    assert _transport(np.array([1.0]), a, np.arange(10.0)[None]) == pytest.approx(4.5)
    grid = np.abs(np.subtract.outer(np.arange(10.0), np.arange(10.0)))
    assert _transport(a, a, grid) == pytest.approx(0.0, abs=1e-15)


def test_palette_emd_on_real_colours_matches_pot():
    rng = np.random.default_rng(3)
    for _ in range(40):
        p = Palette.from_srgb(rng.integers(0, 256, (8, 3)), rng.random(8))
        q = Palette.from_srgb(rng.integers(0, 256, (5, 3)), rng.random(5))
        C = np.sqrt(((p.lab[:, None] - q.lab[None]) ** 2).sum(-1))
        assert emd(p, q) == pytest.approx(ot.emd2(p.shares, q.shares, C), abs=1e-12)
        assert emd(p, q) == pytest.approx(emd(q, p), abs=1e-12)


def test_zero_shares_are_no_colours():
    rng = np.random.default_rng(4)
    p = Palette.from_srgb(rng.integers(0, 256, (4, 3)), [0.5, 0, 0.5, 0])
    q = Palette.from_srgb(rng.integers(0, 256, (3, 3)))
    kept = Palette(p.lab[[0, 2]], [0.5, 0.5])
    assert emd(p, q) == pytest.approx(emd(kept, q), abs=1e-15)


def test_a_partial_query_leaves_the_rest_to_any_colour():
    teal, orange, grey = oklab(np.array([[2, 147, 134], [249, 115, 6], [146, 149, 145]], np.uint8))
    query = Palette([teal, orange], [0.25, 0.25])  # the rest: any colour
    half = Palette([teal, orange, grey], [0.25, 0.25, 0.5])
    assert emd(query, half) == pytest.approx(0.0, abs=1e-12)
    assert emd(half, query) == pytest.approx(0.0, abs=1e-12)
    # less teal than asked: the missing 15 % travels from the nearest colour there is
    little = Palette([teal, orange, grey], [0.1, 0.4, 0.5])
    # the reference: the wildcard as a zero-cost query colour, solved by POT
    lab = np.array([teal, orange, grey])
    C = np.sqrt(((np.array([teal, orange])[:, None] - lab[None]) ** 2).sum(-1))
    C = np.vstack([C, np.zeros(3)])
    want = ot.emd2(np.array([0.25, 0.25, 0.5]), little.shares, C)
    assert emd(query, little) == pytest.approx(want, abs=1e-12) and want > 0.01
    assert float(_palette_emd(query.lab, query.shares, little.lab, little.shares, 0.5)) == (
        pytest.approx(want, abs=1e-12)
    )


def test_parse_palette_shares():
    p = parse_palette("#1b3a4b 40%, #e0a060 20%")
    np.testing.assert_allclose(p.shares, [0.4, 0.2])
    assert p.partial
    want = oklab(np.array([[0x1B, 0x3A, 0x4B], [0xE0, 0xA0, 0x60]], np.uint8))
    np.testing.assert_allclose(p.lab, want)
    np.testing.assert_allclose(parse_palette("teal, orange").shares, [0.5, 0.5])
    three = parse_palette("teal 60%, orange, rgb(1, 2, 3)")
    np.testing.assert_allclose(three.shares, [0.6, 0.2, 0.2])
    assert not parse_palette("black 50%, white 50%").partial
    np.testing.assert_allclose(parse_palette("red 12.5%").shares, [0.125])
    twice = parse_palette("teal 20%, orange 30%, teal 20%")
    once = parse_palette("teal 40%, orange 30%")
    frame = Palette.from_srgb([[2, 147, 134], [40, 40, 40]], [0.5, 0.5])
    assert emd(twice, frame) == pytest.approx(emd(once, frame), abs=1e-12)


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "empty palette"), ("teal 60%, orange 50%", "110%"), ("teal 40 %%", "share as"),
     ("teal 40%,, orange", "item 2 is empty"), ("tael 40%", "item 1: unknown colour name 'tael'"),
     ("teal 0%", "out of range"), ("teal 100%, red", "already add up"),
     (", ".join(["red"] * 65), "at most 64"), ("red 140%", "out of range")],
)  # fmt: skip
def test_bad_palettes_are_one_line(text, says):
    with pytest.raises(InputError) as err:
        parse_palette(text)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_reduce_palette_keeps_mass_and_mean():
    rng = np.random.default_rng(5)
    lab = oklab(rng.integers(0, 256, (50, 3)))
    w = rng.random(50)
    w /= w.sum()
    rl, rw = reduce_palette(lab, w, 8)
    assert rl.shape == (8, 3) and rw.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(rw @ rl, w @ lab, atol=1e-12)  # merging keeps the mean
    assert (np.diff(rw) <= 0).all()
    _, small_w = reduce_palette(lab[:3], w[:3], 8)
    assert (small_w[3:] == 0).all() and small_w[:3].sum() == pytest.approx(w[:3].sum())
