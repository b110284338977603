"""Fixtures shared by the test modules; the cases themselves live in ``classification_cases``."""

from __future__ import annotations

from pathlib import Path

import pytest

from classification_cases import BINARY_CSV, CASE_NAMES, DIGITS_CSV, Case, make_case


@pytest.fixture(params=CASE_NAMES)
def case(request) -> Case:
    """Every shared case in turn: random problems (ties, absent classes, k up to 12) and both samples."""
    return make_case(request.param)


@pytest.fixture
def digits_csv() -> Path:
    return DIGITS_CSV


@pytest.fixture
def binary_csv() -> Path:
    return BINARY_CSV
