"""`streamspec page`: one self-contained HTML file, checked in Python and in a real browser.

The browser tests drive the system's headless Chromium with selenium (one browser for the
module) and skip, saying why, when it or its driver is absent; nothing is downloaded.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
import shutil
import time
from pathlib import Path

import browser as browser_mod
import numpy as np
import pytest
from videos import make_video, solid

from streamspec.analysis.strip import ORDERS, apportion, order_palette
from streamspec.cli import main
from streamspec.outputs.page import (
    MERGE_DISTANCE,
    SHARE_SCALE,
    _film_data,
    format_time,
    merge_leaders,
    merge_leaders_batch,
    merged_palette,
    oklab,
    write_page,
)
from streamspec.outputs.spectrum import Spectrum, Strip

COLOURS = [(200, 40, 40), (40, 160, 60), (40, 60, 200), (230, 200, 40)]
SETTINGS = {
    "start": 0.0,
    "step": 0.5,
    "offset": 0.0,
    "height": 400,
    "order": "hls",
    "mode": "sorted",
    "strip_width": 1,
    "k": 12,
}


def make_spectrum(
    n: int = 20,
    *,
    step: float = 0.5,
    start: float = 0.0,
    k: int = 12,
    seed: int = 0,
    name: str = "clip.mp4",
    annotations: bool = True,
) -> Spectrum:
    """A small spectrum whose strips follow the test video's colours, with near-duplicate
    colours in every palette (so the hover lists merge some)."""
    rng = np.random.default_rng(seed)
    spec = Spectrum(
        settings={**SETTINGS, "step": step, "start": start, "k": k},
        source={"name": name, "kind": "file", "duration": start + n * step},
        slots=n,
    )
    for i in range(n):
        main_colour = np.array(COLOURS[min(int(i * step // 2.5), 3)])
        pal = np.clip(main_colour + rng.integers(-90, 91, (k, 3)), 0, 255)
        pal[1] = np.clip(pal[0] + 2, 0, 255)  # a near-duplicate of colour 0
        t = start + step * i
        counts = rng.integers(50, 2000, k)
        spec.add(Strip(i, t, t + 0.04 * (i % 2), pal.astype(np.uint8), counts.astype(np.int64)))
    if annotations:
        end = start + n * step
        mid = start + n * step / 2
        spec.chapters = [
            {"start": start, "title": "Opening"},
            {"start": mid, "title": "The second half"},
        ]
        spec.segments = [
            {
                "start": start,
                "end": mid,
                "colours": [{"rgb": list(COLOURS[0]), "share": 0.7}],
            },
            {
                "start": mid,
                "end": end,
                "colours": [
                    {"rgb": list(COLOURS[2]), "share": 0.5},
                    {"rgb": list(COLOURS[3]), "share": 0.5},
                ],
            },
        ]
    return spec


def save_json(spec: Spectrum, path: Path) -> Path:
    path.write_text(json.dumps(spec.to_json()))
    return path


def decode(film: dict, field: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(film["data"][field]), dtype)


# -- Python side ----------------------------------------------------------------------------
def test_oklab_known_values():
    lab = oklab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], np.uint8))
    np.testing.assert_allclose(lab[0], [1.0, 0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(lab[1], [0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(lab[2], [0.62796, 0.22486, 0.12585], atol=1e-4)


def test_batch_merge_is_the_reference():
    rng = np.random.default_rng(1)
    n, k = 60, 24
    centres = rng.integers(0, 256, (n, 6, 3))
    pal = np.clip(centres[:, rng.integers(0, 6, k)] + rng.integers(-6, 7, (n, k, 3)), 0, 255)
    pal = pal.astype(np.uint8)
    weights = rng.integers(1, 50, (n, k)).astype(np.float64)  # ties included
    sizes = rng.integers(1, k + 1, n)
    valid = np.arange(k) < sizes[:, None]
    batch = merge_leaders_batch(pal, weights, valid)
    merged_any = False
    for r in range(n):
        ref = merge_leaders(pal[r, : sizes[r]], weights[r, : sizes[r]])
        np.testing.assert_array_equal(batch[r, : sizes[r]], ref)
        assert (batch[r, sizes[r] :] == -1).all()
        merged_any |= len(set(ref)) < sizes[r]
        # every colour lies within the threshold of its group's leader, who is heaviest
        lab = oklab(pal[r, : sizes[r]])
        d = np.sqrt(((lab - lab[ref]) ** 2).sum(axis=1))
        assert (d < MERGE_DISTANCE).all()
        assert (weights[r, ref] >= weights[r, : sizes[r]]).all()
    assert merged_any


def test_merged_palette_sums_shares():
    pal = np.array([[10, 10, 10], [11, 10, 10], [250, 0, 0]], np.uint8)
    out = merged_palette(pal, [30, 10, 60])
    assert [h for h, _ in out] == ["#fa0000", "#0a0a0a"]
    assert [round(s, 6) for _, s in out] == [0.6, 0.4]


@pytest.mark.parametrize("order", ORDERS)
def test_page_data_is_streamspec_order_and_shares(order):
    spec = make_spectrum(30, annotations=False)
    spec.settings["order"] = order
    # equal counts and repeated colours: ties must break as streamspec breaks them
    s0 = spec.get(0)
    s0.counts[:4] = 500
    s0.palette[5] = s0.palette[6]
    film = _film_data(spec, "x")
    ncol = decode(film, "ncol", "<u2")
    rgb = decode(film, "rgb", np.uint8).reshape(-1, 3)
    share = decode(film, "share", "<u2").astype(np.int64)
    lead = decode(film, "lead", np.uint8)
    first = np.concatenate([[0], np.cumsum(ncol)]).astype(int)
    for r, s in enumerate(spec.strips):
        idx = order_palette(s.palette, s.counts, order)
        a, b = first[r], first[r + 1]
        np.testing.assert_array_equal(rgb[a:b], s.palette[idx])
        np.testing.assert_array_equal(share[a:b], apportion(s.counts[idx], SHARE_SCALE))
        np.testing.assert_array_equal(lead[a:b], merge_leaders(s.palette[idx], s.counts[idx]))
    np.testing.assert_array_equal(decode(film, "slot", "<u4"), [s.index for s in spec.strips])
    np.testing.assert_array_equal(decode(film, "time", "<f8"), [s.time for s in spec.strips])


def test_format_time():
    cases = {
        0: "0:00",
        0.004: "0:00",
        0.005: "0:00",  # floored, as a clock shows a position
        0.01: "0:00.01",
        0.29: "0:00.29",  # 28.999999999999996 hundredths in binary
        1.5: "0:01.5",
        59.999: "0:59.99",
        61.04: "1:01.04",
        3599.2: "59:59.2",
        3600: "1:00:00",
        7322.04: "2:02:02.04",
        -3: "0:00",
    }
    assert {t: format_time(t) for t in cases} == cases


def test_two_hour_page_is_small(tmp_path):
    """3,600 strips of 50 colours (two hours sampled every 2 s) fit in 3 MB."""
    rng = np.random.default_rng(0)
    spec = Spectrum(settings={**SETTINGS, "step": 2.0, "k": 50}, slots=3600)
    for i in range(3600):
        spec.add(
            Strip(
                i,
                2.0 * i,
                2.0 * i,
                rng.integers(0, 256, (50, 3), dtype=np.uint8),
                rng.integers(100, 5000, 50),
            )
        )
    out = write_page(spec, tmp_path / "film.html")
    assert out.stat().st_size <= 3_000_000


def test_page_is_self_contained(tmp_path):
    # a name that tries to end the data's <script> element
    spec = make_spectrum(name="</script><script>alert(1)</script>.mp4")
    out = write_page(spec, tmp_path / "p.html", title='A <b>"film"</b> & co')
    text = out.read_text()
    assert not re.search(r"(?i)\b(?:https?|ftp|wss?):", text)
    # every src / href (quoted or not) is a data: URL or a fragment
    other_url = r"""(?i)\b(?:src|href)\s*=\s*(?:["'](?!data:|#)|(?!["'])(?!data:|#))"""
    assert not re.search(other_url, text)
    assert not re.search(r"(?i)@import|url\(", text)
    assert "default-src 'none'" in text and "media-src 'none'" in text
    assert "A &lt;b&gt;&quot;film&quot;&lt;/b&gt; &amp; co" in text
    assert text.count("<script") == 2 and text.count("</script>") == 2


def test_video_src_keeps_what_the_user_gave(tmp_path, monkeypatch):
    (tmp_path / "media").mkdir()
    clip = tmp_path / "media" / "my film #1.mp4"
    clip.write_bytes(b"not really a video")
    (tmp_path / "pages").mkdir()
    # An absolute path: a file: URL of that path, percent-encoded (never ../../..).
    text = write_page(make_spectrum(), tmp_path / "pages" / "p.html", video=clip).read_text()
    assert f'src="{clip.as_uri()}"' in text and "my%20film%20%231.mp4" in clip.as_uri()
    assert 'src="file:///' in text and "../" not in text
    # A relative path: relative as given, percent-encoded.
    monkeypatch.chdir(tmp_path / "pages")
    text = write_page(make_spectrum(), "q.html", video="../media/my film #1.mp4").read_text()
    assert 'src="../media/my%20film%20%231.mp4"' in text and 'id="video-note"' not in text
    # A URL as it is.
    url = "https://example.invalid/film.mp4?t=1&x=2"
    page = write_page(make_spectrum(), tmp_path / "u.html", video=url).read_text()
    assert f'src="{html.escape(url)}"' in page


def test_a_relative_video_the_page_cannot_see_is_said(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("clip.mp4").write_bytes(b"not really a video")
    Path("pages").mkdir()
    with pytest.warns(UserWarning, match="relative to its own folder"):
        text = write_page(make_spectrum(), "pages/p.html", video="clip.mp4").read_text()
    assert 'src="clip.mp4"' in text and 'id="video-note"' in text


@pytest.mark.parametrize("name", ["p.htm", "p.HTM", "p.xhtml", "p"])
def test_a_page_is_written_as_html_only(tmp_path, capsys, name):
    data = save_json(make_spectrum(), tmp_path / "s.json")
    code = main(["page", str(data), "-o", str(tmp_path / name)])
    err = capsys.readouterr().err
    assert code == 2 and "a page is written as .html" in err and err.count("\n") == 1
    assert not (tmp_path / name).exists()
    code = main(["render", "-o", str(tmp_path / "r.png"), "--html", str(tmp_path / name)])
    assert code == 2 and "a page is written as .html" in capsys.readouterr().err


# -- the command and its errors -----------------------------------------------------------
def run(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_a_page(tmp_path, capsys):
    data = save_json(make_spectrum(), tmp_path / "s.json")
    code, out, err = run(["page", data, "-o", tmp_path / "s.html"], capsys)
    assert code == 0, err
    assert err == ""
    assert "wrote" in out and (tmp_path / "s.html").stat().st_size > 1000


def test_cli_missing_video_still_writes_the_page(tmp_path, capsys):
    data = save_json(make_spectrum(), tmp_path / "s.json")
    code, _, err = run(
        ["page", data, "-o", tmp_path / "s.html", "--video", tmp_path / "gone.mp4"], capsys
    )
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("streamspec page: warning:")
    assert "gone.mp4" in lines[0]
    text = (tmp_path / "s.html").read_text()
    assert 'id="video-note"' in text and "<video" not in text


def _bad_inputs(tmp_path: Path) -> dict[str, list]:
    good = save_json(make_spectrum(), tmp_path / "good.json")
    other = tmp_path / "other.json"
    other.write_text('{"name": "not ours", "values": [1, 2, 3]}')
    damaged = tmp_path / "damaged.json"
    damaged.write_text(good.read_text()[: good.stat().st_size // 2])
    wrong = tmp_path / "wrong.json"
    data = json.loads(good.read_text())
    data["strips"][3]["counts"] = "many"
    wrong.write_text(json.dumps(data))
    empty = save_json(Spectrum(settings=dict(SETTINGS)), tmp_path / "empty.json")
    (tmp_path / "afile").write_text("x")
    as_html = tmp_path / "data.html"
    shutil.copy(good, as_html)
    video = tmp_path / "v.html"  # an existing file named like a page
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    out = tmp_path / "out" / "p.html"
    out.parent.mkdir()
    return {
        "other program's json": [other, "-o", out],
        "damaged json": [damaged, "-o", out],
        "wrong field": [wrong, "-o", out],
        "no strips": [empty, "-o", out],
        "missing input": [tmp_path / "nope.json", "-o", out],
        "output dir missing": [good, "-o", tmp_path / "nodir" / "p.html"],
        "output dir is a file": [good, "-o", tmp_path / "afile" / "p.html"],
        "output is a directory": [good, "-o", tmp_path / "out"],
        "output not html": [good, "-o", tmp_path / "out" / "p.json"],
        "output is the input": [as_html, "-o", as_html],
        "output is the video": [good, "-o", video, "--video", video],
    }


@pytest.mark.parametrize(
    "case",
    [
        "other program's json",
        "damaged json",
        "wrong field",
        "no strips",
        "missing input",
        "output dir missing",
        "output dir is a file",
        "output is a directory",
        "output not html",
        "output is the input",
        "output is the video",
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys):
    args = _bad_inputs(tmp_path)[case]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    code, out, err = run(["page", *args], capsys)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("streamspec page: error:"), err
    assert "Traceback" not in err
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # nothing written, nothing replaced, no temp files


# -- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def driver():
    why = browser_mod.missing()
    if why:
        pytest.skip(f"browser tests need headless Chromium: {why}")
    drv, profile = browser_mod.start()
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Pages beside their data: a plain one, one with a video, a comparison."""
    d = tmp_path_factory.mktemp("page")
    spec = make_spectrum()
    data = save_json(spec, d / "clip-spectrum.json")
    write_page(data, d / "plain.html")
    paints = solid(COLOURS, 2.5)
    videos = []
    for name, codec, pix in (
        ("clip.mp4", "libx264", "yuv420p"),
        ("clip.webm", "libvpx-vp9", "yuv420p"),
    ):
        try:
            videos.append(make_video(d / name, paints, seconds=10, codec=codec, pix_fmt=pix))
        except Exception:  # an encoder missing from this FFmpeg build
            continue
    pages = {}
    for v in videos:
        pages[v.suffix] = write_page(data, d / f"video{v.suffix}.html", video=v)
    others = [
        save_json(make_spectrum(30, step=1 / 3, seed=1, name="second.mkv"), d / "second.json"),
        save_json(
            make_spectrum(12, step=0.5, start=2.0, seed=2, name="third.mov", annotations=False),
            d / "third.json",
        ),
    ]
    write_page([data, *others], d / "compare.html")
    return {
        "dir": d,
        "data": [data, *others],
        "json": [json.loads(p.read_text()) for p in [data, *others]],
        "video_pages": pages,
    }


def load(driver, page: Path, width: int = 1280, height: int = 900) -> None:
    driver.set_window_size(width, height)
    driver.get(page.as_uri())
    driver.execute_script("window.scrollTo(0, 0)")
    assert driver.execute_script("return !!window.streamspecPage")


def console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def canvas(driver):
    from selenium.webdriver.common.by import By

    el = driver.find_element(By.ID, "overlay")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    return el


def point(driver, film: int, i: int, dy: float = 0.5) -> tuple[int, int]:
    """Offsets from the canvas centre (selenium's origin) to the middle of strip i."""
    box = driver.execute_script(
        "return streamspecPage.stripBox(arguments[0], arguments[1])", film, i
    )
    size = driver.execute_script(
        "const r = document.getElementById('overlay').getBoundingClientRect();"
        "return [r.width, r.height]"
    )
    return round(box["cx"] - size[0] / 2), round(box["y"] + box["h"] * dy - size[1] / 2)


def hover(driver, film: int, i: int) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    el = canvas(driver)
    ActionChains(driver).move_to_element_with_offset(el, *point(driver, film, i)).perform()


def shown_colours(driver) -> list[tuple[str, float]]:
    items = driver.execute_script(
        "return [...document.querySelectorAll('#details-list li')].map(li => li.textContent)"
    )
    out = []
    for text in items:
        m = re.fullmatch(r"\s*(#[0-9a-f]{6})\s*([\d.]+) %\s*", text)
        assert m, text
        out.append((m.group(1), float(m.group(2))))
    return out


def expect_colours(strip: dict) -> list[tuple[str, float]]:
    pal = np.frombuffer(bytes.fromhex("".join(strip["palette"]).replace("#", "")), np.uint8)
    return merged_palette(pal.reshape(-1, 3), strip["counts"])


def check_strip_shown(driver, strip: dict, label: str | None = None) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    tip = driver.find_element(By.ID, "tip")
    assert tip.is_displayed()
    lines = tip.text.splitlines()
    assert lines[0] == format_time(strip["time"])
    if label:
        assert label in lines[1]
    # the full list follows once the pointer rests
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script(
            "return document.getElementById('details-head').textContent.startsWith(arguments[0])",
            lines[0],
        )
    )
    want = expect_colours(strip)
    got = shown_colours(driver)
    assert {h for h, _ in got} == {h for h, _ in want}
    shares = dict(want)
    for h, p in got:
        assert abs(p - 100 * shares[h]) <= 0.11, (h, p, shares[h])
    assert got[0][0] == want[0][0] or abs(want[0][1] - want[1][1]) < 1e-3
    # the tooltip lists the top colours too
    assert want[0][0] in tip.text


@pytest.mark.slow
@pytest.mark.browser
def test_page_loads_offline_without_errors(driver, site):
    load(driver, site["dir"] / "plain.html")
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert driver.execute_script("return streamspecPage.state.draws") >= 1
    # the first paint is measured; the spectrum is drawn before it. The paint entry is
    # recorded when the frame is presented, which may come after the load event that
    # driver.get() waits for (a loaded machine: it was missing once in CI).
    from selenium.webdriver.support.ui import WebDriverWait

    def painted(d) -> bool:
        names = d.execute_script("return performance.getEntriesByType('paint').map(e => e.name)")
        return "first-paint" in names

    WebDriverWait(driver, 10).until(painted, "the page was never painted")
    assert console_errors(driver) == []


@pytest.mark.browser
def test_strips_are_stacked_as_the_data_says(driver, site):
    """The canvas's strip bitmap, pixel for pixel: streamspec's colours in streamspec's
    order, each run ending at its cumulative share of the 512 rows (within half a row; a
    redrawn PNG apportions rows by largest remainder instead, so its runs may differ by
    a row)."""
    import io

    from PIL import Image

    load(driver, site["dir"] / "plain.html")
    url = driver.execute_script(
        "return streamspecPage.films[0].tiles.get(0).toDataURL('image/png')"
    )
    got = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
    spec = Spectrum.load(site["data"][0])
    rows = got.shape[0]
    assert got.shape == (512, len(spec), 3)
    for x, s in enumerate(spec.strips):
        idx = order_palette(s.palette, s.counts, "hls")
        cum = np.cumsum(apportion(s.counts[idx], SHARE_SCALE))
        ends = np.floor(cum * rows / SHARE_SCALE + 0.5).astype(int)
        exact = np.cumsum(s.counts[idx]) / s.counts.sum() * rows
        assert np.abs(ends - exact).max() <= 0.5 + 0.05  # plus the 1/65535ths' rounding
        want = np.repeat(s.palette[idx], np.diff(np.concatenate([[0], ends])), axis=0)
        np.testing.assert_array_equal(got[:, x], want)


@pytest.mark.browser
def test_times_are_formatted_as_in_python(driver, site):
    load(driver, site["dir"] / "plain.html")
    times = [0, 0.004, 0.005, 0.015, 1.5, 59.995, 61.04, 3599.999, 3600, 7322.04, 0.1 + 0.2]
    got = driver.execute_script("return arguments[0].map(streamspecPage.fmtTime)", times)
    assert got == [format_time(t) for t in times]
    # The one clock, both copies: every precision and form, on a table of values.
    from test_times import CLOCK_TABLE

    from streamspec.core.timefmt import clock

    values = [4.52, 4.9999, 5, 59.999, 0.29, 1.5, 65.25, 3599.96, 3600, 7322.04, 4530, -3]
    values += [a[0] for a, _ in CLOCK_TABLE if a[0] is not None and a[0] == a[0]]
    cases = [
        (t, d, h, trim)
        for t in values
        for d in (0, 1, 2)
        for h in (None, True, False)
        for trim in (False, True)
    ]
    got = driver.execute_script(
        "return arguments[0].map(([t, d, h, trim]) => streamspecPage.clock(t, d, h, trim))", cases
    )
    assert got == [clock(t, d, h, trim=trim) for t, d, h, trim in cases]
    assert driver.execute_script("return streamspecPage.clock(null)") == clock(None) == "?"


@pytest.mark.browser
def test_hover_shows_the_strips_time_and_colours(driver, site):
    load(driver, site["dir"] / "plain.html")
    strips = site["json"][0]["strips"]
    for i in (0, 7, len(strips) - 1):
        hover(driver, 0, i)
        assert driver.execute_script("return streamspecPage.state.hover") == {"film": 0, "strip": i}
        check_strip_shown(driver, strips[i])
    assert console_errors(driver) == []


@pytest.mark.browser
def test_click_copies_the_time(driver, site):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    load(driver, site["dir"] / "plain.html")
    strip = site["json"][0]["strips"][5]
    ActionChains(driver).move_to_element_with_offset(
        canvas(driver), *point(driver, 0, 5)
    ).click().perform()
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script("return streamspecPage.state.lastCopied")
    )
    assert driver.execute_script("return streamspecPage.state.lastCopied") == format_time(
        strip["time"]
    )
    assert format_time(strip["time"]) in driver.execute_script(
        "return document.getElementById('toast').textContent"
    )
    assert console_errors(driver) == []


@pytest.mark.browser
def test_keyboard_cursor_and_announcements(driver, site):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    load(driver, site["dir"] / "plain.html")
    strips = site["json"][0]["strips"]
    for _ in range(12):  # Tab from the top of the page to the spectrum
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.execute_script("return document.activeElement.id") == "overlay":
            break
    assert driver.execute_script("return document.activeElement.id") == "overlay"
    start = driver.execute_script("return streamspecPage.state.cursor")
    assert start is not None
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    assert driver.execute_script("return streamspecPage.state.cursor.strip") == start["strip"] + 1
    ActionChains(driver).send_keys(Keys.HOME).perform()
    assert driver.execute_script("return streamspecPage.state.cursor.strip") == 0
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT).perform()
    want = format_time(strips[2]["time"])
    top = expect_colours(strips[2])[0][0]
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script("return document.getElementById('live').textContent").startswith(
            want
        )
    )
    live = driver.execute_script("return document.getElementById('live').textContent")
    assert top in live
    el = canvas(driver)
    assert el.get_attribute("aria-valuetext") == want
    assert el.get_attribute("role") == "slider"
    check_strip_shown(driver, strips[2])  # the tooltip follows the cursor too
    ActionChains(driver).send_keys(Keys.END).perform()
    assert driver.execute_script("return streamspecPage.state.cursor.strip") == len(strips) - 1
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    WebDriverWait(driver, 5).until(
        lambda d: (
            d.execute_script("return streamspecPage.state.lastCopied")
            == format_time(strips[-1]["time"])
        )
    )
    assert console_errors(driver) == []


@pytest.mark.slow
@pytest.mark.browser
def test_zoom_and_pan_down_to_single_strips(driver, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains, ScrollOrigin
    from selenium.webdriver.common.keys import Keys

    rng = np.random.default_rng(3)
    spec = Spectrum(settings={**SETTINGS, "step": 1.0, "k": 6}, slots=4000)
    for i in range(4000):
        spec.add(
            Strip(i, i, i, rng.integers(0, 256, (6, 3), dtype=np.uint8), rng.integers(1, 99, 6))
        )
    page = write_page(spec, tmp_path / "long.html")
    load(driver, page)
    js = "return [streamspecPage.view.t0, streamspecPage.view.spp, streamspecPage.width]"
    t0, spp, width = driver.execute_script(js)
    assert spp * width == pytest.approx(4000, rel=1e-6)  # starts showing everything
    assert 1 / spp < 1  # several strips to a pixel

    def axis_ok():
        labels = driver.execute_script("return streamspecPage.state.axis")
        assert len(labels) >= 2
        for a, b in itertools.pairwise(labels):
            assert b["x0"] >= a["x1"] + 5.9, (a, b)
        assert all(lab["x0"] >= 0 and lab["x1"] <= width + 0.5 for lab in labels)

    axis_ok()
    el = canvas(driver)
    ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(el), 0, -400).perform()
    time.sleep(0.1)
    _, spp2, _ = driver.execute_script(js)
    assert spp2 < spp  # the wheel zooms in
    el.send_keys("+")
    el.send_keys("+")
    time.sleep(0.1)
    _, spp3, _ = driver.execute_script(js)
    assert 1 / spp3 >= 1  # one pixel (or more) per strip
    axis_ok()
    t0, _, _ = driver.execute_script(js)
    ActionChains(driver).click_and_hold(el).move_by_offset(-300, 0).release().perform()
    time.sleep(0.1)
    t1, spp4, _ = driver.execute_script(js)
    assert t1 == pytest.approx(t0 + 300 * spp4, rel=0.05)  # dragged left: later times
    el.send_keys(Keys.PAGE_DOWN)
    time.sleep(0.1)
    assert driver.execute_script(js)[0] > t1
    for _ in range(20):
        el.send_keys("+")
    time.sleep(0.1)
    assert 1 / driver.execute_script(js)[1] == pytest.approx(64)  # the closest zoom
    axis_ok()
    el.send_keys("0")
    time.sleep(0.1)
    assert driver.execute_script(js)[1] == pytest.approx(spp)
    assert console_errors(driver) == []


@pytest.mark.browser
def test_chapters_and_segments_appear(driver, site):
    load(driver, site["dir"] / "plain.html")
    spec = site["json"][0]
    drawn = driver.execute_script("return streamspecPage.state.chapters")
    assert [c["title"] for c in drawn] == [c["title"] for c in spec["chapters"]]
    assert all(c["shown"] for c in drawn)  # the titles fit at this width
    listed = driver.execute_script(
        "return [...document.querySelectorAll('section.chapters li')].map(li => li.textContent)"
    )
    assert listed == [f"{format_time(c['start'])}{c['title']}" for c in spec["chapters"]]
    segs = driver.execute_script("return streamspecPage.state.segments")
    assert [s["start"] for s in segs] == [s["start"] for s in spec["segments"]]
    assert (
        driver.execute_script("return document.querySelectorAll('section.segments li').length") == 2
    )
    # a chapter's button moves the cursor there
    driver.execute_script("document.querySelectorAll('section.chapters button')[1].click()")
    cursor = driver.execute_script("return streamspecPage.state.cursor")
    assert spec["strips"][cursor["strip"]]["target"] == pytest.approx(spec["chapters"][1]["start"])


def _video_page(driver, site) -> str:
    """The page with a video this browser plays: H.264 if it can, else VP9."""
    from selenium.webdriver.support.ui import WebDriverWait

    for suffix in (".mp4", ".webm"):
        page = site["video_pages"].get(suffix)
        if page is None:
            continue
        load(driver, page)
        try:
            WebDriverWait(driver, 10).until(
                lambda d: d.execute_script(
                    "const v = document.getElementById('video');"
                    "return !v || v.error || v.readyState >= 1"
                )
            )
        except Exception:
            continue
        if driver.execute_script(
            "const v = document.getElementById('video'); return !!v && !v.error"
        ):
            return suffix
    pytest.skip("this Chromium plays neither the H.264 nor the VP9 test video")


@pytest.mark.browser
def test_click_seeks_the_video_and_the_playhead_follows(driver, site):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    _video_page(driver, site)
    strips = site["json"][0]["strips"]
    i = 7
    ActionChains(driver).move_to_element_with_offset(
        canvas(driver), *point(driver, 0, i)
    ).click().perform()
    seeked = (
        "const v = document.getElementById('video');"
        "return !v.seeking && Math.abs(v.currentTime - arguments[0]) < 0.01"
    )
    WebDriverWait(driver, 5).until(lambda d: d.execute_script(seeked, strips[i]["time"]))
    assert driver.execute_script("return streamspecPage.state.playhead") == pytest.approx(
        strips[i]["time"], abs=0.01
    )
    # play for a while: the playhead moves with the video
    driver.execute_async_script(
        "const done = arguments[0];document.getElementById('video').play().then(() => done(), done)"
    )
    time.sleep(0.8)
    now = driver.execute_script(
        "const v = document.getElementById('video'); v.pause();"
        "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
        "() => r([v.currentTime, streamspecPage.state.playhead]))))"
    )
    assert now[0] > strips[i]["time"] + 0.3
    assert now[1] == pytest.approx(now[0], abs=0.05)
    # and it is drawn there: the overlay has the accent colour at the playhead's x
    rgba = driver.execute_script(
        "const P = streamspecPage, c = document.getElementById('overlay');"
        "const x = Math.round((P.state.playhead - P.view.t0) / P.view.spp);"
        "const dpr = c.width / P.width;"
        "return [...c.getContext('2d').getImageData(Math.round(x * dpr), 5, 1, 1).data]"
    )
    assert rgba[3] > 200 and rgba[0] > 150 and rgba[1] < 120
    assert console_errors(driver) == []


@pytest.mark.browser
@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_the_player_loads_the_video_named_as_given(driver, site, tmp_path, monkeypatch, how):
    suffix = _video_page(driver, site)  # a format this Chromium plays
    folder = tmp_path / "my films #2"
    folder.mkdir()
    clip = folder / f"clip #1 été{suffix}"
    shutil.copy(site["dir"] / f"clip{suffix}", clip)
    (tmp_path / "pages").mkdir()
    if how == "absolute":
        page = write_page(site["data"][0], tmp_path / "pages" / "p.html", video=clip)
    else:
        monkeypatch.chdir(tmp_path / "pages")
        page = write_page(site["data"][0], "p.html", video=f"../{folder.name}/{clip.name}")
        page = tmp_path / "pages" / page
    load(driver, page)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script(
            "const v = document.getElementById('video'); return v.error || v.readyState >= 1"
        )
    )
    state = driver.execute_script(
        "const v = document.getElementById('video');"
        "return [v.error && v.error.code, v.readyState, v.duration, v.currentSrc]"
    )
    assert state[0] is None and state[1] >= 1, state
    assert state[2] == pytest.approx(10, abs=0.2)
    assert state[3] == clip.as_uri()  # the very file given, whichever way it was named


@pytest.mark.browser
def test_missing_video_leaves_a_note(driver, site, tmp_path):
    with pytest.warns(UserWarning, match="was not found"):
        page = write_page(site["data"][0], tmp_path / "novideo.html", video=tmp_path / "gone.mp4")
    load(driver, page)
    assert driver.execute_script("return document.getElementById('video')") is None
    note = driver.execute_script("return document.getElementById('video-note').textContent")
    assert "gone.mp4" in note
    hover(driver, 0, 3)
    check_strip_shown(driver, site["json"][0]["strips"][3])
    assert console_errors(driver) == []


@pytest.mark.browser
def test_comparison_page_stacks_every_film(driver, site):
    load(driver, site["dir"] / "compare.html")
    labels = driver.execute_script("return streamspecPage.films.map(f => f.label)")
    assert labels == ["clip.mp4", "second.mkv", "third.mov"]
    lanes = driver.execute_script("return streamspecPage.lanes")
    assert len(lanes) == 3
    assert all(a["bottom"] <= b["top"] for a, b in itertools.pairwise(lanes))
    # one time axis: the same moment is at the same x in every film
    x = driver.execute_script(
        "const P = streamspecPage; return [[0, 8], [1, 12], [2, 4]].map(([f, i]) => {"
        " const b = P.stripBox(f, i);"  # a sample time is `offset` into its strip
        " return [b.x + P.films[f].offset * b.w, P.films[f].target[i]]; })"
    )
    spp = driver.execute_script("return streamspecPage.view.spp")
    t0 = driver.execute_script("return streamspecPage.view.t0")
    for cx, t in x:
        assert cx == pytest.approx((t - t0) / spp, abs=0.5)
    for f, label in enumerate(labels):
        data = site["json"][f]["strips"]
        i = len(data) // 2
        hover(driver, f, i)
        assert driver.execute_script("return streamspecPage.state.hover") == {"film": f, "strip": i}
        check_strip_shown(driver, data[i], label)
    assert console_errors(driver) == []


@pytest.mark.browser
def test_fits_a_phone_and_follows_the_colour_scheme(driver, site):
    load(driver, site["dir"] / "plain.html", width=390, height=844)
    sizes = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth,"
        " streamspecPage.width, streamspecPage.state.axis.length]"
    )
    assert sizes[0] <= sizes[1]  # no sideways scrolling
    assert 300 <= sizes[2] <= sizes[1]
    assert sizes[3] >= 2
    bg = "return getComputedStyle(document.documentElement).backgroundColor"
    light = driver.execute_script(bg)
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        dark = driver.execute_script(bg)
        assert dark != light
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert console_errors(driver) == []
