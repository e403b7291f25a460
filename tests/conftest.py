"""Fixtures shared by every level: the repository root and its bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.paths import DATA, REPO


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def data_dir() -> Path:
    return DATA
