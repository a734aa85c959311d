"""Times as people type and read them: one parser, one set of labels, and pictures whose
axis reaches the film's end."""

from __future__ import annotations

import pytest

from streamspec.annotate import parse_chapters
from streamspec.cli import main
from streamspec.errors import InputError
from streamspec.timefmt import parse_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("90", 90.0),
        ("2.5", 2.5),
        ("1:30", 90.0),
        ("1:59.5", 119.5),
        ("75:30", 4530.0),  # the leading field has no upper bound
        ("1:02:03", 3723.0),
        ("10:59:59.25", 39599.25),
        ("0:00:00", 0.0),
    ],
)
def test_parse_time_reads_clock_times(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1:99", "seconds must be below 60"),
        ("1:60", "seconds must be below 60"),
        ("0:59.99999:00", "expected"),
        ("1:60:00", "minutes must be below 60"),
        ("1:00:60", "seconds must be below 60"),
        ("1:", "expected"),
        (":30", "expected"),
        ("1:2:3:4", "expected"),
        ("1:-5", "expected"),
        ("-1", "0 or more"),
        ("nan", "expected"),
        ("inf", "expected"),
        ("1.5:00", "expected"),
    ],
)
def test_parse_time_refuses_what_is_not_a_time(text, why):
    with pytest.raises(ValueError, match=why):
        parse_time(text)


def test_start_1_99_is_refused_in_one_line(capsys):
    assert main(["render", "--start", "1:99"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--start" in err and "seconds must be below 60" in err and "'1:99'" in err


def test_chapters_use_the_same_rule():
    assert parse_chapters("0:00 One\n1:30 Two\n")[1]["start"] == 90.0
    with pytest.raises(InputError, match="line 2: seconds must be below 60"):
        parse_chapters("0:00 One\n1:99 Two\n")
    with pytest.raises(InputError, match="line 2: bad time"):
        parse_chapters("start,title\n1:99,Two\n")
