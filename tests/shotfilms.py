"""Generated films with known edits, for shot detection: the generator is the ground truth.

Each film is a list of shots (a moving smooth-noise texture or gradient in a palette of
its own, or a title card whose text changes) joined by hard cuts, dissolves and fades to
and from black or white, with distractors inside shots that must not make new shots:
flashes (1-3 bright frames), fast pans, strobe light, and the title card's changing
text. Films are encoded as H.264 by PyAV (``tests/videos.make_video``).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from videos import make_video

SIZE = (320, 180)


@dataclass
class ShotSpec:
    """One shot of a generated film."""

    frames: int
    style: str = "noise"  # noise | gradient | title
    seed: int = 0
    hue: float = 0.0  # 0-1
    pan: float = 1.0  # px per frame
    flashes: list[tuple[int, int]] = field(default_factory=list)  # (first frame, length)
    strobe: bool = False
    strobe_span: tuple[int, int] = (0, 1 << 30)  # frames of the shot the strobe lights


@dataclass
class Join:
    """How a shot follows the previous one: ``cut``, ``dissolve`` (``length`` frames of
    blend) or ``fade`` through ``via`` (black/white): ``out`` frames down, ``hold`` flat
    frames, ``in_`` frames up (either side may be 0: a cut to or from the flat colour)."""

    kind: str
    length: int = 0
    via: str = "black"
    out: int = 0
    hold: int = 0
    in_: int = 0


@dataclass
class Truth:
    """A true transition: its kind, first and last frame involved, and span in seconds
    (a cut's span is its first new frame, length 0)."""

    kind: str
    first: int
    last: int
    start: float
    end: float
    via: str | None = None

    @property
    def centre(self) -> float:
        """The middle of the transition (s)."""
        return (self.start + self.end) / 2

    @property
    def length(self) -> float:
        """The transition's length (s)."""
        return self.end - self.start


@dataclass
class Film:
    """A generated film: its shots and joins, and what the generator knows about it."""

    name: str
    shots: list[ShotSpec]
    joins: list[Join]  # joins[i] opens shots[i + 1]
    fps: int = 25
    size: tuple[int, int] = SIZE
    truths: list[Truth] = field(default_factory=list)
    distractors: list[tuple[str, int, int]] = field(default_factory=list)  # kind, first, last
    frames: int = 0


def _palette(hue: float, rng: np.random.Generator) -> np.ndarray:
    """Three colours around ``hue``: dark, mid, light, saturated differently."""
    out = []
    for light, spread in ((0.18, -0.06), (0.45, 0.0), (0.75, 0.06)):
        s = rng.uniform(0.45, 0.95)
        r, g, b = colorsys.hls_to_rgb((hue + spread) % 1.0, light + rng.uniform(-0.05, 0.05), s)
        out.append((r * 255, g * 255, b * 255))
    return np.array(out, np.float32)


class _Painter:
    """Paints frame ``k`` of one shot (RGB float32, 0-255)."""

    def __init__(self, spec: ShotSpec, size: tuple[int, int]) -> None:
        self.spec = spec
        self.w, self.h = size
        rng = np.random.default_rng(spec.seed)
        self.rng = rng
        self.pal = _palette(spec.hue, rng)
        cw, ch = self.w * 3, self.h * 3
        small = rng.random((ch // 24 + 2, cw // 24 + 2)).astype(np.float32)
        img = Image.fromarray((small * 255).astype(np.uint8)).resize((cw, ch), Image.BICUBIC)
        field_ = np.asarray(img, np.float32) / 255.0
        fine = rng.random((ch, cw)).astype(np.float32)
        self.canvas = np.clip(0.85 * field_ + 0.15 * fine, 0, 1)
        self.angle = rng.uniform(0, 2 * np.pi)
        self.font = ImageFont.load_default(size=22)

    def _map(self, s: np.ndarray) -> np.ndarray:
        """Scalar field 0-1 -> colours along the palette's dark-mid-light ramp."""
        s = s[..., None]
        a, b, c = self.pal
        lo = a + (b - a) * np.clip(s * 2, 0, 1)
        return np.where(s < 0.5, lo, b + (c - b) * np.clip(s * 2 - 1, 0, 1))

    def frame(self, k: int) -> np.ndarray:
        spec = self.spec
        if spec.style == "title":
            img = Image.new("RGB", (self.w, self.h), tuple(int(v) for v in self.pal[0]))
            draw = ImageDraw.Draw(img)
            words = ["STREAMSPEC", "A FILM", "IN COLOUR", "THE END", "PART TWO", "CREDITS"]
            text = words[(k // 12 + spec.seed) % len(words)]
            draw.text((self.w // 6, self.h // 2 - 12), text, fill=(235, 235, 225), font=self.font)
            out = np.asarray(img, np.float32).copy()
        else:
            span_x = self.canvas.shape[1] - self.w
            span_y = self.canvas.shape[0] - self.h
            d = spec.pan * k
            x = int(abs((d * np.cos(self.angle) + span_x / 2) % (2 * span_x) - span_x))
            y = int(abs((d * np.sin(self.angle) + span_y / 2) % (2 * span_y) - span_y))
            s = self.canvas[y : y + self.h, x : x + self.w]
            if spec.style == "gradient":
                yy, xx = np.mgrid[0 : self.h, 0 : self.w].astype(np.float32)
                t = k / 25.0
                g = (xx * np.cos(self.angle + t * 0.3) + yy * np.sin(self.angle + t * 0.3))
                g = (g - g.min()) / max(float(np.ptp(g)), 1.0)
                s = 0.7 * g + 0.3 * s
            out = self._map(s)
        grain = self.rng.normal(0, 3.0, out.shape[:2]).astype(np.float32)[..., None]
        out = out + grain
        for first, length in spec.flashes:
            if first <= k < first + length:
                out = out * 0.25 + 230.0
        lo, hi = spec.strobe_span
        if spec.strobe and lo <= k < hi and (k // 2) % 2 == 1:
            out = out * 1.9 + 40.0
        return out


def build(film: Film) -> Film:
    """Fill in ``film.truths``, ``film.distractors`` and ``film.frames`` (no encoding)."""
    _plan(film)
    return film


def _plan(film: Film) -> list[tuple[str, tuple]]:
    """The film's frames as a plan: ("shot", (i, k)), ("blend", (i, k, j, m, alpha)),
    ("flat", (colour, alpha, i, k)) entries; records the truths as it goes."""
    plan: list[tuple[str, tuple]] = []
    film.truths, film.distractors = [], []
    fps = film.fps
    for i, spec in enumerate(film.shots):
        k0 = 0
        if i > 0:
            join = film.joins[i - 1]
            prev = film.shots[i - 1]
            start = len(plan)
            if join.kind == "cut":
                film.truths.append(Truth("cut", start, start, start / fps, start / fps))
            elif join.kind == "dissolve":
                # The blend runs over the previous shot's last frames and this one's first.
                n = join.length
                first = start - n // 2
                del plan[first:]
                for m in range(n):
                    a = (m + 1) / (n + 1)
                    pk = prev.frames - n // 2 + m
                    plan.append(("blend", (i - 1, pk, i, m - n // 2, a)))
                k0 = n - n // 2
                film.truths.append(
                    Truth("dissolve", first, first + n - 1, first / fps, (first + n) / fps)
                )
            else:  # fade
                first = start - join.out
                del plan[first:]
                for m in range(join.out):
                    plan.append(("flat", (join.via, (m + 1) / (join.out + 1), i - 1,
                                          prev.frames - join.out + m)))
                for _ in range(join.hold):
                    plan.append(("flat", (join.via, 1.0, i, 0)))
                for m in range(join.in_):
                    plan.append(("flat", (join.via, 1 - (m + 1) / (join.in_ + 1), i, m)))
                k0 = join.in_
                last = len(plan) - 1
                film.truths.append(
                    Truth("fade", first, last, first / fps, (last + 1) / fps, join.via)
                )
        here = len(plan) - k0
        for k in range(k0, spec.frames):
            plan.append(("shot", (i, k)))
        for first, length in spec.flashes:
            film.distractors.append(("flash", here + first, here + first + length - 1))
        if spec.strobe:
            lo, hi = spec.strobe_span
            film.distractors.append(("strobe", here + lo, here + min(hi, spec.frames) - 1))
        if spec.pan >= 8:
            film.distractors.append(("pan", here, here + spec.frames - 1))
        if spec.style == "title":
            film.distractors.append(("title", here, here + spec.frames - 1))
    film.frames = len(plan)
    return plan


def write(film: Film, path: Path) -> Path:
    """Encode ``film`` to ``path`` (H.264, yuv420p) and fill in its truths."""
    plan = _plan(film)
    painters = [_Painter(s, film.size) for s in film.shots]
    flat = {"black": 0.0, "white": 255.0}

    def paint(n: int, t: float) -> np.ndarray:
        what, args = plan[n]
        if what == "shot":
            i, k = args
            out = painters[i].frame(k)
        elif what == "blend":
            i, k, j, m, a = args
            out = (1 - a) * painters[i].frame(k) + a * painters[j].frame(m)
        else:
            colour, a, i, k = args
            out = (1 - a) * painters[i].frame(k) + a * flat[colour]
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)

    make_video(path, paint, seconds=film.frames / film.fps, fps=film.fps, size=film.size,
               options={"crf": "18"})
    return path


def _part(join: Join, *, incoming: bool) -> int:
    """Frames of a shot that a join takes (its blend or fade side)."""
    if join.kind == "dissolve":
        return join.length - join.length // 2 if incoming else join.length // 2
    if join.kind == "fade":
        return join.in_ if incoming else join.out
    return 0


def standard_films(count: int = 6, fps: int = 25, seed: int = 1000) -> list[Film]:
    """The generated test set: ``count`` films of 10-14 shots each (seeded), every kind of
    join and distractor in each."""
    films = []
    for n in range(count):
        rng = np.random.default_rng(seed + n)
        nshots = int(rng.integers(10, 15))
        hue = rng.random()
        shots: list[ShotSpec] = []
        joins: list[Join] = []
        for i in range(nshots):
            hue = (hue + rng.uniform(0.2, 0.8)) % 1.0
            frames = int(rng.integers(round(1.0 * fps), round(2.4 * fps)))
            spec = ShotSpec(frames, style=str(rng.choice(["noise", "noise", "gradient"])),
                            seed=int(rng.integers(1 << 30)), hue=hue,
                            pan=float(rng.uniform(0.5, 3)))
            role = i % 5
            if role == 1:
                spec.flashes = [(frames // 2, int(rng.integers(1, 4)))]
            elif role == 2:
                spec.pan = float(rng.uniform(10, 20))  # a fast pan
            elif role == 3 and n % 2 == 0:
                spec.strobe = True
                spec.frames = max(frames, round(1.6 * fps))
            elif role == 3:
                spec.style = "title"
                spec.frames = max(frames, round(2.0 * fps))
            shots.append(spec)
            if i > 0:
                r = rng.random()
                if r < 0.55:
                    joins.append(Join("cut"))
                elif r < 0.8:
                    length = int(rng.integers(round(0.5 * fps), round(2.0 * fps) + 1))
                    joins.append(Join("dissolve", length=length))
                    # Long enough shots on both sides of the blend.
                    shots[-2].frames = max(shots[-2].frames, length // 2 + fps // 2 + 2)
                    spec.frames = max(spec.frames, length - length // 2 + fps // 2 + 2)
                else:
                    via = "black" if rng.random() < 0.6 else "white"
                    out = int(rng.integers(round(0.4 * fps), round(1.0 * fps)))
                    hold = int(rng.integers(0, round(0.5 * fps)))
                    in_ = int(rng.integers(round(0.4 * fps), round(1.0 * fps)))
                    joins.append(Join("fade", via=via, out=out, hold=hold, in_=in_))
                    shots[-2].frames = max(shots[-2].frames, out + fps // 2 + 2)
                    spec.frames = max(spec.frames, in_ + fps // 2 + 2)
        # Every shot keeps at least half a second clear of the joins on both sides.
        for i, spec in enumerate(shots):
            before = _part(joins[i - 1], incoming=True) if i > 0 else 0
            after = _part(joins[i], incoming=False) if i < len(joins) else 0
            spec.frames = max(spec.frames, before + after + fps // 2 + 2)
            # Strobe lights the shot between its joins (not the blends).
            spec.strobe_span = (before + 2, spec.frames - after - 2)
            # The flash sits in the middle of the shot, clear of the joins.
            middle = (before + spec.frames - after) // 2
            spec.flashes = [(middle, ln) for _, ln in spec.flashes]
        films.append(Film(f"film{n}", shots, joins, fps=fps))
    return films


@dataclass
class Score:
    """Matches of detections against the truths of one transition kind."""

    kind: str
    truths: int = 0
    found: int = 0  # truths located (a detection of any kind in tolerance)
    classified: int = 0  # ... and of the right kind
    detections: int = 0  # detections of this kind
    false: int = 0  # detections of this kind matching no truth

    @property
    def recall(self) -> float:
        return self.found / self.truths if self.truths else 1.0

    @property
    def precision(self) -> float:
        return (self.detections - self.false) / self.detections if self.detections else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(
    truths: list[Truth], found: list[tuple[int, float, str]], fps: float
) -> tuple[dict[str, Score], list[tuple[int, float, str]]]:
    """Match detected boundaries ``(frame, time, kind)`` (not the film's start) to truths.

    A cut is found by a detection within one frame of its first new frame; a gradual
    transition by one whose time is within half its length of its middle (at least one
    frame). Each detection matches at most one truth (nearest first). Returns the
    scores per truth kind and the detections that matched nothing.
    """
    scores = {k: Score(k) for k in ("cut", "dissolve", "fade")}
    used: set[int] = set()
    pairs = []
    for ti, tr in enumerate(truths):
        for di, (frame, time, _kind) in enumerate(found):
            if tr.kind == "cut":
                gap = abs(frame - tr.first)
                ok = gap <= 1
                cost = gap / fps
            else:
                cost = abs(time - tr.centre)
                ok = cost <= max(tr.length / 2, 1.0 / fps)
            if ok:
                pairs.append((cost, ti, di))
    matched_t: dict[int, int] = {}
    for _cost, ti, di in sorted(pairs):
        if ti in matched_t or di in used:
            continue
        matched_t[ti] = di
        used.add(di)
    for ti, tr in enumerate(truths):
        s = scores[tr.kind]
        s.truths += 1
        if ti in matched_t:
            s.found += 1
            if found[matched_t[ti]][2] == tr.kind:
                s.classified += 1
    false = [d for di, d in enumerate(found) if di not in used]
    for _frame, _time, kind in found:
        if kind in scores:
            scores[kind].detections += 1
    for _frame, _time, kind in false:
        if kind in scores:
            scores[kind].false += 1
    return scores, false
