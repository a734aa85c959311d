"""Make the documentation's pictures: the demo spectrum and the GIF of it building live.

    python docs/make_pictures.py                              # headless (SDL dummy driver)
    DISPLAY=:99 python docs/make_pictures.py --real-window    # in a real window (Xvfb)

The GIF frames are the window's own surface, saved from inside the loop. The
screenshots of a real window (``window.png``, ``play-provisional.png``) are made by
``docs/make_window_pictures.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real-window", action="store_true", help="use the real display")
    args = ap.parse_args()
    if not args.real_window:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    import pygame

    import streamspec
    from streamspec.live.app import play

    # = streamspec render --strip-width 3 --axis --chapters auto --segments auto
    spec = streamspec.render(None, strip_width=3, axis=True, chapters="auto", segments=True)
    spec.image.save(HERE / "demo-spectrum.png")
    print("demo-spectrum.png", spec.image.size)

    frames: list[Image.Image] = []
    state = {"tick": 0}

    def tick(window) -> None:
        state["tick"] += 1
        m = window.model
        if state["tick"] % 30 == 0 and len(frames) < 400:  # every half second
            surf = window.screen
            img = Image.frombytes("RGB", surf.get_size(), pygame.image.tobytes(surf, "RGB"))
            frames.append(img.resize((img.width // 3, img.height // 3), Image.LANCZOS))
        if m.playhead > 100:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    play(
        None,
        window_size=(1280, 720),
        output=HERE / ".play.png",
        on_tick=tick,
        announce=lambda s: None,
    )
    for p in HERE.glob(".play*"):
        p.unlink()
    # Every 3rd capture: the GIF shows the first 100 s at about 4x speed.
    gif = frames[::3]
    gif[0].save(
        HERE / "building.gif",
        save_all=True,
        append_images=gif[1:],
        duration=120,
        loop=0,
        optimize=True,
    )
    print("building.gif", len(gif), "frames")


if __name__ == "__main__":
    sys.exit(main())
