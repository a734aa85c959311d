"""Strips: ordering keys, apportionment, and the classic recipe written naively."""

from __future__ import annotations

import colorsys
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from streamspec import ColourKMeans
from streamspec.analysis.strip import (
    apportion,
    hls_keys,
    make_strip,
    order_palette,
    strip_from_palette,
)

palettes = arrays(np.uint8, st.tuples(st.integers(1, 60), st.just(3)))


@given(palettes)
def test_hls_keys_equal_colorsys(pal):
    keys = hls_keys(pal)
    for row, key in zip(pal, keys, strict=True):
        assert tuple(key) == pytest.approx(colorsys.rgb_to_hls(*(row / 255.0)), abs=1e-12)


@given(st.lists(st.tuples(*[st.integers(0, 255)] * 3), min_size=1, max_size=60, unique=True))
def test_hls_order_is_the_seeds_sort(colours):
    pal = np.array(colours, np.uint8)
    got = [tuple(pal[i]) for i in order_palette(pal, np.ones(len(pal)), "hls")]
    expected = sorted(colours, key=lambda c: colorsys.rgb_to_hls(*(np.array(c) / 255.0)))
    assert got == [tuple(c) for c in expected]


def zucconi_step(r, g, b, repetitions=8):
    """Alan Zucconi's step sort key, verbatim (r, g, b in 0..1)."""
    lum = math.sqrt(0.241 * r + 0.691 * g + 0.068 * b)
    h, _s, v = colorsys.rgb_to_hsv(r, g, b)
    h2 = int(h * repetitions)
    v2 = int(v * repetitions)
    if h2 % 2 == 1:
        v2 = repetitions - v2
        lum = repetitions - lum
    return (h2, lum, v2)


@given(st.lists(st.tuples(*[st.integers(0, 255)] * 3), min_size=1, max_size=60, unique=True))
def test_step_order_is_zucconis(colours):
    pal = np.array(colours, np.uint8)
    got = [tuple(pal[i]) for i in order_palette(pal, np.ones(len(pal)), "step")]
    expected = sorted(colours, key=lambda c: zucconi_step(*(np.array(c) / 255.0)))
    assert got == [tuple(c) for c in expected]


def test_luma_and_count_orders():
    pal = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    assert order_palette(pal, [1, 1, 1], "luma").tolist() == [1, 2, 0]
    assert order_palette(pal, [5, 9, 7], "count").tolist() == [1, 2, 0]
    with pytest.raises(ValueError):
        order_palette(pal, [1, 1, 1], "rainbow")


@settings(max_examples=200)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=80), st.integers(0, 3000))
def test_apportion_is_largest_remainder(counts, total):
    if sum(counts) == 0:
        counts[0] = 1
    rows = apportion(counts, total)
    assert rows.sum() == total
    quota = np.array(counts, np.float64) * total / sum(counts)
    assert np.all(rows >= np.floor(quota)) and np.all(rows <= np.ceil(quota))


def seed_recipe_column(img: np.ndarray, centres: np.ndarray, labels: np.ndarray, height: int):
    """The classic recipe's strip, naively: every pixel replaced by its centre, sorted by HLS
    with colorsys, and the column resized to ``height`` with nearest neighbour."""
    quant = [tuple(int(v) for v in centres[j]) for j in labels]
    quant.sort(key=lambda c: colorsys.rgb_to_hls(c[0] / 255, c[1] / 255, c[2] / 255))
    col = np.array(quant, np.uint8).reshape(-1, 1, 3)
    return np.asarray(Image.fromarray(col).resize((1, height), Image.NEAREST))[:, 0]


def runs(col: np.ndarray) -> list[tuple[tuple[int, ...], int]]:
    """Colour runs of a column as (colour, length)."""
    out: list[tuple[tuple[int, ...], int]] = []
    for c in map(tuple, col.tolist()):
        if out and out[-1][0] == c:
            out[-1] = (c, out[-1][1] + 1)
        else:
            out.append((c, 1))
    return out


@pytest.mark.parametrize(("seed", "height"), [(0, 400), (1, 120), (2, 1080), (3, 37)])
def test_hls_strip_equals_seed_recipe_within_one_row_per_band(seed, height):
    rng = np.random.default_rng(seed)
    # A small "frame": smooth colour fields plus noise, so cluster sizes vary widely.
    y, x = np.mgrid[0:60, 0:80]
    img = np.stack([x * 3, y * 4, (x + y) * 2], axis=2) + rng.integers(0, 30, (60, 80, 3))
    img = img.clip(0, 255).astype(np.uint8)
    km = ColourKMeans(20, random_state=seed).fit(img)
    pal, labels = km.palette_, km.labels_
    ours = strip_from_palette(pal, km.counts_, height, "hls")
    recipe = seed_recipe_column(img, pal, labels, height)
    assert ours.shape == (height, 3)
    ours_runs = runs(ours)
    recipe_runs = runs(recipe)
    # Same colours in the same order; each band within one row of the recipe's.
    assert [c for c, _ in ours_runs] == [c for c, _ in recipe_runs]
    for (_, a), (_, b) in zip(ours_runs, recipe_runs, strict=True):
        assert abs(a - b) <= 1


def test_modes():
    pal = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    counts = [3, 1]
    avg = make_strip(pal, counts, 10, mode="average")
    # linear light: 3/4 of red's light is sRGB 225 (the sRGB average 191 is too dark)
    assert avg.shape == (10, 3) and (avg == [225, 0, 137]).all()
    dom = make_strip(pal, counts, 10, mode="dominant")
    assert (dom == [255, 0, 0]).all()
    col = np.arange(12, dtype=np.uint8).reshape(4, 3)
    slit = make_strip(pal, counts, 8, mode="slitscan", column=col)
    np.testing.assert_array_equal(slit, np.repeat(col, 2, axis=0))
    with pytest.raises(ValueError):
        make_strip(pal, counts, 8, mode="slitscan")
    with pytest.raises(ValueError):
        make_strip(pal, counts, 8, mode="wavy")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            arrays(np.uint8, st.tuples(st.integers(1, 12), st.just(3))),
            st.integers(0, 2**31 - 1),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 300),
    st.sampled_from(["hls", "luma", "step", "count", "oklch"]),
)
def test_sorted_strips_batch_equals_one_by_one(items, height, order):
    from streamspec.analysis.strip import sorted_strips

    palettes, counts = [], []
    for pal, seed in items:
        palettes.append(pal)
        counts.append(np.random.default_rng(seed).integers(1, 50, len(pal)))
    batch = sorted_strips(palettes, counts, height, order)
    for got, pal, cnt in zip(batch, palettes, counts, strict=True):
        np.testing.assert_array_equal(got, strip_from_palette(pal, cnt, height, order))
