"""Paths every test level uses: the repository, its bundled data and the test fixtures."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
FIXTURES = REPO / "tests" / "fixtures"
