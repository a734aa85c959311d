"""Make the documentation's screenshots of ``streamspec play`` in a real window.

    python docs/make_window_pictures.py

Starts a private X server (Xvfb, 1280x720, as large as the window), plays in it, points
at the spectrum with xdotool (real pointer events, as a user's) and grabs the screen
through X (Pillow's ImageGrab):

- ``window.png``: the demo film 1:40 in, with its chapters and colour segments, the
  pointer over "Spring";
- ``play-provisional.png``: a one-minute film (``bikes.mp4`` from ../shared/media,
  looped six times) once it is six seconds in and every slot holds a strip: exact
  strips left of the playhead, the keyframes pass's provisional ones in the rest; the
  pointer at 0:40.

Needs Xvfb and xdotool (``apt-get install xvfb xdotool``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # this checkout

HERE = Path(__file__).resolve().parent
CLIP = HERE.parent.parent / "shared" / "media" / "bikes.mp4"
SIZE = (1280, 720)


def start_x() -> tuple[subprocess.Popen[bytes], str]:
    """A private X server on the first free display number."""
    for number in range(90, 120):
        if not Path(f"/tmp/.X{number}-lock").exists():
            display = f":{number}"
            server = subprocess.Popen(
                ["Xvfb", display, "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(100):
                if Path(f"/tmp/.X11-unix/X{number}").exists():
                    return server, display
                time.sleep(0.05)
            server.kill()
    sys.exit("no free X display number")


def shoot(
    source: Any,
    out: Path,
    ready: Callable[[Any], bool],
    point_at: float,
    display: str,
    **options: Any,
) -> None:
    """Play ``source``; when ``ready(window)``, move the pointer to ``point_at`` seconds
    on the spectrum, let the window draw the tooltip, grab the screen and quit."""
    import pygame
    from PIL import ImageGrab

    from streamspec.live.app import play

    state: dict[str, Any] = {"pointed": None}

    def tick(window: Any) -> None:
        m = window.model
        if state["pointed"] is None and ready(window):
            x = int(m.x_of_time(point_at))
            y = m.layout.panel.y + m.layout.panel.h // 2
            subprocess.run(["xdotool", "mousemove", str(x), str(y)], env=os.environ, check=True)
            state["pointed"] = time.monotonic()
        elif state["pointed"] is not None and time.monotonic() - state["pointed"] > 1.0:
            ImageGrab.grab(xdisplay=display).convert("RGB").save(out)
            print(out.name, SIZE)
            pygame.event.post(pygame.event.Event(pygame.QUIT))
            state["pointed"] = float("inf")

    with tempfile.TemporaryDirectory() as tmp:
        play(
            source,
            window_size=SIZE,
            output=Path(tmp) / "spectrum.png",
            on_tick=tick,
            announce=lambda s: None,
            **options,
        )


def looped_clip(folder: str) -> Path:
    """``bikes.mp4`` six times over: a one-minute film (packets copied, not re-encoded)."""
    film = Path(folder) / "bikes-1min.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-stream_loop", "5", "-i", str(CLIP), "-c", "copy", "-an",
         str(film)],
        check=True,
    )
    return film


def main() -> None:
    for tool in ("Xvfb", "xdotool", "ffmpeg"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (apt-get install xvfb xdotool ffmpeg)")
    if not CLIP.is_file():
        sys.exit(f"{CLIP} is needed for play-provisional.png")
    server, display = start_x()
    os.environ["DISPLAY"] = display
    os.environ["SDL_VIDEODRIVER"] = "x11"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        shoot(
            None,
            HERE / "window.png",
            lambda w: w.model.playhead >= 100,
            50.0,
            display,
            chapters="auto",
            segments=True,
        )
        with tempfile.TemporaryDirectory() as tmp:
            film = looped_clip(tmp)

            def filled(w: Any) -> bool:
                m = w.model
                return m.playhead >= 6 and m.slots is not None and len(m.visible) >= m.slots

            shoot(film, HERE / "play-provisional.png", filled, 40.0, display, every=2.0)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
