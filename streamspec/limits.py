"""Every size streamspec accepts has a limit, checked before any work starts.

The limits are far above anything a film needs and well below what exhausts memory or
makes the written image unreadable elsewhere:

- ``MAX_HEIGHT`` 16,383 px: a strip of 256 colours needs a few hundred rows; 16,383 is
  WebP's largest side and about the largest texture GPUs and browsers display.
- ``MAX_STRIP_WIDTH`` 256 px per sample: wider strips only repeat columns.
- ``MAX_IMAGE_PIXELS`` 89,478,485 px (about 256 MiB as RGB): Pillow's own
  decompression-bomb threshold, above which Pillow (and many tools built on it) warns
  or refuses to open the file we would write.
- ``MAX_IMAGE_SIDE`` 65,500 px: JPEG's largest side, and past what PNG viewers and
  browsers show (a 2-hour film at one sample a second is 7,200 px wide).
- ``MAX_COLOURS`` 256 colours per strip; ``MAX_SLOTS`` 10,000,000 slots (115 days at one
  sample a second) in a saved spectrum; ``MAX_JSON_BYTES`` 2 GiB of spectrum JSON read,
  counted as it is read (pipes and devices have no size to check first).
- ``MAX_CHAPTERS``, ``MAX_TEXT_BYTES``, ``MAX_TITLE_CHARS``, ``MAX_FILMS``,
  ``MAX_FILES_SEEN``, ``MAX_JOBS`` and ``MAX_TIMEOUT``: every other count, below.
- ``MAX_SHOTS`` 1,000,000 shots a film (a 2-hour film has 1,000-3,000; one that is all
  cuts at 24 fps, 172,800); ``MAX_SHOT_LOOKBACK_FRAMES`` 1,024 frames kept by the shot
  detector (its longest gradual transition, 5 s by default, plus its look-ahead).
"""

from __future__ import annotations

from .errors import InputError

__all__ = [
    "MAX_CHAPTERS",
    "MAX_COLOURS",
    "MAX_FILES_SEEN",
    "MAX_FILMS",
    "MAX_HEIGHT",
    "MAX_IMAGE_COLOURS",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MAX_JOBS",
    "MAX_JOBS_PER_CORE",
    "MAX_JSON_BYTES",
    "MAX_SHOTS",
    "MAX_SHOT_LOOKBACK_FRAMES",
    "MAX_SLOTS",
    "MAX_STRIP_WIDTH",
    "MAX_TEXT_BYTES",
    "MAX_TIMEOUT",
    "MAX_TITLE_CHARS",
    "check_image_size",
    "check_jobs",
    "check_timeout",
]

MAX_HEIGHT = 16_383
MAX_STRIP_WIDTH = 256
MAX_IMAGE_PIXELS = 89_478_485  # PIL.Image.MAX_IMAGE_PIXELS's default
MAX_IMAGE_SIDE = 65_500
MAX_COLOURS = 256  # per strip
MAX_IMAGE_COLOURS = 65_536  # quantize: an image's palette
MAX_SLOTS = 10_000_000
# A spectrum JSON is about 2.5 kB a strip: 2 GiB is 800,000 strips (18 days at 2 s).
MAX_JSON_BYTES = 2 * 2**30
# Chapters of one film (a chapter a minute for 70 days).
MAX_CHAPTERS = 100_000
# Text files read whole (chapters, lists of films): far above any real one.
MAX_TEXT_BYTES = 64 * 2**20
# The longest title drawn: the rest could never fit on any screen.
MAX_TITLE_CHARS = 1_000
# Films in one batch, files a folder or glob search looks at.
MAX_FILMS = 1_000_000
MAX_FILES_SEEN = 10_000_000
# Local processes per core (more only wait for a core); pieces sent to a cluster.
MAX_JOBS_PER_CORE = 4
MAX_JOBS = 4_096
# The longest --timeout of a film: a week.
MAX_TIMEOUT = 7 * 24 * 3600.0
# Shots of one film, and frames the shot detector keeps (see streamspec.shots).
MAX_SHOTS = 1_000_000
MAX_SHOT_LOOKBACK_FRAMES = 1_024
# Axis, chapter and segment bands add at most this many rows under the spectrum.
ANNOTATION_ROWS = 200


def check_image_size(slots: int, strip_width: int, height: int, *, what: str = "image") -> None:
    """Refuse, in one line, an image of ``slots`` strips that would exceed the limits."""
    width = slots * strip_width
    rows = height + ANNOTATION_ROWS
    if width > MAX_IMAGE_SIDE:
        raise InputError(
            f"the {what} would be {width:,} px wide ({slots:,} strips x {strip_width} px); "
            f"the limit is {MAX_IMAGE_SIDE:,} px (JPEG's largest side, past what viewers "
            "show): sample less often or use a narrower strip width"
        )
    if width * rows > MAX_IMAGE_PIXELS:
        raise InputError(
            f"the {what} would be {width:,} x {height:,} px; the limit is "
            f"{MAX_IMAGE_PIXELS:,} pixels (Pillow's decompression-bomb limit): "
            "lower the height or the strip width, or sample less often"
        )


def check_jobs(jobs: int, *, local: bool, flag: str = "--jobs") -> int:
    """Refuse, in one line, more parallel jobs than make sense: ``MAX_JOBS_PER_CORE``
    local processes per core (``local``), ``MAX_JOBS`` pieces for a cluster."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    most = min(MAX_JOBS, MAX_JOBS_PER_CORE * cores) if local else MAX_JOBS
    if jobs > most:
        why = (
            f"{MAX_JOBS_PER_CORE} per core of this machine's {cores}"
            if local and most < MAX_JOBS
            else "the most a render is split into"
        )
        raise InputError(f"{flag} {jobs:,} is too many: at most {most:,} ({why})")
    return jobs


def check_timeout(seconds: float, *, flag: str = "--timeout") -> float:
    """A film's time limit: a finite number of seconds above 0, at most a week."""
    if not 0 < seconds <= MAX_TIMEOUT:  # NaN fails this too
        raise InputError(
            f"{flag} must be from above 0 to {MAX_TIMEOUT:,.0f} seconds (a week), got {seconds:g}"
        )
    return seconds
