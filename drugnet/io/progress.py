"""Progress for long loops: a tqdm bar on a terminal, periodic log lines otherwise.

``progress(iterable_or_total, desc, unit)`` returns a tqdm bar when stderr is a TTY. Under
Snakemake, CI or a redirected log (stderr is not a TTY) it returns a `LogProgress`, which
writes one plain line every ``interval`` seconds through ``logging`` (``done/total``, rate,
ETA) and one final line on close. Both support the same small API: iterate over the wrapped
iterable, or call ``update(n)`` on a total; ``close()``; use as a context manager.

    for row in progress(rows, "standardize", "rows"):
        ...
    with progress(len(files), "featurize", "files") as bar:
        for f in files:
            ...
            bar.update()
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, cast

from tqdm import tqdm

DEFAULT_INTERVAL = 30.0
_log = logging.getLogger("drugnet.io.progress")


def format_duration(seconds: float) -> str:
    """``1h02m03s`` / ``2m05s`` / ``7s``; ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds == float("inf") or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


class LogProgress:
    """tqdm-like progress that logs ``desc: done/total (pct) rate unit/s, ETA`` every ``interval``
    s."""

    def __init__(
        self,
        iterable: Iterable | None = None,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        interval: float = DEFAULT_INTERVAL,
        logger: logging.Logger | None = None,
        clock: Any = time.monotonic,
    ) -> None:
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total = total
        self.desc = desc
        self.unit = unit
        self.interval = interval
        self.logger = logger or _log
        self.clock = clock
        self.n = 0
        self.start = clock()
        self._last = self.start
        self.closed = False

    def __iter__(self) -> Iterator:
        if self.iterable is None:
            raise TypeError("LogProgress built from a total is not iterable; call update()")
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __len__(self) -> int:
        if self.total is None:
            raise TypeError("unknown total")
        return self.total

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def line(self) -> str:
        """The current status line."""
        elapsed = self.clock() - self.start
        rate = self.n / elapsed if elapsed > 0 else float("nan")
        head = f"{self.desc}: " if self.desc else ""
        if self.total:
            pct = 100.0 * self.n / self.total
            eta = (self.total - self.n) / rate if rate > 0 else float("nan")
            done = f"{self.n}/{self.total} {self.unit} ({pct:.0f}%)"
            tail = f", elapsed {format_duration(elapsed)}, ETA {format_duration(eta)}"
        else:
            done = f"{self.n} {self.unit}"
            tail = f", elapsed {format_duration(elapsed)}"
        rate_text = f"{rate:.3g} {self.unit}/s" if rate == rate else f"? {self.unit}/s"
        return f"{head}{done}, {rate_text}{tail}"

    def update(self, n: int = 1) -> None:
        """Count ``n`` more done; log when ``interval`` seconds passed since the last line."""
        self.n += n
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            self.logger.info(self.line())

    def close(self) -> None:
        """Log the final line once."""
        if not self.closed:
            self.closed = True
            self.logger.info(
                self.line() + " (done)"
                if self.total is None or self.n >= self.total
                else self.line()
            )


def progress(
    iterable_or_total: Iterable | int | None,
    desc: str = "",
    unit: str = "it",
    *,
    interval: float = DEFAULT_INTERVAL,
    logger: logging.Logger | None = None,
    stream: TextIO | None = None,
    total: int | None = None,
) -> Any:
    """A tqdm bar (``stream``, default stderr, is a TTY) or a `LogProgress` (otherwise).

    ``iterable_or_total`` is an iterable to wrap, or an int total for manual ``update()`` calls.
    ``total`` overrides the length of an iterable without ``len``.
    """
    stream = sys.stderr if stream is None else stream
    if isinstance(iterable_or_total, int) and not isinstance(iterable_or_total, bool):
        iterable, total = None, iterable_or_total
    else:
        iterable = cast(Iterable | None, iterable_or_total)  # not an int: an iterable or None
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return tqdm(
            iterable, total=total, desc=desc or None, unit=unit, file=stream, dynamic_ncols=True
        )
    return LogProgress(
        iterable, total=total, desc=desc, unit=unit, interval=interval, logger=logger
    )
