"""`drugnet.io.progress`: tqdm on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import io
import logging

import pytest
from tqdm import tqdm

from drugnet.io.progress import LogProgress, format_duration, progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_progress_logs_every_interval_with_rate_and_eta(caplog):
    clock = FakeClock()
    bar = LogProgress(total=100, desc="featurize", unit="mols", interval=10, clock=clock)
    with caplog.at_level(logging.INFO, logger="drugnet.io.progress"):
        for _ in range(20):
            clock.now += 1.0  # 1 s per 5 molecules
            bar.update(5)
        bar.close()
        bar.close()  # idempotent
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3  # at 10 s, at 20 s, and the final line
    assert lines[0] == "featurize: 50/100 mols (50%), 5 mols/s, elapsed 10s, ETA 10s"
    assert lines[-1].startswith("featurize: 100/100 mols (100%)") and lines[-1].endswith("(done)")


def test_log_progress_wraps_an_iterable_without_a_length(caplog):
    clock = FakeClock()

    def items():
        for i in range(7):
            clock.now += 2.0
            yield i

    with caplog.at_level(logging.INFO, logger="drugnet.io.progress"):
        out = list(LogProgress(items(), desc="rows", interval=5, clock=clock))
    assert out == list(range(7))
    lines = [r.getMessage() for r in caplog.records]
    assert lines[-1].startswith("rows: 7 it,") and "ETA" not in lines[-1]


def test_progress_picks_tqdm_only_on_a_terminal():
    bar = progress(range(3), "x", "it", stream=TTY())
    assert isinstance(bar, tqdm)
    assert list(bar) == [0, 1, 2]
    plain = progress(range(3), "x", "it", stream=io.StringIO())
    assert isinstance(plain, LogProgress) and plain.total == 3 and list(plain) == [0, 1, 2]
    counter = progress(10, "x", "files", stream=io.StringIO())
    assert isinstance(counter, LogProgress) and counter.total == 10
    with counter:
        counter.update(4)
    assert counter.n == 4 and counter.closed
    with pytest.raises(TypeError):
        iter(counter).__next__()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(7.2, "7s"), (125, "2m05s"), (3723, "1h02m03s"), (float("nan"), "?"), (float("inf"), "?")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
