"""The numbers the live view reports: rolling rates and the live latency
(:class:`Stats`), the status line (:func:`status_line`) and the tooltip's contents
(:class:`HoverInfo`, with the colours of a strip merged once, :class:`StripColours`)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from streamspec.analysis.colour import merge_colours
from streamspec.core.timefmt import describe_time
from streamspec.live.playback import Playback
from streamspec.live.timeline import StripTimeline
from streamspec.outputs.spectrum import Strip

__all__ = ["HoverInfo", "Stats", "StripColours", "status_line"]

TOOLTIP_COLOURS = 5  # distinct colours the tooltip lists at most
RGB = tuple[int, int, int]


class HoverInfo(NamedTuple):
    """What the tooltip shows: the time, the strip's distinct colours (RGB, share; none
    over an empty slot) and the chapter there."""

    time: str
    colours: list[tuple[RGB, float]]
    chapter: str | None


@dataclass
class Stats:
    """Rolling rates for the HUD and the benchmarks, and the live latency: the wait from
    a sample's frame on screen to its strip on screen."""

    shown: deque[float] = field(default_factory=lambda: deque(maxlen=120))
    decoded: deque[float] = field(default_factory=lambda: deque(maxlen=120))
    quantize_ms: deque[float] = field(default_factory=lambda: deque(maxlen=60))
    frames_shown: int = 0
    frames_dropped: int = 0  # by the window, when drawing fell behind
    frames_skipped_live: int = 0  # by the worker: a live source's pictures nobody showed
    latencies: list[float] = field(default_factory=list)
    # slot -> when the frame its sample was taken from was shown (strip not shown yet)
    shown_at: dict[int, float] = field(default_factory=dict)

    @staticmethod
    def rate(stamps: deque[float]) -> float:
        """Events per second over the stamps kept (0 with fewer than two)."""
        if len(stamps) < 2 or stamps[-1] <= stamps[0]:
            return 0.0
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])

    def sample_shown(self, slot: int, now: float) -> None:
        """The frame ``slot``'s sample was taken from is on screen (the first time counts)."""
        self.shown_at.setdefault(slot, now)

    def presented(self, now: float, timeline: StripTimeline) -> None:
        """The window was flipped at ``now``: every sample whose frame and exact strip
        are both on screen adds its wait to :attr:`latencies`."""
        on_screen = timeline.visible
        provisional = timeline.provisional
        done = [s for s in self.shown_at if s in on_screen and s not in provisional]
        for slot in done:
            self.latencies.append(max(0.0, now - self.shown_at.pop(slot)))


class StripColours:
    """The distinct colours of a strip, as the tooltip lists them: near-duplicates
    merged (OKLab, :data:`~streamspec.analysis.colour.MERGE_DISTANCE`), the
    :data:`TOOLTIP_COLOURS` largest with their shares; kept per slot while the strip
    stays the same."""

    LIMIT = 4096  # slots remembered before starting afresh

    def __init__(self) -> None:
        self._known: dict[int, tuple[Strip, list[tuple[RGB, float]]]] = {}

    def of(self, slot: int, strip: Strip) -> list[tuple[RGB, float]]:
        """``strip``'s (in ``slot``) distinct colours, largest share first."""
        known = self._known.get(slot)
        if known is not None and known[0] is strip:
            return known[1]
        merged, shares = merge_colours(strip.palette, strip.counts)
        top = zip(merged[:TOOLTIP_COLOURS], shares[:TOOLTIP_COLOURS], strict=True)
        colours = [(_rgb(c), float(share)) for c, share in top]
        if len(self._known) > self.LIMIT:
            self._known.clear()
        self._known[slot] = (strip, colours)
        return colours


def status_line(playback: Playback, timeline: StripTimeline, stats: Stats) -> str:
    """The HUD: time / duration, samples, decode fps, quantize ms (and state)."""
    head, duration = describe_time(playback.playhead), playback.duration
    parts = [f"{head} / {describe_time(duration)}" if duration is not None else f"{head} live"]
    total = f"/{timeline.slots}" if timeline.slots is not None else ""
    parts.append(f"{len(timeline.visible)}{total} samples")
    if timeline.provisional:
        parts.append(f"{len(timeline.provisional)} provisional")
    parts.append(f"decode {Stats.rate(stats.decoded):.1f} fps")
    q = stats.quantize_ms
    parts.append(f"quantize {np.median(q):.1f} ms" if q else "quantize - ms")
    if playback.volume is not None:
        parts.append("muted" if playback.muted else f"vol {playback.volume}%")
    if abs(playback.speed - 1.0) > 1e-9:
        parts.append(f"speed {playback.speed:g}x")
    if playback.paused:
        parts.append("paused")
    if playback.ended:
        parts.append("end - Q to quit")
    if playback.error:
        parts.append(f"error: {playback.error}")
    return "   ".join(parts)


def _rgb(colour: NDArray[np.uint8]) -> RGB:
    """A palette row as an (r, g, b) tuple of ints."""
    r, g, b = (int(v) for v in colour)
    return r, g, b
