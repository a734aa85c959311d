"""Shot detection: the signature kernel against plain NumPy, and the detector against
generated films whose edits the generator knows (tests/shotfilms.py)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import av
import numpy as np
import pytest
import shotfilms as sf
from videos import colour_film, make_video

from streamspec.analysis import shots as S
from streamspec.core.limits import MAX_SHOTS

# -- the signature kernel against NumPy ---------------------------------------------------


def ref_signature(y, u, v, width, full_range):
    """The signature written plainly: the same grid, soft bins by np.interp weights."""
    H = y.shape[0]
    W = width
    sub_x = max(1, round(y.shape[1] / u.shape[1]))
    sub_y = max(1, round(H / u.shape[0]))
    CW = min(u.shape[1], -(-W // sub_x))
    CH = u.shape[0]
    cols, rows = min(S.GRID_COLS, CW), min(S.GRID_ROWS, CH)
    cxs = np.minimum((np.arange(cols) * 2 + 1) * CW // (2 * cols), CW - 1)
    cys = np.minimum((np.arange(rows) * 2 + 1) * CH // (2 * rows), CH - 1)
    xs = np.minimum(cxs * sub_x, max(W - 2, 0))
    ys = np.minimum(cys * sub_y, max(H - 2, 0))
    raw = y[np.ix_(ys, xs)].astype(np.float64)
    right = y[np.ix_(ys, np.minimum(xs + 1, W - 1))].astype(np.float64)
    down = y[np.ix_(np.minimum(ys + 1, H - 1), xs)].astype(np.float64)
    lo, gain, cgain = (0.0, 1.0, 1.0) if full_range else (16.0, 255 / 219, 255 / 224)
    Y = np.clip((raw - lo) * gain, 0, 255)
    U = (u[np.ix_(cys, cxs)].astype(np.float64) - 128) * cgain + 128
    V = (v[np.ix_(cys, cxs)].astype(np.float64) - 128) * cgain + 128

    def weights(x, centres):
        w = np.zeros((*x.shape, len(centres)))
        for k in range(len(centres)):
            one = np.zeros(len(centres))
            one[k] = 1
            w[..., k] = np.interp(x, centres, one)
        return w

    wy, wu, wv = weights(Y, S.Y_CENTRES), weights(U, S.C_CENTRES), weights(V, S.C_CENTRES)
    hist = np.einsum("ija,ijb,ijc->abc", wy, wu, wv).reshape(-1) / Y.size
    out = np.zeros(S.SIGNATURE_SIZE)
    out[: S.HIST] = hist
    out[S.I_MEAN] = Y.mean()
    out[S.I_SD] = Y.std()
    out[S.I_EDGE] = (np.abs(right - raw) + np.abs(down - raw)).mean() * gain
    out[S.I_U] = U.mean()
    out[S.I_V] = V.mean()
    gy = (np.arange(rows) * 4) // rows
    gx = (np.arange(cols) * 4) // cols
    for c in range(16):
        cell = Y[np.ix_(gy == c // 4, gx == c % 4)]
        out[S.I_LAYOUT + c] = cell.mean() if cell.size else Y.mean()
    return out


@pytest.mark.parametrize(
    "h,w,cw_div,ch_div,pad,full",
    [
        (180, 320, 2, 2, 0, False),  # 4:2:0
        (1080, 1920, 2, 2, 64, False),  # padded rows, as decoders keep them
        (37, 51, 2, 2, 13, True),  # odd sizes
        (48, 64, 1, 1, 0, True),  # 4:4:4
        (2, 2, 2, 2, 0, False),  # tiny
        (1, 1, 1, 1, 0, False),  # one pixel
    ],
)
def test_signature_kernel_matches_numpy(h, w, cw_div, ch_div, pad, full):
    rng = np.random.default_rng(h * w)
    y = rng.integers(0, 256, (h, w + pad), dtype=np.uint8)
    ch, cw = -(-h // ch_div), -(-w // cw_div)
    u = rng.integers(0, 256, (ch, cw + pad // cw_div), dtype=np.uint8)
    v = rng.integers(0, 256, (ch, cw + pad // cw_div), dtype=np.uint8)
    got = S.signature_from_planes(y, u, v, width=w, full_range=full)
    want = ref_signature(y, u, v, w, full)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    assert got[: S.HIST].sum() == pytest.approx(1.0, abs=1e-5)


def test_signature_from_rgb_and_planes_agree_on_a_picture():
    """The same picture as RGB and as the planes FFmpeg makes of it: close signatures."""
    rng = np.random.default_rng(3)
    rgb = np.repeat(np.repeat(rng.integers(0, 256, (18, 32, 3), dtype=np.uint8), 10, 0), 10, 1)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv444p", dst_colorspace="ITU709")
    planes = [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size) for p in frame.planes]
    a = S.signature_from_planes(*planes, width=frame.width)
    b = S.signature_from_rgb(rgb)
    assert S.hist_distance(a, b) < 0.1
    assert abs(a[S.I_MEAN] - b[S.I_MEAN]) < 3


def test_strided_views_read_like_copies():
    """A crop of a bigger plane (not contiguous) gives the signature of its copy."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 256, (300, 500), dtype=np.uint8)
    u = rng.integers(0, 256, (150, 250), dtype=np.uint8)
    v = rng.integers(0, 256, (150, 250), dtype=np.uint8)
    views = (y[20:200, 40:360], u[10:100, 20:180], v[10:100, 20:180])
    assert not views[0].flags.c_contiguous
    copies = [np.ascontiguousarray(p) for p in views]
    np.testing.assert_array_equal(S.signature_from_planes(*views),
                                  S.signature_from_planes(*copies))


def test_packed_yuv420p_array_reads_like_the_planes(tmp_path):
    """PyAV's frame.to_ndarray() for yuv420p, split without copying, gives the same
    signature as the decoder's planes."""
    path = colour_film(
        tmp_path / "p.mp4", seconds=0.2, colours=[(200, 90, 20)], noise=0, size=(160, 90)
    )
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
    planes = [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size) for p in frame.planes]
    a = S.signature_from_planes(*planes, width=frame.width)
    b = S.signature_from_planes(*S.planes_from_yuv420p(frame.to_ndarray()))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        S.planes_from_yuv420p(np.zeros((91, 160), np.uint8))


def test_signature_rejects_bad_planes():
    with pytest.raises(ValueError):
        S.signature_from_planes(np.zeros((4, 4), np.uint8), np.zeros((2, 2), np.uint8),
                                np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError):
        S.signature_from_rgb(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError):
        S.signature_from_planes(np.zeros((4, 4), np.uint8), np.zeros((2, 2), np.uint8),
                                np.zeros((2, 2), np.uint8), width=9)


def test_flat_frames_are_recognised():
    black = S.signature_from_rgb(np.zeros((36, 64, 3), np.uint8))
    white = S.signature_from_rgb(np.full((36, 64, 3), 255, np.uint8))
    grey = S.signature_from_rgb(np.full((36, 64, 3), 128, np.uint8))
    assert (S.flat_colour(black), S.flat_colour(white), S.flat_colour(grey)) == (
        "black", "white", None)


# -- generated films ------------------------------------------------------------------------


def decode_signatures(path):
    """(index, time, signature) of every frame, read from the decoder's planes."""
    out = []
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        for i, f in enumerate(c.decode(st)):
            y, u, v = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)
                       for p in f.planes)
            out.append((i, float(f.time), S.signature_from_planes(y, u, v, width=f.width)))
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Eight generated films (two at 24 fps) with their signatures."""
    folder = tmp_path_factory.mktemp("shotfilms")
    films = sf.standard_films(6, fps=25)
    for f in sf.standard_films(8, fps=24)[6:]:
        f.name += "-24"
        films.append(f)
    return [(film, decode_signatures(sf.write(film, folder / f"{film.name}.mp4")))
            for film in films]


def boundaries(shots):
    return [(s.frame, s.start, s.kind) for s in shots[1:]]


@pytest.mark.slow
def test_generated_films_accuracy(generated):
    totals = {k: sf.Score(k) for k in ("cut", "dissolve", "fade")}
    for film, sigs in generated:
        shots = S.detect_shots(sigs, film.fps)
        scores, false = sf.evaluate(film.truths, boundaries(shots), film.fps)
        assert not false, (film.name, false, film.distractors)  # distractors make no shots
        for k, s in scores.items():
            t = totals[k]
            for name in ("truths", "found", "classified", "detections", "false"):
                setattr(t, name, getattr(t, name) + getattr(s, name))
        # Shots tile the film: each ends where the next starts.
        assert shots[0].start == sigs[0][1] and shots[0].kind == "start"
        for a, b in itertools.pairwise(shots):
            assert a.end == b.start and b.start > a.start
    cut = totals["cut"]
    assert cut.truths >= 40
    assert cut.recall >= 0.98 and cut.precision >= 0.95
    for kind in ("dissolve", "fade"):
        s = totals[kind]
        assert s.truths >= 8
        assert s.found == s.truths  # within half its length of its middle
        assert s.classified >= 0.9 * s.truths


@pytest.mark.slow
def test_fades_name_their_colour(generated):
    for film, sigs in generated:
        shots = S.detect_shots(sigs, film.fps)
        fades = [s for s in shots if s.kind == "fade"]
        truths = [t for t in film.truths if t.kind == "fade"]
        for t in truths:
            near = [s for s in fades if abs(s.start - t.centre) <= t.length / 2]
            assert near and near[0].via == t.via, (film.name, t)
            assert near[0].transition_start is not None


@pytest.mark.slow
def test_streaming_returns_each_shot_once_with_bounded_delay(generated):
    film, sigs = generated[0]
    det = S.ShotDetector(film.fps)
    got = []
    for i, t, sig in sigs:
        for shot in det.push(i, t, sig):
            # A shot is returned soon after its end is known.
            assert i - shot.end * film.fps <= det.max_transition + 2 * det.lookahead + 2
            got.append(shot)
        assert len(det._frames) <= det._frames.maxlen
    got += det.finish()
    assert det.finish() == []
    assert [s.to_json() for s in got] == [s.to_json() for s in S.detect_shots(sigs, film.fps)]
    assert [s.index for s in got] == list(range(len(got)))


@pytest.mark.slow
def test_min_shot_and_max_shots(generated):
    film, sigs = generated[1]
    shots = S.detect_shots(sigs, film.fps, min_shot=2.0)
    assert all(s.duration >= 2.0 - 1e-9 for s in shots[:-1])
    few = S.ShotDetector(film.fps, max_shots=3)
    out = []
    for i, t, sig in sigs:
        out += few.push(i, t, sig)
    out += few.finish()
    assert len(out) == 3 and few.truncated
    assert S.ShotDetector(film.fps, max_shots=10**12).max_shots == MAX_SHOTS


# -- edge cases --------------------------------------------------------------------------


def film_of(tmp_path, name, paint, frames, fps=25):
    path = make_video(tmp_path / f"{name}.mp4", paint, seconds=frames / fps, fps=fps,
                      size=(160, 90))
    return decode_signatures(path)


def test_one_shot_film(tmp_path):
    spec = sf.ShotSpec(100, seed=5, hue=0.3, pan=4.0, flashes=[(40, 2)])
    painter = sf._Painter(spec, (160, 90))
    sigs = film_of(tmp_path, "one", lambda i, t: np.clip(painter.frame(i), 0, 255)
                   .astype(np.uint8), 100)
    shots = S.detect_shots(sigs, 25)
    assert len(shots) == 1 and shots[0].kind == "start"
    assert shots[0].end == pytest.approx(100 / 25)


def test_all_cuts_film(tmp_path):
    """Every frame a new picture: every frame a new shot."""
    # Hues 0.1 apart, so no frame within the detector's window looks like another.
    painters = [sf._Painter(sf.ShotSpec(1, seed=k, hue=(k * 0.1) % 1), (160, 90))
                for k in range(30)]
    sigs = film_of(tmp_path, "cuts", lambda i, t: np.clip(painters[i].frame(0), 0, 255)
                   .astype(np.uint8), 30)
    shots = S.detect_shots(sigs, 25)
    assert len(shots) == 30
    for a, b in itertools.pairwise(shots):
        assert a.end == b.start
    assert all(s.kind in ("start", "cut") for s in shots)


@pytest.mark.parametrize("frames", [1, 2])
def test_still_and_two_frame_films(tmp_path, frames):
    colours = [(200, 30, 30), (20, 40, 220)]
    sigs = film_of(tmp_path, f"n{frames}", lambda i, t: np.full((90, 160, 3), colours[i],
                   np.uint8), frames)
    assert len(sigs) == frames
    shots = S.detect_shots(sigs, 25)
    assert 1 <= len(shots) <= frames
    assert shots[0].start == 0.0 and shots[0].frame == 0
    assert shots[-1].end == pytest.approx(frames / 25)


def test_empty_and_bad_pushes():
    assert S.detect_shots([], 25) == []
    det = S.ShotDetector(25)
    sig = np.zeros(S.SIGNATURE_SIZE, np.float32)
    det.push(0, 0.0, sig)
    with pytest.raises(ValueError):
        det.push(0, 0.04, sig)  # not after the last frame
    with pytest.raises(ValueError):
        det.push(1, 0.04, sig[:10])
    with pytest.raises(ValueError):
        det.push(1, float("nan"), sig)
    for bad in ({"fps": 0}, {"fps": float("inf")}, {"min_shot": -1}, {"sensitivity": 0}):
        with pytest.raises(ValueError):
            S.ShotDetector(**bad)


def test_same_input_same_shots(tmp_path):
    spec_a = sf._Painter(sf.ShotSpec(1, seed=1, hue=0.1), (160, 90))
    spec_b = sf._Painter(sf.ShotSpec(1, seed=2, hue=0.6), (160, 90))
    sigs = film_of(tmp_path, "two", lambda i, t: np.clip(
        (spec_a if i < 30 else spec_b).frame(i), 0, 255).astype(np.uint8), 60)
    a = [s.to_json() for s in S.detect_shots(sigs, 25)]
    assert a == [s.to_json() for s in S.detect_shots(sigs, 25)]
    assert [s["kind"] for s in a] == ["start", "cut"] and a[1]["frame"] == 30
    assert Fraction(a[1]["start"]).limit_denominator(100) == Fraction(30, 25)


# -- against PySceneDetect ----------------------------------------------------------------


def pyscenedetect_cuts(path):
    scenedetect = pytest.importorskip("scenedetect")
    scenes = scenedetect.detect(str(path), scenedetect.ContentDetector())
    return [a.frame_num for a, _ in scenes[1:]]


@pytest.mark.media
@pytest.mark.parametrize("clip", ["bigbuckbunny.mp4", "bikes.mp4"])
def test_real_clips_agree_with_pyscenedetect(media_dir, clip):
    """bikes.mp4 has five hard cuts (frames 30, 76, 137, 187, 242, checked by eye);
    bigbuckbunny.mp4 is one shot. Both tools find exactly these, to the frame."""
    path = media_dir / clip
    ours = [s.frame for s in S.detect_shots(decode_signatures(path), 25)[1:]]
    theirs = pyscenedetect_cuts(path)
    assert ours == theirs
    assert ours == ([30, 76, 137, 187, 242] if clip == "bikes.mp4" else [])


@pytest.mark.slow
def test_generated_films_beat_pyscenedetect(generated, tmp_path_factory):
    """On the same generated films PySceneDetect's ContentDetector (its default) finds
    fewer cuts within a frame, takes flashes and strobe for cuts, and misses most
    dissolves; the detector here does neither."""
    ours_false = theirs_false = 0
    ours_found = theirs_found = 0
    for film, sigs in generated[:3]:
        path = next(tmp_path_factory.getbasetemp().glob(f"shotfilms*/{film.name}.mp4"))
        theirs = [(f, f / film.fps, "cut") for f in pyscenedetect_cuts(path)]
        mine = boundaries(S.detect_shots(sigs, film.fps))
        s_ours, f_ours = sf.evaluate(film.truths, mine, film.fps)
        s_theirs, f_theirs = sf.evaluate(film.truths, theirs, film.fps)
        ours_false += len(f_ours)
        theirs_false += len(f_theirs)
        ours_found += sum(s.found for s in s_ours.values())
        theirs_found += sum(s.found for s in s_theirs.values())
    assert ours_false == 0 < theirs_false
    assert ours_found > theirs_found


@pytest.mark.slow
def test_two_dissolves_around_a_fast_pan(tmp_path):
    """A dissolve into a fast pan of about 0.6 s and a dissolve out of it: both found,
    not one long dissolve across the pan (which never looks settled)."""
    shots = [
        sf.ShotSpec(40, seed=11, hue=0.05, pan=1.0),
        sf.ShotSpec(52, seed=12, hue=0.45, pan=14.0),
        sf.ShotSpec(45, seed=13, hue=0.8, pan=1.0),
    ]
    film = sf.Film("pan", shots, [sf.Join("dissolve", length=43), sf.Join("dissolve", length=32)])
    sigs = decode_signatures(sf.write(film, tmp_path / "pan.mp4"))
    found = S.detect_shots(sigs, film.fps)
    scores, false = sf.evaluate(film.truths, boundaries(found), film.fps)
    assert not false
    assert scores["dissolve"].classified == 2


@pytest.mark.slow
def test_random_signature_streams_give_clean_shots():
    """Seeded random streams -- held pictures, jumps, blends, black, white and grey
    frames, frame rates from 1 to 60, gaps in the frame numbers, min_shot and max_shots
    -- always give shots that tile the film from 0 to its end, numbered in order."""
    rng = np.random.default_rng(0)
    bank = [S.signature_from_rgb(rng.integers(0, 256, (18, 32, 3), dtype=np.uint8))
            for _ in range(20)]
    bank += [S.signature_from_rgb(np.full((18, 32, 3), v, np.uint8)) for v in (0, 255, 128)]
    for trial in range(200):
        n = int(rng.integers(1, 400))
        fps = float(rng.choice([1, 5, 24, 25, 60]))
        held = rng.integers(0, len(bank), n // 5 + 1)
        seq = []
        for i in range(n):
            mode = rng.random()
            sig = bank[held[i // 5]] if mode < 0.7 else bank[int(rng.integers(len(bank)))]
            if mode > 0.9:
                a = rng.random()
                sig = (1 - a) * sig + a * bank[int(rng.integers(len(bank)))]
            seq.append((i * 2 if trial % 3 == 0 else i, i / fps, sig.astype(np.float32)))
        max_shots = int(rng.choice([2, 1000]))
        det = S.ShotDetector(fps, min_shot=float(rng.choice([0, 0.5, 2])), max_shots=max_shots)
        out = []
        for i, t, sig in seq:
            out += det.push(i, t, sig)
        out += det.finish()
        assert out and out[0].start == 0.0, trial
        for a, b in itertools.pairwise(out):
            assert a.end == b.start and b.start > a.start and b.frame > a.frame, (trial, a, b)
        assert [s.index for s in out] == list(range(len(out)))
        assert out[-1].end >= seq[-1][1], trial
        assert len(out) <= max_shots
