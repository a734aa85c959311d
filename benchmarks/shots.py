"""Shot detection: accuracy against generated films and PySceneDetect, and its cost.

1. Generated films with known edits (tests/shotfilms.py: cuts, 0.5-2 s dissolves, fades
   through black and white, and flashes, fast pans, strobe and a title card inside shots):
   precision, recall and F1 per transition kind for streamspec.analysis.shots and for PySceneDetect
   (ContentDetector and AdaptiveDetector, their defaults), on the same films.
2. The real clips in ../shared/media: cuts of both tools, matched within one frame;
   a contact sheet around every disagreement is saved for a look.
3. Cost per frame of the signature (read from the decoder's planes) and of the detector,
   against decoding the same 1080p H.264 frame, measured in this run.

Run: python benchmarks/shots.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import CACHE, MEDIA, ROOT, table

sys.path.insert(0, str(ROOT / "tests"))

import av
import shotfilms as sf

from streamspec.analysis import shots as S


def planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """The decoder's Y, U, V planes as arrays, copying nothing."""
    return [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size) for p in frame.planes]


def signatures(path: Path) -> tuple[list[tuple[int, float, np.ndarray]], float]:
    out = []
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        fps = float(st.average_rate or 25)
        for i, f in enumerate(c.decode(st)):
            out.append((i, float(f.time), S.signature_from_planes(*planes(f), width=f.width)))
    return out, fps


def ours(path: Path) -> list[tuple[int, float, str]]:
    sigs, fps = signatures(path)
    return [(s.frame, s.start, s.kind) for s in S.detect_shots(sigs, fps)[1:]]


def pyscenedetect(path: Path, which: str) -> list[tuple[int, float, str]]:
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    detector = ContentDetector() if which == "content" else AdaptiveDetector()
    scenes = detect(str(path), detector)
    return [(a.frame_num, a.seconds, "cut") for a, _ in scenes[1:]]


TOOLS = {
    "streamspec": ours,
    "PySceneDetect content": lambda p: pyscenedetect(p, "content"),
    "PySceneDetect adaptive": lambda p: pyscenedetect(p, "adaptive"),
}


def generated(quick: bool, seed: int, title: str) -> None:
    folder = CACHE / f"shotfilms-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    films = sf.standard_films(6 if not quick else 2, fps=25, seed=seed)
    if not quick:
        for f in sf.standard_films(8, fps=24, seed=seed)[6:]:
            f.name += "-24"
            films.append(f)
    paths = []
    for film in films:
        path = folder / f"{film.name}.mp4"
        if path.exists():
            sf.build(film)
        else:
            sf.write(film, path)
        paths.append(path)
    frames = sum(f.frames for f in films)
    print(f"\n## Generated films, {title} (seed {seed}): {len(films)} films, {frames} frames\n")
    rows = []
    for name, tool in TOOLS.items():
        totals = {k: sf.Score(k) for k in ("cut", "dissolve", "fade")}
        false_near: dict[str, int] = {}
        for film, path in zip(films, paths, strict=True):
            scores, false = sf.evaluate(film.truths, tool(path), film.fps)
            for k, s in scores.items():
                t = totals[k]
                for attr in ("truths", "found", "classified", "detections", "false"):
                    setattr(t, attr, getattr(t, attr) + getattr(s, attr))
            for frame, _t, _k in false:
                near = [d[0] for d in film.distractors if d[1] - 2 <= frame <= d[2] + 2]
                key = near[0] if near else "none"
                false_near[key] = false_near.get(key, 0) + 1
        for k, s in totals.items():
            located = s.found
            # Precision: truths of this kind located, over those plus the tool's
            # unmatched detections labelled with this kind.
            label_false = s.false
            total = located + label_false
            precision = located / total if total else 1.0
            recall = s.recall
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            kind_right = f"{s.classified}/{s.truths}" if name == "streamspec" else "-"
            rows.append([name, k, s.truths, located, kind_right, label_false,
                         round(precision, 3), round(recall, 3), round(f1, 3)])
        rows.append([name, "false shots by distractor", "", "", "", "", "", "",
                     ", ".join(f"{k}: {v}" for k, v in sorted(false_near.items())) or "none"])
    print(table(["tool", "kind", "truths", "located", "kind right", "false", "precision",
                 "recall", "F1"], rows))
    print("\nlocated: a cut within 1 frame, a dissolve or fade within half its length of "
          "its middle; PySceneDetect names every boundary a cut, so its false detections "
          "count against cuts.")


def contact_sheet(path: Path, frames: list[int], out: Path) -> None:
    """Thumbnails of ``frames`` in one row (for a look at a disagreement)."""
    from PIL import Image

    wanted = set(frames)
    thumbs = {}
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in wanted:
                thumbs[i] = f.to_image().resize((192, int(192 * f.height / f.width)))
            if i > max(frames):
                break
    if not thumbs:
        return
    h = next(iter(thumbs.values())).height
    sheet = Image.new("RGB", (196 * len(frames), h), "black")
    for k, i in enumerate(frames):
        if i in thumbs:
            sheet.paste(thumbs[i], (196 * k, 0))
    sheet.save(out)


def real_clips() -> None:
    clips = sorted(MEDIA.glob("*.mp4"))
    if not clips:
        print(f"\n(no real clips in {MEDIA}; skipped)")
        return
    print("\n## Real clips: cuts matched within 1 frame\n")
    looks = CACHE / "shots-disagreements"
    looks.mkdir(parents=True, exist_ok=True)
    rows = []
    for clip in clips:
        a = [f for f, _t, _k in ours(clip)]
        for other in ("PySceneDetect content", "PySceneDetect adaptive"):
            b = [f for f, _t, _k in TOOLS[other](clip)]
            only_a = [f for f in a if all(abs(f - g) > 1 for g in b)]
            only_b = [f for f in b if all(abs(f - g) > 1 for g in a)]
            both = len(a) - len(only_a)
            union = both + len(only_a) + len(only_b)
            rows.append([clip.name, other, len(a), len(b), both,
                         round(both / union, 3) if union else 1.0,
                         " ".join(map(str, only_a)) or "-", " ".join(map(str, only_b)) or "-"])
            for f in only_a + only_b:
                out = looks / f"{clip.stem}-{f}.png"
                contact_sheet(clip, [max(f - 2, 0), max(f - 1, 0), f, f + 1], out)
        # Every detected boundary, for a look as well.
        for f in a:
            contact_sheet(clip, [max(f - 1, 0), f], looks / f"{clip.stem}-ours-{f}.png")
    print(table(["clip", "against", "streamspec cuts", "their cuts", "agree",
                 "agreement", "only streamspec", "only theirs"], rows))
    print(f"\ncontact sheets of every boundary and disagreement: {looks}")


def cost(quick: bool) -> None:
    """Signature + detector per frame against decoding a 1080p H.264 frame."""
    path = CACHE / "shots-1080p.mp4"
    if not path.exists():
        src = sorted(MEDIA.glob("*.mp4")) or []
        frames = []
        if src:
            with av.open(str(src[0])) as c:
                frames = [f.reformat(1920, 1080, "yuv420p") for f in c.decode(video=0)]
        else:
            rng = np.random.default_rng(0)
            frames = [av.VideoFrame.from_ndarray(
                rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8), format="rgb24"
            ).reformat(format="yuv420p") for _ in range(50)]
        with av.open(str(path), "w") as out:
            st = out.add_stream("libx264", rate=25)
            st.width, st.height, st.pix_fmt = 1920, 1080, "yuv420p"
            st.options = {"preset": "veryfast", "crf": "20", "bframes": "3"}
            for i, f in enumerate(frames):
                f.pts = i
                for p in st.encode(f):
                    out.mux(p)
            for p in st.encode():
                out.mux(p)
    # Decoding as a render does (threads on) and on one thread; each the best of a few
    # rounds, as the signature's timing is (the machine may be shared).
    def decode(threads: str) -> tuple[float, list[av.VideoFrame]]:
        with av.open(str(path)) as c:
            st = c.streams.video[0]
            st.thread_type = threads
            t = time.perf_counter()
            frames = list(c.decode(st))
            return (time.perf_counter() - t) / len(frames), frames

    rounds = 1 if quick else 3
    decode_t, decoded = min((decode("AUTO") for _ in range(rounds)), key=lambda r: r[0])
    decode_1 = min(decode("NONE")[0] for _ in range(rounds))
    S.signature_from_planes(*planes(decoded[0]), width=decoded[0].width)  # compile
    repeat = rounds
    best_sig = best_det = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        sigs = [S.signature_from_planes(*planes(f), width=f.width) for f in decoded]
        best_sig = min(best_sig, (time.perf_counter() - t) / len(decoded))
        det = S.ShotDetector(25)
        t = time.perf_counter()
        for i, s in enumerate(sigs):
            det.push(i, i / 25, s)
        det.finish()
        best_det = min(best_det, (time.perf_counter() - t) / len(decoded))
    t = time.perf_counter()
    for f in decoded[:20]:
        f.to_ndarray()
    to_nd = (time.perf_counter() - t) / 20
    print(f"\n## Cost per 1080p frame ({len(decoded)} frames)\n")
    rows = [
        ["decode, threads on (as render)", round(decode_t * 1e3, 3), 1.0],
        ["decode, one thread", round(decode_1 * 1e3, 3), round(decode_1 / decode_t, 3)],
        ["signature from the planes", round(best_sig * 1e3, 4), round(best_sig / decode_t, 4)],
        ["detector push", round(best_det * 1e3, 4), round(best_det / decode_t, 4)],
        ["(for scale: frame.to_ndarray(), not used)", round(to_nd * 1e3, 3),
         round(to_nd / decode_t, 3)],
    ]
    print(table(["step", "ms per frame", "ratio to threaded decode"], rows))
    total = (best_sig + best_det) / decode_t
    print(f"\n{'PASS' if total <= 0.05 else 'FAIL'}  shot detection / decoding: "
          f"{total:.3f} (target <= 0.05); against one-thread decoding: "
          f"{(best_sig + best_det) / decode_1:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="two films, one timing round")
    args = ap.parse_args()
    # The tests' films (the detector was developed on them); a second set, looked at
    # once (it showed two dissolves around a fast pan merged, since fixed); a third
    # the detector was never tuned on.
    generated(args.quick, 1000, "the tests' set")
    generated(args.quick, 7000, "second set")
    generated(args.quick, 3000, "held out")
    real_clips()
    cost(args.quick)


if __name__ == "__main__":
    main()
