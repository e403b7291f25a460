"""Validate a workflow config file against the schema and check its files and columns."""

from __future__ import annotations

import argparse
import json
import sys

import yaml

from drugnet.config import ConfigError, check_config, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML config file (e.g. config/config.yaml)")
    parser.add_argument(
        "--no-files", action="store_true", help="skip the checks that read data files"
    )
    parser.add_argument(
        "--print", action="store_true", help="print the config with defaults filled, as JSON"
    )


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        check_config(config, check_files=not args.no_files)
    except (ConfigError, yaml.YAMLError, OSError) as exc:
        print(f"drugnet check-config: {args.config}:\n{exc}", file=sys.stderr)
        return 2
    if args.print:
        print(json.dumps(config, indent=2, sort_keys=True))
    else:
        print(
            f"{args.config}: OK ({len(config['datasets'])} datasets, {len(config['libraries'])} "
            f"libraries, {len(config['campaigns'])} campaigns)"
        )
    return 0
