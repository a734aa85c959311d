"""A spectrum as one self-contained web page (``streamspec page``).

The page is a single HTML file: its script, style and data are inside it, it makes no
network request (a Content-Security-Policy in the page forbids them; only a ``--video``
the user names is loaded), and it opens from disk in any current browser, offline.
The browser draws the spectrum on a canvas from the embedded strips; hovering shows a
strip's time and colours, clicking copies the time (and seeks the video, if any),
wheel / pinch / + and - zoom, dragging and the arrow keys move along the film.

Data encoding (per film, all little-endian, each field one base64 string):

``slot`` uint32   each strip's slot (strips in slot order)
``time``, ``target`` float64   the frame's real time and the nominal sample time (s)
``ncol`` uint16   colours per strip
``rgb``  uint8    every strip's colours, **in streamspec's display order** (the
                  spectrum's ``order`` setting, as :func:`streamspec.analysis.strip.order_palette`
                  puts them, top row first), 3 bytes each
``share`` uint16  each colour's share of its strip in 1/65535ths, apportioned by largest
                  remainder so a strip's shares sum to exactly 65535
``lead`` uint8    for each colour, the display index (within its strip) of the colour it
                  is merged with in the hover lists (see :data:`MERGE_DISTANCE`)

So the page only stacks rectangles and sums shares; the ordering and the merging are
done here, in NumPy. A two-hour film sampled every 2 s (3,600 strips of 50 colours)
makes a page of about 1.6 MB.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from numpy.typing import ArrayLike, NDArray

from streamspec._version import __version__
from streamspec.analysis.colour import MERGE_DISTANCE, merge_leaders, merge_leaders_batch, oklab
from streamspec.analysis.strip import ORDERS, order_palette
from streamspec.core._io import atomic_write, check_outputs, check_writable
from streamspec.core.errors import InputError, OutputError
from streamspec.core.limits import MAX_PAGE_SLOTS
from streamspec.core.timefmt import format_time
from streamspec.outputs.spectrum import Spectrum, json_path_for

__all__ = [
    "MAX_PAGE_SLOTS",
    "MERGE_DISTANCE",
    "PageWarning",
    "format_time",
    "merge_leaders",
    "merge_leaders_batch",
    "merged_palette",
    "oklab",
    "page_html",
    "write_page",
]



SHARE_SCALE = 65535  # shares are stored as uint16 fractions of this
PAGE_SUFFIXES = (".html",)
_ASSETS = "_page"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # a URL scheme (a Windows drive is 1 letter)


class PageWarning(UserWarning):
    """Something the page does without (a missing video): it is still written."""


# -- colour ---------------------------------------------------------------------------------
def merged_palette(
    palette: ArrayLike, counts: ArrayLike, threshold: float = MERGE_DISTANCE
) -> list[tuple[str, float]]:
    """A strip's colours as the page lists them: ``[("#rrggbb", share), ...]``, merged
    (each group shown by its heaviest colour, shares summed), largest share first."""
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    cnt = np.asarray(counts, dtype=np.float64).reshape(-1)
    leader = merge_leaders(pal, cnt, threshold)
    total = cnt.sum() or 1.0
    sums: dict[int, float] = {}
    for j, lead in enumerate(leader):
        sums[int(lead)] = sums.get(int(lead), 0.0) + cnt[j] / total
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))
    return [("#" + pal[j].tobytes().hex(), share) for j, share in ranked]


# -- time -----------------------------------------------------------------------------------
# -- data -----------------------------------------------------------------------------------
def _b64(a: NDArray[Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _apportion_rows(weights: NDArray[np.float64], valid: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Each row's weights as whole 1/65535ths summing to 65535: largest remainder, ties to
    the earlier colour -- :func:`streamspec.analysis.strip.apportion`, row by row at once."""
    total = weights.sum(axis=1, keepdims=True)
    quota = np.where(valid, weights * (SHARE_SCALE / total), 0.0)
    base = np.floor(quota).astype(np.int64)
    left = SHARE_SCALE - base.sum(axis=1)
    frac = np.where(valid, quota - base, -1.0)
    order = np.argsort(-frac, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(order.shape[1]), order.shape), 1)
    return base + (rank < left[:, None])


def _film_data(spectrum: Spectrum, label: str) -> dict[str, Any]:
    """One film's part of the page data (see the module docstring for the encoding)."""
    strips = spectrum.strips
    settings = spectrum.settings
    order = settings.get("order") or "hls"
    if order not in ORDERS:  # pragma: no cover - Spectrum.load checks it
        raise InputError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
    n = len(strips)
    k = max(len(s.counts) for s in strips)
    pal = np.zeros((n, k, 3), np.uint8)
    weights = np.zeros((n, k), np.float64)
    sizes = np.array([len(s.counts) for s in strips])
    group = np.repeat(np.arange(n), sizes)
    all_pal = np.concatenate([s.palette for s in strips])
    all_cnt = np.concatenate([s.counts for s in strips])
    # streamspec's strip order, for all strips in one sort: every order's keys depend on
    # the colour alone (count's hue rank keeps its order within a strip), so sorting all
    # colours and then regrouping stably gives each strip exactly order_palette's order.
    idx = order_palette(all_pal, all_cnt, order)
    idx = idx[np.argsort(group[idx], kind="stable")]
    valid = np.arange(k) < sizes[:, None]
    pal[valid] = all_pal[idx]
    weights[valid] = all_cnt[idx]
    weights[weights.sum(axis=1) <= 0] = valid[weights.sum(axis=1) <= 0]  # no counts: equal
    shares = _apportion_rows(weights, valid)
    block = 256  # the merge holds a (block, k, k) table: small enough to stay in cache
    leaders = np.concatenate(
        [
            merge_leaders_batch(pal[a : a + block], weights[a : a + block], valid[a : a + block])
            for a in range(0, n, block)
        ]
    )
    chapters = [
        {
            "start": float(c["start"]),
            "end": None if c.get("end") is None else float(c["end"]),
            "title": str(c.get("title") or ""),
        }
        for c in spectrum.chapters
    ]
    segments = [
        {
            "start": float(s["start"]),
            "end": None if s.get("end") is None else float(s["end"]),
            "colours": [
                ["#" + bytes(int(v) for v in c["rgb"]).hex(), float(c["share"])]
                for c in s.get("colours") or []
            ],
        }
        for s in spectrum.segments
    ]
    source = spectrum.source
    return {
        "label": label,
        "source": str(source.get("name") or ""),
        "duration": source.get("duration"),
        "start": float(settings.get("start", 0.0)),
        "step": float(settings.get("step", 1.0)) or 1.0,
        "offset": float(settings.get("offset", 0.0)),
        "k": settings.get("k"),
        "order": order,
        "slots": spectrum.width_slots,
        "strips": n,
        "partial": spectrum.partial,
        "chapters": sorted(chapters, key=lambda c: c["start"]),
        "segments": sorted(segments, key=lambda s: s["start"]),
        "data": {
            "slot": _b64(np.array([s.index for s in strips], "<u4")),
            "time": _b64(np.array([s.time for s in strips], "<f8")),
            "target": _b64(np.array([s.target for s in strips], "<f8")),
            "ncol": _b64(valid.sum(axis=1).astype("<u2")),
            "rgb": _b64(pal[valid]),
            "share": _b64(shares[valid].astype("<u2")),
            "lead": _b64(leaders[valid].astype(np.uint8)),  # < MAX_COLOURS = 256
        },
    }


# -- page -----------------------------------------------------------------------------------
def _asset(name: str) -> str:
    return (resources.files(__package__) / _ASSETS / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page_html(
    films: Sequence[dict[str, Any]],
    *,
    title: str,
    video_src: str | None = None,
    note: str | None = None,
) -> str:
    """The page's HTML from films' data (:func:`_film_data`), with the player for
    ``video_src`` or a visible ``note`` when there is none."""
    css, js = _asset("page.css"), _asset("page.js")
    if "</" in css or "</script" in js.lower():  # pragma: no cover - asset sanity
        raise RuntimeError("page assets must not close their own element")
    data = {
        "version": 1,
        "streamspec": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "shareScale": SHARE_SCALE,
        "mergeDistance": MERGE_DISTANCE,
        "video": video_src,
        "films": list(films),
    }
    # "<" only occurs inside JSON strings, where \u003c means the same: no "</script>".
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")
    if video_src is not None:
        player = (
            '<div class="player"><video id="video" controls preload="metadata" playsinline '
            f'src="{html.escape(video_src)}"></video></div>'
        )
    else:
        player = ""
    notes = f'<p class="note" id="video-note" role="note">{html.escape(note)}</p>' if note else ""
    # Only the page's own script and style run; nothing is fetched but the named video.
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_sha256(js)}",
            f"style-src {_sha256(css)}",
            "img-src data:",
            # "*" covers http(s) and the page's own scheme; file: is said for browsers
            # that read it narrowly.
            "media-src * file:" if video_src is not None else "media-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    parts = {
        "CSP": html.escape(csp, quote=False),  # no double quotes in it; keep the quotes readable
        "TITLE": html.escape(title),
        "CSS": css,
        "JS": js,
        "DATA": text,
        "PLAYER": player,
        "NOTE": notes,
        "VERSION": html.escape(__version__),
        "MERGE": f"{MERGE_DISTANCE:g}",
    }
    # One pass, so nothing inserted (a title, the data) is itself searched for {{...}}.
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m.group(1)], _asset("index.html"))


def _label(spectrum: Spectrum, path: Path | None, n: int) -> str:
    name = str(spectrum.source.get("name") or "")
    kind = spectrum.source.get("kind")
    if name and kind == "url":
        name = name.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or name
    elif name and kind == "file":
        name = Path(name.removeprefix("file://")).name or name
    if not name and path is not None:
        name = path.stem
    return name or f"film {n}"


def _video_source(
    video: str | os.PathLike[str], output: Path
) -> tuple[str | None, str | None, Path | None]:
    """``(src, note, file)``: the ``<video src>`` for ``video``, kept as the user gave
    it (or None, with a ``note`` saying why), a ``note`` for a player that will not
    find its file, and the local file it names, if any.

    A URL is used as it is; an absolute path becomes a ``file:`` URL; a relative path
    stays relative (to the page, as a browser reads it), percent-encoded.
    """
    text = os.fspath(video)
    if _URL.match(text) and not re.match(r"^[A-Za-z]:[\\/]", text):  # not C:\ or C:/
        return text, None, None
    p = Path(text)
    beside = p if p.is_absolute() else output.parent / p  # where the page will look
    found = beside if beside.is_file() else p if p.is_file() else None
    if found is None:
        why = "is a directory" if p.is_dir() or beside.is_dir() else "was not found"
        note = (
            f"The video {text!r} {why} when this page was made, so the page has no player; "
            "everything else works."
        )
        return None, note, None
    if p.is_absolute():
        return p.as_uri(), None, p
    src = quote(p.as_posix())
    if found is not beside:  # found from here, not from the page's folder
        note = (
            f"The page looks for the video {text!r} relative to its own folder, where it "
            "is not; give a path relative to the page, or an absolute one."
        )
        return src, note, found
    return src, None, found


def write_page(
    spectra: Spectrum | str | os.PathLike[str] | Sequence[Spectrum | str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    video: str | os.PathLike[str] | None = None,
    title: str | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """Write the page of one spectrum, or the comparison page of several, to ``output``.

    ``spectra`` are :class:`Spectrum` objects or paths of their JSON files (or their
    images); several are stacked on one time axis, each labelled (by ``labels``, else by
    its source's name). ``video`` (a path or URL) adds a player that the spectrum seeks
    and follows; a missing local file leaves the player out, with a note on the page and
    a :class:`PageWarning`. The file is written atomically and never over an input.
    Raises :class:`InputError` / :class:`OutputError` with one line.
    """
    items = [spectra] if isinstance(spectra, (Spectrum, str, os.PathLike)) else list(spectra)
    if not items:
        raise InputError("no spectrum to show")
    if labels is not None and len(labels) != len(items):
        raise InputError(f"{len(labels)} labels for {len(items)} spectra")
    out = Path(output)
    if out.suffix.lower() not in PAGE_SUFFIXES:
        what = f"is a {out.suffix} name" if out.suffix else "has no extension"
        raise OutputError(f"output {str(out)!r} {what}; a page is written as .html")
    check_writable(out)
    loaded: list[tuple[Spectrum, Path | None]] = []
    inputs: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, Spectrum):
            loaded.append((item, None))
        else:
            given = Path(item)
            loaded.append((Spectrum.load(given), json_path_for(given)))
            inputs += [
                ("a spectrum it shows", given),
                ("a spectrum it shows", json_path_for(given)),
            ]
    for spectrum, path in loaded:
        name = repr(str(path)) if path is not None else "the spectrum"
        if len(spectrum) == 0:
            raise InputError(f"{name} has no strips; there is nothing to show")
        if spectrum.width_slots > MAX_PAGE_SLOTS:
            raise InputError(
                f"{name} spans {spectrum.width_slots:,} slots; a page shows at most "
                f"{MAX_PAGE_SLOTS:,} (streamspec redraw draws it as an image)"
            )
        inputs.append(("the source video of a spectrum it shows", spectrum.source_file()))
    video_src = note = None
    if video is not None:
        video_src, note, video_file = _video_source(video, out)
        inputs.append(("the video", video_file))
        if note:
            warnings.warn(PageWarning(note), stacklevel=2)
    check_outputs(inputs, [("output", out, "-o")])
    names = list(labels) if labels is not None else []
    if not names:
        seen: dict[str, int] = {}
        for n, (spectrum, path) in enumerate(loaded, 1):
            name = _label(spectrum, path, n)
            seen[name] = seen.get(name, 0) + 1
            names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    films = [_film_data(s, name) for (s, _), name in zip(loaded, names, strict=True)]
    if title is None:
        title = (
            f"{names[0]} — colour spectrum"
            if len(names) == 1
            else "Colour spectra: " + ", ".join(names)
        )
    text = page_html(films, title=title, video_src=video_src, note=note)
    return atomic_write(out, lambda fh: fh.write(text.encode("utf-8")))
