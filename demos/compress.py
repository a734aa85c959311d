"""Colour quantization as compression: a photo at K = 5, 10, 40 colours, and the whole
trade-off between file size and error from K = 2 to 256.

By default the photo is scikit-learn's bundled ``china.jpg`` (install the benchmark
extra: ``pip install -e '.[bench]'``); nothing is downloaded. Or give your own.

    python demos/compress.py [PHOTO] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from streamspec.outputs.quantize import load_rgb, png_size, quantize_array, quantized_image

SHOWN = (5, 10, 40)
SWEEP = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def photo(path: Path | None, out: Path) -> tuple[np.ndarray, str]:
    if path is not None:
        rgb, _ = load_rgb(path)
        return rgb, path.name
    try:
        from sklearn.datasets import load_sample_image
    except ImportError:
        raise SystemExit(
            "no photo given and scikit-learn is not installed; "
            "pass a path, or pip install -e '.[bench]'"
        ) from None
    return np.ascontiguousarray(load_sample_image("china.jpg")), "china.jpg (scikit-learn)"


def plot(rows: list[dict], path: Path) -> None:
    """PSNR against PNG size, one point per K, drawn with Pillow."""
    W, H, m = 760, 460, 70
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=14)
    xs = [math.log10(r["bytes"]) for r in rows]
    ys = [r["psnr"] for r in rows]
    x0, x1 = min(xs) - 0.05, max(xs) + 0.05
    y0, y1 = math.floor(min(ys) - 1), math.ceil(max(ys) + 1)

    def pt(x: float, y: float) -> tuple[float, float]:
        return m + (x - x0) / (x1 - x0) * (W - 1.5 * m), H - m - (y - y0) / (y1 - y0) * (
            H - 1.6 * m
        )

    d.line([pt(x0, y0), pt(x1, y0)], fill="black")
    d.line([pt(x0, y0), pt(x0, y1)], fill="black")
    for e in range(math.ceil(x0 * 4), math.floor(x1 * 4) + 1):
        x = e / 4
        px, py = pt(x, y0)
        d.line([(px, py), (px, py + 5)], fill="black")
        d.text((px - 18, py + 8), f"{10**x / 1000:.0f} kB", font=font, fill="black")
    for y in range(int(y0), int(y1) + 1, 2):
        px, py = pt(x0, y)
        d.line([(px - 5, py), (px, py)], fill="black")
        d.text((px - 40, py - 7), f"{y} dB", font=font, fill="black")
    pts = [pt(x, y) for x, y in zip(xs, ys, strict=True)]
    d.line(pts, fill=(60, 90, 200), width=2)
    for (px, py), r in zip(pts, rows, strict=True):
        d.ellipse([px - 4, py - 4, px + 4, py + 4], fill=(200, 60, 60))
        d.text((px + 6, py - 18), f"K={r['k']}", font=font, fill=(90, 90, 90))
    d.text((m, 15), "PNG size vs PSNR, K = 2..256 colours", font=font, fill="black")
    img.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("photo", nargs="?", type=Path)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "compress")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rgb, name = photo(args.photo, args.out)
    original = png_size(Image.fromarray(rgb))
    print(f"{name}: {rgb.shape[1]}x{rgb.shape[0]}, {original} bytes as a PNG\n")

    rows = []
    shown = []
    for k in sorted(set(SWEEP) | set(SHOWN)):
        palette, labels, mse = quantize_array(rgb, k, random_state=0)
        img = quantized_image(palette, labels)
        size = png_size(img)
        psnr = 10 * math.log10(255**2 / mse) if mse > 0 else float("inf")
        rows.append({"k": k, "bytes": size, "ratio": original / size, "mse": mse, "psnr": psnr})
        if k in SHOWN:
            img.save(args.out / f"k{k}.png")
            shown.append(img.convert("RGB"))
    print("| K | PNG bytes | vs original | MSE | PSNR dB |\n|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['k']} | {r['bytes']} | {r['ratio']:.1f}x smaller | {r['mse']:.1f} | "
            f"{r['psnr']:.2f} |"
        )
    with open(args.out / "sizes.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    strip = Image.new("RGB", (rgb.shape[1] * 4, rgb.shape[0]))
    for i, im in enumerate([Image.fromarray(rgb), *shown]):
        strip.paste(im, (i * rgb.shape[1], 0))
    strip.save(args.out / "original-k5-k10-k40.png")
    plot([r for r in rows if r["k"] in SWEEP], args.out / "size-vs-error.png")
    print(f"\nwrote {args.out}/")


if __name__ == "__main__":
    main()
