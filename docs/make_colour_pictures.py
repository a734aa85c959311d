"""Make the documentation's order comparison: the demo film in ``--order hls`` and ``oklch``.

    python docs/make_colour_pictures.py

One render, drawn twice (restyle), stacked with a 4-pixel gap: hls on top.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

import streamspec

HERE = Path(__file__).resolve().parent


def main() -> None:
    spec = streamspec.render(None, height=160)
    hls = spec.restyle(order="hls").image
    oklch = spec.restyle(order="oklch").image
    out = Image.new("RGB", (hls.width, hls.height + oklch.height + 4), (255, 255, 255))
    out.paste(hls, (0, 0))
    out.paste(oklch, (0, hls.height + 4))
    out.save(HERE / "orders.png")
    print("orders.png", out.size)


if __name__ == "__main__":
    main()
