"""The annotator's name as the browser's cookie carries it (``web/annotator_cookie.js`` writes it
with ``encodeURIComponent``)."""

from urllib.parse import quote

import pytest

from evaldash.annotator_cookie import MAX_CHARS, name_from_cookie


def encode_uri_component(text: str) -> str:
    return quote(text, safe="-_.!~*'()")  # what JavaScript's encodeURIComponent leaves as it is


@pytest.mark.parametrize("name", ["Ana", "Zoë Ōta (e2e) & co; =x", "李 雷", "O'Brien, 100%"])
def test_a_name_comes_back_as_typed(name):
    assert name_from_cookie(encode_uri_component(name)) == name


@pytest.mark.parametrize("value", [None, "", "%20%20", "%0A%0D%09", b"Ana", object()])
def test_no_name(value):
    assert name_from_cookie(value) == ""


def test_control_characters_are_dropped_and_length_is_bounded():
    assert name_from_cookie(encode_uri_component("Ana\u0000\u202e\nBo")) == "AnaBo"
    assert name_from_cookie(encode_uri_component("x" * 5000)) == "x" * MAX_CHARS
    assert name_from_cookie("%E0%A4") == "\ufffd"  # a broken encoding is not an error
