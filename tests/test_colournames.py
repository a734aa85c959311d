"""Colour names: the XKCD survey model on its own published colours and on CSS's."""

from __future__ import annotations

import numpy as np
import pytest

from streamspec.analysis.colour import oklab
from streamspec.analysis.colournames import (
    BASIC_TERMS,
    MODEL_NAMES,
    _head_term,
    basic_term,
    basic_terms,
    nearest_name,
    parse_colour,
    survey_colours,
    term_centroids,
)
from streamspec.core.errors import InputError

# Values as published in https://xkcd.com/color/rgb.txt (the survey's centroids).
PUBLISHED = {
    "purple": "#7e1e9c", "green": "#15b01a", "blue": "#0343df", "pink": "#ff81c0",
    "brown": "#653700", "red": "#e50000", "teal": "#029386", "orange": "#f97306",
    "yellow": "#ffff14", "grey": "#929591", "black": "#000000", "white": "#ffffff",
    "cloudy blue": "#acc2d9", "dusty rose": "#c0737a",
}  # fmt: skip

# CSS Color Module Level 4 named colours for the basic terms (another published reference).
CSS = {
    "black": "#000000", "white": "#ffffff", "grey": "#808080", "red": "#ff0000",
    "orange": "#ffa500", "yellow": "#ffff00", "green": "#008000", "blue": "#0000ff",
    "purple": "#800080", "pink": "#ffc0cb",
}  # fmt: skip


def test_the_shipped_survey_is_the_published_one():
    names, rgb = survey_colours()
    assert len(names) == 949 == len(set(names))
    assert names[:3] == ("purple", "green", "blue")  # the most common first
    for name, code in PUBLISHED.items():
        assert "#" + bytes(rgb[names.index(name)]).hex() == code


def test_every_term_centroid_maps_to_its_own_term():
    names, terms, _ = term_centroids()
    assert set(terms) == set(BASIC_TERMS)
    _, rgb = survey_colours()
    all_names = survey_colours()[0]
    got = basic_terms(np.array([rgb[all_names.index(n)] for n in names]))
    assert [BASIC_TERMS[g] for g in got] == list(terms)


@pytest.mark.parametrize("term", BASIC_TERMS)
def test_each_term_names_its_own_survey_colour(term):
    assert basic_term(parse_colour(term)) == term


@pytest.mark.parametrize(("term", "code"), CSS.items())
def test_css_keywords_get_their_own_term(term, code):
    assert basic_term(parse_colour(code)) == term


def test_css_teal_and_brown_are_borderline_as_people_see_them():
    # CSS teal (#008080) sits between the survey's teal and its "sea blue"; CSS brown
    # (#a52a2a) is what the survey's people call red.
    assert basic_term(parse_colour("#008080")) in ("teal", "blue")
    assert basic_term(parse_colour("#a52a2a")) == "red"


def test_held_out_survey_names_mostly_get_their_head_term():
    # Names beyond those the model uses ("very dark green", "pale orange"), whose head is
    # a basic term: the model agrees with the survey's people on most of them.
    names, rgb = survey_colours()
    rest = zip(names[MODEL_NAMES:], rgb[MODEL_NAMES:], strict=True)
    held = [(h, c) for n, c in rest if (h := _head_term(n))]
    agree = np.mean([basic_term(c) == h for h, c in held])
    assert len(held) > 250
    assert agree > 0.8


def test_dark_grey_is_grey_not_black_and_whole_images_are_named():
    assert basic_term([54, 55, 55]) == "grey"
    img = np.array([[[249, 115, 6], [2, 147, 134]], [[0, 0, 0], [255, 255, 255]]], np.uint8)
    got = [BASIC_TERMS[t] for t in basic_terms(img).ravel()]
    assert got == ["orange", "teal", "black", "white"]


def test_nearest_name_uses_every_survey_name():
    assert nearest_name([0xC0, 0x73, 0x7A]) == "dusty rose"
    assert nearest_name([2, 147, 134]) == "teal"


@pytest.mark.parametrize(
    ("text", "rgb"),
    [("#1B3A4B", (27, 58, 75)), ("#abc", (0xAA, 0xBB, 0xCC)), ("rgb(1, 2, 255)", (1, 2, 255)),
     ("  Teal ", (2, 147, 134)), ("dark  gray", (54, 55, 55)), ("Gray", (146, 149, 145))],
)  # fmt: skip
def test_parse_colour(text, rgb):
    assert tuple(parse_colour(text)) == rgb


@pytest.mark.parametrize(
    ("text", "says"),
    [("tael", "did you mean teal"), ("#12345", "#rrggbb"), ("rgb(1,2,300)", "0 to 255"),
     ("", "unknown colour name"), ("x" * 200, "at most 100"),
     ("dark tael", "did you mean dark teal")],
)  # fmt: skip
def test_bad_colours_are_one_line(text, says):
    with pytest.raises(InputError) as err:
        parse_colour(text)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_term_model_lab_is_colour_modules_oklab():
    names, _, lab = term_centroids()
    all_names, rgb = survey_colours()
    np.testing.assert_allclose(lab[0], oklab(rgb[all_names.index(names[0])]))
