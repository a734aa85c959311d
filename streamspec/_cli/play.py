"""``streamspec play``, ``streamspec video`` and ``streamspec devices``: the live view,
the movie of it, and the webcams it can read."""

from __future__ import annotations

import argparse
import sys

from streamspec._cli.flags import add_options, add_source_args, collect, render_options, source_spec
from streamspec._cli.terminal import PROG, Progress, say_sampling, short, shown
from streamspec.core.errors import ExitStatus

__all__ = ["add_devices", "add_play", "add_video"]


def add_play(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "play",
        help="play a video (or a webcam) with its spectrum building live",
        description="Play VIDEO in a window; the colour spectrum builds and scrolls beside it. "
        "Keys: Space pause, Left/Right seek, S snapshot, F fullscreen, H help, Q/Esc quit. "
        "The spectrum is saved on every way out. Without VIDEO, plays the demo film.",
    )
    add_source_args(p, "play")
    p.add_argument(
        "-o",
        "--output",
        metavar="IMAGE",
        help="where to save the spectrum: .png, .jpg, .webp or .tif (default "
        "VIDEO-spectrum.png, never overwriting; data beside it as .json)",
    )
    from streamspec.core.options import (
        LookOptions,
        QuantizerOptions,
        SamplingOptions,
        SourceOptions,
        ViewOptions,
    )

    add_options(p, SamplingOptions, command="play", only=("every", "start", "end"))
    add_options(p, QuantizerOptions, command="play")
    add_options(
        p,
        LookOptions,
        command="play",
        only=("order", "mode", "chapters", "segments", "min_segment"),
    )
    add_options(p, SourceOptions, command="play", only=("crop", "tonemap"))
    add_options(p, ViewOptions, command="play")
    p.set_defaults(run=_run_play)


def _run_play(args: argparse.Namespace) -> int:
    from streamspec.live.app import play

    spec = source_spec(args)
    from streamspec.core.options import ViewOptions

    view = ViewOptions.pick(collect(args, ViewOptions))
    result = play(
        spec,
        render_options(args),
        view,
        output=args.output,
        note=lambda text: say_sampling("play", text),
    )
    if result.reason in ("interrupted", "terminated"):
        return ExitStatus.INTERRUPTED
    if result.error:
        saved = f"; the spectrum so far is in {result.png}" if result.png else ""
        print(f"{PROG} play: error: {shown(result.error)}{shown(saved)}", file=sys.stderr)
        return ExitStatus.BAD_INPUT
    return ExitStatus.OK


def add_video(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "video",
        help="render what play shows -- the film, its spectrum building -- as an MP4",
        description="Render offline, faster than real time, the film with its colour "
        "spectrum building beside or below it (playhead, axis, status line) as an H.264 "
        "movie with the film's sound (AAC). Ctrl-C keeps a playable movie of what is done.",
    )
    p.add_argument("video", metavar="FILM", help="a video file or URL")
    p.add_argument(
        "-o", "--output", metavar="MOVIE.mp4", required=True, help="the movie: .mp4, .mov or .mkv"
    )
    from streamspec.core.options import (
        LookOptions,
        QuantizerOptions,
        SamplingOptions,
        SourceOptions,
        VideoOptions,
    )

    when = p.add_mutually_exclusive_group()
    add_options(when, SamplingOptions, command="video", only=("every", "strips"))
    add_options(p, SamplingOptions, command="video", only=("start", "end"))
    add_options(p, QuantizerOptions, command="video")
    add_options(p, SourceOptions, command="video", only=("crop",))
    add_options(p, LookOptions, command="video", only=("order", "mode"))
    add_options(p.add_argument_group("movie"), VideoOptions, command="video")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_video)


def _run_video(args: argparse.Namespace) -> int:
    import time

    from streamspec.core.options import VideoOptions
    from streamspec.live.video import make_video

    options = render_options(args)
    movie = VideoOptions.pick(collect(args, VideoOptions))
    show = False if args.quiet else args.progress  # None: shown on a terminal
    bar = Progress(unit="frame", desc=short(args.video), show=show)
    t0 = time.perf_counter()

    try:
        result = make_video(
            args.video,
            args.output,
            options,
            movie,
            on_frame=bar.set,
            on_note=None if args.quiet else lambda note: say_sampling("video", note),
        )
    finally:
        bar.close()
    took = time.perf_counter() - t0
    if result.path is None:
        print(f"{PROG} video: interrupted before the first frame; nothing written", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    from streamspec.pipeline import _signals

    state = "interrupted; wrote what was done:" if result.interrupted else "wrote"
    sound = "with sound" if result.audio else "silent"
    speed = result.seconds / took if took > 0 else 0.0
    print(
        f"{state} {shown(result.path)}: {result.seconds:.1f} s at "
        f"{result.size[0]}x{result.size[1]}, "
        f"{result.fps:g} fps, {sound}, {result.strips} strips, in {took:.1f} s "
        f"({speed:.1f}x real time)"
    )
    return ExitStatus.INTERRUPTED if result.interrupted or _signals.requested() else ExitStatus.OK


def add_devices(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "devices",
        help="list webcams (for webcam:N / --webcam N)",
        description="List the video capture devices FFmpeg can open.",
    )
    p.set_defaults(run=_run_devices)


def _run_devices(args: argparse.Namespace) -> int:
    from streamspec.media import list_devices

    devices = list_devices()
    if not devices:
        print("no video capture devices found")
        return ExitStatus.OK
    for spec, desc in devices:
        print(f"{spec:14s} {shown(desc)}")
    return ExitStatus.OK
