"""Write a standalone HTML report (data, models, probing, candidates) of a results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from drugnet.report import write_report
from drugnet.report.inputs import parse_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config-json",
        required=True,
        help="the run's config as JSON text, or a path to a .json/.yaml file",
    )
    parser.add_argument(
        "--results-dir",
        default=None,
        help="results folder (default: the config's `results`, else results)",
    )
    parser.add_argument(
        "--output", default=None, help="HTML file to write (default: <results-dir>/report.html)"
    )


def main(args: argparse.Namespace) -> int:
    config = parse_config(args.config_json)
    results = Path(args.results_dir or config.get("results") or "results")
    output = Path(args.output) if args.output else results / "report.html"
    write_report(config, results, output)
    return 0
