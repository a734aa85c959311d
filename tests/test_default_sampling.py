"""The default sampling gives a useful picture at any length, and says what it chose."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import subprocess_env
from videos import colour_film

from streamspec.cli import main
from streamspec.core.options import DEFAULT_STRIPS, RenderOptions, default_every
from streamspec.pipeline.rendering import Renderer


@pytest.mark.parametrize(
    ("span", "frame", "every"),
    [
        (5.28, 1 / 25, 1 / 25),  # a short clip: every frame, never more
        (10.0, 1 / 25, 1 / 25),
        (60.0, 1 / 24, 0.16),  # 375 samples
        (180.0, 1 / 24, 0.5),  # the demo film: 360
        (300.0, 1 / 24, 0.83),
        (719.0, 1 / 24, 1.9),
        (720.0, 1 / 24, 2.0),  # 12 minutes and more: a film, every 2 s
        (7200.0, 1 / 24, 2.0),
        (5.3, 0.001, 0.014),  # frame rate unknown: the finest step is 1 ms
        (None, 1 / 30, 2.0),  # a live source
        (0.0, 1 / 30, 2.0),
    ],
)
def test_the_rule(span, frame, every):
    assert default_every(span, frame) == pytest.approx(every)


@pytest.mark.parametrize("span", [1.0, 7.7, 39.59, 61.0, 100.0, 333.3, 500.0, 719.9])
def test_short_clips_get_a_few_hundred_strips(span):
    step = default_every(span, 0.001)
    assert DEFAULT_STRIPS <= span / step <= DEFAULT_STRIPS * 1.1 + 1  # 2 digits: <= 10 % more
    assert repr(step) == repr(float(f"{step:.2g}"))  # a readable number in the data


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("default")
    return colour_film(d / "clip.mp4", seconds=4, colours=[(200, 40, 40), (40, 40, 200)])


def test_a_short_clip_is_sampled_at_every_frame(clip):
    r = Renderer(str(clip), RenderOptions())
    try:
        assert r.grid.slots == 100 and r.every == pytest.approx(0.04)
        assert r.sampling_note == (
            "sampling every 0.04 s (100 strips, one per frame) for a 4-s clip; "
            "--every or --strips to choose"
        )
    finally:
        r.close()
    chosen = Renderer(str(clip), RenderOptions.from_kwargs(every=1.0))
    try:
        assert chosen.grid.slots == 4 and chosen.sampling_note is None
    finally:
        chosen.close()


def test_the_demo_film_keeps_its_half_second():
    r = Renderer(None, RenderOptions())
    try:
        assert r.every == 0.5 and r.grid.slots == 360
        assert "(360 strips) for a 3:00 film" in (r.sampling_note or "")
    finally:
        r.close()


def test_render_says_what_it_chose(clip, tmp_path, capsys):
    out = tmp_path / "s.png"
    assert main(["render", str(clip), "-o", str(out), "-k", "4", "--height", "20"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "streamspec render: sampling every 0.04 s (100 strips, one per frame) for a 4-s "
        "clip; --every or --strips to choose"
    ]
    assert json.loads(out.with_suffix(".json").read_text())["settings"]["every"] == 0.04
    # -q: nothing; a choice of the user's: nothing either
    assert main(["render", str(clip), "-o", str(tmp_path / "q.png"), "-k", "4", "-q"]) == 0
    assert main(["render", str(clip), "-o", str(tmp_path / "e.png"), "--every", "1"]) == 0
    assert "sampling" not in capsys.readouterr().err


@pytest.mark.slow
def test_render_in_ranges_says_it_too(clip, tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamspec",
            "render",
            str(clip),
            "-o",
            "s.png",
            "-j",
            "2",
            "-k",
            "4",
            "--height",
            "20",
        ],
        env=subprocess_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "sampling every 0.04 s (100 strips, one per frame)" in run.stderr
    assert json.loads((tmp_path / "s.json").read_text())["slots"] == 100


def test_video_follows_the_rule(clip, tmp_path, capsys):
    out = tmp_path / "m.mp4"
    code = main(["video", str(clip), "-o", str(out), "--size", "320x180", "-k", "4"])
    assert code == 0
    captured = capsys.readouterr()
    assert "streamspec video: sampling every 0.04 s (100 strips, one per frame)" in captured.err
    assert "100 strips" in captured.out


@pytest.mark.slow
def test_play_follows_the_rule(clip, tmp_path):
    from streamspec.live.app import play

    notes: list[str] = []
    result = play(
        str(clip),
        output=tmp_path / "p.png",
        exit_at_end=True,
        audio=False,
        preview=False,
        note=notes.append,
        announce=lambda s: None,
        size=(320, 240),
    )
    assert notes == [
        "sampling every 0.04 s (100 strips, one per frame) for a 4-s clip; "
        "--every or --strips to choose"
    ]
    assert result.strips == 100


def test_batch_says_the_rule_and_each_film_follows_it(clip, tmp_path):
    from streamspec.pipeline.batch import run_batch
    from streamspec.pipeline.parallel import executor

    lines: list[str] = []
    with executor(1) as pool:
        result = run_batch([str(clip)], tmp_path / "out", RenderOptions(), pool, log=lines.append)
    assert not result.failed
    assert any(
        line == "sampling every 2 s for films of 12 minutes or more, 360 samples (at most one "
        "per frame) for shorter ones; --every or --strips to choose"
        for line in lines
    ), lines
    data = json.loads((tmp_path / "out" / "clip.json").read_text())
    assert data["slots"] == 100 and data["settings"]["every"] == 0.04


def test_big_buck_bunny_is_a_picture_not_three_pixels(media_dir, tmp_path, capsys):
    out = tmp_path / "bbb.png"
    assert main(["render", str(media_dir / "bigbuckbunny.mp4"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "sampling every 0.04 s (132 strips, one per frame) for a 5.28-s clip" in err
    from PIL import Image

    assert Image.open(out).size[0] == 132  # was 3
