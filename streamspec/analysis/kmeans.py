"""Colour k-means: a scikit-learn style estimator over the Numba kernels.

The public class validates and orchestrates; the arithmetic lives in
:mod:`streamspec.analysis._kernels`. The fit follows the classic film-palette recipe's idea
(scikit-learn's mini-batch k-means, Sculley 2010) but works on a random subsample of
the pixels, which is where the speed comes from: colour proportions of a 16k-pixel
sample differ from the full frame's by well under 1 %.

1. k-means++ seeding on a spread part of the subsample (or warm start from given
   centres);
2. mini-batch passes over the subsample with per-centre learning rates;
3. full-sample (Lloyd) passes until no assignment changes or the inertia improves by
   less than ``tol`` (relative), at most ``max_iter`` of them;
4. one parallel assignment of every pixel, giving ``labels_``, ``counts_``, ``inertia_``.

:func:`sample_palette` is the strip's quantizer: the same kernels on a stratified sample
of the frame (a few milliseconds a frame), with the colour shares taken from the sample
instead of from every pixel's label.
"""

from __future__ import annotations

import importlib
import math
import threading
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from streamspec.core._deprecated import renamed, warn_renamed
from streamspec.core.limits import MAX_IMAGE_COLOURS

__all__ = ["ColourKMeans", "as_pixels", "sample_palette", "warm_up"]

SEED_POINTS = 4096  # k-means++ runs on about this many of the sampled pixels

# sample_palette: pixels whose labels give the shares; the size of the interleaved parts
# of them that Lloyd passes take in turn; pixels k-means++ seeds from. Measured on the
# shared clips: eight parts of 4k and twelve passes fit better than four parts of 8k and
# ten passes (or 16k pixels to convergence), at 60 % of the cost.
SHARE_PIXELS = 32768
FIT_PIXELS = 4096
FIT_SEED_PIXELS = 1024


class _Kernels:
    """:mod:`streamspec.analysis._kernels`, imported on first use.

    Importing Numba and defining the kernels takes ~0.3 s (and their first call another
    ~0.6 s): ``import streamspec`` should not pay for it, and a render should open the
    film and start decoding first (it loads the kernels at its first sample, while its
    decoding thread runs).
    """

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module("._kernels", __package__)
        globals()["K"] = module
        return getattr(module, name)


K: Any = _Kernels()


def as_pixels(pixels: ArrayLike) -> NDArray[np.uint8]:
    """Return ``pixels`` as a C-contiguous ``(N, 3)`` uint8 array (a view when possible).

    Accepts ``(H, W, 3)`` images and ``(N, 3)`` pixel lists of dtype uint8. Raises
    ``ValueError``/``TypeError`` with a one-line message for anything else.
    """
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8:
        raise TypeError(f"pixels must be uint8 RGB, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = arr.reshape(-1, 3)
    elif not (arr.ndim == 2 and arr.shape[1] == 3):
        raise ValueError(f"pixels must have shape (H, W, 3) or (N, 3), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("pixels is empty")
    return np.ascontiguousarray(arr)


def _label_dtype(k: int) -> type[np.unsignedinteger[Any]]:
    # One byte per pixel when it fits: a 50-megapixel image's labels then cost 50 MB.
    return np.uint8 if k <= 256 else np.uint16


def _label(
    X: NDArray[np.uint8], centers: NDArray[np.float32]
) -> tuple[NDArray[np.unsignedinteger[Any]], NDArray[np.int64], float]:
    """Labels, per-centre counts and inertia of every pixel, in one parallel pass."""
    labels = np.empty(X.shape[0], _label_dtype(len(centers)))
    counts = np.empty(len(centers), np.int64)
    inertia = K.assign_parallel(X, centers, labels, counts)
    return labels, counts, float(inertia)


def _check_positive_int(name: str, value: object, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


class ColourKMeans:
    """Mini-batch k-means for RGB colours.

    Parameters
    ----------
    n_colours:
        Number of colours (clusters), 1..65536 (:data:`~streamspec.core.limits.MAX_IMAGE_COLOURS`).
        ``n_colors``, its old name, still works with a warning.
    batch_size:
        Points per mini-batch update.
    max_iter:
        Most full-sample refinement passes after the mini-batch phase.
    tol:
        Stop refining when the inertia improves by less than this fraction.
    init:
        ``"k-means++"`` or an ``(n, 3)`` array of starting centres (warm start, e.g. the
        previous frame's palette); ``n`` may differ from ``n_colours``.
    sample_size:
        Pixels drawn (without replacement) to fit on; all pixels are labelled.
    random_state:
        ``None``, an int seed or a ``numpy.random.Generator``. The same int gives the
        same centres and counts.

    Attributes (after :meth:`fit`)
    ------------------------------
    cluster_centers_ : (k, 3) float32, k <= n_colours (clusters nobody uses are dropped)
    counts_ : (k,) int64, pixels per centre over all fitted pixels
    labels_ : (N,) uint8 or uint16, centre of every fitted pixel
    inertia_ : float, sum of squared distances of all pixels to their centre (0-255 units)
    n_iter_ : int, refinement passes run
    """

    def __init__(
        self,
        n_colours: int = 50,
        *,
        batch_size: int = 1024,
        max_iter: int = 100,
        tol: float = 1e-4,
        init: str | ArrayLike = "k-means++",
        sample_size: int = 16384,
        random_state: int | np.random.Generator | None = None,
        n_colors: int | None = None,
    ) -> None:
        if n_colors is not None:
            warn_renamed("ColourKMeans(n_colors=...)", "n_colours")
            n_colours = n_colors
        self.n_colours = n_colours
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.sample_size = sample_size
        self.random_state = random_state

    # -- validation -------------------------------------------------------------------
    def _validate(self) -> None:
        _check_positive_int("n_colours", self.n_colours, MAX_IMAGE_COLOURS)
        _check_positive_int("batch_size", self.batch_size)
        _check_positive_int("sample_size", self.sample_size)
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, (int, np.integer)):
            raise TypeError(f"max_iter must be an integer, got {self.max_iter!r}")
        if self.max_iter < 0:
            raise ValueError(f"max_iter must be >= 0, got {self.max_iter}")
        if not (isinstance(self.tol, (int, float)) and math.isfinite(self.tol) and self.tol >= 0):
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        if isinstance(self.init, str):
            if self.init != "k-means++":
                raise ValueError(f"init must be 'k-means++' or an array, got {self.init!r}")
        else:
            init = np.asarray(self.init, dtype=np.float64)
            if init.ndim != 2 or init.shape[1] != 3 or init.shape[0] == 0:
                raise ValueError(f"init centres must have shape (n, 3), got {init.shape}")
            if not np.all(np.isfinite(init)):
                raise ValueError("init centres must be finite")

    # -- fitting ----------------------------------------------------------------------
    @property
    def n_colors(self) -> int:
        """Deprecated name of :attr:`n_colours`."""
        warn_renamed("ColourKMeans.n_colors", "n_colours")
        return self.n_colours

    @n_colors.setter
    def n_colors(self, value: int) -> None:
        warn_renamed("ColourKMeans.n_colors", "n_colours")
        self.n_colours = value

    def fit(self, pixels: ArrayLike) -> ColourKMeans:
        """Fit colour centres to ``pixels`` ((H, W, 3) or (N, 3) uint8) and label them."""
        self._validate()
        X = as_pixels(pixels)
        rng = np.random.default_rng(self.random_state)
        k = int(self.n_colours)

        distinct = K.distinct_colors(X, k)
        if len(distinct):
            # Few colours: they are the answer, exactly.
            centers = distinct.astype(np.float32)
            self.n_iter_ = 0
        else:
            centers, self.n_iter_ = self._fit_sample(X, k, rng)

        labels, counts, inertia = _label(X, centers)
        if np.any(counts == 0):
            # A centre that no pixel chose would be a colour that is not in the picture.
            centers = np.ascontiguousarray(centers[counts > 0])
            labels, counts, inertia = _label(X, centers)
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.counts_ = counts
        self.inertia_ = inertia
        return self

    def _fit_sample(
        self, X: NDArray[np.uint8], k: int, rng: np.random.Generator
    ) -> tuple[NDArray[np.float32], int]:
        n = X.shape[0]
        m = min(int(self.sample_size), n)
        rows = rng.choice(n, m, replace=False) if m < n else np.arange(n)
        S = np.ascontiguousarray(X[np.sort(rows)])

        if isinstance(self.init, str):
            # Seeding on a spread quarter of a 16k sample is as good as on all of it
            # (measured on real frames) and k-means++ is the costliest step otherwise.
            seeds = S[:: max(1, m // SEED_POINTS)]
            trials = 2 + int(math.log(k))
            first = int(rng.integers(len(seeds)))
            uniforms = rng.random((max(k - 1, 0), trials))
            centers = K.kmeans_plusplus(np.ascontiguousarray(seeds), k, first, uniforms)
        else:
            centers = np.ascontiguousarray(np.clip(self.init, 0, 255), dtype=np.float32)

        # Mini-batch phase: two epochs' worth of random batches, cheap and coarse; then
        # full passes over the sample until nothing moves.
        b = min(int(self.batch_size), m)
        steps = (2 * m) // b if b < m else 0
        batches = rng.integers(0, m, (steps, b))
        n_iter = K.refine(S, centers, batches, int(self.max_iter), float(self.tol))
        return centers, int(n_iter)

    def predict(self, pixels: ArrayLike) -> NDArray[np.unsignedinteger[Any]]:
        """Index of the nearest fitted centre for each pixel, shape (N,) (images flattened)."""
        if not hasattr(self, "cluster_centers_"):
            raise RuntimeError("ColourKMeans is not fitted yet; call fit() first")
        return _label(as_pixels(pixels), self.cluster_centers_)[0]

    def fit_predict(self, pixels: ArrayLike) -> NDArray[np.unsignedinteger[Any]]:
        """Fit, then return ``labels_``."""
        return self.fit(pixels).labels_

    @property
    def palette_(self) -> NDArray[np.uint8]:
        """The centres rounded to uint8 RGB."""
        return np.clip(np.rint(self.cluster_centers_), 0, 255).astype(np.uint8)

    def __repr__(self) -> str:
        return f"ColourKMeans(n_colours={self.n_colours}, random_state={self.random_state!r})"


def _grid_sample(
    img: NDArray[np.uint8], target: int, rng: np.random.Generator
) -> NDArray[np.uint8]:
    """About ``target`` pixels, one at a random place in each cell of a regular grid.

    A stratified sample: every part of the picture is represented in proportion to its
    area, so colour shares come out closer to the whole frame's than from a uniform
    random sample of the same size (~1/2 the error, measured on the shared clips).
    """
    h, w = img.shape[0], img.shape[1]
    g = max(1, round(math.sqrt(h * w / target)))
    if g == 1:
        return np.ascontiguousarray(img.reshape(-1, 3))
    if h >= g and w >= g:
        gh = gw = g
    else:  # a one-pixel-thin picture: cells along the flattened pixels
        img = img.reshape(1, -1, 3)
        gh, gw = 1, g * g
    cells = (img.shape[0] // gh) * (img.shape[1] // gw)
    out = np.empty((cells, 3), np.uint8)
    # Raw random bytes are the cheapest draw (a bounded integer draw costs 3x more).
    dtype = np.uint8 if gh * gw <= 256 else np.uint16
    rand = np.frombuffer(rng.bytes(cells * np.dtype(dtype).itemsize), dtype)
    K.grid_sample(img, gh, gw, rand, 8 * rand.itemsize, out)
    return out


def sample_palette(
    image: NDArray[np.uint8],
    k: int,
    rng: np.random.Generator,
    *,
    sample_size: int = SHARE_PIXELS,
    fit_size: int = FIT_PIXELS,
    seed_size: int = FIT_SEED_PIXELS,
    batch_size: int = 1024,
    max_iter: int = 12,
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """``k`` colours of an image and their shares, from a stratified sample of it.

    ``image`` is a C-contiguous ``(H, W, 3)`` uint8 array (not validated: this is the
    per-frame path; :class:`ColourKMeans` is the checked, label-every-pixel estimator).

    About ``sample_size`` pixels are drawn, one at a random place in each cell of a
    grid. The sample is cut into interleaved parts of about ``fit_size`` pixels;
    k-means++ seeds on ``seed_size`` pixels spread over the sample, two mini-batch
    epochs of one part's size follow, then ``max_iter`` Lloyd passes, each on the next
    part in turn. A last Lloyd step over the whole sample gives each centre's share
    (``counts``, in sampled pixels) and moves it to the mean of the pixels it counted;
    centres that count no pixel are dropped. On the shared clips' ~480x270 frames the
    shares differ from labelling every pixel by 1.3 % of the colour mass on average (2 %
    at worst): in a 400-row strip a band is within one row of its exact height, at
    worst two.

    A frame with at most ``k`` distinct colours gets exactly those, counted over every
    pixel. Everything random comes from ``rng``: the same generator state gives the
    same result.
    """
    S = _grid_sample(image, sample_size, rng)
    if len(K.distinct_colors(S, k)):
        # The sample has few colours: the frame may too, and then they are the answer.
        X = image.reshape(-1, 3)
        distinct = K.distinct_colors(X, k)
        if len(distinct):
            centers = distinct.astype(np.float32)
            counts = np.empty(len(centers), np.int64)
            K.lloyd_counts(X, centers.copy(), counts)
            return centers, counts
    m = len(S)
    parts = max(1, -(-m // fit_size))
    seeds = np.ascontiguousarray(S[:: -(-m // seed_size)])
    trials = 2 + int(math.log(k))
    first = int(rng.integers(len(seeds)))
    centers = K.kmeans_plusplus(seeds, k, first, rng.random((max(k - 1, 0), trials)))
    b = min(batch_size, m)
    steps = (2 * m // parts) // b if b < m else 0
    K.refine(S, centers, rng.integers(0, m, (steps, b)), 0, 0.0)
    K.lloyd_rotating(S, centers, parts, max_iter)
    counts = np.empty(len(centers), np.int64)
    K.lloyd_counts(S, centers, counts)
    used = counts > 0
    if not used.all():
        centers, counts = np.ascontiguousarray(centers[used]), counts[used]
    return centers, counts


def warm_up(background: bool = True) -> threading.Thread | None:
    """Import Numba and load the strip's kernels now rather than at the first frame.

    The first use of the kernels in a process costs ~0.9 s on the benchmark machine
    (Numba's import 0.25 s, the kernels' definitions 0.08 s, its compiler's set-up on
    the first call 0.55 s even with the machine code cached, the other kernels 0.07 s),
    nearly all of it holding the GIL. A render does not call this: it loads the kernels
    at its first sample, while its decoding thread runs (started in a thread before
    crop detection, this delayed the first decoded packet by 0.6 s). A player can call
    it before playback starts (``background=False``) so that the first sample does not
    stall the picture; with ``background=True`` (the default) it runs in a daemon thread,
    which is returned.
    """
    if not background:
        img = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
        sample_palette(img, 8, np.random.default_rng(0), sample_size=8192)
        sample_palette(img[:, :1].copy(), 8, np.random.default_rng(0))  # few colours
        return None
    thread = threading.Thread(target=warm_up, args=(False,), daemon=True, name="streamspec-warm-up")
    thread.start()
    return thread


__getattr__ = renamed(
    __name__, globals(), {"ColorKMeans": "ColourKMeans", "MAX_COLORS": "MAX_IMAGE_COLOURS"}
)
