"""Assemble the standalone HTML report of a results folder and write it atomically."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from drugnet import __version__
from drugnet.io.atomic import atomic_path
from drugnet.report import html as H
from drugnet.report.candidate_section import candidate_section
from drugnet.report.data_section import data_section
from drugnet.report.model_section import model_section
from drugnet.report.probe_section import probe_section
from drugnet.report.summary_section import summary_section

log = logging.getLogger("drugnet.report")

SectionBuilder = Callable[[Mapping, Path], H.Section]
SECTIONS: tuple[tuple[str, str, SectionBuilder], ...] = (
    ("summary", "Summary", summary_section),
    ("data", "Data", data_section),
    ("models", "Models", model_section),
    ("probing", "Probing", probe_section),
    ("candidates", "Candidates", candidate_section),
)


def _safe(
    key: str, title: str, builder: SectionBuilder, config: Mapping, results: Path
) -> H.Section:
    """Run one section builder; an unexpected error becomes a visible note instead of no report."""
    start = time.perf_counter()
    try:
        section = builder(config, results)
    except Exception as exc:  # a broken input must not hide the other sections
        log.exception("report section %s failed", key)
        section = H.Section(key, title, H.missing(f"section failed: {type(exc).__name__}: {exc}"))
    log.info("report section %s in %.1fs", key, time.perf_counter() - start)
    return section


def build_report(config: Mapping, results_dir: str | Path) -> str:
    """The report of ``results_dir`` as one HTML document (sections: data, models, probing,
    candidates)."""
    results = Path(results_dir)
    sections = [_safe(key, title, builder, config, results) for key, title, builder in SECTIONS]
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    subtitle = f"results folder {results} - generated {stamp} by drugnet {__version__}"
    return H.page("drugnet report", subtitle, sections)


def write_report(config: Mapping, results_dir: str | Path, output: str | Path) -> Path:
    """Build the report and write it to ``output`` atomically; returns the path."""
    text = build_report(config, results_dir)
    with atomic_path(output) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    log.info("report written to %s (%.0f kB)", output, len(text.encode()) / 1024)
    return Path(output)
