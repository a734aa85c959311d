"""``streamspec play``: wire source, worker, model and window together, and save the
spectrum on every way out -- Q, Esc, closing the window, the end of the film, Ctrl-C,
SIGTERM, an error in the worker, or a bug in the window itself.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import check_format_size, unique_path
from ..rendering import Renderer, check_spectrum_output, default_output
from ..sources import FrameSource
from ..spectrum import Spectrum
from .model import LiveModel
from .pipeline import Pipeline

__all__ = ["PlayResult", "play"]

MAX_ZOOM = 32  # pixels per strip in the window
MAX_WINDOW = 16_384  # SDL's largest window side on most drivers


@dataclass
class PlayResult:
    """How a session ended and what it saved."""

    reason: str  # quit, closed, ended, interrupted, terminated, error
    png: Path | None
    json: Path | None
    strips: int
    error: str | None = None
    model: LiveModel | None = None


class _Terminated(BaseException):
    """SIGTERM arrived."""


def _save(spectrum: Spectrum, path: Path) -> tuple[Path, Path]:
    done = len(spectrum)
    spectrum.partial = spectrum.slots is None or done < spectrum.slots
    return spectrum.save(path)


def play(
    source: str | os.PathLike[str] | FrameSource | None = None,
    *,
    every: float | None = None,
    k: int = 50,
    order: str = "hls",
    mode: str = "sorted",
    start: float = 0.0,
    end: float | None = None,
    crop: str = "auto",
    seed: int = 0,
    layout: str = "below",
    output: str | os.PathLike[str] | None = None,
    exit_at_end: bool = False,
    window_size: tuple[int, int] = (1280, 720),
    pixels_per_strip: int = 3,
    webcam_fps: float | None = None,
    webcam_size: str | None = None,
    on_tick: Callable[[Any], None] | None = None,
    announce: Callable[[str], None] = lambda s: print(s, flush=True),
) -> PlayResult:
    """Play ``source`` in a window with its spectrum building live; save on exit.

    Returns a :class:`PlayResult`. Raises :class:`~streamspec.errors.InputError` (before
    any window opens) for a source or option that cannot be used.
    """
    from ..errors import InputError

    if layout not in ("below", "right"):
        raise InputError(f"--layout must be below or right, got {layout!r}")
    if not 1 <= pixels_per_strip <= MAX_ZOOM:
        raise InputError(f"--zoom must be from 1 to {MAX_ZOOM} px, got {pixels_per_strip}")
    w, h = window_size
    if not (160 <= w <= MAX_WINDOW and 120 <= h <= MAX_WINDOW):
        raise InputError(f"--size must be from 160x120 to {MAX_WINDOW}x{MAX_WINDOW}, got {w}x{h}")
    # Before the source or a window opens: the saved spectrum must not replace the video.
    out = check_spectrum_output(source, output if output is not None else default_output(source))
    renderer = Renderer(
        source,
        every=every,
        k=k,
        order=order,
        mode=mode,
        start=start,
        end=end,
        seek="exact",
        crop=crop,
        seed=seed,
        webcam_fps=webcam_fps,
        webcam_size=webcam_size,
        height=400,
    )
    src = renderer.source
    try:
        if renderer.total is not None:  # a picture the format cannot hold: say so now
            check_format_size((renderer.total, renderer.height), out)
        renderer.prepare()
    except BaseException:
        src.close()
        raise
    spectrum = renderer.spectrum
    spectrum.settings["live"] = True
    info = src.info
    model = LiveModel(
        spectrum,
        duration=renderer.stop if not info.live else None,
        aspect=info.width / info.height,
        layout=layout,
        live=info.live,
        pixels_per_strip=pixels_per_strip,
    )
    pipeline = Pipeline(
        src,
        start=renderer.start,
        every=float(renderer.every),
        end=renderer.stop,
        size=renderer.size,
        k=renderer.k,
        seed=renderer.seed,
        display_size=(640, 360),
    )

    from .view import LiveWindow  # pygame only now, after every input check

    def snapshot() -> str:
        stamp = time.strftime("%H%M%S")
        path = unique_path(out.with_name(f"{out.stem}-snapshot-{stamp}{out.suffix}"))
        if len(spectrum) == 0:
            return "nothing yet (no strips)"
        spectrum.save(path)
        announce(f"snapshot: {path}")
        return str(path)

    window = LiveWindow(
        model,
        pipeline,
        title=info.name,
        size=window_size,
        exit_at_end=exit_at_end,
        on_snapshot=snapshot,
        on_tick=on_tick,
    )

    def on_term(signum: int, frame: object) -> None:
        raise _Terminated()

    in_main = _is_main_thread()
    old_term = signal.signal(signal.SIGTERM, on_term) if in_main else None
    reason = "quit"
    try:
        window.open()
        pipeline.start()
        announce(f"playing {info.name} - press H in the window for keys; saving to {out}")
        reason = window.run()
    except KeyboardInterrupt:
        reason = "interrupted"
    except _Terminated:
        reason = "terminated"
    except Exception:  # a bug in the window must not lose the spectrum: save, re-raise
        reason = "error"
        raise
    finally:
        if in_main:  # saving must not be cut short by a second signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            pipeline.stop()
            _drain_strips(pipeline, model)
            window.close()
            png = js = None
            if len(spectrum):
                png, js = _save(spectrum, out)
                announce(f"saved {png} and {js.name}: {len(spectrum)} strips")
            else:
                announce("no strips were made; nothing saved")
        finally:
            src.close()
            if in_main:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.signal(signal.SIGTERM, old_term or signal.SIG_DFL)
    error = model.error
    if model.error and reason not in ("interrupted", "terminated"):
        reason = "error"
    return PlayResult(reason, png, js, len(spectrum), error, model)


def _drain_strips(pipeline: Pipeline, model: LiveModel) -> None:
    """Strips the worker finished after the window stopped still belong to the session."""
    from .pipeline import StripReady

    while not pipeline.events.empty():
        ev = pipeline.events.get_nowait()
        if isinstance(ev, StripReady):
            model.spectrum.add(ev.strip)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: streamspec play")
