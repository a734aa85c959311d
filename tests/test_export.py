"""Exports read back by readers written elsewhere: OpenTimelineIO (its own JSON and its
CMX 3600 adapter), Python's csv, Polars and DuckDB, swatch (ASE), gimpformats (GIMP
palettes) and tinycss2 (CSS)."""

from __future__ import annotations

import csv
import itertools
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamspec.analysis.segments import segment_spectrum
from streamspec.core.errors import InputError, OutputError, StreamspecError
from streamspec.outputs.export import (
    FORMATS,
    Palette,
    TimelineItem,
    export,
    film_timeline,
    format_for,
    spectrum_palettes,
    write_palettes,
)
from streamspec.outputs.export.items import chapter_items, item_palette, shot_items
from streamspec.outputs.export.swatches import palettes_ase
from streamspec.outputs.export.timeline import FilmTimeline, marker_colour, timecode
from streamspec.outputs.spectrum import Spectrum, Strip

otio = pytest.importorskip("opentimelineio")

SHOTS = [
    {"start": 0.0, "end": 4.2, "frame": 0, "kind": "cut"},
    {"start": 4.2, "end": 12.52, "frame": 105, "kind": "dissolve"},
    {"start": 12.52, "end": 30.0, "frame": 313, "kind": "cut"},
    {"start": 30.0, "end": 47.1, "frame": 750, "kind": "fade"},
    {"start": 47.1, "end": 60.0, "frame": 1177, "kind": "cut"},
]


def make_spectrum(fps: float = 25.0, source: str = "/nonexistent/film.mp4") -> Spectrum:
    """A 60 s film: 30 s of orange, 30 s of blue, one strip a second, two chapters."""
    spec = Spectrum(
        settings={"start": 0.0, "step": 1.0, "offset": 0.0},
        slots=60,
        source={"name": source, "kind": "file", "duration": 60.0, "fps": fps},
        chapters=[{"start": 0.0, "title": "Opening, day"}, {"start": 30.0, "title": "Night"}],
    )
    rng = np.random.default_rng(0)
    for i in range(60):
        base = np.array([200, 120, 40]) if i < 30 else np.array([20, 60, 120])
        pal = np.clip(base + rng.integers(-20, 20, (6, 3)), 0, 255).astype(np.uint8)
        spec.add(Strip(i, float(i), float(i), pal, rng.integers(100, 1000, 6)))
    segment_spectrum(spec)
    return spec


@pytest.fixture
def spec() -> Spectrum:
    return make_spectrum()


def frame(t: float, fps: float) -> int:
    return int(np.floor(t * fps + 0.5))


# -- timelines ----------------------------------------------------------------------------
def test_otio_read_back_every_marker_and_clip(spec, tmp_path):
    out = export(spec, tmp_path / "film.otio", shots=SHOTS)
    tl = otio.adapters.read_from_file(str(out))
    assert [t.name for t in tl.tracks] == ["Film", "Shots"]
    film_track, shots_track = tl.tracks
    (film,) = film_track
    assert film.source_range.duration.value == 60 * 25
    assert film.source_range.duration.rate == 25
    want = [("chapter", c["start"], c["end"], c["title"]) for c in _chapters(spec)] + [
        ("segment", s["start"], s["end"], f"Segment {i + 1}") for i, s in enumerate(spec.segments)
    ]
    got = [
        (
            m.metadata["streamspec"]["kind"],
            m.marked_range.start_time.value,
            m.marked_range.end_time_exclusive().value,
            m.name,
        )
        for m in film.markers
    ]
    assert sorted(got) == sorted((k, frame(a, 25), frame(b, 25), name) for k, a, b, name in want)
    for m in film.markers:  # colours: an OTIO marker colour, the exact one in the metadata
        assert m.color == getattr(otio.schema.MarkerColor, m.color)
    seg_markers = [m for m in film.markers if m.metadata["streamspec"]["kind"] == "segment"]
    assert [m.metadata["streamspec"]["colour"] for m in seg_markers] == [
        "#{:02x}{:02x}{:02x}".format(*s["colours"][0]["rgb"]) for s in spec.segments
    ]
    clips = [c for c in shots_track if isinstance(c, otio.schema.Clip)]
    assert [c.name for c in clips] == [f"Shot {i + 1}" for i in range(len(SHOTS))]
    for c, s in zip(clips, SHOTS, strict=True):
        r = c.range_in_parent()
        assert r.start_time.value == frame(s["start"], 25)
        assert r.end_time_exclusive().value == frame(s["end"], 25)
        assert c.source_range.start_time.value == frame(s["start"], 25)  # the film's own time
        assert c.metadata["streamspec"]["transition"] == s["kind"]
        assert c.metadata["streamspec"]["frame"] == s["frame"]
        assert c.color is not None  # the shot's mean colour
    assert clips[0].media_reference.target_url == "/nonexistent/film.mp4"


def _chapters(spec):
    out = []
    for i, c in enumerate(spec.chapters):
        end = spec.chapters[i + 1]["start"] if i + 1 < len(spec.chapters) else 60.0
        out.append({"start": c["start"], "end": end, "title": c["title"]})
    return out


@pytest.mark.parametrize("fps", [25.0, 24000 / 1001])
def test_edl_read_back_by_the_cmx_3600_adapter(tmp_path, fps):
    spec = make_spectrum(fps)
    out = export(spec, tmp_path / "film.edl", shots=SHOTS)
    assert out.read_bytes().startswith(b"TITLE: film.mp4")
    tl = otio.adapters.read_from_file(str(out), adapter_name="cmx_3600", rate=fps)
    events = list(tl.tracks[0])
    assert [e.name for e in events] == [f"Shot {i + 1}" for i in range(len(SHOTS))]
    for e, s in zip(events, SHOTS, strict=True):
        assert e.source_range.start_time.value == frame(s["start"], fps)
        assert e.source_range.end_time_exclusive().value == frame(s["end"], fps)
        assert e.range_in_parent().start_time.value == frame(s["start"], fps)
    markers = [m for e in events for m in e.markers]
    want = [(frame(c["start"], fps), c["title"].upper()) for c in _chapters(spec)] + [
        (frame(s["start"], fps), f"SEGMENT {i + 1}") for i, s in enumerate(spec.segments)
    ]
    assert sorted((m.marked_range.start_time.value, m.name) for m in markers) == sorted(want)
    # Each marker sits on the event it starts in.
    for e in events:
        for m in e.markers:
            t = m.marked_range.start_time.value
            assert e.source_range.start_time.value <= t < e.source_range.end_time_exclusive().value


def test_edl_without_shots_is_the_film_as_one_event(spec, tmp_path):
    out = export(spec, tmp_path / "film.edl")
    tl = otio.adapters.read_from_file(str(out), adapter_name="cmx_3600", rate=25)
    (event,) = list(tl.tracks[0])
    assert event.source_range.duration.value == 1500
    assert len(event.markers) == len(spec.chapters) + len(spec.segments)


def test_csv_read_back_by_csv_polars_and_duckdb(spec, tmp_path):
    out = export(spec, tmp_path / "items.csv", shots=SHOTS)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    shots = [r for r in rows if r["kind"] == "shot"]
    assert [float(r["start_s"]) for r in shots] == [s["start"] for s in SHOTS]
    assert [int(r["start_frame"]) for r in shots] == [frame(s["start"], 25) for s in SHOTS]
    assert [r["transition"] for r in shots] == [s["kind"] for s in SHOTS]
    chapters = [r["name"] for r in rows if r["kind"] == "chapter"]
    assert chapters == ["Opening, day", "Night"]  # the comma survives quoting
    starts = [float(r["start_s"]) for r in rows]
    assert starts == sorted(starts)

    pl = pytest.importorskip("polars")
    df = pl.read_csv(out)
    assert df.schema["start_s"] == pl.Float64 and df.schema["start_frame"] == pl.Int64
    assert df.filter(pl.col("kind") == "shot")["duration_s"].sum() == pytest.approx(60.0)
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    n, total = con.execute(
        "SELECT count(*), sum(end_frame - start_frame) FROM read_csv_auto(?) WHERE kind = 'shot'",
        [str(out)],
    ).fetchone()
    assert (n, total) == (len(SHOTS), 1500)


def test_timecode_agrees_with_opentimelineio():
    for fps in (24.0, 25.0, 30.0):
        for f in (0, 1, 23, 24, 1499, 90_001, 3_600 * 30 + 7):
            assert timecode(f, fps) == otio.opentime.to_timecode(
                otio.opentime.RationalTime(f, fps), fps
            )


def test_marker_colours_follow_hue():
    def item(rgb):
        return TimelineItem(0, 1, "x", "segment", colour=rgb)

    assert marker_colour(item((202, 118, 44))) == "ORANGE"  # dark orange, not red
    assert marker_colour(item((22, 54, 122))) == "BLUE"
    assert marker_colour(item((30, 140, 40))) == "GREEN"
    assert marker_colour(item((8, 8, 8))) == "BLACK"
    assert marker_colour(item((245, 245, 240))) == "WHITE"
    assert marker_colour(TimelineItem(0, 1, "c", "chapter")) == "BLUE"


def test_exports_are_reproducible(spec, tmp_path):
    for suffix in FORMATS:
        a = export(spec, tmp_path / f"a{suffix}", shots=SHOTS)
        b = export(spec, tmp_path / f"b{suffix}", shots=SHOTS)
        assert a.read_bytes() == b.read_bytes(), suffix


# -- swatches ---------------------------------------------------------------------------
def test_ase_read_back_by_swatch(spec, tmp_path):
    swatch = pytest.importorskip("swatch")
    pals = spectrum_palettes(spec, "segments")
    out = export(spec, tmp_path / "segments.ase", what="segments")
    groups = swatch.parse(str(out))
    assert [g["name"] for g in groups] == [p.name for p in pals]
    for g, p in zip(groups, pals, strict=True):
        assert g["type"] == "Color Group"
        assert len(g["swatches"]) == len(p.colours)
        for sw, rgb, share in zip(g["swatches"], p.colours, p.shares, strict=True):
            assert sw["data"]["mode"] == "RGB"
            assert tuple(round(v * 255) for v in sw["data"]["values"]) == rgb
            assert sw["name"] == "#{:02x}{:02x}{:02x} {:.1f}%".format(*rgb, 100 * share)


def test_ase_bytes_follow_the_format():
    """The published layout, byte for byte: signature, version 1.0, block count, then
    group start / colour / group end blocks with UTF-16BE names ending in NUL."""
    data = palettes_ase([Palette(((255, 0, 0),), (1.0,), "A")])
    name = "#ff0000 100.0%"
    colour_body = (
        struct.pack(">H", len(name) + 1)
        + (name + "\0").encode("utf-16-be")
        + b"RGB "
        + struct.pack(">fff", 1.0, 0.0, 0.0)
        + b"\x00\x02"
    )
    want = (
        b"ASEF\x00\x01\x00\x00\x00\x00\x00\x03"
        + b"\xc0\x01\x00\x00\x00\x06\x00\x02\x00A\x00\x00"
        + b"\x00\x01"
        + struct.pack(">I", len(colour_body))
        + colour_body
        + b"\xc0\x02\x00\x00\x00\x00"
    )
    assert data == want


def test_gpl_read_back_by_gimpformats(spec, tmp_path):
    gpl = pytest.importorskip("gimpformats.GimpGplPalette")
    pals = spectrum_palettes(spec, "segments")
    out = export(spec, tmp_path / "segments.gpl", what="segments")
    pal = gpl.GimpGplPalette(str(out))
    assert pal.name == "film.mp4"
    assert pal.columns == max(len(p.colours) for p in pals)
    assert [tuple(int(v) for v in c) for c in pal.colors] == [c for p in pals for c in p.colours]
    # GIMP's own layout: "R G B<TAB>name", the name being the rest of the line.
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["GIMP Palette", "Name: film.mp4", f"Columns: {pal.columns}"]
    names = [
        ln.split("\t", 1)[1] for ln in lines if not ln.startswith(("#", "GIMP", "Name", "Col"))
    ]
    assert names[0] == "#{:02x}{:02x}{:02x} {:.1f}%".format(
        *pals[0].colours[0], 100 * pals[0].shares[0]
    )


def test_css_read_back_by_tinycss2(spec, tmp_path):
    tinycss2 = pytest.importorskip("tinycss2")
    pals = spectrum_palettes(spec, "segments")
    out = export(spec, tmp_path / "segments.css", what="segments")
    rules = tinycss2.parse_stylesheet(out.read_text(), skip_comments=True, skip_whitespace=True)
    (rule,) = rules
    assert tinycss2.serialize(rule.prelude).strip() == ":root"
    decls = {
        d.name: tinycss2.serialize(d.value).strip()
        for d in tinycss2.parse_declaration_list(rule.content, skip_whitespace=True)
        if d.type == "declaration"
    }
    for i, p in enumerate(pals, 1):
        for j, (rgb, share) in enumerate(zip(p.colours, p.shares, strict=True), 1):
            assert decls[f"--segment-{i}-{j}"] == "#{:02x}{:02x}{:02x}".format(*rgb)
            assert float(decls[f"--segment-{i}-{j}-share"]) == pytest.approx(share, abs=5e-5)


def test_json_palettes(spec, tmp_path):
    out = export(spec, tmp_path / "film.json")
    doc = json.loads(out.read_text())
    assert doc["format"] == "streamspec-palettes"
    (p,) = doc["palettes"]
    assert sum(c["share"] for c in p["colours"]) == pytest.approx(1.0, abs=1e-5)
    assert 0 < p["coverage"] <= 1
    assert all(c["hex"] == "#{:02x}{:02x}{:02x}".format(*c["rgb"]) for c in p["colours"])


def test_segment_palette_is_the_segments_own_colours(spec):
    """One pooling rule: a segment's exported palette is the colours its segment lists."""
    for seg, pal in zip(spec.segments, spectrum_palettes(spec, "segments", top=5), strict=True):
        assert [tuple(c["rgb"]) for c in seg["colours"]] == list(pal.colours)


def test_palette_choices(spec):
    (p,) = spectrum_palettes(spec, "strip:3")
    s = spec.get(3)
    assert p.colours[0] == tuple(s.palette[np.argmax(s.counts)])
    assert sum(p.shares) == pytest.approx(1.0)
    assert spectrum_palettes(spec, "time:3.2")[0] == p
    (shot,) = spectrum_palettes(spec, "shot:2", shots=SHOTS)
    assert shot.name == "Shot 2"
    assert len(spectrum_palettes(spec, "chapters")) == 2
    assert len(spectrum_palettes(spec, "strips")) == 60
    with pytest.raises(InputError, match="no segment 9"):
        spectrum_palettes(spec, "segment:9")
    with pytest.raises(InputError, match="unknown palette choice 'colours'"):
        spectrum_palettes(spec, "colours")
    with pytest.raises(InputError, match="no shots"):
        spectrum_palettes(spec, "shots")


def test_palette_values_are_checked():
    with pytest.raises(InputError, match="sum to"):
        Palette(((1, 2, 3), (4, 5, 6)), (0.5, 0.4))
    with pytest.raises(InputError, match="0-255"):
        Palette(((1, 2, 300),), (1.0,))
    with pytest.raises(InputError, match="no colours"):
        Palette((), ())
    p = Palette.from_weights([(9, 9, 9), (200, 0, 0), (0, 0, 200)], [1, 6, 3], "p", top=2)
    assert p.colours == ((200, 0, 0), (0, 0, 200)) and p.shares == (
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
    )
    assert p.coverage == pytest.approx(0.9)


# -- bad input ------------------------------------------------------------------------------
def test_unknown_extension_is_one_line_listing_the_known(spec, tmp_path):
    with pytest.raises(InputError) as err:
        export(spec, tmp_path / "film.xml")
    msg = str(err.value)
    assert "\n" not in msg and "'.xml'" in msg
    assert all(s in msg for s in FORMATS)
    with pytest.raises(InputError, match="no extension"):
        format_for(tmp_path / "film")
    assert not (tmp_path / "film.xml").exists()


def test_no_export_overwrites_an_input(spec, tmp_path):
    video = tmp_path / "film.mp4"
    video.write_bytes(b"not really a film")
    spec = make_spectrum(source=str(video))
    data = tmp_path / "film.json"
    spec.save(tmp_path / "film.png")
    before = data.read_bytes()
    for target, source in [(data, data), (data, tmp_path / "film.png")]:
        with pytest.raises(OutputError, match="choose another name"):
            export(source, target)
    assert data.read_bytes() == before
    # The source film, by any spelling (here a link), and any other input named.
    link = tmp_path / "film.csv"
    link.symlink_to(video)
    with pytest.raises(OutputError, match="source film"):
        export(spec, link)
    chapters = tmp_path / "chapters.csv"
    chapters.write_text("0:00 A\n")
    with pytest.raises(OutputError, match="is an input"):
        export(spec, chapters, inputs=[chapters])
    assert video.read_bytes() == b"not really a film"
    assert chapters.read_text() == "0:00 A\n"


def test_shots_come_from_the_spectrum_json(tmp_path):
    spec = make_spectrum()
    data = spec.to_json()
    data["shots"] = SHOTS
    path = tmp_path / "film.json"
    path.write_text(json.dumps(data))
    out = export(path, tmp_path / "shots.csv", what="shots")
    with open(out, newline="") as fh:
        assert [r["name"] for r in csv.DictReader(fh)] == [f"Shot {i + 1}" for i in range(5)]
    data["shots"] = "damaged"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="'shots' is not a list"):
        export(path, tmp_path / "again.csv")


@pytest.mark.parametrize(
    ("shots", "message"),
    [
        ([{"start": 2.0, "end": 1.0}], "ends"),
        ([{"start": "a", "end": 1.0}], "number of seconds"),
        ([{"start": 0.0, "end": float("nan")}], "finite"),
        ([{"start": 0.0, "end": 1.0, "kind": "wipe"}], "unknown transition 'wipe'"),
        ([{"start": 0.0, "end": 1.0, "frame": -1}], "negative"),
        (["shot"], "not a record"),
    ],
)
def test_damaged_shots_are_one_line(spec, tmp_path, shots, message):
    with pytest.raises(InputError, match=message) as err:
        export(spec, tmp_path / "x.otio", shots=shots)
    assert "\n" not in str(err.value)
    assert isinstance(err.value, StreamspecError)
    assert not (tmp_path / "x.otio").exists()


def test_asking_for_what_is_not_there(spec, tmp_path):
    with pytest.raises(InputError, match="no shots"):
        export(spec, tmp_path / "x.edl", what="shots")
    with pytest.raises(InputError, match="cannot put 'scenes'"):
        export(spec, tmp_path / "x.edl", what="scenes")


@pytest.mark.slow
def test_odd_films(tmp_path):
    """One shot; every frame a shot; a two-frame film."""
    spec = make_spectrum()
    one = [{"start": 0.0, "end": 60.0, "frame": 0, "kind": "cut"}]
    tl = otio.adapters.read_from_file(str(export(spec, tmp_path / "one.otio", shots=one)))
    assert len([c for c in tl.tracks[1] if isinstance(c, otio.schema.Clip)]) == 1
    every = [{"start": i / 25, "end": (i + 1) / 25, "frame": i, "kind": "cut"} for i in range(1500)]
    out = export(spec, tmp_path / "every.edl", shots=every)
    tl = otio.adapters.read_from_file(str(out), adapter_name="cmx_3600", rate=25)
    assert [e.range_in_parent().start_time.value for e in tl.tracks[0]] == list(range(1500))
    tiny = Spectrum(
        settings={"start": 0.0, "step": 0.04, "offset": 0.0},
        slots=2,
        source={"name": "two.mp4", "kind": "file", "duration": 0.08, "fps": 25.0},
    )
    for i in range(2):
        tiny.add(Strip(i, i * 0.04, i * 0.04, np.array([[i * 200, 0, 0]], np.uint8), np.array([5])))
    two = [{"start": 0.0, "end": 0.04, "frame": 0}, {"start": 0.04, "end": 0.08, "frame": 1}]
    tl = otio.adapters.read_from_file(str(export(tiny, tmp_path / "two.otio", shots=two)))
    assert [c.range_in_parent().start_time.value for c in tl.tracks[1]] == [0, 1]
    (p,) = spectrum_palettes(tiny, "shot:2", shots=two)
    assert p.colours == ((200, 0, 0),)


def test_items_from_the_spectrum(spec):
    chapters = chapter_items(spec.chapters, 60.0)
    assert [(c.start, c.end) for c in chapters] == [(0.0, 30.0), (30.0, 60.0)]
    # A chapter past the end of the film is left out; one with its own end keeps it.
    more = chapter_items([{"start": 10, "title": "A", "end": 20}, {"start": 70, "title": "B"}], 60)
    assert [(c.name, c.start, c.end) for c in more] == [("A", 10.0, 20.0)]
    shots = shot_items(SHOTS)
    assert [s.transition for s in shots] == [s["kind"] for s in SHOTS]
    tl = film_timeline(spec, shots=SHOTS)
    assert isinstance(tl, FilmTimeline) and tl.frames == 1500
    pal = item_palette(spec, 0, 30, name="day")
    assert pal.name == "day" and sum(pal.shares) == pytest.approx(1.0)


def test_write_palettes_checks_the_format(tmp_path):
    p = Palette(((1, 2, 3),), (1.0,), "p")
    with pytest.raises(InputError, match="holds a timeline"):
        write_palettes([p], tmp_path / "p.edl")
    assert write_palettes([p], Path(tmp_path / "p.gpl")).read_text().startswith("GIMP Palette")


def test_a_palette_json_never_replaces_a_spectrum(tmp_path):
    spec = make_spectrum()
    spec.save(tmp_path / "other.png")  # another film's spectrum, not an input here
    before = (tmp_path / "other.json").read_bytes()
    with pytest.raises(OutputError, match="is a spectrum's data"):
        export(spec, tmp_path / "other.json")
    assert (tmp_path / "other.json").read_bytes() == before
    (tmp_path / "old.json").write_text("{}")  # any other file is replaced, atomically
    assert json.loads(export(spec, tmp_path / "old.json").read_text())["palettes"]


@settings(max_examples=25)
@given(
    cuts=st.lists(st.integers(1, 1499), unique=True, max_size=40).map(sorted),
    fps=st.sampled_from([24.0, 25.0, 30.0, 24000 / 1001, 30000 / 1001]),
)
def test_any_cut_list_reads_back_to_the_frame(tmp_path_factory, cuts, fps):
    """Cuts at any frames, at common rates: OTIO and EDL give back the same frames."""
    spec = make_spectrum(fps)
    n = int(np.floor(60.0 * fps + 0.5))
    bounds = [0, *[c for c in cuts if c < n], n]
    shots = [
        {"start": a / fps, "end": b / fps, "frame": a, "kind": "cut"}
        for a, b in itertools.pairwise(bounds)
    ]
    d = tmp_path_factory.mktemp("cuts")
    tl = otio.adapters.read_from_file(str(export(spec, d / "c.otio", shots=shots, what="shots")))
    got = [c.range_in_parent().start_time.value for c in tl.tracks[1]]
    assert got == bounds[:-1]
    edl = export(spec, d / "c.edl", shots=shots, what="shots")
    tl = otio.adapters.read_from_file(str(edl), adapter_name="cmx_3600", rate=fps)
    assert [e.range_in_parent().start_time.value for e in tl.tracks[0]] == bounds[:-1]
    assert tl.tracks[0].duration().value == n
