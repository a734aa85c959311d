"""The demo film's five seasons: its spectrum read by chapters and by colour segments.

Renders the built-in demo film once, then draws it twice -- with the film's own chapter
brackets (Winter, Spring, Summer, Fall, Winter five years later) and with the segments
streamspec finds by itself -- and puts the two side by side.

    python demos/seasons.py [--out DIR] [--every SECONDS]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

import streamspec


def titled(img: Image.Image, title: str) -> Image.Image:
    font = ImageFont.load_default(size=18)
    out = Image.new("RGB", (img.width, img.height + 30), (16, 16, 18))
    out.paste(img, (0, 30))
    ImageDraw.Draw(out).text((6, 6), title, font=font, fill=(230, 230, 235))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "seasons")
    ap.add_argument("--every", type=float, default=0.5, help="seconds between samples (0.5)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    spec = streamspec.render(None, every=args.every, axis=True, chapters="auto", segments=True)
    segments = spec.segments
    by_chapter = spec.render_image(axis=True, chapters=True)
    by_segment = spec.render_image(axis=True, segments=True)
    spec.save(args.out / "seasons.png")
    by_chapter.save(args.out / "seasons-chapters.png")
    by_segment.save(args.out / "seasons-segments.png")

    left = titled(by_chapter, "the film's chapters")
    right = titled(by_segment, "segments found by streamspec")
    gap = 16
    both = Image.new(
        "RGB", (left.width + gap + right.width, max(left.height, right.height)), (16, 16, 18)
    )
    both.paste(left, (0, 0))
    both.paste(right, (left.width + gap, 0))
    both.save(args.out / "seasons-side-by-side.png")

    print("chapters:", ", ".join(f"{c['title']} @ {c['start']:.0f}s" for c in spec.chapters))
    print("segments:", ", ".join(f"{s['start']:.0f}-{s['end']:.0f}s" for s in segments))
    print(f"wrote {args.out}/")


if __name__ == "__main__":
    main()
