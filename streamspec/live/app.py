"""``streamspec play``: wire source, worker, model and window together, and save the
spectrum on every way out -- Q, Esc, closing the window, the end of the film, Ctrl-C,
SIGTERM, an error in the worker, or a bug in the window itself.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import check_format_size, unique_path
from .._signals import (
    Terminated,
    interrupts_as_keyboard,
    mark_partial,
    save_safely,
    signals_held,
)
from ..kmeans import warm_up
from ..options import RenderOptions, ViewOptions
from ..rendering import Renderer, check_spectrum_output, default_output
from ..sources import FrameSource, open_source
from .fill import FILL_THREADS, Filler
from .model import LiveModel
from .pipeline import Pipeline

__all__ = ["PlayResult", "play"]


@dataclass
class PlayResult:
    """How a session ended and what it saved."""

    reason: str  # quit, closed, ended, interrupted, terminated, error
    png: Path | None
    json: Path | None
    strips: int
    error: str | None = None
    model: LiveModel | None = None
    filler: Filler | None = None  # the background pass, when there was one


# Every frame is shown, so play always decodes every frame.
PLAY_SEEK = "exact"
_VIEW_ALIASES = {"window_size": "size", "pixels_per_strip": "zoom"}


def play(
    source: str | os.PathLike[str] | FrameSource | None = None,
    options: RenderOptions | None = None,
    view: ViewOptions | None = None,
    *,
    output: str | os.PathLike[str] | None = None,
    on_tick: Callable[[Any], None] | None = None,
    announce: Callable[[str], None] = lambda s: print(s, flush=True),
    **overrides: Any,
) -> PlayResult:
    """Play ``source`` in a window with its spectrum building live; save on exit.

    ``options`` are ``render``'s (the decoding mode is always exact here), ``view`` the
    window's; keywords override single options of either (``every=0.5, layout="right",
    size=(640, 480), ...``). Returns a :class:`PlayResult`. Raises
    :class:`~streamspec.errors.InputError` (before any window opens) for a source or
    option that cannot be used.
    """
    for old, new in _VIEW_ALIASES.items():  # the 0.1 keyword names
        if old in overrides:
            overrides[new] = overrides.pop(old)
    view_names = ViewOptions.names()
    view = (view or ViewOptions()).replace(
        **{k: v for k, v in overrides.items() if k in view_names}
    )
    render_over = {k: v for k, v in overrides.items() if k not in view_names}
    options = (options or RenderOptions()).override(**render_over, seek=PLAY_SEEK)
    # Before the source or a window opens: the saved spectrum must not replace the video.
    out = check_spectrum_output(source, output if output is not None else default_output(source))
    renderer = Renderer(source, options)
    src = renderer.source
    try:
        if renderer.total is not None:  # a picture the format cannot hold: say so now
            check_format_size((renderer.total, renderer.height), out)
        sampler = renderer.sampler()
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
        layout=view.layout,
        live=info.live,
        pixels_per_strip=view.zoom,
    )
    pipeline = Pipeline(sampler, renderer.strip_maker(), display_size=(640, 360))
    filler = None
    # The whole film early: a file or URL, opened again (so not a FrameSource object; the
    # demo film draws every frame it is asked for, so a first pass would cost as much).
    reopenable = info.kind in ("file", "url") and not isinstance(source, FrameSource)
    if not info.live and reopenable and (view.preview or view.fill):
        source_options = options.source

        def reopen(mode: str) -> FrameSource:
            # Few decoder threads: the background pass must not crowd playback's.
            threads = FILL_THREADS[mode]
            return open_source(source, source_options.replace(seek=mode), threads=threads)

        filler = Filler(
            reopen,
            pipeline,
            grid=sampler.grid,
            end=sampler.end,
            size=sampler.size,
            crop=src.crop,
            maker=pipeline.maker,
            playhead=lambda: model.playhead,
            keyframes=view.preview,
            exact=view.fill,
        )

    if filler is not None:
        filler.start()  # now: its first pass runs while the window opens
    try:
        from .view import LiveWindow  # pygame only now, after every input check

        # Load the quantizer's kernels before playback: at the first sample they would
        # stall the picture for ~0.9 s (Numba's set-up holds the GIL).
        warm_up(background=False)
    except BaseException:
        if filler is not None:
            filler.stop()
        src.close()
        raise

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
        size=view.size,
        exit_at_end=view.exit_at_end,
        on_snapshot=snapshot,
        on_tick=on_tick,
    )

    reason = "quit"
    png = js = None
    try:
        with interrupts_as_keyboard():
            window.open()
            pipeline.start()
            announce(f"playing {info.name} - press H in the window for keys; saving to {out}")
            reason = window.run()
    except Terminated:
        reason = "terminated"
    except KeyboardInterrupt:
        reason = "interrupted"
    except Exception:  # a bug in the window must not lose the spectrum: save, re-raise
        reason = "error"
        raise
    finally:
        with signals_held():  # saving must not be cut short by a second signal
            try:
                if filler is not None:
                    filler.stop()
                pipeline.stop()
                _drain_strips(pipeline, model)
                window.close()
                if filler is not None and filler.error:
                    announce(f"the background pass stopped: {filler.error}")
                if len(spectrum):
                    # Slots missing, or holding provisional strips (saved as such): the
                    # exact spectrum is not complete.
                    if not spectrum.complete:
                        mark_partial(spectrum)
                    png, js = save_safely(spectrum, out)
                    left = len(spectrum.provisional_slots)
                    more = f" ({left} provisional)" if left else ""
                    announce(f"saved {png} and {js.name}: {len(spectrum)} strips{more}")
                else:
                    announce("no strips were made; nothing saved")
            finally:
                src.close()
    error = model.error
    if model.error and reason not in ("interrupted", "terminated"):
        reason = "error"
    return PlayResult(reason, png, js, len(spectrum), error, model, filler)


def _drain_strips(pipeline: Pipeline, model: LiveModel) -> None:
    """Strips the worker finished after the window stopped still belong to the session."""
    from .pipeline import StripReady

    while not pipeline.events.empty():
        ev = pipeline.events.get_nowait()
        if isinstance(ev, StripReady):
            model.spectrum.add(ev.strip)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: streamspec play")
