"""Every size and count streamspec accepts has a limit, here, checked before work starts.

The limits are far above anything a film needs and well below what exhausts memory or
makes the written image unreadable elsewhere. Each constant says why it is what it is;
the modules that check a limit import it from here (and keep their old public names).

- ``MAX_HEIGHT`` 16,383 px: a strip of 256 colours needs a few hundred rows; 16,383 is
  WebP's largest side and about the largest texture GPUs and browsers display.
- ``MAX_STRIP_WIDTH`` 256 px per sample: wider strips only repeat columns.
- ``MAX_IMAGE_PIXELS`` 89,478,485 px (about 256 MiB as RGB): Pillow's own
  decompression-bomb threshold, above which Pillow (and many tools built on it) warns
  or refuses to open the file we would write. ``MAX_QUANTIZE_PIXELS`` 400,000,000 px
  is what ``quantize`` reads (a photo, not a file we write).
- ``MAX_IMAGE_SIDE`` 65,500 px: JPEG's largest side, and past what PNG viewers and
  browsers show (a 2-hour film at one sample a second is 7,200 px wide).
- Two palette limits, for two different things: ``MAX_COLOURS`` 256 colours per *strip*
  of a spectrum, and ``MAX_IMAGE_COLOURS`` 65,536 colours in the palette ``quantize``
  gives a *still image* (the k-means accepts that many; a strip never needs more).
- ``MAX_SLOTS`` 10,000,000 slots (115 days at one
  sample a second) in a saved spectrum; ``MAX_JSON_BYTES`` 2 GiB of spectrum JSON read,
  counted as it is read (pipes and devices have no size to check first).
- ``MAX_CHAPTERS``, ``MAX_TEXT_BYTES``, ``MAX_TITLE_CHARS``, ``MAX_FILMS``,
  ``MAX_FILES_SEEN``, ``MAX_JOBS`` and ``MAX_TIMEOUT``: every other count, below.
- ``MAX_SHOTS`` 1,000,000 shots a film (a 2-hour film has 1,000-3,000; one that is all
  cuts at 24 fps, 172,800); ``MAX_SHOT_LOOKBACK_FRAMES`` 1,024 frames kept by the shot
  detector (its longest gradual transition, 5 s by default, plus its look-ahead).
- The window, movies, pages, comparisons, exports, search, alignment and caches: below,
  each with its reason.
"""

from __future__ import annotations

from streamspec.core.errors import InputError

__all__ = [
    "ANNOTATION_ROWS",
    "MAX_AUDIO_TRACK",
    "MAX_BINS",
    "MAX_CACHED_TABLES",
    "MAX_CELLS",
    "MAX_CHAPTERS",
    "MAX_COLOURS",
    "MAX_COLOUR_TEXT",
    "MAX_COMPARE_FILMS",
    "MAX_FILES_SEEN",
    "MAX_FILMS",
    "MAX_HEIGHT",
    "MAX_HITS",
    "MAX_IMAGE_COLOURS",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MAX_ITEMS",
    "MAX_JOBS",
    "MAX_JOBS_PER_CORE",
    "MAX_JSON_BYTES",
    "MAX_MOVIE",
    "MAX_MOVIE_FPS",
    "MAX_PAGE_SLOTS",
    "MAX_PALETTES",
    "MAX_PALETTE_COLOURS",
    "MAX_PALETTE_TEXT",
    "MAX_PIXEL_COUNT",
    "MAX_QUANTIZE_PIXELS",
    "MAX_SEARCH_PALETTE",
    "MAX_SHOTS",
    "MAX_SHOT_LOOKBACK_FRAMES",
    "MAX_SLOTS",
    "MAX_STRIP_WIDTH",
    "MAX_SWATCH_NAME",
    "MAX_TEXT_BYTES",
    "MAX_TIMEOUT",
    "MAX_TITLE_CHARS",
    "MAX_VOLUME",
    "MAX_WEBP_SIDE",
    "MAX_WINDOW",
    "MAX_ZOOM",
    "MIN_MOVIE_FPS",
    "MIN_WINDOW",
    "check_image_size",
    "check_jobs",
    "check_timeout",
]

MAX_HEIGHT = 16_383
MAX_STRIP_WIDTH = 256
MAX_IMAGE_PIXELS = 89_478_485  # PIL.Image.MAX_IMAGE_PIXELS's default
MAX_IMAGE_SIDE = 65_500
# WebP's largest side (libwebp): a .webp picture is at most this wide.
MAX_WEBP_SIDE = 16_383
MAX_COLOURS = 256  # per strip
MAX_IMAGE_COLOURS = 65_536  # quantize: an image's palette
# quantize reads photos: a 100-megapixel camera's frame is fine, an absurd header is not
# (400 MP of RGB is 1.2 GB decoded). Checked when the image is opened, never by changing
# Pillow's process-wide MAX_IMAGE_PIXELS.
MAX_QUANTIZE_PIXELS = 400_000_000
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
# Shots of one film, and frames the shot detector keeps (see streamspec.analysis.shots).
MAX_SHOTS = 1_000_000
MAX_SHOT_LOOKBACK_FRAMES = 1_024
# Axis, chapter and segment bands add at most this many rows under the spectrum.
ANNOTATION_ROWS = 200

# -- sources ------------------------------------------------------------------------------
MAX_AUDIO_TRACK = 64  # FFmpeg's containers hold at most a few dozen streams

# -- the live window ----------------------------------------------------------------------
# Below 160x120 nothing fits; above 16,384 px a side, SDL refuses on most drivers.
MIN_WINDOW = (160, 120)
MAX_WINDOW = 16_384
MAX_ZOOM = 32  # pixels per strip in the window: closer only repeats columns
MAX_VOLUME = 150  # per cent: louder only clips

# -- movies -------------------------------------------------------------------------------
# 4096x2304 is H.264 level 5.1's largest 16:9 picture, and a 4K export is the most anyone
# shares; 120 fps is the fastest display rate in common use.
MAX_MOVIE = (4096, 2304)
MAX_MOVIE_FPS = 120.0
# A movie plays at least a frame a second (and its frame rate is a fraction of 1001ths).
MIN_MOVIE_FPS = 1.0

# -- outputs ------------------------------------------------------------------------------
#: The widest film a page shows, in slots (about 55 hours at one sample every 2 s): the
#: browser keeps the strips as bitmaps of 512 rows, 2 kB a slot.
MAX_PAGE_SLOTS = 100_000
#: Films side by side in one comparison (each gets a band of at least a few rows).
MAX_COMPARE_FILMS = 64
#: Bins in one shot-length histogram.
MAX_BINS = 10_000
#: Palettes in one swatch file (one per strip of a long film is still far below).
MAX_PALETTES = 1_000_000
#: Items in one export: a 115-day film at one shot a second is 10 million (MAX_SLOTS).
MAX_ITEMS = 10_000_000
#: Colours in one exported palette: as many as a strip may have.
MAX_PALETTE_COLOURS = MAX_COLOURS

# -- search and alignment -----------------------------------------------------------------
#: Most colours in one palette compared by the palette distance (a query or a strip's
#: search palette): the exact EMD's cost grows with the cube of the colours.
MAX_SEARCH_PALETTE = 64
#: Longest palette text read (a query of up to 64 colours with their shares fits).
MAX_PALETTE_TEXT = 4000
#: Longest colour text read (a name, a hex code or rgb(...)).
MAX_COLOUR_TEXT = 100
#: Most hits one search returns.
MAX_HITS = 10_000
#: Most cells of the alignment grid (n x m): 64 M, a 2-hour film at one strip per second
#: against another (a byte of traceback per cell).
MAX_CELLS = 64_000_000

# -- caches -------------------------------------------------------------------------------
#: Colour tables (6.4 MB each) kept on disk; the oldest go first.
MAX_CACHED_TABLES = 8


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

# -- exports -----------------------------------------------------------------------------
# A swatch's name in an exported palette: one line, shorter than any editor shows.
MAX_SWATCH_NAME = 200
# A pixel count in a saved strip: far above any frame's, and within a signed 64-bit
# integer, which every JSON reader that keeps integers can hold.
MAX_PIXEL_COUNT = 2**62
