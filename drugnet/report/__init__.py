"""Standalone HTML report of a results folder: data, models, probing and candidates."""

from drugnet.report.build import SECTIONS, build_report, write_report

__all__ = ["SECTIONS", "build_report", "write_report"]
