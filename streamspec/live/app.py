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

from streamspec.analysis.kmeans import warm_up
from streamspec.analysis.segments import segment_spectrum
from streamspec.core._io import check_format_size, unique_path
from streamspec.core.errors import InputError
from streamspec.core.options import RenderOptions, ViewOptions
from streamspec.live.checkpoint import Checkpointer, Saver, find_checkpoint, set_aside, snapshot_of
from streamspec.live.fill import FILL_THREADS, Filler
from streamspec.live.model import LiveModel
from streamspec.live.pipeline import Pipeline
from streamspec.live.segmenter import SegmentsWorker
from streamspec.media import FrameSource, open_source
from streamspec.pipeline import _signals
from streamspec.pipeline._signals import mark_partial, save_safely
from streamspec.pipeline.rendering import Renderer, check_spectrum_output, default_output

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
    note: Callable[[str], object] | None = lambda s: print(s, file=sys.stderr, flush=True),
    **overrides: Any,
) -> PlayResult:
    """Play ``source`` in a window with its spectrum building live; save on exit.

    ``options`` are ``render``'s (the decoding mode is always exact here), ``view`` the
    window's; keywords override single options of either (``every=0.5, layout="right",
    size=(640, 480), ...``). ``announce`` gets the session's messages, ``note`` what
    the default sampling chose (None: nothing). Returns a :class:`PlayResult`. Raises
    :class:`~streamspec.core.errors.InputError` (before any window opens) for a source or
    option that cannot be used, or where there is no display to show the window on.
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
    out = check_spectrum_output(
        source,
        output if output is not None else default_output(source),
        chapters=options.look.chapters,
    )
    record = _check_record(view.record, source, out)
    check_display()  # before the film opens: a window nobody sees is no use
    out = Path(os.path.abspath(out))  # printed paths are absolute
    renderer = Renderer(source, options)
    src = renderer.source
    try:
        if renderer.total is not None:  # a picture the format cannot hold: say so now
            check_format_size((renderer.total, renderer.height), out)
        sampler = renderer.sampler()
        track = _sound_track(src, view)  # a missing --audio-track: an error now
        if renderer.sampling_note and note is not None:
            note(renderer.sampling_note)  # what the default sampling chose
    except BaseException:
        src.close()
        raise
    spectrum = renderer.spectrum
    spectrum.settings["live"] = True
    info = src.info
    segmenter = SegmentsWorker()  # the colour segments, found off the window's thread
    model = LiveModel(
        spectrum,
        duration=renderer.stop if not info.live else None,
        aspect=info.width / info.height,
        layout=view.layout,
        live=info.live,
        pixels_per_strip=view.zoom,
        fps=info.fps,
        segments_runner=segmenter,
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
        from streamspec.live.view import (  # pygame only now, after input checks
            LiveWindow,
            on_display_lost,
        )

        # Load the quantizer's kernels before playback: at the first sample they would
        # stall the picture for ~0.9 s (Numba's set-up holds the GIL).
        if not _signals.requested():  # (a stop asked already: no window, no wait)
            warm_up(background=False)

        found = find_checkpoint(out)
        if found is not None:  # never overwrite what a crashed session saved
            kept = set_aside(out)
            announce(
                f"found a checkpoint from an interrupted session at {out} ({found} strips); "
                f"kept it as {kept}"
            )
    except BaseException:  # e.g. a checkpoint that cannot be set aside: stop cleanly
        if filler is not None:
            filler.stop()
        src.close()
        raise

    saver = Saver()  # snapshots and checkpoints are saved off the window's thread
    checkpointer = Checkpointer(spectrum, out, view.checkpoint, saver)

    def snapshot() -> str:
        stamp = time.strftime("%H%M%S")
        path = unique_path(out.with_name(f"{out.stem}-snapshot-{stamp}{out.suffix}"))
        if len(spectrum) == 0:
            return "nothing yet (no strips)"

        def done(png: Path | None, err: str | None) -> None:
            window.notify(f"saved {png}" if png else f"snapshot failed: {err}")
            announce(f"snapshot: {png}" if png else f"snapshot failed: {err}")

        saver.submit(snapshot_of(spectrum), path, done)
        return f"saving {path.name} ..."

    def tick(w: Any) -> None:
        checkpointer.poll()
        if on_tick is not None:
            on_tick(w)

    recorder: Any = None  # play --record's, made once the window and the sound are open
    window = LiveWindow(
        model,
        pipeline,
        title=Path(info.name).name if info.kind == "file" else info.name,
        size=view.size,
        exit_at_end=view.exit_at_end,
        on_snapshot=snapshot,
        on_tick=tick,
    )

    reason = "quit"
    png = js = None
    finished = False

    def finish(*, close_window: bool = True) -> None:
        """Stop the worker and save (once), whichever way the session ends."""
        nonlocal png, js, finished
        if finished:
            return
        finished = True
        # Nothing can cut this short (a signal only records a request); one arriving
        # now gets a line saying the save goes on.
        with _signals.saving():
            try:
                _stop_sound(window, announce)
                if filler is not None:
                    filler.stop()
                pipeline.stop()
                segmenter.close()
                _drain_strips(pipeline, model)
                saver.close()  # a checkpoint under way must not replace the final save
                if close_window:
                    window.close()
                if filler is not None and filler.error:
                    announce(f"the background pass stopped: {filler.error}")
                if segmenter.error:
                    announce(f"finding the colour segments failed: {segmenter.error}")
                if len(spectrum):
                    if options.look.segments:  # the segments of everything made
                        segment_spectrum(spectrum, min_seconds=options.look.min_segment)
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
                if recorder is not None:
                    movie = recorder.close()  # finished whole on every way out
                    if movie is not None:
                        announce(f"recorded {movie}: {recorder.recorder.seconds:.1f} s")

    def display_lost() -> None:
        # Xlib is about to end the process: save now (no window calls: the
        # connection is gone), then leave as Xlib would.
        announce("the display connection was lost")
        try:
            finish(close_window=False)
        finally:
            sys.stdout.flush()
            os._exit(1)

    def _open_and_run() -> None:
        nonlocal recorder, reason
        window.open()
        if track is not None:
            _start_sound(window, src, track, view, announce)
        if record is not None:
            recorder = _start_recording(window, record)
        on_display_lost(display_lost)
        pipeline.start()
        announce(f"playing {info.name} - press H in the window for keys; saving to {out}")
        if not _signals.requested():
            reason = window.run()

    # Ctrl-C and SIGTERM are stop requests: the window loop looks at them every frame.
    with _signals.handling():
        try:
            # (A stop asked for while starting: no window at all.)
            if not _signals.requested():
                _open_and_run()
        except Exception:  # a bug in the window must not lose the spectrum: save, re-raise
            reason = "error"
            raise
        finally:
            on_display_lost(None)
            finish()
            if _signals.requested():
                reason = _signals.signal_name()
    error = model.error
    if model.error and reason not in ("interrupted", "terminated"):
        reason = "error"
    return PlayResult(reason, png, js, len(spectrum), error, model, filler)


NO_DISPLAY = (
    "no display to open the window on{why}; streamspec render makes the spectrum and "
    "streamspec video a movie of it without one"
)


def check_display() -> None:
    """Refuse, in one line, to play where no window can be seen: SDL would fall back to
    an invisible ``offscreen`` window and play until killed. A driver the user chose
    (``SDL_VIDEODRIVER``, e.g. ``dummy`` for tests) is honoured."""
    if os.environ.get("SDL_VIDEODRIVER"):
        return
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise InputError(NO_DISPLAY.format(why=" (neither DISPLAY nor WAYLAND_DISPLAY is set)"))
    from streamspec.live.view import display_driver  # pygame only now

    driver = display_driver()
    if driver in ("offscreen", "dummy"):
        raise InputError(NO_DISPLAY.format(why=f" (SDL found only its {driver} driver)"))


def _check_record(
    record: str | None, source: str | os.PathLike[str] | FrameSource | None, out: Path
) -> Path | None:
    """``--record``'s movie: a .mp4/.mov/.mkv that replaces neither the video nor the
    spectrum being saved (checked before any window opens)."""
    if record is None:
        return None
    from streamspec.core._io import check_outputs
    from streamspec.live.recorder import check_movie_output
    from streamspec.outputs.spectrum import json_path_for
    from streamspec.pipeline.rendering import source_file

    movie = check_movie_output(record)
    check_outputs(
        [
            ("the input video", source_file(source)),
            ("the spectrum image", out),
            ("the spectrum data", json_path_for(out)),
        ],
        [("recording", movie, "--record")],
    )
    return movie


def _sound_track(src: FrameSource, view: ViewOptions) -> int | None:
    """The stream index of the sound to play, or None (``--no-audio``, no audio in the
    file, a live source). Raises InputError for an ``--audio-track`` the file lacks."""
    url = getattr(src, "url", None)
    if not view.audio or src.info.live or src.info.kind not in ("file", "url") or not url:
        return None
    from streamspec.live.audio import audio_track

    return audio_track(url, view.audio_track)


def _start_sound(
    window: Any, src: FrameSource, track: int, view: ViewOptions, announce: Callable[[str], None]
) -> None:
    """Open the device and start the sound at the playhead; the sound's clock leads.
    Without a device: one warning line, and the pictures keep the wall clock."""
    from streamspec.live.audio import AudioClock, open_audio

    player = open_audio(
        src.url,  # type: ignore[attr-defined]  # an AVSource (_sound_track checked)
        track,
        origin=getattr(src, "time_origin", 0.0),
        end=window.model.duration,
        volume=view.volume,
        announce=announce,
    )
    if player is None:
        return
    window.audio = player
    window.clock = AudioClock(player)
    window.model.volume = player.volume
    player.start(window.model.playhead)


def _start_recording(window: Any, record: Path) -> Any:
    """``--record``: a movie of the window as it is (its real size, fitted to the
    screen) and, when the sound plays, of what is heard. The sound's buffers arrive on
    SDL's thread; they wait in a queue for the window's thread, which hands them to the
    encoder with each picture, so the sound device is never held up."""
    from collections import deque

    from streamspec.live.recorder import ScreenRecorder, aac_spec
    from streamspec.media.audio import LAYOUTS
    from streamspec.media.encode import Pcm

    player = window.audio
    spec = aac_spec(player.rate, player.channels) if player is not None else None
    recorder = ScreenRecorder(record, window.screen.get_size(), audio=spec)
    heard: deque[tuple[Any, int, float]] = deque(maxlen=2000)  # ~80 s of 40 ms buffers
    if player is not None:
        player.tap = lambda buf, rate, wall: heard.append((buf.copy(), rate, wall))
        layout = LAYOUTS[player.channels]  # the device's: the recorder downmixes surround

    def on_frame(surface: Any) -> None:
        while heard:
            buf, rate, wall = heard.popleft()
            block = Pcm(buf.reshape(1, -1), "flt", layout, rate)
            recorder.add_audio(block, started=wall)
        recorder(surface)

    window.on_frame = on_frame
    return recorder


def _stop_sound(window: Any, announce: Callable[[str], None]) -> None:
    """Silence and close the sound first; a failure here must not stop the saving."""
    player, window.audio = window.audio, None
    if player is None:
        return
    try:
        player.close()
    except Exception as exc:  # pragma: no cover - closing never fails in practice
        announce(f"sound: closing failed ({exc})")


def _drain_strips(pipeline: Pipeline, model: LiveModel) -> None:
    """Strips the worker finished after the window stopped still belong to the session."""
    import queue

    from streamspec.live.pipeline import StripReady

    while True:
        try:
            ev = pipeline.events.get_nowait()
        except queue.Empty:
            return
        if isinstance(ev, StripReady):
            model.spectrum.add(ev.strip)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: streamspec play")
