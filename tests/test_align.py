"""Aligning two versions of a film: a cut scene and an inserted one are gaps."""

from __future__ import annotations

import numpy as np
import pytest

from streamspec.analysis.align import _dtw, align, strip_features
from streamspec.core.errors import InputError


def reference_dtw(A, B, gap, stretch, band):
    """The same recurrence in plain Python and NumPy (costs and traceback codes)."""
    n, m = len(A), len(B)
    D = np.full((n + 1, m + 1), np.inf)
    back = np.zeros((n + 1, m + 1), np.int8)
    D[0, 0] = 0
    for j in range(1, min(m, band) + 1):
        D[0, j], back[0, j] = j * gap, 3
    for i in range(1, n + 1):
        centre = i * m / n
        lo, hi = max(0, int(np.floor(centre - band))), min(m, int(np.ceil(centre + band)))
        for j in range(lo, hi + 1):
            if j == 0:
                D[i, 0], back[i, 0] = i * gap, 2
                continue
            d = np.linalg.norm(A[i - 1] - B[j - 1])
            options = [  # in the order ties are resolved (as the kernel)
                (D[i - 1, j - 1] + d, 1),  # a match
                (D[i - 1, j] + gap, 2),  # a removal
                (D[i, j - 1] + gap, 3),  # an insert
                (D[i - 1, j] + d + stretch, 4),  # a stretch of either
                (D[i, j - 1] + d + stretch, 5),
            ]
            best = min(o[0] for o in options)
            D[i, j], back[i, j] = next(o for o in options if o[0] == best)
    return D[n, m], back


def film(seed: int, scenes: int = 30):
    """A synthetic film: scenes of 8-40 strips, each scene's palettes around its own."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(8, 40, scenes)
    chroma = rng.normal(0, 0.07, (2, scenes, 6))
    centres = np.stack([rng.uniform(0.2, 0.85, (scenes, 6)), *chroma], -1)
    shares = rng.dirichlet(np.ones(6), scenes)
    lab = [centres[s] + rng.normal(0, 0.004, (n, 6, 3)) for s, n in enumerate(lengths)]
    sh = [np.repeat(shares[s][None], n, 0) for s, n in enumerate(lengths)]
    return lab, sh, lengths


def test_kernel_matches_plain_reference():
    rng = np.random.default_rng(0)
    for n, m, band, stretch in [(40, 55, 20, 0.01), (30, 30, 4, 0.0), (1, 12, 12, 0.01),
                                (25, 3, 22, np.inf), (50, 45, 10, 0.02)]:  # fmt: skip
        A, B = rng.normal(size=(n, 6)) * 0.05, rng.normal(size=(m, 6)) * 0.05
        B[: min(n, m) // 2] = A[: min(n, m) // 2]
        back = np.zeros((n + 1, m + 1), np.int8)
        band = max(band, abs(n - m) + 1)
        cost = _dtw(A, B, 0.04, stretch, band, back)
        want_cost, want_back = reference_dtw(A, B, 0.04, stretch, band)
        assert cost == pytest.approx(want_cost, abs=1e-12)
        np.testing.assert_array_equal(back, want_back)


def test_identical_versions_pair_one_to_one():
    lab, sh, _ = film(1)
    f = strip_features(np.concatenate(lab), np.concatenate(sh))
    noisy = f + np.random.default_rng(2).normal(0, 0.002, f.shape)  # another encode
    al = align(f, noisy)
    np.testing.assert_array_equal(al.pairs, np.stack([np.arange(len(f))] * 2, 1))
    assert al.removed == [] and al.inserted == []


@pytest.mark.parametrize("seed", range(4))
def test_a_cut_scene_and_an_inserted_one_are_gaps_in_the_right_places(seed):
    lab, sh, lengths = film(seed)
    rng = np.random.default_rng(seed + 100)
    cut = int(rng.integers(3, 12))  # scene cut from the second version
    at = int(rng.integers(17, 27))  # an unrelated new scene inserted before scene `at`
    new_lab, new_sh, new_len = film(seed + 1000, scenes=1)
    first = strip_features(np.concatenate(lab), np.concatenate(sh))
    second_parts = [(lab[s], sh[s]) for s in range(len(lab)) if s != cut]
    ins_pos = at - 1  # scene index in the second version's list (one scene fewer before it)
    second_parts.insert(ins_pos, (new_lab[0], new_sh[0]))
    second = strip_features(np.concatenate([p[0] for p in second_parts]),
                            np.concatenate([p[1] for p in second_parts]))  # fmt: skip
    second = second + rng.normal(0, 0.002, second.shape)
    al = align(first, second)

    starts = np.concatenate([[0], np.cumsum(lengths)])
    cut_run = (int(starts[cut]), int(starts[cut + 1]))
    ins_start = int(starts[at] - lengths[cut])
    ins_run = (ins_start, ins_start + int(new_len[0]))
    assert len(al.removed) == 1 and len(al.inserted) == 1
    (r0, r1, _), (i0, i1, _) = al.removed[0], al.inserted[0]
    assert abs(r0 - cut_run[0]) <= 2 and abs(r1 - cut_run[1]) <= 2
    assert abs(i0 - ins_run[0]) <= 2 and abs(i1 - ins_run[1]) <= 2
    # everything else pairs one to one with its own strip
    kept = np.setdiff1d(np.arange(len(first)), np.arange(*cut_run))
    kept2 = np.setdiff1d(np.arange(len(second)), np.arange(*ins_run))
    own = {int(a): int(b) for a, b in zip(kept, kept2, strict=True)}
    paired = {int(a): int(b) for a, b in al.pairs}
    right = sum(paired.get(a) == b for a, b in own.items())
    assert right >= len(own) - 4


@pytest.mark.parametrize("seed", range(3))
def test_a_faster_version_warps_instead_of_leaving_gaps(seed):
    # 24 fps film against a 25 fps TV transfer sampled at the same interval: the second
    # version's strip j shows the first's time j * 25/24.
    lab, sh, _ = film(seed)
    first = strip_features(np.concatenate(lab), np.concatenate(sh))
    src = np.minimum(np.rint(np.arange(int(len(first) * 24 / 25)) * 25 / 24), len(first) - 1)
    second = first[src.astype(int)] + np.random.default_rng(seed).normal(0, 0.002, (len(src), 6))
    al = align(first, second)
    assert al.inserted == []
    assert sum(r[1] - r[0] for r in al.removed) <= 3  # at most the very end
    # each strip of the second pairs with the strip it was taken from, give or take one
    taken = src[al.pairs[:, 1]]
    assert np.abs(taken - al.pairs[:, 0]).max() <= 1
    # strictly one to one, the same versions need a gap every 25 strips
    rigid = align(first, second, stretch=np.inf)
    assert len(rigid.removed) >= len(first) // 25 - 2


def test_bad_alignment_inputs_are_one_line():
    f = np.zeros((10, 6))
    with pytest.raises(InputError, match="equal width"):
        align(f, np.zeros((10, 5)))
    with pytest.raises(InputError, match="gap cost"):
        align(f, f, gap=0)
    with pytest.raises(InputError, match="stretch"):
        align(f, f, stretch=-1)
    with pytest.raises(InputError, match="band"):
        align(f, f, band=0)
    with pytest.raises(InputError, match="finite"):
        align(f, np.full((3, 6), np.nan))
    with pytest.raises(InputError, match="cells"):
        align(np.zeros((9000, 6)), np.zeros((9000, 6)))
    al = align(f, np.zeros((0, 6)))
    assert al.removed == [(0, 10, 0)] and len(al.pairs) == 0
